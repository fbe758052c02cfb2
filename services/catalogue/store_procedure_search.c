/*
 * Store: searching and browsing the current published versions of
 * procedures (procedure_search, rebuilt on publish by
 * store_procedure_writes.c). Every SQL text of the search lives here.
 */
/* The search statement is one SQL text longer than the 4095 characters ISO C
   guarantees for a string literal (-Wpedantic says so); GCC and Clang take
   any length, and splitting the SQL would only make it harder to read. */
#pragma GCC diagnostic ignored "-Woverlength-strings"

#include "store.h"

/* ---- search and browse ------------------------------------------------ */

/* A search result item, over procedure_search `s` joined with sectors `sec`. */
/* clang-format off */
#define SUMMARY_JSON                                                                             \
    "json_build_object('code', s.code, 'name', s.name,"                                          \
    " 'sector', json_build_object('code', sec.code, 'name', sec.name),"                          \
    " 'admin_level', s.admin_level, 'online_level', s.online_level,"                             \
    " 'online_scope', s.online_scope, 'channels', to_json(s.channels),"                          \
    " 'version', s.version, 'published_at', f_rfc3339(s.published_at))::text"

/* The filters $2..$6, NULL meaning "any". An unknown sector or agency simply
   matches nothing. */
#define FILTERS                                                                                  \
    " AND ($2::text IS NULL OR s.sector_code = $2::text)"                                        \
    " AND ($3::text IS NULL OR EXISTS (SELECT 1 FROM procedure_agencies pa"                      \
    "      WHERE pa.procedure_code = s.code AND pa.agency_code = $3::text))"                     \
    " AND ($4::text IS NULL OR s.admin_level = $4::text)"                                        \
    " AND ($5::smallint IS NULL OR s.online_level = $5::smallint)"                               \
    " AND ($6::text IS NULL OR $6::text = ANY (s.channels))"

/* Browse: current versions ordered by code; keyset on code ($1). */
static const mc_db_statement procedure_browse = {
    "catalogue_procedure_browse",
    "SELECT " SUMMARY_JSON ", s.code"
    "  FROM procedure_search s JOIN sectors sec ON sec.code = s.sector_code"
    " WHERE s.code > coalesce($1::text, '')" FILTERS
    " ORDER BY s.code LIMIT $7::integer",
    7};

/*
 * Search. The user's text ($1) is only ever a bound value; every query
 * operator is built from it here, in SQL, and no input can make it fail:
 *  - qn: unaccented, lower-cased, white space collapsed (f_search_norm);
 *  - words: runs of letters, digits and inner dots of qn (so "1.0011" stays
 *    one word and finds code 1.001193), at most 32; every other character,
 *    including the tsquery syntax & | ! ( ) : * < > and quotes, separates
 *    words, and each word is quote_literal'ed before to_tsquery sees it;
 *  - web: websearch_to_tsquery(qn) (accepts raw user input: "phrases", or,
 *    -not), only when qn has a letter or digit;
 *  - tsq = web OR every word as a prefix (w1:* & w2:* ...): what full-text
 *    matching accepts, on the weighted tsvector (GIN index);
 *  - strong = web OR the words with only the last as a prefix (what someone
 *    typing means): counts the convincing full-text matches.
 * Typo tolerance: when no row matches strongly, rows whose name is
 * word-similar to qn by trigrams (pg_trgm <%, GIN trigram index) are added;
 * "dang ky kgai sinh" finds "Đăng ký khai sinh". Trigram rechecks cost tens
 * of microseconds a row (hundreds of candidates for a common phrase), so this
 * fallback runs only when needed, and for 3..64 characters; it depends on the
 * query and filters alone, never on the page, so pages stay consistent.
 * Rank: full-text rows score exact code 30, exact name 20, name prefix 10,
 * plus ts_rank_cd of the whole-word query (normalised to [0, 1)), plus, when
 * the code or name itself holds every word (the words restricted to weight A,
 * the last as a prefix), 1 and the share of the name the query covers (so a
 * name match beats sector/description matches, and "Đăng ký khai sinh" comes
 * before "Đăng ký khai sinh kết hợp ..."); typo rows score trigram word
 * similarity plus whole-name similarity (0..2). Rounded to six decimals so the rank can
 * travel in a cursor and compare exactly; keyset (rank DESC, code) with the
 * cursor in $7 (rank) and $8 (code). The CTEs are MATERIALIZED so the query
 * terms are computed once per call, not once per row, and only the rows of
 * the page are joined and turned into JSON (a one-letter query can match
 * half the catalogue).
 */
static const mc_db_statement procedure_search = {
    "catalogue_procedure_search",
    "WITH input AS ("
    "    SELECT left(f_search_norm($1::text), 200) AS qn"
    "), words AS ("
    "    SELECT array_to_string(array_agg(quote_literal(w) || ':*' ORDER BY n), ' & ') AS every_prefix,"
    "           array_to_string(array_agg(quote_literal(w) || CASE WHEN last THEN ':*' ELSE '' END"
    "                                     ORDER BY n), ' & ') AS last_prefix,"
    "           array_to_string(array_agg(quote_literal(w) || CASE WHEN last THEN ':*A' ELSE ':A' END"
    "                                     ORDER BY n), ' & ') AS name_words"
    "      FROM (SELECT w, n, n = max(n) OVER () AS last"
    "              FROM (SELECT btrim(w, '.') AS w, n"
    "                      FROM input, regexp_split_to_table("
    "                           regexp_replace(qn, '[^[:alnum:].]+', ' ', 'g'), ' ')"
    "                           WITH ORDINALITY AS t(w, n)"
    "                     WHERE btrim(w, '.') <> ''"
    "                     ORDER BY n LIMIT 32) AS y) AS x"
    "), terms AS MATERIALIZED ("
    "    SELECT i.qn, CASE WHEN numnode(c.tq) > 0 THEN c.tq END AS tsq,"
    "           CASE WHEN numnode(q.web) > 0 THEN q.web END AS web,"
    "           CASE WHEN numnode(c.strong) > 0 THEN c.strong END AS strong,"
    "           CASE WHEN numnode(q.name) > 0 THEN q.name END AS name"
    "      FROM input i, words wd,"
    "           LATERAL (SELECT CASE WHEN i.qn ~ '[[:alnum:]]'"
    "                                THEN websearch_to_tsquery('simple'::regconfig, i.qn) END AS web,"
    "                           to_tsquery('simple'::regconfig, wd.every_prefix) AS pre,"
    "                           to_tsquery('simple'::regconfig, wd.last_prefix) AS last,"
    "                           to_tsquery('simple'::regconfig, wd.name_words) AS name) AS q,"
    "           LATERAL (SELECT coalesce(q.web || q.pre, q.pre, q.web) AS tq,"
    "                           coalesce(q.web || q.last, q.last, q.web) AS strong) AS c"
    "), fulltext AS MATERIALIZED ("
    "    SELECT s.code,"
    "           CASE WHEN lower(s.code) = t.qn THEN 30"
    "                WHEN s.search_name = t.qn THEN 20"
    "                WHEN starts_with(s.search_name, t.qn) THEN 10"
    "                ELSE 0 END"
    "           + coalesce(ts_rank_cd(s.search_vector, t.web, 32), 0)"
    "           + CASE WHEN s.search_vector @@ t.name"
    "                  THEN 1 + length(t.qn)::float8 / greatest(length(s.search_name), length(t.qn))"
    "                  ELSE 0 END AS score,"
    "           coalesce(s.search_vector @@ t.strong, false) AS strong"
    "      FROM procedure_search s, terms t"
    "     WHERE s.search_vector @@ t.tsq" FILTERS
    "), fuzzy AS MATERIALIZED ("
    "    SELECT s.code,"
    "           public.word_similarity(t.qn, s.search_name)"
    "           + public.similarity(t.qn, s.search_name) AS score"
    "      FROM procedure_search s, terms t"
    "     WHERE NOT EXISTS (SELECT 1 FROM fulltext WHERE strong)"
    "       AND length(t.qn) BETWEEN 3 AND 64"
    "       AND t.qn OPERATOR(public.<%) s.search_name"
    "       AND NOT coalesce(s.search_vector @@ t.tsq, false)" FILTERS
    "), ranked AS ("
    "    SELECT code, round(score::numeric, 6) AS rank FROM fulltext"
    "    UNION ALL"
    "    SELECT code, round(score::numeric, 6) FROM fuzzy"
    "), page AS MATERIALIZED ("
    "    SELECT code, rank FROM ranked"
    "     WHERE $7::numeric IS NULL OR rank < $7::numeric"
    "        OR (rank = $7::numeric AND code > $8::text)"
    "     ORDER BY rank DESC, code LIMIT $9::integer"
    ")"
    "SELECT " SUMMARY_JSON ", r.rank::text, s.code"
    "  FROM page r"
    "  JOIN procedure_search s ON s.code = r.code"
    "  JOIN sectors sec ON sec.code = s.sector_code"
    " ORDER BY r.rank DESC, r.code",
    9};
/* clang-format on */

mc_error store_procedure_search(mc_db_conn *conn, const struct store_procedure_filter *f,
                                unsigned limit, json_t **items, json_t **next_keys)
{
    const json_t *cursor = f->cursor;
    bool search = f->q != NULL;
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, search ? f->q : json_string_value(json_array_get(cursor, 0)));
    mc_db_add_text(&p, f->sector);
    mc_db_add_text(&p, f->agency);
    mc_db_add_text(&p, f->admin_level);
    mc_db_add_text(&p, f->online_level);
    mc_db_add_text(&p, f->channel);
    if (search) {
        mc_db_add_text(&p, json_string_value(json_array_get(cursor, 0)));
        mc_db_add_text(&p, json_string_value(json_array_get(cursor, 1)));
    }
    mc_db_add_int64(&p, (long long)limit + 1);
    /* Keys: [rank, code] when searching, [code] when browsing. */
    return search ? mc_db_fetch_page(conn, &procedure_search, &p, limit, "ss", items, next_keys)
                  : mc_db_fetch_page(conn, &procedure_browse, &p, limit, "s", items, next_keys);
}
