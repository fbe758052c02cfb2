/*
 * Store: sectors (lĩnh vực). Every SQL text of this resource lives here.
 */
#include "motcua/json_spec.h"
#include "store.h"

/* clang-format off */
#define SECTOR_JSON                                                                              \
    "json_build_object('code', code, 'name', name, 'description', description, "                 \
    "'revision', revision)::text"

static const mc_db_statement sector_list = {
    "catalogue_sector_list",
    "SELECT " SECTOR_JSON ", code FROM sectors"
    " WHERE code > coalesce($1::text, '') ORDER BY code LIMIT $2::integer",
    2};

static const mc_db_statement sector_get = {
    "catalogue_sector_get", "SELECT " SECTOR_JSON ", revision FROM sectors WHERE code = $1::text",
    1};

static const mc_db_statement sector_insert = {
    "catalogue_sector_insert",
    "INSERT INTO sectors (code, name, description) VALUES ($1::text, $2::text, $3::text)"
    " RETURNING " SECTOR_JSON ", revision",
    3};

static const mc_db_statement sector_update = {
    "catalogue_sector_update",
    "UPDATE sectors SET name = $2::text, description = $3::text, revision = revision + 1,"
    " updated_at = now()"
    " WHERE code = $1::text AND revision = $4::bigint"
    " RETURNING " SECTOR_JSON ", revision",
    4};

static const mc_db_statement sector_exists = {
    "catalogue_sector_exists", "SELECT 1 FROM sectors WHERE code = $1::text", 1};

/* The sector name is weighted into every search vector of its procedures. */
static const mc_db_statement sector_refresh_search = {
    "catalogue_sector_refresh_search",
    "UPDATE procedure_search SET search_vector ="
    " f_procedure_search_vector(code, name, $2::text, description)"
    " WHERE sector_code = $1::text",
    2};
/* clang-format on */

mc_error store_sector_list(mc_db_conn *conn, const char *after_code, unsigned limit,
                           json_t **items, json_t **next_keys)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, after_code);
    mc_db_add_int64(&p, (long long)limit + 1);
    return mc_db_fetch_page(conn, &sector_list, &p, limit, "s", items, next_keys);
}

mc_error store_sector_get(mc_db_conn *conn, const char *code, json_t **sector, long long *revision)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, code);
    return mc_db_fetch_json(conn, &sector_get, &p, MC_ERR_SECTOR_NOT_FOUND, sector, revision);
}

mc_error store_sector_create(mc_db_conn *conn, const json_t *sector, json_t **out,
                             long long *revision)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, mc_json_str(sector, "code", NULL));
    mc_db_add_text(&p, mc_json_str(sector, "name", NULL));
    mc_db_add_text(&p, mc_json_str(sector, "description", NULL));
    mc_error rc = mc_db_fetch_json(conn, &sector_insert, &p, MC_ERR_INTERNAL, out, revision);
    return rc != MC_OK && mc_db_unique_violation(conn) ? MC_ERR_SECTOR_EXISTS : rc;
}

mc_error store_sector_update(mc_db_conn *conn, const json_t *sector, long long expected_revision,
                             json_t **out, long long *revision)
{
    const char *code = mc_json_str(sector, "code", NULL);
    const char *name = mc_json_str(sector, "name", NULL);
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, code);
    mc_db_add_text(&p, name);
    mc_db_add_text(&p, mc_json_str(sector, "description", NULL));
    mc_db_add_int64(&p, expected_revision);
    mc_error rc = mc_db_fetch_json(conn, &sector_update, &p, MC_ERR_NOT_FOUND, out, revision);
    if (rc == MC_ERR_NOT_FOUND) {
        /* No row: either there is no such sector or its revision moved on. */
        mc_db_params key = MC_DB_PARAMS_INIT;
        mc_db_add_text(&key, code);
        PGresult *res = mc_db_exec_params(conn, &sector_exists, &key);
        if (res == NULL)
            return mc_db_failure(conn);
        rc = PQntuples(res) == 0 ? MC_ERR_SECTOR_NOT_FOUND : MC_ERR_PRECONDITION_FAILED;
        PQclear(res);
        return rc;
    }
    if (rc != MC_OK)
        return rc;
    mc_db_params refresh = MC_DB_PARAMS_INIT;
    mc_db_add_text(&refresh, code);
    mc_db_add_text(&refresh, name);
    PGresult *res = mc_db_exec_params(conn, &sector_refresh_search, &refresh);
    if (res == NULL) {
        json_decref(*out);
        *out = NULL;
        return mc_db_failure(conn);
    }
    PQclear(res);
    return MC_OK;
}
