/*
 * Store: searching and browsing the current published versions of
 * procedures (procedure_search, rebuilt on publish by
 * store_procedure_writes.c). Every SQL text of the search lives here.
 */
/* The search statement is one SQL text longer than the 4095 characters ISO C
   guarantees for a string literal (-Wpedantic says so); GCC and Clang take
   any length, and splitting the SQL would only make it harder to read. */
#pragma GCC diagnostic ignored "-Woverlength-strings"

#include <stdlib.h>
#include <string.h>

#include "search_index.h"
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
 * Search (issue 14): rank by how much of what the citizen typed a procedure
 * covers, name first. The user's text ($1) is only ever a bound value; every
 * query operator is built from it here, in SQL (each word quote_literal'ed
 * before to_tsquery sees it), and no input can make it fail.
 *  - typed: the words of the normalised query (f_search_norm; runs of
 *    letters, digits and inner dots, so "1.0011" stays one word), at most 32;
 *  - readings: the words as typed, and up to 16 more, each with one phrase of
 *    search_synonyms replaced by its expansion ("gplx" -> "giay phep lai
 *    xe"): a synonym adds a reading, it never replaces the words typed;
 *  - words: every word of every reading, weighted 0.1 if it is in
 *    search_filler_words, else 1; the last word typed also matches as a
 *    prefix (someone typing). Each word is matched by alternatives: itself,
 *    its i/y spelling variant (ký/kí), and, when search_terms does not know
 *    it, its split into two known syllables ("dangky") or the nearest known
 *    term of four letters or more by trigram similarity ("nghep" ->
 *    "nghiep"); a word weighs as rare as its most common alternative;
 *  - weighted: each word of each reading weighs its filler weight times its
 *    rarity ln(1 + procedures / procedures holding it), from the counts of
 *    search_terms (kept by a trigger), so words that half the catalogue
 *    shares (đăng ký, giấy) count less than rare ones;
 *  - selective: a row must cover 0.3 of some reading to be answered, so the
 *    most common words of a reading whose weights add up to less than 0.3 of
 *    it cannot qualify a row alone: candidates are the procedures matching any
 *    other word (GIN index on search_vector), with the filters $2..$6. This
 *    prunes exactly (no answer is lost) and spares ranking every procedure
 *    that holds "đăng ký";
 *  - word_hits: per candidate and word (the cheapest test first: most
 *    candidates miss most words), 1 for the whole word in the code or name
 *    (weight A), 0.6 for a prefix there, 0.3 elsewhere (sector,
 *    description), else 0;
 *  - coverage: per candidate, the best reading's weighted share of words hit
 *    (at least 0.3 to be answered).
 * Rank: exact code 30, exact name 20, name prefix 10, plus 8 x coverage, plus
 * the share of the name's words the query hit (so "Đăng ký khai sinh" comes
 * before "Đăng ký khai sinh kết hợp ..."), plus half the ts_rank_cd of the
 * typed text (words in order). When no word matches at all, rows whose name
 * is word-similar to the whole query by trigrams (pg_trgm <%) are answered
 * instead, scored 0..2; it depends on the query and filters alone, never on
 * the page, so pages stay consistent. Rounded to six decimals so the rank can
 * travel in a cursor and compare exactly; keyset (rank DESC, code) with the
 * cursor in $7 (rank) and $8 (code). The CTEs are MATERIALIZED so the query
 * terms are computed once per call, not once per row, and only the rows of
 * the page are joined and turned into JSON.
 */
static const mc_db_statement procedure_search = {
    "catalogue_procedure_search",
    "WITH input AS ("
    "     SELECT left(f_search_norm($1::text), 200) AS qn"
    " ), typed AS MATERIALIZED ("
    "     SELECT w, row_number() OVER (ORDER BY n) AS n"
    "       FROM (SELECT btrim(w, '.') AS w, n"
    "               FROM input, unnest(string_to_array(regexp_replace(qn, '[^[:alnum:].]+', ' ', 'g'), ' '))"
    "                    WITH ORDINALITY AS t(w, n)"
    "              WHERE btrim(w, '.') <> ''"
    "              ORDER BY n LIMIT 32) AS x"
    " ), typed_text AS ("
    "     SELECT ' ' || string_agg(w, ' ' ORDER BY n) || ' ' AS padded, max(n) AS last FROM typed"
    " ), readings AS MATERIALIZED ("
    "     SELECT 0 AS r, t.padded FROM typed_text t WHERE t.padded IS NOT NULL"
    "     UNION ALL"
    "     SELECT r, padded FROM ("
    "         SELECT row_number() OVER (ORDER BY length(y.phrase) DESC, y.phrase, y.expansion) AS r,"
    "                replace(t.padded, ' ' || y.phrase || ' ', ' ' || y.expansion || ' ') AS padded"
    "           FROM typed_text t JOIN search_synonyms y"
    "             ON strpos(t.padded, ' ' || y.phrase || ' ') > 0) AS z"
    "      WHERE r <= 16"
    " ), reading_words AS MATERIALIZED ("
    "     SELECT rd.r, x.w, x.k,"
    "            CASE WHEN EXISTS (SELECT 1 FROM search_filler_words f WHERE f.word = x.w)"
    "                 THEN 0.1 ELSE 1.0 END AS weight,"
    "            x.k = max(x.k) OVER (PARTITION BY rd.r)"
    "              AND right(rd.padded, length(x.w) + 2) = ' ' || x.w || ' '"
    "              AND right((SELECT padded FROM typed_text), length(x.w) + 2) = ' ' || x.w || ' ' AS prefix"
    "       FROM readings rd,"
    "            unnest(string_to_array(btrim(rd.padded), ' ')) WITH ORDINALITY AS x(w, k)"
    " ), words AS MATERIALIZED ("
    "     SELECT w, bool_or(prefix) AS prefix, max(weight) AS weight,"
    "            EXISTS (SELECT 1 FROM search_terms v WHERE v.term = w) AS known,"
    "            coalesce((SELECT v.ndoc FROM search_terms v WHERE v.term = w), 0) AS df"
    "       FROM reading_words GROUP BY w"
    " ), alternatives AS MATERIALIZED ("
    "     SELECT w, quote_literal(w) AS alt, prefix AS alt_prefix, df FROM words"
    "     UNION ALL"
    "     SELECT w, quote_literal(y), false, coalesce((SELECT v.ndoc FROM search_terms v WHERE v.term = y), 0)"
    "       FROM (SELECT w, CASE WHEN w ~ 'i$' THEN regexp_replace(w, 'i$', 'y')"
    "                            ELSE regexp_replace(w, 'y$', 'i') END AS y"
    "               FROM words WHERE w ~ '[^aeou][iy]$') AS iy"
    "     UNION ALL"
    "     SELECT wd.w, '(' || quote_literal(sp.a) || ' & ' || quote_literal(sp.b) || ')', false, sp.df"
    "       FROM words wd, LATERAL ("
    "            SELECT left(wd.w, i) AS a, substr(wd.w, i + 1) AS b, least(va.ndoc, vb.ndoc) AS df"
    "              FROM generate_series(1, length(wd.w) - 1) AS i"
    "              JOIN search_terms va ON va.term = left(wd.w, i)"
    "              JOIN search_terms vb ON vb.term = substr(wd.w, i + 1)"
    "             ORDER BY abs(2 * i - length(wd.w)) LIMIT 1) AS sp"
    "      WHERE NOT wd.known AND length(wd.w) BETWEEN 4 AND 24 AND wd.w ~ '^[a-z]+$'"
    "     UNION ALL"
    "     SELECT wd.w, quote_literal(c.term), false, c.ndoc"
    "       FROM words wd, LATERAL ("
    "            SELECT v.term, v.ndoc FROM search_terms v"
    "             WHERE v.term OPERATOR(public.%) wd.w AND abs(length(v.term) - length(wd.w)) <= 1"
    "             ORDER BY public.similarity(v.term, wd.w) DESC, v.term LIMIT 1) AS c"
    "      WHERE NOT wd.known AND length(wd.w) >= 4 AND wd.weight = 1.0 AND wd.w ~ '^[a-z]+$'"
    " ), word_queries AS MATERIALIZED ("
    "     SELECT w, weight,"
    "            to_tsquery('simple'::regconfig, string_agg(alt || CASE WHEN alt_prefix THEN ':*' ELSE '' END, ' | ')) AS anywhere,"
    "            to_tsquery('simple'::regconfig, string_agg("
    "                CASE WHEN alt LIKE '(%' THEN replace(replace(alt, ''' &', ''':A &'), ''')', ''':A)')"
    "                     ELSE alt || CASE WHEN alt_prefix THEN ':*A' ELSE ':A' END END, ' | ')) AS in_name,"
    "            to_tsquery('simple'::regconfig, string_agg("
    "                CASE WHEN alt LIKE '(%' THEN replace(replace(alt, ''' &', ''':A &'), ''')', ''':A)')"
    "                     ELSE alt || ':A' END, ' | ')) AS whole_in_name"
    "       FROM words JOIN alternatives USING (w)"
    "      GROUP BY w, weight"
    " ), weighted AS MATERIALIZED ("
    "     SELECT rw.r, rw.w, rw.weight * ln(1 + n.total / greatest(wd.df, 1)) AS wt"
    "       FROM reading_words rw JOIN (SELECT w, max(df) AS df FROM alternatives GROUP BY w) AS wd USING (w),"
    "            (SELECT greatest(max(v.ndoc), 1)::float8 AS total FROM search_terms v WHERE v.term = '') AS n"
    " ), selective AS ("
    "     SELECT DISTINCT w FROM ("
    "         SELECT w, sum(wt) OVER (PARTITION BY r ORDER BY wt, w ROWS UNBOUNDED PRECEDING) AS upto,"
    "                sum(wt) OVER (PARTITION BY r) AS total"
    "           FROM weighted) AS x"
    "      WHERE upto >= 0.3 * total"
    " ), wanted AS MATERIALIZED ("
    "     SELECT (SELECT qn FROM input) AS qn,"
    "            (SELECT CASE WHEN qn ~ '[[:alnum:]]' THEN websearch_to_tsquery('simple'::regconfig, qn) END FROM input) AS web,"
    "            (SELECT string_agg('(' || q.anywhere::text || ')', ' | ')"
    "               FROM word_queries q JOIN selective USING (w) WHERE numnode(q.anywhere) > 0)::tsquery AS tsq"
    " ), candidates AS MATERIALIZED ("
    "     SELECT s.code, s.search_vector, s.search_name"
    "       FROM procedure_search s, wanted t"
    "      WHERE s.search_vector @@ t.tsq" FILTERS
    " ), word_hits AS MATERIALIZED ("
    "     SELECT c.code, q.w,"
    "            CASE WHEN NOT c.search_vector @@ q.anywhere THEN 0"
    "                 WHEN c.search_vector @@ q.whole_in_name THEN 1.0"
    "                 WHEN c.search_vector @@ q.in_name THEN 0.6"
    "                 ELSE 0.3 END AS hit"
    "       FROM candidates c, word_queries q WHERE numnode(q.anywhere) > 0"
    " ), coverage AS ("
    "     SELECT DISTINCT ON (h.code) h.code,"
    "            sum(wg.wt * h.hit) / sum(wg.wt) AS covered,"
    "            count(*) FILTER (WHERE h.hit = 1.0) AS name_words"
    "       FROM weighted wg JOIN word_hits h USING (w)"
    "      GROUP BY h.code, wg.r"
    "      ORDER BY h.code, 2 DESC, 3 DESC"
    " ), fulltext AS MATERIALIZED ("
    "     SELECT c.code,"
    "            CASE WHEN lower(c.code) = t.qn THEN 30"
    "                 WHEN c.search_name = t.qn THEN 20"
    "                 WHEN starts_with(c.search_name, t.qn) THEN 10"
    "                 ELSE 0 END"
    "            + 8 * cv.covered"
    "            + least(1.0, cv.name_words::float8"
    "                         / (1 + length(c.search_name) - length(replace(c.search_name, ' ', ''))))"
    "            + 0.5 * coalesce(ts_rank_cd(c.search_vector, t.web, 32), 0) AS score"
    "       FROM candidates c JOIN coverage cv USING (code), wanted t"
    "      WHERE cv.covered >= 0.3"
    " ), fuzzy AS MATERIALIZED ("
    "     SELECT s.code, public.word_similarity(t.qn, s.search_name) + public.similarity(t.qn, s.search_name) AS score"
    "       FROM procedure_search s, wanted t"
    "      WHERE NOT EXISTS (SELECT 1 FROM candidates)"
    "        AND length(t.qn) BETWEEN 3 AND 64"
    "        AND t.qn OPERATOR(public.<%) s.search_name" FILTERS
    " ), ranked AS ("
    "     SELECT code, round(score::numeric, 6) AS rank FROM fulltext"
    "     UNION ALL"
    "     SELECT code, round(score::numeric, 6) FROM fuzzy"
    " ), page AS MATERIALIZED ("
    "     SELECT code, rank FROM ranked"
    "      WHERE $7::numeric IS NULL OR rank < $7::numeric"
    "         OR (rank = $7::numeric AND code > $8::text)"
    "      ORDER BY rank DESC, code LIMIT $9::integer"
    " )"
    " SELECT " SUMMARY_JSON ", r.rank::text, s.code"
    "  FROM page r"
    "  JOIN procedure_search s ON s.code = r.code"
    "  JOIN sectors sec ON sec.code = s.sector_code"
    " ORDER BY r.rank DESC, r.code",
    9};

/*
 * "Did you mean": the typed words (as the search splits them), each word of
 * four letters or more that is neither in the vocabulary (search_terms) nor
 * a filler word replaced by the known term most similar to it by trigrams
 * (pg_trgm %, similarity >= 0.3, GIN index), or NULL when no word changed.
 * For a search that found nothing; shorter words are left alone, as two- and
 * three-letter syllables have too few trigrams to tell a typo from a word.
 */
static const mc_db_statement procedure_suggest = {
    "catalogue_procedure_suggest",
    "WITH typed AS ("
    "    SELECT btrim(w, '.') AS w, n"
    "      FROM unnest(string_to_array(regexp_replace(left(f_search_norm($1::text), 200),"
    "                                                 '[^[:alnum:].]+', ' ', 'g'), ' '))"
    "           WITH ORDINALITY AS t(w, n)"
    "     WHERE btrim(w, '.') <> ''"
    "     ORDER BY n LIMIT 32"
    "), fixed AS ("
    "    SELECT n, w, coalesce(CASE WHEN w ~ '^[a-z]{4,}$'"
    "                                AND NOT EXISTS (SELECT 1 FROM search_terms v WHERE v.term = w)"
    "                                AND NOT EXISTS (SELECT 1 FROM search_filler_words f"
    "                                                 WHERE f.word = w)"
    "                               THEN (SELECT v.term FROM search_terms v"
    "                                      WHERE v.term OPERATOR(public.%) w"
    "                                      ORDER BY public.similarity(v.term, w) DESC, v.term"
    "                                      LIMIT 1) END, w) AS fixed"
    "      FROM typed"
    ")"
    "SELECT CASE WHEN bool_or(fixed <> w) THEN string_agg(fixed, ' ' ORDER BY n) END FROM fixed",
    1};

/* The in-process search index's one read (search_index.h): every published
   procedure with its result item, filter fields and the lexemes of its search
   vector (true: weight A, the code or name); then the filler words and the
   synonyms. */
static const mc_db_statement search_index_procedures = {
    "catalogue_search_index_procedures",
    "SELECT s.code, s.search_name, " SUMMARY_JSON ", s.sector_code, s.admin_level,"
    "       s.online_level::text,"
    "       (SELECT coalesce(json_agg(pa.agency_code ORDER BY pa.agency_code), '[]')"
    "          FROM procedure_agencies pa WHERE pa.procedure_code = s.code)::text,"
    "       to_json(s.channels)::text,"
    "       (SELECT coalesce(json_agg(json_build_array(t.lexeme, 'A' = ANY (t.weights))), '[]')"
    "          FROM unnest(s.search_vector) AS t)::text"
    "  FROM procedure_search s JOIN sectors sec ON sec.code = s.sector_code",
    0};

static const mc_db_statement search_index_fillers = {
    "catalogue_search_index_fillers", "SELECT word FROM search_filler_words", 0};

static const mc_db_statement search_index_synonyms = {
    "catalogue_search_index_synonyms", "SELECT phrase, expansion FROM search_synonyms", 0};
/* clang-format on */

/* The strings of a JSON array of strings (borrowed from it); NULL when out of memory. */
static const char **json_strings(const json_t *array, size_t *n)
{
    *n = json_array_size(array);
    const char **out = calloc(*n + 1, sizeof *out);
    for (size_t i = 0; out != NULL && i < *n; i++)
        out[i] = json_string_value(json_array_get(array, i)) != NULL
                     ? json_string_value(json_array_get(array, i))
                     : "";
    return out;
}

static bool add_procedure(struct search_index *idx, const PGresult *res, int r)
{
    /* The item as the answer's bytes (compact, in column order), serialised
       once here so a search page is answered without a JSON round trip. */
    json_t *summary = json_loads(mc_db_text(res, r, 2), 0, NULL);
    char *summary_text = summary != NULL ? json_dumps(summary, JSON_COMPACT | JSON_PRESERVE_ORDER)
                                         : NULL;
    json_decref(summary);
    json_t *agencies = json_loads(mc_db_text(res, r, 6), 0, NULL);
    json_t *channels = json_loads(mc_db_text(res, r, 7), 0, NULL);
    json_t *lexemes = json_loads(mc_db_text(res, r, 8), 0, NULL);
    struct search_index_doc d = {
        .code = mc_db_text(res, r, 0),
        .search_name = mc_db_text(res, r, 1),
        .summary_json = summary_text,
        .sector_code = mc_db_text(res, r, 3),
        .admin_level = mc_db_text(res, r, 4),
        .online_level = (int)mc_db_int(res, r, 5),
    };
    const char **agency_codes = json_strings(agencies, &d.n_agencies);
    const char **channel_names = json_strings(channels, &d.n_channels);
    d.agencies = agency_codes;
    d.channels = channel_names;
    d.n_terms = json_array_size(lexemes);
    const char **terms = calloc(d.n_terms + 1, sizeof *terms);
    bool *in_name = calloc(d.n_terms + 1, sizeof *in_name);
    bool ok = summary_text != NULL && agency_codes != NULL && channel_names != NULL &&
              terms != NULL && in_name != NULL;
    for (size_t i = 0; ok && i < d.n_terms; i++) {
        const json_t *lexeme = json_array_get(lexemes, i);
        terms[i] = json_string_value(json_array_get(lexeme, 0));
        in_name[i] = json_is_true(json_array_get(lexeme, 1));
        ok = terms[i] != NULL;
    }
    d.terms = terms;
    d.in_name = in_name;
    ok = ok && search_index_add_doc(idx, &d);
    free(summary_text);
    free(agency_codes);
    free(channel_names);
    free(terms);
    free(in_name);
    json_decref(agencies);
    json_decref(channels);
    json_decref(lexemes);
    return ok;
}

static bool add_filler(struct search_index *idx, const PGresult *res, int r)
{
    return search_index_add_filler(idx, mc_db_text(res, r, 0));
}

static bool add_synonym(struct search_index *idx, const PGresult *res, int r)
{
    return search_index_add_synonym(idx, mc_db_text(res, r, 0), mc_db_text(res, r, 1));
}

/* Runs stmt and adds each of its rows to idx with add. */
static mc_error load_rows(mc_db_conn *conn, const mc_db_statement *stmt, struct search_index *idx,
                          bool (*add)(struct search_index *, const PGresult *, int))
{
    PGresult *res = mc_db_exec(conn, stmt, NULL);
    if (res == NULL)
        return mc_db_failure(conn);
    bool ok = true;
    for (int r = 0; ok && r < PQntuples(res); r++)
        ok = add(idx, res, r);
    PQclear(res);
    return ok ? MC_OK : MC_ERR_INTERNAL;
}

mc_error store_search_index_load(mc_db_conn *conn, struct search_index *idx)
{
    mc_error rc = load_rows(conn, &search_index_procedures, idx, add_procedure);
    if (rc == MC_OK)
        rc = load_rows(conn, &search_index_fillers, idx, add_filler);
    if (rc == MC_OK)
        rc = load_rows(conn, &search_index_synonyms, idx, add_synonym);
    if (rc == MC_OK && !search_index_finish(idx))
        rc = MC_ERR_INTERNAL;
    return rc;
}

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

mc_error store_procedure_suggest(mc_db_conn *conn, const char *q, char **suggestion)
{
    *suggestion = NULL;
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, q);
    PGresult *res = mc_db_exec_params(conn, &procedure_suggest, &p);
    if (res == NULL)
        return mc_db_failure(conn);
    mc_error rc = MC_OK;
    if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
        *suggestion = strdup(mc_db_text(res, 0, 0));
        if (*suggestion == NULL)
            rc = MC_ERR_INTERNAL;
    }
    PQclear(res);
    return rc;
}
