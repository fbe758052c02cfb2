/*
 * Store: the search synonyms (what people say, and the catalogue's words for
 * it) that the procedure search reads (store_procedure_search.c). Every SQL
 * text of this resource lives here. Phrases and expansions are kept in the
 * search normal form: f_search_norm, then every run of characters other than
 * a-z and 0-9 as one space.
 */
#include <string.h>

#include "store.h"

/* clang-format off */
/* The normal form of a user's words, in SQL (each use binds its own text). */
#define SEARCH_WORDS(x) "btrim(regexp_replace(f_search_norm(" x "), '[^a-z0-9]+', ' ', 'g'))"

/* One synonym entry: {phrase, expansions:[...], updated_at}. */
#define SYNONYM_JSON                                                                             \
    "json_build_object('phrase', phrase, 'expansions', json_agg(expansion ORDER BY expansion),"  \
    " 'updated_at', f_rfc3339(max(updated_at)))::text"

static const mc_db_statement synonym_list = {
    "catalogue_synonym_list",
    "SELECT " SYNONYM_JSON ", phrase FROM search_synonyms"
    " WHERE phrase > coalesce($1::text, '')"
    " GROUP BY phrase ORDER BY phrase LIMIT $2::integer",
    2};

static const mc_db_statement synonym_get = {
    "catalogue_synonym_get",
    "SELECT " SYNONYM_JSON " FROM search_synonyms WHERE phrase = $1::text GROUP BY phrase",
    1};

/* The search normal form of each text of a JSON array, in order. */
static const mc_db_statement synonym_normalise = {
    "catalogue_synonym_normalise",
    "SELECT coalesce(json_agg(" SEARCH_WORDS("e") " ORDER BY n), '[]'::json)::text"
    "  FROM json_array_elements_text($1::json) WITH ORDINALITY AS t(e, n)",
    1};

/* Replace the expansions of a phrase, answering its new entry and whether
   it had none before: one statement, so the answer is what was written. The
   insert reads the delete's count, which makes the delete run to its end
   first (the order of data-modifying CTEs is otherwise unspecified, and an
   insert first would collide with a row about to go). */
static const mc_db_statement synonym_replace = {
    "catalogue_synonym_replace",
    "WITH gone AS (DELETE FROM search_synonyms WHERE phrase = $1::text RETURNING 1),"
    " before AS MATERIALIZED (SELECT count(*) AS n FROM gone),"
    " added AS (INSERT INTO search_synonyms (phrase, expansion)"
    "           SELECT DISTINCT $1::text, " SEARCH_WORDS("e")
    "             FROM json_array_elements_text($2::json) AS t(e), before"
    "           RETURNING phrase, expansion, updated_at)"
    " SELECT " SYNONYM_JSON ", (SELECT n FROM before) = 0 FROM added GROUP BY phrase",
    2};

static const mc_db_statement synonym_delete = {
    "catalogue_synonym_delete", "DELETE FROM search_synonyms WHERE phrase = $1::text", 1};
/* clang-format on */

mc_error store_synonym_list(mc_db_conn *conn, const char *after, unsigned limit, json_t **items,
                            json_t **next_keys)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, after);
    mc_db_add_int64(&p, (long long)limit + 1);
    return mc_db_fetch_page(conn, &synonym_list, &p, limit, "s", items, next_keys);
}

mc_error store_synonym_get(mc_db_conn *conn, const char *phrase, json_t **out)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, phrase);
    return mc_db_fetch_json(conn, &synonym_get, &p, MC_ERR_NOT_FOUND, out, NULL);
}

mc_error store_synonym_normalise(mc_db_conn *conn, const json_t *texts, json_t **out)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_json(&p, texts);
    mc_error rc = mc_db_fetch_json(conn, &synonym_normalise, &p, MC_ERR_INTERNAL, out, NULL);
    mc_db_params_clear(&p);
    return rc;
}

mc_error store_synonym_replace(mc_db_conn *conn, const char *phrase, const json_t *expansions,
                               json_t **out, bool *created)
{
    *out = NULL;
    *created = false;
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, phrase);
    mc_db_add_json(&p, expansions);
    PGresult *res = mc_db_exec_params(conn, &synonym_replace, &p);
    mc_db_params_clear(&p);
    if (res == NULL)
        return mc_db_failure(conn);
    if (PQntuples(res) == 1) {
        *out = mc_db_json(res, 0, 0);
        *created = mc_db_bool(res, 0, 1);
    }
    PQclear(res);
    return *out != NULL ? MC_OK : MC_ERR_INTERNAL;
}

mc_error store_synonym_delete(mc_db_conn *conn, const char *phrase)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, phrase);
    PGresult *res = mc_db_exec_params(conn, &synonym_delete, &p);
    if (res == NULL)
        return mc_db_failure(conn);
    mc_error rc = strcmp(PQcmdTuples(res), "0") == 0 ? MC_ERR_NOT_FOUND : MC_OK;
    PQclear(res);
    return rc;
}
