/*
 * Store: machine clients of the client-credentials grant.
 */
#include <stdlib.h>
#include <string.h>

#include "store_util.h"

/* clang-format off */
static const mc_db_statement client_lookup = {
    "identity_client_lookup",
    "SELECT secret_hash, array_to_string(scopes, ' '), coalesce(agency, '') FROM clients"
    " WHERE client_id = $1::text AND NOT disabled",
    1};

static const mc_db_statement client_insert = {
    "identity_client_insert",
    "INSERT INTO clients (client_id, name, scopes, agency, secret_hash)"
    " SELECT $1::text, $2::text, array_agg(s ORDER BY o), $4::text, $5::text"
    " FROM json_array_elements_text($3::json) WITH ORDINALITY AS x(s, o)"
    " RETURNING json_strip_nulls(json_build_object('client_id', client_id, 'name', name,"
    " 'scopes', scopes, 'agency', agency, 'created_at', f_rfc3339(created_at)))::text",
    5};
/* clang-format on */

mc_error store_client_lookup(mc_db_pool *pool, const char *client_id,
                             struct store_client_login *out)
{
    memset(out, 0, sizeof *out);
    const char *params[] = {client_id};
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(pool, &conn);
    if (rc != MC_OK)
        return rc;
    PGresult *res = mc_db_exec(conn, &client_lookup, params);
    if (res == NULL) {
        rc = store_failure(conn);
    } else if (PQntuples(res) == 1) {
        out->found = true;
        store_copy(out->hash, sizeof out->hash, res, 0, 0);
        store_copy(out->scopes, sizeof out->scopes, res, 0, 1);
        store_copy(out->agency, sizeof out->agency, res, 0, 2);
    }
    PQclear(res);
    mc_db_release(pool, conn);
    return rc;
}

struct client_ctx {
    const char *const *params;
    const struct store_who *who;
    json_t *out;
};

static mc_error client_tx(mc_db_conn *conn, void *p)
{
    struct client_ctx *ctx = p;
    json_decref(ctx->out);
    ctx->out = NULL;
    PGresult *res = mc_db_exec(conn, &client_insert, ctx->params);
    if (res == NULL)
        return store_failure(conn);
    ctx->out = store_json_column(res, 0, 0);
    PQclear(res);
    if (ctx->out == NULL)
        return MC_ERR_INTERNAL;
    json_t *detail = json_pack("{s:s}", "client_id", ctx->params[0]);
    char *text = detail != NULL ? json_dumps(detail, JSON_COMPACT) : NULL;
    json_decref(detail);
    mc_error rc = store_audit_conn(conn, ctx->who, "client_created", NULL, text);
    free(text);
    return rc;
}

mc_error store_client_create(mc_db_pool *pool, const char *client_id, const char *name,
                             const char *scopes_json, const char *agency, const char *secret_hash,
                             const struct store_who *who, json_t **out)
{
    const char *params[] = {client_id, name, scopes_json, agency, secret_hash};
    struct client_ctx ctx = {params, who, NULL};
    mc_error rc = mc_db_transaction(pool, false, false, 3, client_tx, &ctx);
    if (rc != MC_OK) {
        json_decref(ctx.out);
        ctx.out = NULL;
    }
    *out = ctx.out;
    return rc;
}
