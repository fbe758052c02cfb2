/*
 * Store: machine clients of the client-credentials grant.
 *
 * Clients are keyed by client_id (text, not a UUID), so their audit events
 * have no subject: the client id is in the event's detail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

/* clang-format off */
/* The read shape: never the secret hash; every member present, null when empty. */
#define CLIENT_JSON                                                                              \
    "json_build_object('client_id', client_id, 'name', name,"                                   \
    " 'scopes', scopes, 'agency', agency, 'disabled', disabled,"                                \
    " 'created_at', f_rfc3339(created_at), 'updated_at', f_rfc3339(updated_at),"                \
    " 'secret_rotated_at', f_rfc3339(secret_rotated_at), 'revision', revision)::text"

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
    " RETURNING " CLIENT_JSON ", revision",
    5};

static const mc_db_statement client_get = {
    "identity_client_get",
    "SELECT " CLIENT_JSON ", revision FROM clients WHERE client_id = $1::text",
    1};

static const mc_db_statement client_list = {
    "identity_client_list",
    "SELECT " CLIENT_JSON ", client_id FROM clients"
    " WHERE ($1::text IS NULL OR agency = $1::text) AND client_id > coalesce($2::text, '')"
    " ORDER BY client_id LIMIT $3::integer",
    3};

static const mc_db_statement client_lock = {
    "identity_client_lock",
    "SELECT name, array_to_json(scopes)::text, disabled, revision FROM clients"
    " WHERE client_id = $1::text FOR UPDATE",
    1};

/* NULL parameters leave their column as it is; a secret hash also stamps
   secret_rotated_at. */
static const mc_db_statement client_update = {
    "identity_client_update",
    "UPDATE clients SET name = coalesce($2::text, name),"
    " scopes = CASE WHEN $3::json IS NULL THEN scopes ELSE (SELECT array_agg(s ORDER BY o)"
    " FROM json_array_elements_text($3::json) WITH ORDINALITY AS x(s, o)) END,"
    " disabled = coalesce($4::boolean, disabled),"
    " secret_hash = coalesce($5::text, secret_hash),"
    " secret_rotated_at = CASE WHEN $5::text IS NULL THEN secret_rotated_at ELSE now() END,"
    " revision = revision + 1, updated_at = now()"
    " WHERE client_id = $1::text RETURNING " CLIENT_JSON ", revision",
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
        rc = mc_db_failure(conn);
    } else if (PQntuples(res) == 1) {
        out->found = true;
        mc_db_copy(out->hash, sizeof out->hash, res, 0, 0);
        mc_db_copy(out->scopes, sizeof out->scopes, res, 0, 1);
        mc_db_copy(out->agency, sizeof out->agency, res, 0, 2);
    }
    PQclear(res);
    mc_db_release(pool, conn);
    return rc;
}

/* Audit `action` on client_id with detail {"client_id": ..., extra...};
   extra (may be NULL) is borrowed. */
static mc_error audit_client(mc_db_conn *conn, const struct store_who *who, const char *action,
                             const char *client_id, json_t *extra)
{
    json_t *detail = json_pack("{s:s}", "client_id", client_id);
    if (detail != NULL && extra != NULL)
        json_object_update(detail, extra);
    char *text = detail != NULL ? json_dumps(detail, JSON_COMPACT) : NULL;
    json_decref(detail);
    mc_error rc = text != NULL ? store_audit_conn(conn, who, action, NULL, text) : MC_ERR_INTERNAL;
    free(text);
    return rc;
}

struct client_ctx {
    const char *const *params;
    const struct store_who *who;
    json_t *out;
    long long revision;
};

static mc_error client_tx(mc_db_conn *conn, void *p)
{
    struct client_ctx *ctx = p;
    json_decref(ctx->out);
    ctx->out = NULL;
    PGresult *res = mc_db_exec(conn, &client_insert, ctx->params);
    if (res == NULL)
        return mc_db_failure(conn);
    ctx->out = mc_db_json(res, 0, 0);
    ctx->revision = mc_db_int(res, 0, 1);
    PQclear(res);
    if (ctx->out == NULL)
        return MC_ERR_INTERNAL;
    return audit_client(conn, ctx->who, "client_created", ctx->params[0], NULL);
}

mc_error store_client_create(mc_db_pool *pool, const char *client_id, const char *name,
                             const char *scopes_json, const char *agency, const char *secret_hash,
                             const struct store_who *who, json_t **out, long long *revision)
{
    const char *params[] = {client_id, name, scopes_json, agency, secret_hash};
    struct client_ctx ctx = {params, who, NULL, 0};
    mc_error rc = mc_db_transaction(pool, false, false, 3, client_tx, &ctx);
    if (rc != MC_OK) {
        json_decref(ctx.out);
        ctx.out = NULL;
    }
    *out = ctx.out;
    *revision = ctx.revision;
    return rc;
}

mc_error store_client_get(mc_db_pool *pool, const char *client_id, json_t **out,
                          long long *revision)
{
    *out = NULL;
    *revision = 0;
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(pool, &conn);
    if (rc != MC_OK)
        return rc;
    const char *params[] = {client_id};
    PGresult *res = mc_db_exec(conn, &client_get, params);
    if (res == NULL) {
        rc = mc_db_failure(conn);
    } else if (PQntuples(res) == 0) {
        rc = MC_ERR_IDENTITY_CLIENT_NOT_FOUND;
    } else {
        *out = mc_db_json(res, 0, 0);
        *revision = mc_db_int(res, 0, 1);
        rc = *out != NULL ? MC_OK : MC_ERR_INTERNAL;
    }
    PQclear(res);
    mc_db_release(pool, conn);
    return rc;
}

mc_error store_client_list(mc_db_pool *pool, const char *agency, const char *after, unsigned limit,
                           json_t **items, json_t **next_keys)
{
    *items = NULL;
    *next_keys = NULL;
    char lim[16];
    snprintf(lim, sizeof lim, "%u", limit + 1);
    const char *params[] = {agency, after, lim};
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(pool, &conn);
    if (rc != MC_OK)
        return rc;
    PGresult *res = mc_db_exec(conn, &client_list, params);
    if (res == NULL) {
        rc = mc_db_failure(conn);
    } else {
        json_t *list = json_array();
        int n = PQntuples(res);
        for (int r = 0; list != NULL && r < n && (unsigned)r < limit; r++)
            json_array_append_new(list, mc_db_json(res, r, 0));
        if (list == NULL)
            rc = MC_ERR_INTERNAL;
        else if ((unsigned)n > limit)
            *next_keys = json_pack("[s]", mc_db_text(res, (int)limit - 1, 1));
        *items = list;
    }
    PQclear(res);
    mc_db_release(pool, conn);
    return rc;
}

struct client_update_ctx {
    const char *client_id;
    const struct store_client_change *change;
    long long expected_revision; /* -1: any, -2: If-Match missing */
    const struct store_who *who;
    json_t *out;
    long long new_revision;
};

/* The audit events of one change: what differs between the locked row
   (old_*) and the updated one (ctx->out). */
static mc_error audit_client_change(mc_db_conn *conn, const struct client_update_ctx *ctx,
                                    const char *old_name, json_t *old_scopes, bool was_disabled)
{
    mc_error rc = MC_OK;
    const struct store_client_change *c = ctx->change;
    json_t *new_scopes = json_object_get(ctx->out, "scopes");
    if (!json_equal(old_scopes, new_scopes)) {
        json_t *extra = json_pack("{s:O, s:O}", "from", old_scopes, "to", new_scopes);
        rc = extra != NULL
                 ? audit_client(conn, ctx->who, "client_scopes_changed", ctx->client_id, extra)
                 : MC_ERR_INTERNAL;
        json_decref(extra);
    }
    /* The name is an operator's label, not personal data: from/to are kept. */
    const char *new_name = json_string_value(json_object_get(ctx->out, "name"));
    if (rc == MC_OK && new_name != NULL && strcmp(old_name, new_name) != 0) {
        json_t *extra = json_pack("{s:s, s:s}", "from", old_name, "to", new_name);
        rc = extra != NULL ? audit_client(conn, ctx->who, "client_renamed", ctx->client_id, extra)
                           : MC_ERR_INTERNAL;
        json_decref(extra);
    }
    if (rc == MC_OK && c->disabled >= 0 && (c->disabled != 0) != was_disabled)
        rc = audit_client(conn, ctx->who, c->disabled ? "client_disabled" : "client_enabled",
                          ctx->client_id, NULL);
    if (rc == MC_OK && c->secret_hash != NULL)
        rc = audit_client(conn, ctx->who, "client_secret_rotated", ctx->client_id, NULL);
    return rc;
}

static mc_error client_update_tx(mc_db_conn *conn, void *p)
{
    struct client_update_ctx *ctx = p;
    json_decref(ctx->out);
    ctx->out = NULL;
    const char *id_param[] = {ctx->client_id};
    PGresult *res = mc_db_exec(conn, &client_lock, id_param);
    if (res == NULL)
        return mc_db_failure(conn);
    if (PQntuples(res) == 0) {
        PQclear(res);
        return MC_ERR_IDENTITY_CLIENT_NOT_FOUND;
    }
    char *old_name = strdup(mc_db_text(res, 0, 0));
    json_t *old_scopes = mc_db_json(res, 0, 1);
    bool was_disabled = mc_db_bool(res, 0, 2);
    long long revision = mc_db_int(res, 0, 3);
    PQclear(res);
    /* Existence first (404), then the precondition, as for staff. */
    if (ctx->expected_revision == -2 ||
        (ctx->expected_revision >= 0 && ctx->expected_revision != revision)) {
        free(old_name);
        json_decref(old_scopes);
        return ctx->expected_revision == -2 ? MC_ERR_PRECONDITION_REQUIRED
                                            : MC_ERR_PRECONDITION_FAILED;
    }
    const struct store_client_change *c = ctx->change;
    const char *disabled = c->disabled < 0 ? NULL : c->disabled ? "true" : "false";
    const char *params[] = {ctx->client_id, c->name, c->scopes_json, disabled, c->secret_hash};
    res = mc_db_exec(conn, &client_update, params);
    if (res == NULL) {
        free(old_name);
        json_decref(old_scopes);
        return mc_db_failure(conn);
    }
    ctx->out = mc_db_json(res, 0, 0);
    ctx->new_revision = mc_db_int(res, 0, 1);
    PQclear(res);
    mc_error rc = ctx->out != NULL && old_name != NULL
                      ? audit_client_change(conn, ctx, old_name, old_scopes, was_disabled)
                      : MC_ERR_INTERNAL;
    free(old_name);
    json_decref(old_scopes);
    return rc;
}

mc_error store_client_update(mc_db_pool *pool, const char *client_id, long long expected_revision,
                             const struct store_client_change *change, const struct store_who *who,
                             json_t **out, long long *revision)
{
    struct client_update_ctx ctx = {client_id, change, expected_revision, who, NULL, 0};
    mc_error rc = mc_db_transaction(pool, false, false, 3, client_update_tx, &ctx);
    if (rc != MC_OK) {
        json_decref(ctx.out);
        ctx.out = NULL;
    }
    *out = ctx.out;
    *revision = ctx.new_revision;
    return rc;
}
