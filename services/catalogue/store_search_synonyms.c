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

/* Replace the expansions of a phrase; the count of rows it had before. */
static const mc_db_statement synonym_replace = {
    "catalogue_synonym_replace",
    "WITH gone AS (DELETE FROM search_synonyms WHERE phrase = $1::text RETURNING 1),"
    " added AS (INSERT INTO search_synonyms (phrase, expansion)"
    "           SELECT DISTINCT $1::text, " SEARCH_WORDS("e")
    "             FROM json_array_elements_text($2::json) AS t(e)"
    "           RETURNING 1)"
    " SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM added)",
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
                               bool *created)
{
    *created = false;
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, phrase);
    mc_db_add_json(&p, expansions);
    PGresult *res = mc_db_exec_params(conn, &synonym_replace, &p);
    mc_db_params_clear(&p);
    if (res == NULL)
        return mc_db_failure(conn);
    *created = strcmp(mc_db_text(res, 0, 0), "0") == 0;
    PQclear(res);
    return MC_OK;
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
