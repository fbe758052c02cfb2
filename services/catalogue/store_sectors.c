/*
 * Store: sectors (lĩnh vực). Every SQL text of this resource lives here.
 */
#include <stdio.h>

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

/* Items and next keys from rows (json, code). Owned by the caller. */
static mc_error page_from(const PGresult *res, unsigned limit, json_t **items, json_t **next_keys)
{
    *items = store_json_rows(res, 0, limit);
    if (*items == NULL)
        return MC_ERR_INTERNAL;
    if ((unsigned)PQntuples(res) > limit)
        *next_keys = json_pack("[s]", mc_db_text(res, (int)limit - 1, 1));
    return MC_OK;
}

mc_error store_sector_list(mc_db_pool *pool, const char *after_code, unsigned limit, json_t **items,
                           json_t **next_keys)
{
    *items = NULL;
    *next_keys = NULL;
    char lim[16];
    snprintf(lim, sizeof lim, "%u", limit + 1);
    const char *params[] = {after_code, lim};
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(pool, &conn);
    if (rc != MC_OK)
        return rc;
    PGresult *res = mc_db_exec(conn, &sector_list, params);
    rc = res == NULL ? mc_db_failure(conn) : page_from(res, limit, items, next_keys);
    PQclear(res);
    mc_db_release(pool, conn);
    return rc;
}

/* One-row result (json, revision) into *out / *revision. */
static mc_error one_sector(const PGresult *res, json_t **out, long long *revision)
{
    *out = mc_db_json(res, 0, 0);
    *revision = mc_db_int(res, 0, 1);
    return *out != NULL ? MC_OK : MC_ERR_INTERNAL;
}

mc_error store_sector_get(mc_db_pool *pool, const char *code, json_t **sector, long long *revision)
{
    *sector = NULL;
    const char *params[] = {code};
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(pool, &conn);
    if (rc != MC_OK)
        return rc;
    PGresult *res = mc_db_exec(conn, &sector_get, params);
    if (res == NULL)
        rc = mc_db_failure(conn);
    else if (PQntuples(res) == 0)
        rc = MC_ERR_SECTOR_NOT_FOUND;
    else
        rc = one_sector(res, sector, revision);
    PQclear(res);
    mc_db_release(pool, conn);
    return rc;
}

mc_error store_sector_create(mc_db_pool *pool, const json_t *sector, json_t **out,
                             long long *revision)
{
    *out = NULL;
    const char *params[] = {mc_json_str(sector, "code", NULL), mc_json_str(sector, "name", NULL),
                            mc_json_str(sector, "description", NULL)};
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(pool, &conn);
    if (rc != MC_OK)
        return rc;
    PGresult *res = mc_db_exec(conn, &sector_insert, params);
    if (res == NULL)
        rc = mc_db_unique_violation(conn) ? MC_ERR_SECTOR_EXISTS : mc_db_failure(conn);
    else
        rc = one_sector(res, out, revision);
    PQclear(res);
    mc_db_release(pool, conn);
    return rc;
}

struct sector_update_ctx {
    const json_t *sector;
    const char *expected;
    json_t *out;
    long long revision;
};

static mc_error sector_update_tx(mc_db_conn *conn, void *p)
{
    struct sector_update_ctx *ctx = p;
    json_decref(ctx->out); /* a retried transaction starts afresh */
    ctx->out = NULL;
    const char *code = mc_json_str(ctx->sector, "code", NULL);
    const char *name = mc_json_str(ctx->sector, "name", NULL);
    const char *params[] = {code, name, mc_json_str(ctx->sector, "description", NULL),
                            ctx->expected};
    PGresult *res = mc_db_exec(conn, &sector_update, params);
    if (res == NULL)
        return mc_db_failure(conn);
    mc_error rc = MC_OK;
    if (PQntuples(res) == 0) {
        PQclear(res);
        res = mc_db_exec(conn, &sector_exists, params);
        if (res == NULL)
            return mc_db_failure(conn);
        rc = PQntuples(res) == 0 ? MC_ERR_SECTOR_NOT_FOUND : MC_ERR_PRECONDITION_FAILED;
        PQclear(res);
        return rc;
    }
    rc = one_sector(res, &ctx->out, &ctx->revision);
    PQclear(res);
    if (rc != MC_OK)
        return rc;
    const char *refresh[] = {code, name};
    res = mc_db_exec(conn, &sector_refresh_search, refresh);
    if (res == NULL)
        return mc_db_failure(conn);
    PQclear(res);
    return MC_OK;
}

mc_error store_sector_update(mc_db_pool *pool, const json_t *sector, long long expected_revision,
                             json_t **out, long long *revision)
{
    char expected[24];
    snprintf(expected, sizeof expected, "%lld", expected_revision);
    struct sector_update_ctx ctx = {sector, expected, NULL, 0};
    mc_error rc = mc_db_transaction(pool, NULL, sector_update_tx, &ctx);
    if (rc != MC_OK) {
        json_decref(ctx.out);
        ctx.out = NULL;
    }
    *out = ctx.out;
    *revision = ctx.revision;
    return rc;
}
