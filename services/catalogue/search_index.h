/*
 * An in-process index of the published procedures for the catalogue search
 * (issue 14): pure logic, no I/O. The store reads the rows once
 * (store_search_index.c) and adds them here; a search then ranks by the rules
 * of store_procedure_search.c's SQL (coverage of the query's readings, words
 * weighed by rarity and filler weight, synonyms, i/y variants, syllable splits,
 * nearest known term, the whole-query trigram fallback) without a database
 * round trip. What it leaves out is said at search_index_query.
 */
#ifndef CATALOGUE_SEARCH_INDEX_H
#define CATALOGUE_SEARCH_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct search_index;

/* One published procedure as the index needs it. Strings are copied. */
struct search_index_doc {
    const char *code;
    const char *search_name;  /* f_search_norm(name) */
    const char *summary_json; /* the search result item, answered as is */
    const char *sector_code;
    const char *admin_level;
    int online_level;
    const char *const *agencies; /* agency codes */
    size_t n_agencies;
    const char *const *channels;
    size_t n_channels;
    const char *const *terms; /* the lexemes of its search vector */
    const bool *in_name;      /* per lexeme: weight A (code or name) */
    size_t n_terms;
};

struct search_index *search_index_new(void);
void search_index_free(struct search_index *idx);
bool search_index_add_doc(struct search_index *idx, const struct search_index_doc *doc);
bool search_index_add_filler(struct search_index *idx, const char *word);
bool search_index_add_synonym(struct search_index *idx, const char *phrase, const char *expansion);
/* After the last add: sorts the postings and the synonyms. False when out of memory. */
bool search_index_finish(struct search_index *idx);
size_t search_index_size(const struct search_index *idx);

/* The search normal form of f_search_norm for Vietnamese text: accents
   removed (đ -> d), lower case, runs of white space as one space, trimmed,
   at most 200 characters. Malloc'd; NULL when out of memory. */
char *search_index_norm(const char *text);

struct search_index_filter {
    const char *sector, *agency, *admin_level, *channel; /* NULL: any */
    int online_level;                                    /* 0: any */
    bool has_cursor;
    long long cursor_rank; /* the rank in millionths */
    const char *cursor_code;
};

struct search_index_hit {
    const char *code;         /* borrowed from the index */
    const char *summary_json; /* borrowed from the index */
    long long rank;           /* millionths (the SQL's round(score, 6)) */
    uint32_t code_order;      /* the code's place among the codes: ties by code */
};

enum search_index_outcome {
    SEARCH_INDEX_OK,
    SEARCH_INDEX_NO_MEMORY,
};

/* Ranks the procedures for the normalised query qn (search_index_norm) and
   answers up to limit hits after the cursor, best first (rank desc, code),
   *hits malloc'd (the caller frees the array, not its strings). The score
   is the SQL's without its phrase term (half the ts_rank_cd of the words in
   order, under 0.5): ties on coverage are broken by code instead. When no
   word matches at all, the names word-similar to the whole query answer
   (pg_trgm's word_similarity >= 0.6, scored word_similarity + similarity),
   as in the SQL. */
enum search_index_outcome search_index_query(const struct search_index *idx, const char *qn,
                                             const struct search_index_filter *filter,
                                             size_t limit, struct search_index_hit **hits,
                                             size_t *n_hits);

/* Tests only: true makes every query score each word from a scan of its
   whole postings (the exhaustive path) instead of looking up the candidates
   where that is cheaper; the answers must be the same. */
void search_index_set_exhaustive(struct search_index *idx, bool exhaustive);

/* "Did you mean" (the SQL's procedure_suggest): qn with each word of four
   letters or more that is neither a known term nor a filler word replaced by
   the known term most similar to it by trigrams (similarity >= 0.3); NULL
   when no word changed (or out of memory). Malloc'd. */
char *search_index_suggest(const struct search_index *idx, const char *qn);

/* pg_trgm's similarity of two words of [a-z0-9] (trigrams of "  w "). */
double search_index_trigram_similarity(const char *a, const char *b);

#endif
