/*
 * The in-process search index (search_index.h): the ranking rules of
 * store_procedure_search.c's SQL over postings held in memory.
 */
#include "search_index.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TYPED 32
#define MAX_READINGS 17 /* the words as typed and up to 16 synonym readings */
#define MAX_NORM_CHARS 200

struct doc {
    char *code, *code_lower, *name, *summary, *sector, *admin_level;
    int online_level;
    char **agencies, **channels;
    size_t n_agencies, n_channels;
    unsigned name_words; /* 1 + the spaces of the name */
    uint32_t *name_trgm;  /* the name's trigrams in order (text_trigrams) */
    size_t n_name_trgm;
    uint32_t *name_set; /* the same, sorted and distinct */
    size_t n_name_set;
};

struct posting_raw {
    char *term;
    uint32_t doc;
    bool in_name;
};

struct term {
    char *term;
    size_t len;
    uint32_t *docs; /* ascending */
    bool *in_name;
    size_t n;
};

struct synonym {
    char *phrase, *expansion;
};

struct search_index {
    struct doc *docs;
    size_t n_docs, cap_docs;
    struct posting_raw *raw;
    size_t n_raw, cap_raw;
    struct term *terms; /* sorted by strcmp */
    size_t n_terms;
    char **fillers; /* sorted */
    size_t n_fillers, cap_fillers;
    struct synonym *synonyms; /* sorted: longest phrase first, then phrase, expansion */
    size_t n_synonyms, cap_synonyms;
    /* Per doc, in arrays of their own so a scan over candidates stays in
       cache: the first four bytes of the name and of the lower-case code
       (head4), which decide nearly every exact/prefix test without reading
       the strings, the code's place in code order (ties without strcmp) and
       its inverse, and the name's word count. */
    uint32_t *name_head, *code_head, *code_order, *doc_by_code, *name_words;
    /* Trigram -> postings, for the nearest-term lookup (over the terms) and
       the whole-query fallback (over the names): each key's list ascends. */
    struct trigram_postings *term_trgm, *name_trgm;
    /* Tests only: every word's hits from a scan of its whole postings, never
       looked up per candidate (search_index_set_exhaustive). */
    bool exhaustive;
};

/* Sorted distinct trigram keys, and per key the ascending ids holding it. */
struct trigram_postings {
    uint32_t *keys;
    uint32_t *first; /* n_keys + 1: key k's ids are ids[first[k] .. first[k + 1]) */
    uint32_t *ids;
    size_t n_keys;
    uint8_t *n_of; /* per id: how many distinct trigrams it has (at most 255 counted) */
};

static bool grow(void **items, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return true;
    size_t cap2 = *cap == 0 ? 64 : *cap * 2;
    void *p = realloc(*items, cap2 * size);
    if (p == NULL)
        return false;
    *items = p;
    *cap = cap2;
    return true;
}

static char *dup_or_null(const char *s, bool *ok)
{
    if (s == NULL)
        return NULL;
    char *d = strdup(s);
    if (d == NULL)
        *ok = false;
    return d;
}

struct search_index *search_index_new(void)
{
    return calloc(1, sizeof(struct search_index));
}

static void free_strings(char **s, size_t n)
{
    for (size_t i = 0; s != NULL && i < n; i++)
        free(s[i]);
    free(s);
}

static void trigram_postings_free(struct trigram_postings *p)
{
    if (p == NULL)
        return;
    free(p->keys);
    free(p->first);
    free(p->ids);
    free(p->n_of);
    free(p);
}

void search_index_free(struct search_index *idx)
{
    if (idx == NULL)
        return;
    for (size_t i = 0; i < idx->n_docs; i++) {
        struct doc *d = &idx->docs[i];
        free(d->code);
        free(d->code_lower);
        free(d->name);
        free(d->summary);
        free(d->sector);
        free(d->admin_level);
        free(d->name_trgm);
        free(d->name_set);
        free_strings(d->agencies, d->n_agencies);
        free_strings(d->channels, d->n_channels);
    }
    free(idx->docs);
    for (size_t i = 0; i < idx->n_raw; i++)
        free(idx->raw[i].term);
    free(idx->raw);
    for (size_t i = 0; i < idx->n_terms; i++) {
        free(idx->terms[i].term);
        free(idx->terms[i].docs);
        free(idx->terms[i].in_name);
    }
    free(idx->terms);
    free_strings(idx->fillers, idx->n_fillers);
    for (size_t i = 0; i < idx->n_synonyms; i++) {
        free(idx->synonyms[i].phrase);
        free(idx->synonyms[i].expansion);
    }
    free(idx->synonyms);
    free(idx->name_head);
    free(idx->code_head);
    free(idx->code_order);
    free(idx->doc_by_code);
    free(idx->name_words);
    trigram_postings_free(idx->term_trgm);
    trigram_postings_free(idx->name_trgm);
    free(idx);
}

static char **dup_list(const char *const *s, size_t n, bool *ok)
{
    char **out = calloc(n + 1, sizeof *out);
    if (out == NULL) {
        *ok = false;
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = dup_or_null(s[i], ok);
    return out;
}

/* qsort that accepts an empty array (its base may then be NULL, which qsort
   must not be given). */
static void sort_items(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    if (n > 1)
        qsort(base, n, size, cmp);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Sorts and dedups t in place; the count left. */
static size_t unique_trgm(uint32_t *t, size_t n)
{
    sort_items(t, n, sizeof *t, cmp_u32);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || t[k - 1] != t[i])
            t[k++] = t[i];
    return k;
}

static bool is_trgm_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (unsigned char)c >= 0x80;
}

/* pg_trgm's trigrams of a normalised text, in order: each run of letters and
   digits padded as "  word ", three bytes packed in 24 bits. Malloc'd (NULL
   and 0 for none, or when out of memory). */
static size_t text_trigrams(const char *text, uint32_t **out)
{
    size_t n = strlen(text), k = 0;
    *out = malloc((n + 2) * 2 * sizeof **out);
    if (*out == NULL)
        return 0;
    for (const char *p = text; *p != '\0';) {
        while (*p != '\0' && !is_trgm_char(*p))
            p++;
        const char *start = p;
        while (is_trgm_char(*p))
            p++;
        if (p == start)
            break;
        uint32_t window = ((uint32_t)' ' << 8) | ' ';
        for (const char *c = start; c <= p; c++) {
            unsigned char ch = c < p ? (unsigned char)*c : ' ';
            window = ((window << 8) | ch) & 0xFFFFFFu;
            (*out)[k++] = window;
        }
    }
    return k;
}

bool search_index_add_doc(struct search_index *idx, const struct search_index_doc *in)
{
    if (!grow((void **)&idx->docs, &idx->cap_docs, idx->n_docs, sizeof *idx->docs))
        return false;
    bool ok = true;
    struct doc d = {0};
    d.code = dup_or_null(in->code, &ok);
    d.code_lower = dup_or_null(in->code, &ok);
    for (char *p = d.code_lower; p != NULL && *p != '\0'; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    d.name = dup_or_null(in->search_name != NULL ? in->search_name : "", &ok);
    d.summary = dup_or_null(in->summary_json, &ok);
    d.sector = dup_or_null(in->sector_code, &ok);
    d.admin_level = dup_or_null(in->admin_level, &ok);
    d.online_level = in->online_level;
    d.agencies = dup_list(in->agencies, in->n_agencies, &ok);
    d.n_agencies = in->n_agencies;
    d.channels = dup_list(in->channels, in->n_channels, &ok);
    d.n_channels = in->n_channels;
    d.name_words = 1;
    for (const char *p = d.name; p != NULL && *p != '\0'; p++)
        d.name_words += *p == ' ';
    if (d.name != NULL) {
        d.n_name_trgm = text_trigrams(d.name, &d.name_trgm);
        d.name_set = malloc((d.n_name_trgm + 1) * sizeof *d.name_set);
        ok = ok && d.name_trgm != NULL && d.name_set != NULL;
        if (ok) {
            memcpy(d.name_set, d.name_trgm, d.n_name_trgm * sizeof *d.name_set);
            d.n_name_set = unique_trgm(d.name_set, d.n_name_trgm);
        }
    }
    idx->docs[idx->n_docs++] = d; /* freed with the index, even when !ok */
    for (size_t i = 0; ok && i < in->n_terms; i++) {
        if (!grow((void **)&idx->raw, &idx->cap_raw, idx->n_raw, sizeof *idx->raw))
            return false;
        struct posting_raw r = {strdup(in->terms[i]), (uint32_t)(idx->n_docs - 1), in->in_name[i]};
        if (r.term == NULL)
            return false;
        idx->raw[idx->n_raw++] = r;
    }
    return ok;
}

bool search_index_add_filler(struct search_index *idx, const char *word)
{
    if (!grow((void **)&idx->fillers, &idx->cap_fillers, idx->n_fillers, sizeof *idx->fillers))
        return false;
    char *w = strdup(word);
    if (w == NULL)
        return false;
    idx->fillers[idx->n_fillers++] = w;
    return true;
}

bool search_index_add_synonym(struct search_index *idx, const char *phrase, const char *expansion)
{
    if (!grow((void **)&idx->synonyms, &idx->cap_synonyms, idx->n_synonyms,
              sizeof *idx->synonyms))
        return false;
    struct synonym s = {strdup(phrase), strdup(expansion)};
    if (s.phrase == NULL || s.expansion == NULL) {
        free(s.phrase);
        free(s.expansion);
        return false;
    }
    idx->synonyms[idx->n_synonyms++] = s;
    return true;
}

static int cmp_raw(const void *a, const void *b)
{
    const struct posting_raw *x = a, *y = b;
    int c = strcmp(x->term, y->term);
    return c != 0 ? c : (x->doc > y->doc) - (x->doc < y->doc);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_synonym(const void *a, const void *b)
{
    const struct synonym *x = a, *y = b;
    size_t lx = strlen(x->phrase), ly = strlen(y->phrase);
    if (lx != ly)
        return lx > ly ? -1 : 1;
    int c = strcmp(x->phrase, y->phrase);
    return c != 0 ? c : strcmp(x->expansion, y->expansion);
}

/* Up to the first four bytes of s, zero-padded, as one number. */
static uint32_t head4(const char *s)
{
    uint32_t h = 0;
    for (unsigned i = 0; i < 4 && s[i] != '\0'; i++)
        h |= (uint32_t)(unsigned char)s[i] << (8 * i);
    return h;
}

static const struct doc *sort_docs_base;

static int cmp_doc_code(const void *a, const void *b)
{
    return strcmp(sort_docs_base[*(const uint32_t *)a].code, sort_docs_base[*(const uint32_t *)b].code);
}

/* The per-doc arrays of struct search_index (name_head, code_head, code_order). */
static bool doc_keys(struct search_index *idx)
{
    size_t n = idx->n_docs;
    idx->name_head = malloc((n + 1) * sizeof *idx->name_head);
    idx->code_head = malloc((n + 1) * sizeof *idx->code_head);
    idx->code_order = malloc((n + 1) * sizeof *idx->code_order);
    uint32_t *by_code = idx->doc_by_code = malloc((n + 1) * sizeof *by_code);
    idx->name_words = malloc((n + 1) * sizeof *idx->name_words);
    bool ok = idx->name_head != NULL && idx->code_head != NULL && idx->code_order != NULL &&
              by_code != NULL && idx->name_words != NULL;
    for (size_t d = 0; ok && d < n; d++) {
        ok = idx->docs[d].code != NULL && idx->docs[d].name != NULL;
        if (ok) {
            idx->name_head[d] = head4(idx->docs[d].name);
            idx->code_head[d] = head4(idx->docs[d].code_lower);
            idx->name_words[d] = idx->docs[d].name_words;
            by_code[d] = (uint32_t)d;
        }
    }
    if (ok) {
        sort_docs_base = idx->docs; /* the index is built by one thread */
        sort_items(by_code, n, sizeof *by_code, cmp_doc_code);
        for (size_t i = 0; i < n; i++)
            idx->code_order[by_code[i]] = (uint32_t)i;
    }
    return ok;
}

static bool trigram_indexes(struct search_index *idx);

bool search_index_finish(struct search_index *idx)
{
    if (!doc_keys(idx))
        return false;
    sort_items(idx->raw, idx->n_raw, sizeof *idx->raw, cmp_raw);
    sort_items(idx->fillers, idx->n_fillers, sizeof *idx->fillers, cmp_str);
    sort_items(idx->synonyms, idx->n_synonyms, sizeof *idx->synonyms, cmp_synonym);
    size_t n_terms = 0;
    for (size_t i = 0; i < idx->n_raw; i++)
        n_terms += i == 0 || strcmp(idx->raw[i].term, idx->raw[i - 1].term) != 0;
    idx->terms = calloc(n_terms + 1, sizeof *idx->terms);
    if (idx->terms == NULL)
        return false;
    for (size_t i = 0; i < idx->n_raw;) {
        size_t j = i;
        while (j < idx->n_raw && strcmp(idx->raw[j].term, idx->raw[i].term) == 0)
            j++;
        struct term *t = &idx->terms[idx->n_terms++];
        t->term = idx->raw[i].term;
        t->len = strlen(t->term);
        idx->raw[i].term = NULL;
        t->docs = malloc((j - i) * sizeof *t->docs);
        t->in_name = malloc((j - i) * sizeof *t->in_name);
        if (t->docs == NULL || t->in_name == NULL)
            return false;
        for (size_t k = i; k < j; k++) {
            if (t->n > 0 && t->docs[t->n - 1] == idx->raw[k].doc) { /* the same lexeme twice */
                t->in_name[t->n - 1] = t->in_name[t->n - 1] || idx->raw[k].in_name;
            } else {
                t->docs[t->n] = idx->raw[k].doc;
                t->in_name[t->n++] = idx->raw[k].in_name;
            }
            if (k > i) {
                free(idx->raw[k].term);
                idx->raw[k].term = NULL;
            }
        }
        i = j;
    }
    free(idx->raw);
    idx->raw = NULL;
    idx->n_raw = idx->cap_raw = 0;
    return trigram_indexes(idx);
}

size_t search_index_size(const struct search_index *idx)
{
    return idx->n_docs;
}

/* ---- normal form --------------------------------------------------------- */

/* The unaccented lower-case letter of U+00C0..U+024F and U+1E00..U+1EFF, '.'
   for none (generated from Unicode's decompositions; đ/Đ -> d). */
static const char latin1_ext[] =
    "aaaaaa.ceeeeiiii.nooooo..uuuuy..aaaaaa.ceeeeiiii.nooooo..uuuuy.y"
    "aaaaaaccccccccddddeeeeeeeeeegggggggghh..iiiiiiiii...jjkk.llllll."
    "...nnnnnn...oooooo..rrrrrrsssssssstttt..uuuuuuuuuuuuwwyyyzzzzzz."
    "................................oo.............uu..............."
    ".............aaiioouuuuuuuuuu.aaaa....ggkkoooo..j...gg..nnaa...."
    "aaaaeeeeiiiioooorrrruuuusstt..hh......aaeeooooooooyy............"
    "................";
static const char latin_additional[] =
    "aabbbbbbccddddddddddeeeeeeeeeeffgghhhhhhhhhhiiiikkkkkkllllllllmm"
    "mmmmnnnnnnnnoooooooopppprrrrrrrrssssssssssttttttttuuuuuuuuuuvvvv"
    "wwwwwwwwwwxxxxyyzzzzzzhtwy......aaaaaaaaaaaaaaaaaaaaaaaaeeeeeeee"
    "eeeeeeeeiiiioooooooooooooooooooooooouuuuuuuuuuuuuuyyyyyyyy......";

/* Decodes one UTF-8 sequence at s (length *len); U+FFFD for a malformed one. */
static uint32_t utf8_next(const unsigned char *s, size_t *len)
{
    *len = 1;
    if (s[0] < 0x80)
        return s[0];
    int n = (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3 : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 0)
        return 0xFFFD;
    uint32_t cp = s[0] & (0x7Fu >> n);
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0xFFFD;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    *len = (size_t)n;
    return cp;
}

static char unaccented(uint32_t cp)
{
    char c = '.';
    if (cp >= 0xC0 && cp < 0xC0 + sizeof latin1_ext - 1)
        c = latin1_ext[cp - 0xC0];
    else if (cp >= 0x1E00 && cp < 0x1E00 + sizeof latin_additional - 1)
        c = latin_additional[cp - 0x1E00];
    return c;
}

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

char *search_index_norm(const char *text)
{
    size_t n = strlen(text);
    char *out = malloc(n + 1);
    if (out == NULL)
        return NULL;
    const unsigned char *s = (const unsigned char *)text;
    size_t o = 0, chars = 0;
    bool space = false;
    for (size_t i = 0; i < n && chars < MAX_NORM_CHARS;) {
        size_t len;
        uint32_t cp = utf8_next(s + i, &len);
        if (cp < 0x80 && is_space((unsigned char)cp)) {
            space = o > 0;
        } else {
            if (space) {
                out[o++] = ' ';
                chars++;
                space = false;
                if (chars == MAX_NORM_CHARS)
                    break;
            }
            char c = cp < 0x80 ? (char)cp : unaccented(cp);
            if (cp < 0x80 || c != '.') {
                out[o++] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
            } else {
                memcpy(out + o, s + i, len);
                o += len;
            }
            chars++;
        }
        i += len;
    }
    out[o] = '\0';
    return out;
}

/* ---- trigrams ------------------------------------------------------------ */

#define MAX_TRGM 48

static size_t trigrams(const char *w, char out[][3])
{
    char padded[40];
    size_t n = strlen(w);
    if (n > 32)
        n = 32;
    padded[0] = padded[1] = ' ';
    memcpy(padded + 2, w, n);
    padded[n + 2] = ' ';
    size_t k = 0;
    for (size_t i = 0; i + 3 <= n + 3; i++) {
        bool seen = false;
        for (size_t j = 0; j < k && !seen; j++)
            seen = memcmp(out[j], padded + i, 3) == 0;
        if (!seen)
            memcpy(out[k++], padded + i, 3);
    }
    return k;
}

double search_index_trigram_similarity(const char *a, const char *b)
{
    char ta[MAX_TRGM][3], tb[MAX_TRGM][3];
    size_t na = trigrams(a, ta), nb = trigrams(b, tb), shared = 0;
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < nb; j++)
            if (memcmp(ta[i], tb[j], 3) == 0) {
                shared++;
                break;
            }
    size_t all = na + nb - shared;
    return all == 0 ? 0 : (double)shared / (double)all;
}

static uint32_t pack_trigram(const char t[3])
{
    return (uint32_t)(unsigned char)t[0] << 16 | (uint32_t)(unsigned char)t[1] << 8 |
           (unsigned char)t[2];
}

/* The distinct trigrams of a word as trigrams() makes them, packed. */
static size_t word_trigram_keys(const char *w, uint32_t out[MAX_TRGM])
{
    char t[MAX_TRGM][3];
    size_t n = trigrams(w, t);
    for (size_t i = 0; i < n; i++)
        out[i] = pack_trigram(t[i]);
    return n;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Postings from (key << 32 | id) pairs, sorted here; n_of[id] counts keys.
   Takes pairs (freed). NULL when out of memory. */
static struct trigram_postings *postings_from_pairs(uint64_t *pairs, size_t n_pairs, size_t n_ids)
{
    struct trigram_postings *p = calloc(1, sizeof *p);
    if (p != NULL) {
        p->keys = malloc((n_pairs + 1) * sizeof *p->keys);
        p->first = malloc((n_pairs + 2) * sizeof *p->first);
        p->ids = malloc((n_pairs + 1) * sizeof *p->ids);
        p->n_of = calloc(n_ids + 1, 1);
    }
    if (p == NULL || p->keys == NULL || p->first == NULL || p->ids == NULL || p->n_of == NULL) {
        trigram_postings_free(p);
        free(pairs);
        return NULL;
    }
    sort_items(pairs, n_pairs, sizeof *pairs, cmp_u64);
    size_t n = 0;
    for (size_t i = 0; i < n_pairs; i++) {
        if (i > 0 && pairs[i] == pairs[i - 1])
            continue; /* the same trigram twice in one name */
        uint32_t key = (uint32_t)(pairs[i] >> 32), id = (uint32_t)pairs[i];
        if (p->n_keys == 0 || p->keys[p->n_keys - 1] != key) {
            p->keys[p->n_keys] = key;
            p->first[p->n_keys++] = (uint32_t)n;
        }
        p->ids[n++] = id;
        if (p->n_of[id] < UINT8_MAX)
            p->n_of[id]++;
    }
    p->first[p->n_keys] = (uint32_t)n;
    free(pairs);
    return p;
}

/* The ids holding key: [*from, *to) of p->ids (empty when none). */
static void postings_of(const struct trigram_postings *p, uint32_t key, size_t *from, size_t *to)
{
    const uint32_t *at = bsearch(&key, p->keys, p->n_keys, sizeof key, cmp_u32);
    *from = *to = 0;
    if (at != NULL) {
        *from = p->first[at - p->keys];
        *to = p->first[at - p->keys + 1];
    }
}

static bool trigram_indexes(struct search_index *idx)
{
    size_t n_pairs = 0;
    uint64_t *pairs = malloc((idx->n_terms * MAX_TRGM + 1) * sizeof *pairs);
    for (size_t t = 0; pairs != NULL && t < idx->n_terms; t++) {
        uint32_t keys[MAX_TRGM];
        size_t n = word_trigram_keys(idx->terms[t].term, keys);
        for (size_t k = 0; k < n; k++)
            pairs[n_pairs++] = (uint64_t)keys[k] << 32 | (uint32_t)t;
    }
    idx->term_trgm = pairs != NULL ? postings_from_pairs(pairs, n_pairs, idx->n_terms) : NULL;
    n_pairs = 0;
    for (size_t d = 0; d < idx->n_docs; d++)
        n_pairs += idx->docs[d].n_name_set;
    pairs = malloc((n_pairs + 1) * sizeof *pairs);
    n_pairs = 0;
    for (size_t d = 0; pairs != NULL && d < idx->n_docs; d++)
        for (size_t k = 0; k < idx->docs[d].n_name_set; k++)
            pairs[n_pairs++] = (uint64_t)idx->docs[d].name_set[k] << 32 | (uint32_t)d;
    idx->name_trgm = pairs != NULL ? postings_from_pairs(pairs, n_pairs, idx->n_docs) : NULL;
    return idx->term_trgm != NULL && idx->name_trgm != NULL;
}

/* ---- search -------------------------------------------------------------- */

static const struct term *nearest_term(const struct search_index *idx, const char *w,
                                       size_t max_len_diff);

static const struct term *find_term(const struct search_index *idx, const char *w)
{
    size_t lo = 0, hi = idx->n_terms;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(idx->terms[mid].term, w);
        if (c == 0)
            return &idx->terms[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* The first term not below w. */
static size_t lower_bound(const struct search_index *idx, const char *w)
{
    size_t lo = 0, hi = idx->n_terms;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (strcmp(idx->terms[mid].term, w) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool is_filler(const struct search_index *idx, const char *w)
{
    return bsearch(&w, idx->fillers, idx->n_fillers, sizeof *idx->fillers, cmp_str) != NULL;
}

static size_t df_of(const struct term *t)
{
    return t != NULL ? t->n : 0;
}

static bool only_letters(const char *w)
{
    for (; *w != '\0'; w++)
        if (*w < 'a' || *w > 'z')
            return false;
    return true;
}

/* One way a word may be matched: a term (prefix: any term starting with it),
   or two terms both present (a split). */
struct alternative {
    const struct term *a, *b;
    size_t range_from, range_to; /* prefix: terms [from, to) */
    bool prefix;
};

struct word {
    char *w;
    double weight; /* 1, or 0.1 for a filler word */
    size_t df;     /* as common as its most common alternative */
    struct alternative alts[4];
    size_t n_alts;
    bool selective;
};

struct reading_word {
    size_t word; /* index into words */
    double wt;
};

struct reading {
    struct reading_word *rw;
    size_t n;
};

struct query {
    struct word *words;
    size_t n_words, cap_words;
    struct reading readings[MAX_READINGS];
    size_t n_readings;
};

static void query_free(struct query *q)
{
    for (size_t i = 0; i < q->n_words; i++)
        free(q->words[i].w);
    free(q->words);
    for (size_t r = 0; r < q->n_readings; r++)
        free(q->readings[r].rw);
}

/* The typed words: runs of letters, digits and dots, dots trimmed, at most 32. */
static size_t split_typed(const char *qn, char **typed)
{
    size_t n = 0;
    const char *p = qn;
    while (*p != '\0' && n < MAX_TYPED) {
        while (*p != '\0' && !((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' ||
                               (unsigned char)*p >= 0x80))
            p++;
        const char *start = p;
        while ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' ||
               (unsigned char)*p >= 0x80)
            p++;
        const char *end = p;
        while (start < end && *start == '.')
            start++;
        while (end > start && end[-1] == '.')
            end--;
        if (end > start) {
            typed[n] = strndup(start, (size_t)(end - start));
            if (typed[n] == NULL)
                break;
            n++;
        }
    }
    return n;
}

/* Replaces every " phrase " of padded with " expansion " (non-overlapping,
   left to right, like SQL replace()). Malloc'd. */
static char *replace_all(const char *padded, const char *phrase, const char *expansion)
{
    size_t lp = strlen(phrase) + 2, le = strlen(expansion) + 2, n = strlen(padded);
    char *needle = malloc(lp + 1), *with = malloc(le + 1);
    char *out = malloc(n / lp * le + n + 1);
    if (needle == NULL || with == NULL || out == NULL) {
        free(needle);
        free(with);
        free(out);
        return NULL;
    }
    snprintf(needle, lp + 1, " %s ", phrase);
    snprintf(with, le + 1, " %s ", expansion);
    size_t o = 0;
    const char *p = padded, *hit;
    while ((hit = strstr(p, needle)) != NULL) {
        memcpy(out + o, p, (size_t)(hit - p));
        o += (size_t)(hit - p);
        memcpy(out + o, with, le);
        o += le;
        p = hit + lp;
    }
    strcpy(out + o, p);
    free(needle);
    free(with);
    return out;
}

static bool contains_phrase(const char *padded, const char *phrase)
{
    size_t lp = strlen(phrase);
    for (const char *p = strstr(padded, phrase); p != NULL; p = strstr(p + 1, phrase))
        if (p > padded && p[-1] == ' ' && p[lp] == ' ')
            return true;
    return false;
}

static size_t word_slot(struct query *q, const char *w, bool *ok)
{
    for (size_t i = 0; i < q->n_words; i++)
        if (strcmp(q->words[i].w, w) == 0)
            return i;
    if (!grow((void **)&q->words, &q->cap_words, q->n_words, sizeof *q->words) ||
        (q->words[q->n_words] = (struct word){.w = strdup(w)}).w == NULL) {
        *ok = false;
        return 0;
    }
    return q->n_words++;
}

/* The alternatives of a word, as the SQL's `alternatives`. */
static void word_alternatives(const struct search_index *idx, struct word *wd, bool prefix)
{
    const struct term *self = find_term(idx, wd->w);
    bool known = self != NULL;
    size_t df = df_of(self), len = strlen(wd->w);
    struct alternative a = {self, NULL, 0, 0, prefix};
    if (prefix) {
        a.range_from = lower_bound(idx, wd->w);
        a.range_to = a.range_from;
        while (a.range_to < idx->n_terms && strncmp(idx->terms[a.range_to].term, wd->w, len) == 0)
            a.range_to++;
    }
    wd->alts[wd->n_alts++] = a;
    char last = len > 0 ? wd->w[len - 1] : '\0';
    char before = len > 1 ? wd->w[len - 2] : '\0';
    if (len >= 2 && (last == 'i' || last == 'y') && before != 'a' && before != 'e' &&
        before != 'o' && before != 'u') {
        char *v = strdup(wd->w);
        if (v != NULL) {
            v[len - 1] = last == 'i' ? 'y' : 'i';
            const struct term *t = find_term(idx, v);
            free(v);
            wd->alts[wd->n_alts++] = (struct alternative){t, NULL, 0, 0, false};
            if (df_of(t) > df)
                df = df_of(t);
        }
    }
    if (!known && len >= 4 && len <= 24 && only_letters(wd->w)) {
        /* the split nearest the middle into two known syllables */
        const struct term *best_a = NULL, *best_b = NULL;
        size_t best_dist = SIZE_MAX;
        char buf[32];
        for (size_t i = 1; i < len; i++) {
            size_t dist = 2 * i > len ? 2 * i - len : len - 2 * i;
            if (dist >= best_dist)
                continue;
            memcpy(buf, wd->w, i);
            buf[i] = '\0';
            const struct term *ta = find_term(idx, buf), *tb = find_term(idx, wd->w + i);
            if (ta != NULL && tb != NULL) {
                best_a = ta;
                best_b = tb;
                best_dist = dist;
            }
        }
        if (best_a != NULL) {
            wd->alts[wd->n_alts++] = (struct alternative){best_a, best_b, 0, 0, false};
            size_t d = best_a->n < best_b->n ? best_a->n : best_b->n;
            if (d > df)
                df = d;
        }
    }
    if (!known && strchr(wd->w, '.') != NULL) {
        /* PostgreSQL's parser reads "9.123456.tabc" as "9.123456" then "tabc":
           both known terms, split at the last dot where they are */
        char buf[256];
        for (size_t i = len; i-- > 1 && len < sizeof buf;) {
            if (wd->w[i] != '.')
                continue;
            memcpy(buf, wd->w, i);
            buf[i] = '\0';
            const struct term *ta = find_term(idx, buf), *tb = find_term(idx, wd->w + i + 1);
            if (ta != NULL && tb != NULL) {
                wd->alts[wd->n_alts++] = (struct alternative){ta, tb, 0, 0, false};
                size_t d = ta->n < tb->n ? ta->n : tb->n;
                if (d > df)
                    df = d;
                break;
            }
        }
    }
    if (!known && len >= 4 && wd->weight == 1.0 && only_letters(wd->w)) {
        /* the nearest known term by trigrams, of about the same length */
        const struct term *best = nearest_term(idx, wd->w, 1);
        if (best != NULL) {
            wd->alts[wd->n_alts++] = (struct alternative){best, NULL, 0, 0, false};
            if (best->n > df)
                df = best->n;
        }
    }
    wd->df = df;
}

static bool build_query(const struct search_index *idx, const char *qn, struct query *q)
{
    char *typed[MAX_TYPED];
    size_t n_typed = split_typed(qn, typed);
    bool ok = n_typed > 0;
    size_t padded_len = 2;
    for (size_t i = 0; i < n_typed; i++)
        padded_len += strlen(typed[i]) + 1;
    char *padded = malloc(padded_len + 1);
    char *readings[MAX_READINGS] = {0};
    size_t n_readings = 0;
    if (padded != NULL && ok) {
        size_t o = 0;
        padded[o++] = ' ';
        for (size_t i = 0; i < n_typed; i++) {
            size_t l = strlen(typed[i]);
            memcpy(padded + o, typed[i], l);
            o += l;
            padded[o++] = ' ';
        }
        padded[o] = '\0';
        readings[n_readings++] = strdup(padded);
        for (size_t s = 0; s < idx->n_synonyms && n_readings < MAX_READINGS; s++)
            if (contains_phrase(padded, idx->synonyms[s].phrase))
                readings[n_readings++] =
                    replace_all(padded, idx->synonyms[s].phrase, idx->synonyms[s].expansion);
    } else {
        ok = false;
    }
    const char *last_typed = n_typed > 0 ? typed[n_typed - 1] : "";
    double total = idx->n_docs > 0 ? (double)idx->n_docs : 1.0;
    for (size_t r = 0; ok && r < n_readings; r++) {
        if (readings[r] == NULL) {
            ok = false;
            break;
        }
        struct reading *rd = &q->readings[q->n_readings++];
        size_t cap = 1;
        for (const char *p = readings[r]; *p != '\0'; p++)
            cap += *p == ' ';
        rd->rw = calloc(cap, sizeof *rd->rw);
        if (rd->rw == NULL) {
            ok = false;
            break;
        }
        char *save = NULL;
        for (char *tok = strtok_r(readings[r], " ", &save); tok != NULL && ok;
             tok = strtok_r(NULL, " ", &save)) {
            size_t slot = word_slot(q, tok, &ok);
            if (ok)
                rd->rw[rd->n++].word = slot;
        }
    }
    for (size_t i = 0; ok && i < q->n_words; i++) {
        struct word *wd = &q->words[i];
        wd->weight = is_filler(idx, wd->w) ? 0.1 : 1.0;
        word_alternatives(idx, wd, strcmp(wd->w, last_typed) == 0);
    }
    /* weights, and the words that can qualify a row (the SQL's `selective`) */
    for (size_t r = 0; ok && r < q->n_readings; r++) {
        struct reading *rd = &q->readings[r];
        double sum = 0;
        for (size_t k = 0; k < rd->n; k++) {
            const struct word *wd = &q->words[rd->rw[k].word];
            rd->rw[k].wt = wd->weight * log(1 + total / (double)(wd->df > 0 ? wd->df : 1));
            sum += rd->rw[k].wt;
        }
        /* ascending (wt, w): a word is selective once the running sum reaches 0.3 */
        bool *done = calloc(rd->n, sizeof *done);
        if (done == NULL) {
            ok = false;
            break;
        }
        double upto = 0;
        for (size_t step = 0; step < rd->n; step++) {
            size_t best = SIZE_MAX;
            for (size_t k = 0; k < rd->n; k++) {
                if (done[k])
                    continue;
                if (best == SIZE_MAX || rd->rw[k].wt < rd->rw[best].wt ||
                    (rd->rw[k].wt == rd->rw[best].wt &&
                     strcmp(q->words[rd->rw[k].word].w, q->words[rd->rw[best].word].w) < 0))
                    best = k;
            }
            done[best] = true;
            upto += rd->rw[best].wt;
            if (upto >= 0.3 * sum)
                q->words[rd->rw[best].word].selective = true;
        }
        free(done);
    }
    for (size_t i = 0; i < n_typed; i++)
        free(typed[i]);
    for (size_t r = 0; r < n_readings; r++)
        free(readings[r]);
    free(padded);
    return ok;
}

static bool has(char *const *list, size_t n, const char *v)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], v) == 0)
            return true;
    return false;
}

static bool passes(const struct doc *d, const struct search_index_filter *f)
{
    return (f->sector == NULL || strcmp(d->sector, f->sector) == 0) &&
           (f->agency == NULL || has(d->agencies, d->n_agencies, f->agency)) &&
           (f->admin_level == NULL || strcmp(d->admin_level, f->admin_level) == 0) &&
           (f->online_level == 0 || d->online_level == f->online_level) &&
           (f->channel == NULL || has(d->channels, d->n_channels, f->channel));
}

static bool posting_of(const struct term *t, uint32_t doc, bool *in_name)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (t->docs[mid] == doc) {
            *in_name = t->in_name[mid];
            return true;
        }
        if (t->docs[mid] < doc)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/* Hit codes per word and candidate: 0 none, 3 elsewhere (0.3), 6 a prefix in
   the name (0.6), 10 the whole word in the code or name (1). */
static void mark(uint8_t *hits, const int32_t *slot, uint32_t doc, uint8_t code)
{
    int32_t c = slot[doc];
    if (c >= 0 && hits[c] < code)
        hits[c] = code;
}

/* Whether looking each candidate up in a posting list of n (a binary search,
   about log2(n) steps) is cheaper than scanning the list: a common word of a
   query whose candidates came from its rarer words. The hits are the same
   either way (the unit test compares both paths). */
static bool lookup_cheaper(const struct search_index *idx, size_t n, size_t n_cands)
{
    size_t steps = 1;
    for (size_t k = n; k > 1; k >>= 1)
        steps++;
    return !idx->exhaustive && n_cands * steps * 2 < n;
}

/* The hits of term t (whole word: 10 in the name, else 3; whole_code: the
   code when in the name, prefix: 6) over the candidates. */
static void term_hits(const struct search_index *idx, const struct term *t, uint8_t name_code,
                      const int32_t *slot, const uint32_t *cands, size_t n_cands, uint8_t *hits)
{
    if (lookup_cheaper(idx, t->n, n_cands)) {
        for (size_t c = 0; c < n_cands; c++) {
            bool in_name;
            if (posting_of(t, cands[c], &in_name))
                mark(hits, slot, cands[c], in_name ? name_code : 3);
        }
        return;
    }
    for (size_t k = 0; k < t->n; k++)
        mark(hits, slot, t->docs[k], t->in_name[k] ? name_code : 3);
}

static void word_hits(const struct search_index *idx, const struct word *wd, const int32_t *slot,
                      const uint32_t *cands, size_t n_cands, uint8_t *hits)
{
    for (size_t a = 0; a < wd->n_alts; a++) {
        const struct alternative *al = &wd->alts[a];
        if (al->b != NULL) {
            bool by_cand = lookup_cheaper(idx, al->a->n, n_cands);
            size_t n = by_cand ? n_cands : al->a->n;
            for (size_t k = 0; k < n; k++) {
                bool a_in_name, b_in_name;
                uint32_t doc = by_cand ? cands[k] : al->a->docs[k];
                if (by_cand ? !posting_of(al->a, doc, &a_in_name)
                            : (a_in_name = al->a->in_name[k], slot[doc] < 0))
                    continue;
                if (posting_of(al->b, doc, &b_in_name))
                    mark(hits, slot, doc, a_in_name && b_in_name ? 10 : 3);
            }
        } else if (al->prefix) {
            for (size_t t = al->range_from; t < al->range_to; t++) {
                const struct term *tm = &idx->terms[t];
                term_hits(idx, tm, tm == al->a ? 10 : 6, slot, cands, n_cands, hits);
            }
        } else if (al->a != NULL) {
            term_hits(idx, al->a, 10, slot, cands, n_cands, hits);
        }
    }
}

/* Marks the docs a selective word can qualify: is_cand[doc] 1 (a candidate,
   appended to cands) or 2 (filtered out); every doc marked is appended to
   touched, so the scratch is reset without a pass over every doc. */
struct candidates {
    uint8_t *is_cand;
    uint32_t *cands, *touched;
    size_t n_cands, n_touched;
};

static void add_candidate(const struct search_index *idx, const struct search_index_filter *filter,
                          struct candidates *c, uint32_t doc)
{
    if (c->is_cand[doc] != 0)
        return;
    c->touched[c->n_touched++] = doc;
    if (passes(&idx->docs[doc], filter)) {
        c->is_cand[doc] = 1;
        c->cands[c->n_cands++] = doc;
    } else {
        c->is_cand[doc] = 2;
    }
}

static void mark_candidates(const struct search_index *idx, const struct word *wd,
                            const struct search_index_filter *filter, struct candidates *c)
{
    for (size_t a = 0; a < wd->n_alts; a++) {
        const struct alternative *al = &wd->alts[a];
        if (al->b != NULL) {
            bool unused;
            for (size_t k = 0; k < al->a->n; k++)
                if (posting_of(al->b, al->a->docs[k], &unused))
                    add_candidate(idx, filter, c, al->a->docs[k]);
        } else if (al->prefix) {
            for (size_t t = al->range_from; t < al->range_to; t++)
                for (size_t k = 0; k < idx->terms[t].n; k++)
                    add_candidate(idx, filter, c, idx->terms[t].docs[k]);
        } else if (al->a != NULL) {
            for (size_t k = 0; k < al->a->n; k++)
                add_candidate(idx, filter, c, al->a->docs[k]);
        }
    }
}

/* ---- the whole-query trigram fallback (pg_trgm, in float4 like it) ------- */

static bool in_set(const uint32_t *set, size_t n, uint32_t t)
{
    return bsearch(&t, set, n, sizeof *set, cmp_u32) != NULL;
}

/* similarity(): shared distinct trigrams over all distinct trigrams. */
static float trgm_similarity(const uint32_t *set1, size_t n1, const uint32_t *set2, size_t n2)
{
    size_t shared = 0;
    for (size_t i = 0; i < n1; i++)
        shared += in_set(set2, n2, set1[i]);
    size_t all = n1 + n2 - shared;
    return all == 0 ? 0.0f : (float)shared / (float)all;
}

static float calc_sml(int count, int len1, int len2)
{
    return (float)count / (float)(len1 + len2 - count);
}

/* word_similarity(q, name): the best similarity of q's trigrams (set1, n1
   distinct) to a continuous extent of the name's trigrams t2 (n2, in order;
   set2: the same distinct), as pg_trgm's iterate_word_similarity (not
   strict). id, found: scratch of n2; lastpos: scratch of n2 too. */
static float word_similarity(const uint32_t *set1, size_t n1, const uint32_t *t2, size_t n2,
                             const uint32_t *set2, size_t n_set2, size_t *id, bool *found,
                             int *lastpos)
{
    for (size_t i = 0; i < n2; i++) {
        const uint32_t *at = bsearch(&t2[i], set2, n_set2, sizeof *set2, cmp_u32);
        id[i] = at != NULL ? (size_t)(at - set2) : 0;
        found[i] = in_set(set1, n1, t2[i]);
        lastpos[i] = -1; /* indexed by id */
    }
    int ulen1 = (int)n1, ulen2 = 0, count = 0, lower = -1;
    float smlr_max = 0.0f;
    for (size_t i = 0; i < n2; i++) {
        if (lower >= 0 || found[i]) {
            if (lastpos[id[i]] < 0) {
                ulen2++;
                if (found[i])
                    count++;
            }
            lastpos[id[i]] = (int)i;
        }
        if (!found[i])
            continue;
        int upper = (int)i;
        if (lower == -1) {
            lower = (int)i;
            ulen2 = 1;
        }
        float smlr_cur = calc_sml(count, ulen1, ulen2);
        int tmp_count = count, tmp_ulen2 = ulen2, prev_lower = lower;
        for (int tmp_lower = lower; tmp_lower <= upper; tmp_lower++) {
            float smlr_tmp = calc_sml(tmp_count, ulen1, tmp_ulen2);
            if (smlr_tmp > smlr_cur) {
                smlr_cur = smlr_tmp;
                ulen2 = tmp_ulen2;
                lower = tmp_lower;
                count = tmp_count;
            }
            if (lastpos[id[tmp_lower]] == tmp_lower) {
                tmp_ulen2--;
                if (found[tmp_lower])
                    tmp_count--;
            }
        }
        if (smlr_cur > smlr_max)
            smlr_max = smlr_cur;
        for (int tmp_lower = prev_lower; tmp_lower < lower; tmp_lower++)
            if (lastpos[id[tmp_lower]] == tmp_lower)
                lastpos[id[tmp_lower]] = -1;
    }
    return smlr_max;
}

static int cmp_hit(const void *a, const void *b);
static void keep_best(struct search_index_hit *top, size_t *n, size_t cap,
                      const struct search_index_hit *h);
static bool after_cursor(const struct search_index_hit *h, const struct search_index_filter *f);

/* Rows whose name is word-similar to the whole query (word_similarity >= 0.6,
   pg_trgm's <%), scored word_similarity + similarity: the SQL's `fuzzy`, for a
   query none of whose words matches. Its rank goes through float4 and numeric
   like the SQL's (six significant digits, then six decimals). */
static bool fuzzy(const struct search_index *idx, const char *qn,
                  const struct search_index_filter *filter, size_t limit,
                  struct search_index_hit *top, size_t *n_top)
{
    size_t chars = 0;
    for (const char *p = qn; *p != '\0'; p++)
        chars += ((unsigned char)*p & 0xC0) != 0x80;
    if (chars < 3 || chars > 64)
        return true;
    uint32_t *set1;
    size_t n1 = text_trigrams(qn, &set1);
    if (set1 == NULL)
        return false;
    n1 = unique_trgm(set1, n1);
    size_t max2 = 0;
    for (size_t d = 0; d < idx->n_docs; d++)
        if (idx->docs[d].n_name_trgm > max2)
            max2 = idx->docs[d].n_name_trgm;
    int *lastpos = malloc((max2 + 1) * sizeof *lastpos);
    bool *found = malloc((max2 + 1) * sizeof *found);
    size_t *id = malloc((max2 + 1) * sizeof *id);
    uint16_t *shared = calloc(idx->n_docs + 1, sizeof *shared);
    bool ok = lastpos != NULL && found != NULL && id != NULL && shared != NULL;
    for (size_t k = 0; ok && k < n1; k++) {
        size_t from, to;
        postings_of(idx->name_trgm, set1[k], &from, &to);
        for (size_t i = from; i < to; i++)
            shared[idx->name_trgm->ids[i]]++;
    }
    for (size_t d = 0; ok && n1 > 0 && d < idx->n_docs; d++) {
        const struct doc *doc = &idx->docs[d];
        /* at most the shared share of q's trigrams: under 0.6 cannot qualify */
        if ((float)shared[d] / (float)n1 < 0.6f || !passes(doc, filter))
            continue;
        float sim = (float)shared[d] / (float)(n1 + doc->n_name_set - shared[d]);
        if (*n_top == limit && limit > 0 && !idx->exhaustive) {
            /* Early termination: word_similarity is at most the shared share of
               q's trigrams (a best extent holds no more of them), and the
               similarity is exact from the shared count; when even that sum
               cannot beat the last kept hit, the extent scan is skipped. */
            char most[32];
            snprintf(most, sizeof most, "%.6g", (double)((float)shared[d] / (float)n1 + sim));
            if (llround(strtod(most, NULL) * 1e6) < top[limit - 1].rank)
                continue;
        }
        float ws = word_similarity(set1, n1, doc->name_trgm, doc->n_name_trgm, doc->name_set,
                                   doc->n_name_set, id, found, lastpos);
        if (ws < 0.6f)
            continue;
        float score = ws + trgm_similarity(set1, n1, doc->name_set, doc->n_name_set);
        char text[32];
        snprintf(text, sizeof text, "%.6g", (double)score); /* float4 -> numeric */
        struct search_index_hit h = {doc->code, doc->summary, llround(strtod(text, NULL) * 1e6),
                                     idx->code_order[d]};
        if (after_cursor(&h, filter))
            keep_best(top, n_top, limit, &h);
    }
    free(set1);
    free(shared);
    free(lastpos);
    free(found);
    free(id);
    return ok;
}

static int cmp_hit(const void *a, const void *b)
{
    const struct search_index_hit *x = a, *y = b;
    if (x->rank != y->rank)
        return x->rank > y->rank ? -1 : 1;
    return (x->code_order > y->code_order) - (x->code_order < y->code_order);
}

/* Keeps the best `cap` hits in top[0..*n), in answer order (binary insertion:
   most candidates are worse than the last kept one and cost one compare). */
static void keep_best(struct search_index_hit *top, size_t *n, size_t cap,
                      const struct search_index_hit *h)
{
    if (cap == 0 || (*n == cap && cmp_hit(h, &top[*n - 1]) >= 0))
        return;
    size_t lo = 0, hi = *n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cmp_hit(&top[mid], h) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t last = *n < cap ? *n : cap - 1;
    memmove(&top[lo + 1], &top[lo], (last - lo) * sizeof *top);
    top[lo] = *h;
    if (*n < cap)
        (*n)++;
}

static bool after_cursor(const struct search_index_hit *h, const struct search_index_filter *f)
{
    return !f->has_cursor || h->rank < f->cursor_rank ||
           (h->rank == f->cursor_rank && strcmp(h->code, f->cursor_code) > 0);
}

static double hit_value(uint8_t code)
{
    return code == 10 ? 1.0 : code == 6 ? 0.6 : code == 3 ? 0.3 : 0.0;
}

/* The per-thread scratch of search_index_query (issue 14): arrays of one
   entry per doc and the hit codes, kept between queries instead of allocated
   and cleared for each. Between queries is_cand is all 0 and slot all -1 (a
   query resets the entries it touched). Freed when the thread ends. */
struct scratch {
    size_t cap_docs, cap_hits;
    uint8_t *is_cand;
    int32_t *slot;
    uint32_t *cands, *touched;
    uint8_t *hits;
};

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static bool scratch_key_ok;

static void scratch_free(void *p)
{
    struct scratch *s = p;
    if (s == NULL)
        return;
    free(s->is_cand);
    free(s->slot);
    free(s->cands);
    free(s->touched);
    free(s->hits);
    free(s);
}

static void scratch_key_make(void)
{
    scratch_key_ok = pthread_key_create(&scratch_key, scratch_free) == 0;
}

/* This thread's scratch for n_docs docs; NULL when out of memory. */
static struct scratch *scratch_for(size_t n_docs)
{
    pthread_once(&scratch_once, scratch_key_make);
    if (!scratch_key_ok)
        return NULL;
    struct scratch *s = pthread_getspecific(scratch_key);
    if (s == NULL) {
        if ((s = calloc(1, sizeof *s)) == NULL || pthread_setspecific(scratch_key, s) != 0) {
            free(s);
            return NULL;
        }
    }
    if (s->cap_docs < n_docs + 1) {
        size_t cap = n_docs + 1 + n_docs / 8;
        free(s->is_cand);
        free(s->slot);
        free(s->cands);
        free(s->touched);
        s->is_cand = calloc(cap, 1);
        s->slot = malloc(cap * sizeof *s->slot);
        s->cands = malloc(cap * sizeof *s->cands);
        s->touched = malloc(cap * sizeof *s->touched);
        s->cap_docs = 0;
        if (s->is_cand == NULL || s->slot == NULL || s->cands == NULL || s->touched == NULL)
            return NULL; /* freed by the next call or the thread's end */
        for (size_t d = 0; d < cap; d++)
            s->slot[d] = -1;
        s->cap_docs = cap;
    }
    return s;
}

/* Zeroed room for n hit codes in s; NULL when out of memory. */
static uint8_t *scratch_hits(struct scratch *s, size_t n)
{
    if (s->cap_hits < n + 1) {
        free(s->hits);
        s->cap_hits = 0;
        if ((s->hits = malloc(n + 1 + n / 4)) == NULL)
            return NULL;
        s->cap_hits = n + 1 + n / 4;
    }
    memset(s->hits, 0, n);
    return s->hits;
}

void search_index_set_exhaustive(struct search_index *idx, bool exhaustive)
{
    idx->exhaustive = exhaustive;
}

enum search_index_outcome search_index_query(const struct search_index *idx, const char *qn,
                                             const struct search_index_filter *filter,
                                             size_t limit, struct search_index_hit **hits_out,
                                             size_t *n_hits)
{
    *hits_out = NULL;
    *n_hits = 0;
    struct query q = {0};
    enum search_index_outcome out = SEARCH_INDEX_NO_MEMORY;
    struct scratch *sc = scratch_for(idx->n_docs);
    struct candidates cs = {0};
    struct search_index_hit *ranked = NULL;
    if (sc == NULL)
        goto done;
    cs = (struct candidates){sc->is_cand, sc->cands, sc->touched, 0, 0};
    bool built = build_query(idx, qn, &q);
    if (!built && (q.n_readings > 0 || q.n_words > 0))
        goto done; /* out of memory */
    for (size_t i = 0; built && i < q.n_words; i++)
        if (q.words[i].selective)
            mark_candidates(idx, &q.words[i], filter, &cs);
    size_t n_cands = cs.n_cands;
    const uint32_t *cands = cs.cands;
    int32_t *slot = sc->slot;
    if (n_cands == 0) { /* no word matches: the whole-query trigram fallback */
        ranked = malloc((limit + 1) * sizeof *ranked);
        size_t n_ranked = 0;
        if (ranked == NULL || !fuzzy(idx, qn, filter, limit, ranked, &n_ranked))
            goto done;
        *n_hits = n_ranked;
        *hits_out = ranked;
        ranked = NULL;
        out = SEARCH_INDEX_OK;
        goto done;
    }
    uint8_t *hits = scratch_hits(sc, n_cands * q.n_words);
    size_t cap = limit < n_cands ? limit : n_cands;
    ranked = malloc((cap + 1) * sizeof *ranked);
    if (hits == NULL || ranked == NULL)
        goto done;
    for (size_t c = 0; c < n_cands; c++)
        slot[cands[c]] = (int32_t)c;
    for (size_t i = 0; i < q.n_words; i++)
        word_hits(idx, &q.words[i], slot, cands, n_cands, hits + i * n_cands);
    size_t n_ranked = 0, qn_len = strlen(qn);
    uint32_t q_head = head4(qn), q_mask = qn_len >= 4 ? 0xFFFFFFFFu : (1u << (8 * qn_len)) - 1;
    size_t most_words = 0; /* a reading's words: at most that many hit the name */
    for (size_t r = 0; r < q.n_readings; r++)
        most_words = q.readings[r].n > most_words ? q.readings[r].n : most_words;
    for (size_t c = 0; c < n_cands; c++) {
        uint32_t doc = cands[c];
        const struct doc *d = &idx->docs[doc];
        bool name_prefix = (idx->name_head[doc] & q_mask) == q_head &&
                           (qn_len <= 4 || strncmp(d->name, qn, qn_len) == 0);
        double score = idx->code_head[doc] == q_head && strcmp(d->code_lower, qn) == 0 ? 30
                       : name_prefix && d->name[qn_len] == '\0'                       ? 20
                       : name_prefix                                                   ? 10
                                                                                       : 0;
        if (cap > 0 && n_ranked == cap && !idx->exhaustive) {
            /* Early termination: the most this candidate can score (full coverage,
               every word of the longest reading in its name), by the same
               floating-point steps as its score, so never below it; when that
               cannot beat the last kept hit, its words are not read. */
            double share_most = (double)most_words / (double)idx->name_words[doc];
            double most = score;
            most += 8 * 1.0 + (share_most < 1 ? share_most : 1);
            if (llround(most * 1e6) < ranked[cap - 1].rank)
                continue;
        }
        double best = -1;
        size_t best_name_words = 0;
        for (size_t r = 0; r < q.n_readings; r++) {
            const struct reading *rd = &q.readings[r];
            double got = 0, all = 0;
            size_t name_words = 0;
            for (size_t k = 0; k < rd->n; k++) {
                uint8_t code = hits[rd->rw[k].word * n_cands + c];
                got += rd->rw[k].wt * hit_value(code);
                all += rd->rw[k].wt;
                name_words += code == 10;
            }
            double covered = all > 0 ? got / all : 0;
            if (covered > best || (covered == best && name_words > best_name_words)) {
                best = covered;
                best_name_words = name_words;
            }
        }
        if (best < 0.3)
            continue;
        double name_share = (double)best_name_words / (double)idx->name_words[doc];
        score += 8 * best + (name_share < 1 ? name_share : 1);
        /* code and summary once kept: most candidates never touch their doc */
        struct search_index_hit h = {NULL, NULL, llround(score * 1e6), idx->code_order[doc]};
        if (filter->has_cursor && h.rank == filter->cursor_rank)
            h.code = d->code;
        if (after_cursor(&h, filter))
            keep_best(ranked, &n_ranked, cap, &h);
    }
    for (size_t i = 0; i < n_ranked; i++) {
        const struct doc *d = &idx->docs[idx->doc_by_code[ranked[i].code_order]];
        ranked[i].code = d->code;
        ranked[i].summary_json = d->summary;
    }
    *n_hits = n_ranked;
    *hits_out = ranked;
    ranked = NULL;
    out = SEARCH_INDEX_OK;
done:
    for (size_t i = 0; i < cs.n_touched; i++) { /* the scratch as it was */
        sc->is_cand[cs.touched[i]] = 0;
        sc->slot[cs.touched[i]] = -1;
    }
    query_free(&q);
    free(ranked);
    return out;
}

/* The known term most like w by trigrams (similarity >= 0.3, then the first
   term), or NULL; max_len_diff limits the length difference (SIZE_MAX: none).
   Only terms sharing a trigram with w can reach 0.3: their shared counts come
   from the trigram postings, and the similarity is
   search_index_trigram_similarity's (shared over all distinct trigrams). */
static const struct term *nearest_term(const struct search_index *idx, const char *w,
                                       size_t max_len_diff)
{
    uint32_t keys[MAX_TRGM];
    size_t n_keys = word_trigram_keys(w, keys), len = strlen(w);
    uint8_t *shared = calloc(idx->n_terms + 1, 1);
    if (shared == NULL)
        return NULL;
    for (size_t k = 0; k < n_keys; k++) {
        size_t from, to;
        postings_of(idx->term_trgm, keys[k], &from, &to);
        for (size_t i = from; i < to; i++)
            shared[idx->term_trgm->ids[i]]++;
    }
    const struct term *best = NULL;
    double best_sim = 0.3;
    for (size_t i = 0; i < idx->n_terms; i++) {
        const struct term *t = &idx->terms[i];
        if (shared[i] == 0 ||
            (max_len_diff != SIZE_MAX && (t->len + max_len_diff < len || t->len > len + max_len_diff)))
            continue;
        size_t all = n_keys + idx->term_trgm->n_of[i] - shared[i];
        double sim = (double)shared[i] / (double)all;
        if (sim > best_sim || (sim == best_sim && best == NULL)) {
            best = t;
            best_sim = sim;
        }
    }
    free(shared);
    return best;
}

char *search_index_suggest(const struct search_index *idx, const char *qn)
{
    char *typed[MAX_TYPED];
    size_t n_typed = split_typed(qn, typed), len = 1;
    bool changed = false;
    const char *fixed[MAX_TYPED];
    for (size_t i = 0; i < n_typed; i++) {
        fixed[i] = typed[i];
        size_t l = strlen(typed[i]);
        if (l >= 4 && only_letters(typed[i]) && find_term(idx, typed[i]) == NULL &&
            !is_filler(idx, typed[i])) {
            const struct term *t = nearest_term(idx, typed[i], SIZE_MAX);
            if (t != NULL) {
                fixed[i] = t->term;
                changed = true;
            }
        }
        len += strlen(fixed[i]) + 1;
    }
    char *out = changed ? malloc(len) : NULL;
    if (out != NULL) {
        out[0] = '\0';
        for (size_t i = 0; i < n_typed; i++) {
            if (i > 0)
                strcat(out, " ");
            strcat(out, fixed[i]);
        }
    }
    for (size_t i = 0; i < n_typed; i++)
        free(typed[i]);
    return out;
}
