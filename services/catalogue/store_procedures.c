/*
 * Store: procedures (thủ tục hành chính), their versions, the agency filter
 * rows and the search rows. Every SQL text of this resource lives here.
 *
 * Versioning discipline: a version row is created as a draft, may be
 * replaced while it is a draft, and is published once; after that no
 * statement here touches it (and a trigger refuses UPDATE/DELETE of a
 * published row). Draft writes lock the procedure row (FOR UPDATE) so the
 * "one draft per procedure" and revision checks hold under concurrency.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The search statement is one SQL text longer than the 4095 characters ISO C
   guarantees for a string literal (-Wpedantic says so); GCC and Clang take
   any length, and splitting the SQL would only make it harder to read. */
#pragma GCC diagnostic ignored "-Woverlength-strings"

#include "codes.h"
#include "motcua/json_spec.h"
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
    "SELECT " SUMMARY_JSON ", s.code, r.rank::text"
    "  FROM page r"
    "  JOIN procedure_search s ON s.code = r.code"
    "  JOIN sectors sec ON sec.code = s.sector_code"
    " ORDER BY r.rank DESC, r.code",
    9};
/* clang-format on */

mc_error store_procedure_search(mc_db_pool *pool, const struct store_procedure_filter *f,
                                const json_t *cursor, unsigned limit, json_t **items,
                                json_t **next_keys)
{
    *items = NULL;
    *next_keys = NULL;
    char lim[16];
    snprintf(lim, sizeof lim, "%u", limit + 1);
    bool search = f->q != NULL;
    const char *params[9] = {search ? f->q : json_string_value(json_array_get(cursor, 0)),
                             f->sector,
                             f->agency,
                             f->admin_level,
                             f->online_level,
                             f->channel};
    if (search) {
        params[6] = json_string_value(json_array_get(cursor, 0));
        params[7] = json_string_value(json_array_get(cursor, 1));
        params[8] = lim;
    } else {
        params[6] = lim;
    }
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(pool, &conn);
    if (rc != MC_OK)
        return rc;
    PGresult *res = mc_db_exec(conn, search ? &procedure_search : &procedure_browse, params);
    if (res == NULL) {
        rc = mc_db_failure(conn);
    } else {
        *items = store_json_rows(res, 0, limit);
        if (*items == NULL) {
            rc = MC_ERR_INTERNAL;
        } else if ((unsigned)PQntuples(res) > limit) {
            int last = (int)limit - 1;
            *next_keys = search
                             ? json_pack("[ss]", mc_db_text(res, last, 2), mc_db_text(res, last, 1))
                             : json_pack("[s]", mc_db_text(res, last, 1));
        }
    }
    PQclear(res);
    mc_db_release(pool, conn);
    return rc;
}

/* ---- reading versions ---------------------------------------------------- */

/* The columns of a version read, over procedure_versions `v` and sectors `s`. */
/* clang-format off */
#define VERSION_COLUMNS                                                                          \
    "v.document::text, v.version, v.status, v.revision, f_rfc3339(v.published_at),"              \
    " f_rfc3339(v.created_at), f_rfc3339(v.updated_at), s.code, s.name"

static const mc_db_statement procedure_current = {
    "catalogue_procedure_current",
    "SELECT " VERSION_COLUMNS
    "  FROM procedures p"
    "  JOIN procedure_versions v ON v.procedure_code = p.code AND v.version = p.current_version"
    "  JOIN sectors s ON s.code = v.sector_code"
    " WHERE p.code = $1::text",
    1};

static const mc_db_statement procedure_version_get = {
    "catalogue_procedure_version_get",
    "SELECT " VERSION_COLUMNS
    "  FROM procedure_versions v JOIN sectors s ON s.code = v.sector_code"
    " WHERE v.procedure_code = $1::text AND v.version = $2::integer",
    2};

/* One row when the procedure exists; the version columns are NULL when it has
   no draft. */
static const mc_db_statement procedure_draft_get = {
    "catalogue_procedure_draft_get",
    "SELECT " VERSION_COLUMNS
    "  FROM procedures p"
    "  LEFT JOIN procedure_versions v ON v.procedure_code = p.code AND v.status = 'draft'"
    "  LEFT JOIN sectors s ON s.code = v.sector_code"
    " WHERE p.code = $1::text",
    1};

static const mc_db_statement procedure_version_list = {
    "catalogue_procedure_version_list",
    "SELECT json_build_object('version', version, 'status', status,"
    "       'published_at', f_rfc3339(published_at))::text, version"
    "  FROM procedure_versions"
    " WHERE procedure_code = $1::text AND ($2::boolean OR status = 'published')"
    "   AND version > $3::integer"
    " ORDER BY version LIMIT $4::integer",
    4};

static const mc_db_statement procedure_published = {
    "catalogue_procedure_published",
    "SELECT current_version IS NOT NULL FROM procedures WHERE code = $1::text", 1};

/* The agency codes (JSON array text) of the latest version: the draft if
   there is one, else the current version. */
static const mc_db_statement procedure_latest_agencies = {
    "catalogue_procedure_latest_agencies",
    "SELECT (v.document -> 'agency_codes')::text"
    "  FROM procedures p JOIN procedure_versions v ON v.procedure_code = p.code"
    "   AND v.version = coalesce(p.draft_version, p.current_version)"
    " WHERE p.code = $1::text",
    1};
/* clang-format on */

void store_version_clear(struct store_version *v)
{
    json_decref(v->body);
    memset(v, 0, sizeof *v);
}

/* Build the read shape from a row of VERSION_COLUMNS starting at col 0. */
static mc_error version_from_row(const PGresult *res, int row, struct store_version *out)
{
    store_version_clear(out);
    json_t *body = mc_db_json(res, row, 0);
    if (!json_is_object(body)) {
        json_decref(body);
        return MC_ERR_INTERNAL;
    }
    const char *status = mc_db_text(res, row, 2);
    out->version = (int)mc_db_int(res, row, 1);
    out->revision = mc_db_int(res, row, 3);
    out->published = strcmp(status, "published") == 0;
    json_object_set_new(body, "version", json_integer(out->version));
    json_object_set_new(body, "status", json_string(status));
    json_object_set_new(body, "published_at",
                        mc_db_is_null(res, row, 4) ? json_null()
                                                   : json_string(mc_db_text(res, row, 4)));
    json_object_set_new(body, "created_at", json_string(mc_db_text(res, row, 5)));
    json_object_set_new(body, "updated_at", json_string(mc_db_text(res, row, 6)));
    json_object_set_new(body, "revision", json_integer(out->revision));
    json_object_set_new(
        body, "sector",
        json_pack("{ss ss}", "code", mc_db_text(res, row, 7), "name", mc_db_text(res, row, 8)));
    out->body = body;
    return MC_OK;
}

/* Run a version read (stmt, params) on conn; `missing` when no row. */
static mc_error read_version(mc_db_conn *conn, const mc_db_statement *stmt,
                             const char *const *params, mc_error missing, struct store_version *out)
{
    PGresult *res = mc_db_exec(conn, stmt, params);
    if (res == NULL)
        return mc_db_failure(conn);
    mc_error rc = PQntuples(res) == 0 ? missing : version_from_row(res, 0, out);
    PQclear(res);
    return rc;
}

static mc_error read_version_pooled(mc_db_pool *pool, const mc_db_statement *stmt,
                                    const char *const *params, mc_error missing,
                                    struct store_version *out)
{
    memset(out, 0, sizeof *out);
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(pool, &conn);
    if (rc != MC_OK)
        return rc;
    rc = read_version(conn, stmt, params, missing, out);
    mc_db_release(pool, conn);
    return rc;
}

mc_error store_procedure_current(mc_db_pool *pool, const char *code, struct store_version *out)
{
    const char *params[] = {code};
    return read_version_pooled(pool, &procedure_current, params, MC_ERR_PROCEDURE_NOT_FOUND, out);
}

mc_error store_procedure_version(mc_db_pool *pool, const char *code, int version,
                                 struct store_version *out)
{
    char v[16];
    snprintf(v, sizeof v, "%d", version);
    const char *params[] = {code, v};
    return read_version_pooled(pool, &procedure_version_get, params,
                               MC_ERR_PROCEDURE_VERSION_NOT_FOUND, out);
}

mc_error store_procedure_draft(mc_db_pool *pool, const char *code, struct store_version *out)
{
    memset(out, 0, sizeof *out);
    const char *params[] = {code};
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(pool, &conn);
    if (rc != MC_OK)
        return rc;
    PGresult *res = mc_db_exec(conn, &procedure_draft_get, params);
    if (res == NULL)
        rc = mc_db_failure(conn);
    else if (PQntuples(res) == 0)
        rc = MC_ERR_PROCEDURE_NOT_FOUND;
    else if (mc_db_is_null(res, 0, 0))
        rc = MC_ERR_PROCEDURE_NO_DRAFT;
    else
        rc = version_from_row(res, 0, out);
    PQclear(res);
    mc_db_release(pool, conn);
    return rc;
}

mc_error store_procedure_versions(mc_db_pool *pool, const char *code, bool with_draft,
                                  int after_version, unsigned limit, json_t **items,
                                  json_t **next_keys, bool *exists)
{
    *items = NULL;
    *next_keys = NULL;
    *exists = false;
    char after[16], lim[16];
    snprintf(after, sizeof after, "%d", after_version);
    snprintf(lim, sizeof lim, "%u", limit + 1);
    const char *params[] = {code, with_draft ? "true" : "false", after, lim};
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(pool, &conn);
    if (rc != MC_OK)
        return rc;
    PGresult *res = mc_db_exec(conn, &procedure_published, params);
    if (res == NULL) {
        rc = mc_db_failure(conn);
    } else {
        *exists = PQntuples(res) > 0 && (with_draft || mc_db_bool(res, 0, 0));
        PQclear(res);
        res = NULL;
        if (*exists) {
            res = mc_db_exec(conn, &procedure_version_list, params);
            if (res == NULL) {
                rc = mc_db_failure(conn);
            } else {
                *items = store_json_rows(res, 0, limit);
                if (*items == NULL)
                    rc = MC_ERR_INTERNAL;
                else if ((unsigned)PQntuples(res) > limit)
                    *next_keys = json_pack("[I]", mc_db_int(res, (int)limit - 1, 1));
            }
        }
    }
    PQclear(res);
    mc_db_release(pool, conn);
    return rc;
}

/* Inside a transaction: may admin_root write the procedure as it stands
   (its latest version's agencies all in the subtree)? */
static mc_error latest_writable(mc_db_conn *conn, const char *code, const char *admin_root,
                                bool *writable)
{
    *writable = false;
    const char *params[] = {code};
    PGresult *res = mc_db_exec(conn, &procedure_latest_agencies, params);
    if (res == NULL)
        return mc_db_failure(conn);
    mc_error rc = MC_OK;
    if (PQntuples(res) == 0 || mc_db_is_null(res, 0, 0))
        rc = MC_ERR_PROCEDURE_NOT_FOUND;
    else
        rc = store_agencies_in_subtree_conn(conn, admin_root, mc_db_text(res, 0, 0), writable);
    PQclear(res);
    return rc;
}

mc_error store_procedure_writable(mc_db_pool *pool, const char *code, const char *admin_root,
                                  bool *writable)
{
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(pool, &conn);
    if (rc != MC_OK)
        return rc;
    rc = latest_writable(conn, code, admin_root, writable);
    mc_db_release(pool, conn);
    return rc;
}

/* ---- writing drafts and publishing --------------------------------------- */

/* Unknown sector (a row with NULL) and the 0-based indexes of unknown agency
   codes in the JSON array $2. Values that are not well-formed codes are left
   to the field table (they cannot exist anyway), so no member is reported
   twice. */
/* clang-format off */
static const mc_db_statement procedure_missing_refs = {
    "catalogue_procedure_missing_refs",
    "SELECT NULL::bigint"
    " WHERE $1::text ~ '" CATALOGUE_SECTOR_CODE_RE "'"
    "   AND NOT EXISTS (SELECT 1 FROM sectors WHERE code = $1::text)"
    " UNION ALL"
    " SELECT t.ord - 1 FROM json_array_elements($2::json) WITH ORDINALITY AS t(elem, ord)"
    "  WHERE json_typeof(t.elem) = 'string'"
    "    AND (t.elem #>> '{}') ~ '" CATALOGUE_AGENCY_CODE_RE "'"
    "    AND NOT EXISTS (SELECT 1 FROM agencies a WHERE a.code = (t.elem #>> '{}'))"
    " ORDER BY 1 NULLS FIRST",
    2};

/* Lock the procedure row; current version, draft version, draft revision. */
static const mc_db_statement procedure_lock = {
    "catalogue_procedure_lock",
    "SELECT p.current_version, p.draft_version,"
    "       (SELECT v.revision FROM procedure_versions v"
    "         WHERE v.procedure_code = p.code AND v.status = 'draft')"
    "  FROM procedures p WHERE p.code = $1::text FOR UPDATE",
    1};

static const mc_db_statement procedure_insert = {
    "catalogue_procedure_insert",
    "INSERT INTO procedures (code, draft_version) VALUES ($1::text, 1)", 1};

/* Columns extracted from the document ($3) for filters and reports; the
   channels offered by any case, sorted. */
#define DOCUMENT_COLUMNS                                                                         \
    "d ->> 'sector_code', d ->> 'admin_level', (d ->> 'online_level')::smallint,"                \
    " d ->> 'online_scope',"                                                                     \
    " ARRAY(SELECT DISTINCT ch ->> 'channel' FROM json_array_elements(d -> 'cases') AS c(cs),"   \
    "       json_array_elements(c.cs -> 'channels') AS ch ORDER BY 1)"

static const mc_db_statement version_insert_draft = {
    "catalogue_version_insert_draft",
    "INSERT INTO procedure_versions (procedure_code, version, status, document, sector_code,"
    " admin_level, online_level, online_scope, channels, revision, created_by)"
    " SELECT $1::text, $2::integer, 'draft', d, " DOCUMENT_COLUMNS ","
    "        nextval('procedure_revision_seq'), $4::text"
    "   FROM (SELECT $3::json AS d) AS x",
    4};

static const mc_db_statement version_replace_draft = {
    "catalogue_version_replace_draft",
    "UPDATE procedure_versions AS v"
    "   SET (document, sector_code, admin_level, online_level, online_scope, channels) ="
    "       (SELECT d, " DOCUMENT_COLUMNS "),"
    "       revision = nextval('procedure_revision_seq'), updated_at = now()"
    "  FROM (SELECT $3::json AS d) AS x"
    " WHERE v.procedure_code = $1::text AND v.version = $2::integer AND v.status = 'draft'"
    "   AND v.revision = $4::bigint",
    4};

static const mc_db_statement procedure_set_draft = {
    "catalogue_procedure_set_draft",
    "UPDATE procedures SET draft_version = $2::integer, updated_at = now() WHERE code = $1::text",
    2};

static const mc_db_statement version_delete_draft = {
    "catalogue_version_delete_draft",
    "DELETE FROM procedure_versions WHERE procedure_code = $1::text AND status = 'draft'", 1};

/* A procedure never published disappears with its only draft. */
static const mc_db_statement procedure_delete_unpublished = {
    "catalogue_procedure_delete_unpublished",
    "DELETE FROM procedures WHERE code = $1::text AND current_version IS NULL", 1};

static const mc_db_statement version_publish = {
    "catalogue_version_publish",
    "UPDATE procedure_versions SET status = 'published', published_at = now(), updated_at = now()"
    " WHERE procedure_code = $1::text AND version = $2::integer AND status = 'draft'",
    2};

static const mc_db_statement procedure_set_current = {
    "catalogue_procedure_set_current",
    "UPDATE procedures SET current_version = $2::integer, draft_version = NULL, updated_at = now()"
    " WHERE code = $1::text",
    2};

static const mc_db_statement procedure_agencies_clear = {
    "catalogue_procedure_agencies_clear",
    "DELETE FROM procedure_agencies WHERE procedure_code = $1::text", 1};

static const mc_db_statement procedure_agencies_fill = {
    "catalogue_procedure_agencies_fill",
    "INSERT INTO procedure_agencies (procedure_code, agency_code)"
    " SELECT DISTINCT v.procedure_code, a.code"
    "   FROM procedure_versions v, json_array_elements_text(v.document -> 'agency_codes') AS a(code)"
    "  WHERE v.procedure_code = $1::text AND v.version = $2::integer",
    2};

static const mc_db_statement procedure_search_upsert = {
    "catalogue_procedure_search_upsert",
    "INSERT INTO procedure_search (code, version, name, sector_code, admin_level, online_level,"
    " online_scope, channels, published_at, description, search_vector)"
    " SELECT v.procedure_code, v.version, v.document ->> 'name', v.sector_code, v.admin_level,"
    "        v.online_level, v.online_scope, v.channels, v.published_at,"
    "        v.document ->> 'description',"
    "        f_procedure_search_vector(v.procedure_code, v.document ->> 'name', s.name,"
    "                                  v.document ->> 'description')"
    "   FROM procedure_versions v JOIN sectors s ON s.code = v.sector_code"
    "  WHERE v.procedure_code = $1::text AND v.version = $2::integer"
    " ON CONFLICT (code) DO UPDATE SET version = EXCLUDED.version, name = EXCLUDED.name,"
    "   sector_code = EXCLUDED.sector_code, admin_level = EXCLUDED.admin_level,"
    "   online_level = EXCLUDED.online_level, online_scope = EXCLUDED.online_scope,"
    "   channels = EXCLUDED.channels, published_at = EXCLUDED.published_at,"
    "   description = EXCLUDED.description, search_vector = EXCLUDED.search_vector",
    2};
/* clang-format on */

/* Shared state of the write transactions. */
struct write_ctx {
    const char *code;
    const json_t *doc;    /* normalised document (create / put draft) */
    char *doc_text;       /* doc dumped once */
    char *agencies_text;  /* doc's agency_codes dumped once */
    const char *expected; /* expected draft revision, "0" for none */
    const char *admin_root;
    const char *created_by;
    json_t *errors;
    struct store_version out;
    bool created;
};

static mc_error exec_simple(mc_db_conn *conn, const mc_db_statement *stmt,
                            const char *const *params, int *affected)
{
    PGresult *res = mc_db_exec(conn, stmt, params);
    if (res == NULL)
        return mc_db_failure(conn);
    if (affected != NULL)
        *affected = atoi(PQcmdTuples(res));
    PQclear(res);
    return MC_OK;
}

/* Unknown sector and agencies of a document, appended as 422 errors;
   MC_ERR_VALIDATION when there were any. */
static mc_error missing_refs(mc_db_conn *conn, const char *sector, const char *agencies_json,
                             json_t *errors)
{
    const char *params[] = {sector, agencies_json};
    PGresult *res = mc_db_exec(conn, &procedure_missing_refs, params);
    if (res == NULL)
        return mc_db_failure(conn);
    int n = PQntuples(res);
    for (int r = 0; r < n; r++) {
        if (mc_db_is_null(res, r, 0)) {
            mc_errors_add(errors, "/sector_code", "not_found", "no sector has this code");
        } else {
            char ptr[64];
            mc_pointer_join_index(ptr, sizeof ptr, "/agency_codes", (size_t)mc_db_int(res, r, 0));
            mc_errors_add(errors, ptr, "not_found", "no agency has this code");
        }
    }
    PQclear(res);
    return n > 0 ? MC_ERR_VALIDATION : MC_OK;
}

mc_error store_procedure_check_refs(mc_db_pool *pool, const json_t *doc, json_t *errors)
{
    const json_t *agencies = json_object_get(doc, "agency_codes");
    char *agencies_text =
        json_is_array(agencies) ? json_dumps(agencies, JSON_COMPACT) : strdup("[]");
    if (agencies_text == NULL)
        return MC_ERR_INTERNAL;
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(pool, &conn);
    if (rc == MC_OK) {
        rc = missing_refs(conn, mc_json_str(doc, "sector_code", NULL), agencies_text, errors);
        mc_db_release(pool, conn);
    }
    free(agencies_text);
    return rc == MC_ERR_VALIDATION ? MC_OK : rc;
}

/* Inside a write: the references may have changed since the handler's
   check (or it was skipped); check again under the transaction. */
static mc_error check_refs(mc_db_conn *conn, struct write_ctx *ctx)
{
    return missing_refs(conn, mc_json_str(ctx->doc, "sector_code", NULL), ctx->agencies_text,
                        ctx->errors);
}

/* An agency_admin may write only documents whose agencies all lie in their
   subtree. */
static mc_error check_new_agencies(mc_db_conn *conn, struct write_ctx *ctx)
{
    if (ctx->admin_root == NULL)
        return MC_OK;
    bool inside = false;
    mc_error rc =
        store_agencies_in_subtree_conn(conn, ctx->admin_root, ctx->agencies_text, &inside);
    if (rc != MC_OK)
        return rc;
    return inside ? MC_OK : MC_ERR_FORBIDDEN;
}

static mc_error check_existing(mc_db_conn *conn, struct write_ctx *ctx)
{
    if (ctx->admin_root == NULL)
        return MC_OK;
    bool writable = false;
    mc_error rc = latest_writable(conn, ctx->code, ctx->admin_root, &writable);
    if (rc != MC_OK)
        return rc;
    return writable ? MC_OK : MC_ERR_FORBIDDEN;
}

/* Read back a version inside the transaction. */
static mc_error read_back(mc_db_conn *conn, struct write_ctx *ctx, int version)
{
    char v[16];
    snprintf(v, sizeof v, "%d", version);
    const char *params[] = {ctx->code, v};
    return read_version(conn, &procedure_version_get, params, MC_ERR_INTERNAL, &ctx->out);
}

static void write_reset(struct write_ctx *ctx)
{
    store_version_clear(&ctx->out);
    json_array_clear(ctx->errors);
    ctx->created = false;
}

static mc_error create_tx(mc_db_conn *conn, void *p)
{
    struct write_ctx *ctx = p;
    write_reset(ctx);
    mc_error rc;
    if ((rc = check_refs(conn, ctx)) != MC_OK || (rc = check_new_agencies(conn, ctx)) != MC_OK)
        return rc;
    const char *code_param[] = {ctx->code};
    PGresult *res = mc_db_exec(conn, &procedure_insert, code_param);
    if (res == NULL)
        return mc_db_unique_violation(conn) ? MC_ERR_PROCEDURE_EXISTS : mc_db_failure(conn);
    PQclear(res);
    const char *params[] = {ctx->code, "1", ctx->doc_text, ctx->created_by};
    if ((rc = exec_simple(conn, &version_insert_draft, params, NULL)) != MC_OK)
        return rc;
    ctx->created = true;
    return read_back(conn, ctx, 1);
}

/* Lock the procedure row and read its state. */
struct proc_state {
    bool has_current;
    int current_version;
    bool has_draft;
    int draft_version;
    char draft_revision[24];
};

static mc_error lock_procedure(mc_db_conn *conn, const char *code, struct proc_state *st)
{
    const char *params[] = {code};
    PGresult *res = mc_db_exec(conn, &procedure_lock, params);
    if (res == NULL)
        return mc_db_failure(conn);
    if (PQntuples(res) == 0) {
        PQclear(res);
        return MC_ERR_PROCEDURE_NOT_FOUND;
    }
    st->has_current = !mc_db_is_null(res, 0, 0);
    st->current_version = (int)mc_db_int(res, 0, 0);
    st->has_draft = !mc_db_is_null(res, 0, 1) && !mc_db_is_null(res, 0, 2);
    st->draft_version = (int)mc_db_int(res, 0, 1);
    snprintf(st->draft_revision, sizeof st->draft_revision, "%s", mc_db_text(res, 0, 2));
    PQclear(res);
    return MC_OK;
}

/* The caller's expectation about the draft: "0" = none may exist, else the
   draft's revision. */
static bool draft_matches(const struct proc_state *st, const char *expected)
{
    if (strcmp(expected, "0") == 0)
        return !st->has_draft;
    return st->has_draft && strcmp(st->draft_revision, expected) == 0;
}

static mc_error put_draft_tx(mc_db_conn *conn, void *p)
{
    struct write_ctx *ctx = p;
    write_reset(ctx);
    struct proc_state st;
    mc_error rc = lock_procedure(conn, ctx->code, &st);
    if (rc != MC_OK)
        return rc;
    if (!draft_matches(&st, ctx->expected))
        return MC_ERR_PRECONDITION_FAILED;
    if ((rc = check_refs(conn, ctx)) != MC_OK || (rc = check_existing(conn, ctx)) != MC_OK ||
        (rc = check_new_agencies(conn, ctx)) != MC_OK)
        return rc;
    int version = st.has_draft ? st.draft_version : (st.has_current ? st.current_version : 0) + 1;
    char v[16];
    snprintf(v, sizeof v, "%d", version);
    const char *params[] = {ctx->code, v, ctx->doc_text,
                            st.has_draft ? ctx->expected : ctx->created_by};
    if (st.has_draft) {
        int affected = 0;
        if ((rc = exec_simple(conn, &version_replace_draft, params, &affected)) != MC_OK)
            return rc;
        if (affected != 1)
            return MC_ERR_PRECONDITION_FAILED;
    } else {
        if ((rc = exec_simple(conn, &version_insert_draft, params, NULL)) != MC_OK ||
            (rc = exec_simple(conn, &procedure_set_draft, params, NULL)) != MC_OK)
            return rc;
        ctx->created = true;
    }
    return read_back(conn, ctx, version);
}

static mc_error delete_draft_tx(mc_db_conn *conn, void *p)
{
    struct write_ctx *ctx = p;
    write_reset(ctx);
    struct proc_state st;
    mc_error rc = lock_procedure(conn, ctx->code, &st);
    if (rc != MC_OK)
        return rc;
    if (!st.has_draft)
        return MC_ERR_PROCEDURE_NO_DRAFT;
    if (!draft_matches(&st, ctx->expected))
        return MC_ERR_PRECONDITION_FAILED;
    if ((rc = check_existing(conn, ctx)) != MC_OK)
        return rc;
    const char *params[] = {ctx->code, NULL};
    if ((rc = exec_simple(conn, &version_delete_draft, params, NULL)) != MC_OK)
        return rc;
    return exec_simple(conn, st.has_current ? &procedure_set_draft : &procedure_delete_unpublished,
                       params, NULL);
}

static mc_error publish_tx(mc_db_conn *conn, void *p)
{
    struct write_ctx *ctx = p;
    write_reset(ctx);
    struct proc_state st;
    mc_error rc = lock_procedure(conn, ctx->code, &st);
    if (rc != MC_OK)
        return rc;
    if (!st.has_draft)
        return MC_ERR_PROCEDURE_NO_DRAFT;
    if (!draft_matches(&st, ctx->expected))
        return MC_ERR_PRECONDITION_FAILED;
    if ((rc = check_existing(conn, ctx)) != MC_OK)
        return rc;
    char v[16];
    snprintf(v, sizeof v, "%d", st.draft_version);
    const char *params[] = {ctx->code, v};
    int affected = 0;
    if ((rc = exec_simple(conn, &version_publish, params, &affected)) != MC_OK)
        return rc;
    if (affected != 1)
        return MC_ERR_INTERNAL;
    if ((rc = exec_simple(conn, &procedure_set_current, params, NULL)) != MC_OK ||
        (rc = exec_simple(conn, &procedure_agencies_clear, params, NULL)) != MC_OK ||
        (rc = exec_simple(conn, &procedure_agencies_fill, params, NULL)) != MC_OK ||
        (rc = exec_simple(conn, &procedure_search_upsert, params, NULL)) != MC_OK)
        return rc;
    return read_back(conn, ctx, st.draft_version);
}

/* Run one of the write transactions and hand its result to the caller. */
static mc_error run_write(mc_db_pool *pool, mc_db_tx_fn fn, struct write_ctx *ctx,
                          struct store_version *out)
{
    if (ctx->doc != NULL) {
        ctx->doc_text = json_dumps(ctx->doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
        ctx->agencies_text =
            json_dumps(json_object_get(ctx->doc, "agency_codes"), JSON_COMPACT | JSON_ENCODE_ANY);
        if (ctx->doc_text == NULL || ctx->agencies_text == NULL) {
            free(ctx->doc_text);
            free(ctx->agencies_text);
            return MC_ERR_INTERNAL;
        }
    }
    mc_error rc = mc_db_transaction(pool, NULL, fn, ctx);
    free(ctx->doc_text);
    free(ctx->agencies_text);
    if (rc != MC_OK)
        store_version_clear(&ctx->out);
    if (out != NULL)
        *out = ctx->out;
    else
        store_version_clear(&ctx->out);
    return rc;
}

mc_error store_procedure_create(mc_db_pool *pool, const json_t *doc, const char *admin_root,
                                const char *created_by, json_t *errors, struct store_version *out)
{
    struct write_ctx ctx = {.code = mc_json_str(doc, "code", NULL),
                            .doc = doc,
                            .expected = "0",
                            .admin_root = admin_root,
                            .created_by = created_by,
                            .errors = errors};
    return run_write(pool, create_tx, &ctx, out);
}

mc_error store_procedure_put_draft(mc_db_pool *pool, const json_t *doc, long long expected_revision,
                                   const char *admin_root, const char *created_by, json_t *errors,
                                   struct store_version *out, bool *created)
{
    char expected[24];
    snprintf(expected, sizeof expected, "%lld", expected_revision);
    struct write_ctx ctx = {.code = mc_json_str(doc, "code", NULL),
                            .doc = doc,
                            .expected = expected,
                            .admin_root = admin_root,
                            .created_by = created_by,
                            .errors = errors};
    mc_error rc = run_write(pool, put_draft_tx, &ctx, out);
    *created = ctx.created;
    return rc;
}

mc_error store_procedure_delete_draft(mc_db_pool *pool, const char *code,
                                      long long expected_revision, const char *admin_root)
{
    char expected[24];
    snprintf(expected, sizeof expected, "%lld", expected_revision);
    struct write_ctx ctx = {.code = code, .expected = expected, .admin_root = admin_root};
    return run_write(pool, delete_draft_tx, &ctx, NULL);
}

mc_error store_procedure_publish(mc_db_pool *pool, const char *code, long long expected_revision,
                                 const char *admin_root, struct store_version *out)
{
    char expected[24];
    snprintf(expected, sizeof expected, "%lld", expected_revision);
    struct write_ctx ctx = {.code = code, .expected = expected, .admin_root = admin_root};
    return run_write(pool, publish_tx, &ctx, out);
}
