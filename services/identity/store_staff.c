/*
 * Store: staff accounts (officers, approvers, agency administrators).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

/* clang-format off */
#define STAFF_JSON                                                                               \
    "json_strip_nulls(json_build_object('id', id, 'kind', kind, 'full_name', full_name,"        \
    " 'email', email, 'username', username, 'agency', agency, 'roles', roles,"                  \
    " 'disabled', disabled, 'created_at', f_rfc3339(created_at)))::text"

static const mc_db_statement staff_insert = {
    "identity_staff_insert",
    "INSERT INTO accounts (kind, username, full_name, agency, roles, email, password_hash)"
    " VALUES ('staff', $1::text, $2::text, $3::text,"
    " ARRAY(SELECT json_array_elements_text($4::json)), $5::text, $6::text)"
    " ON CONFLICT DO NOTHING RETURNING " STAFF_JSON ", id::text",
    6};

static const mc_db_statement staff_lock = {
    "identity_staff_lock",
    "SELECT agency, array_to_json(roles)::text, disabled, revision FROM accounts"
    " WHERE id = $1::uuid AND kind = 'staff' FOR UPDATE",
    1};

static const mc_db_statement staff_get = {
    "identity_staff_get",
    "SELECT " STAFF_JSON ", revision, agency FROM accounts WHERE id = $1::uuid AND kind = 'staff'",
    1};

static const mc_db_statement staff_update = {
    "identity_staff_update",
    "UPDATE accounts SET roles = CASE WHEN $2::json IS NULL THEN roles"
    " ELSE ARRAY(SELECT json_array_elements_text($2::json)) END,"
    " disabled = coalesce($3::boolean, disabled), revision = revision + 1, updated_at = now()"
    " WHERE id = $1::uuid RETURNING " STAFF_JSON ", revision",
    3};

static const mc_db_statement staff_revoke_tokens = {
    "identity_staff_revoke_tokens",
    "UPDATE refresh_tokens SET revoked_at = now() WHERE account_id = $1::uuid"
    " AND revoked_at IS NULL",
    1};

/* Keyset on (full_name, id); COLLATE "C" so the order and the cursor
   comparison agree whatever the database's collation. */
static const mc_db_statement colleague_list = {
    "identity_colleague_list",
    "SELECT json_build_object('id', id, 'full_name', full_name, 'roles', roles)::text,"
    " full_name, id::text FROM accounts WHERE kind = 'staff' AND NOT disabled"
    " AND agency = $1::text AND ($2::text IS NULL"
    " OR (full_name COLLATE \"C\", id) > ($2::text COLLATE \"C\", $3::uuid))"
    " ORDER BY full_name COLLATE \"C\", id LIMIT $4::integer",
    4};

static const mc_db_statement staff_list = {
    "identity_staff_list",
    "SELECT " STAFF_JSON ", username FROM accounts WHERE kind = 'staff'"
    " AND ($1::text IS NULL OR agency = $1::text) AND username > coalesce($2::text, '')"
    " ORDER BY username LIMIT $3::integer",
    3};
/* clang-format on */

struct staff_create_ctx {
    const struct store_staff *s;
    const struct store_who *who;
    json_t *out;
};

static mc_error staff_create_tx(mc_db_conn *conn, void *p)
{
    struct staff_create_ctx *ctx = p;
    json_decref(ctx->out);
    ctx->out = NULL;
    const struct store_staff *s = ctx->s;
    const char *params[] = {s->username,   s->full_name, s->agency,
                            s->roles_json, s->email,     s->password_hash};
    PGresult *res = mc_db_exec(conn, &staff_insert, params);
    if (res == NULL)
        return mc_db_failure(conn);
    if (PQntuples(res) == 0) {
        /* Taken: found without a unique violation the server would log. */
        PQclear(res);
        return MC_ERR_IDENTITY_USERNAME_TAKEN;
    }
    ctx->out = mc_db_json(res, 0, 0);
    char id[40];
    mc_db_copy(id, sizeof id, res, 0, 1);
    PQclear(res);
    if (ctx->out == NULL)
        return MC_ERR_INTERNAL;
    json_t *detail = json_pack("{s:s, s:O}", "agency", s->agency, "roles",
                               json_object_get(ctx->out, "roles"));
    char *text = detail != NULL ? json_dumps(detail, JSON_COMPACT) : NULL;
    json_decref(detail);
    mc_error rc = store_audit_conn(conn, ctx->who, "staff_created", id, text);
    free(text);
    return rc;
}

mc_error store_staff_create(mc_db_pool *pool, const struct store_staff *s,
                            const struct store_who *who, json_t **out)
{
    struct staff_create_ctx ctx = {s, who, NULL};
    mc_error rc = mc_db_transaction(pool, false, false, 3, staff_create_tx, &ctx);
    if (rc != MC_OK) {
        json_decref(ctx.out);
        ctx.out = NULL;
    }
    *out = ctx.out;
    return rc;
}

struct staff_update_ctx {
    const char *id, *admin_agency, *roles_json;
    int disabled;
    const struct store_who *who;
    json_t *out;
    long long expected_revision; /* -1: any, -2: If-Match missing */
    long long new_revision;
};

static mc_error staff_update_tx(mc_db_conn *conn, void *p)
{
    struct staff_update_ctx *ctx = p;
    json_decref(ctx->out);
    ctx->out = NULL;
    const char *id_param[] = {ctx->id};
    PGresult *res = mc_db_exec(conn, &staff_lock, id_param);
    if (res == NULL)
        return mc_db_failure(conn);
    if (PQntuples(res) == 0) {
        PQclear(res);
        return MC_ERR_IDENTITY_STAFF_NOT_FOUND;
    }
    bool outside = ctx->admin_agency != NULL &&
                   strcmp(mc_db_text(res, 0, 0), ctx->admin_agency) != 0;
    json_t *old_roles = mc_db_json(res, 0, 1);
    bool was_disabled = mc_db_bool(res, 0, 2);
    long long revision = mc_db_int(res, 0, 3);
    PQclear(res);
    /* Scope and existence are answered before the precondition, so an
       administrator of another agency learns nothing from a 412. */
    if (outside || ctx->expected_revision == -2 ||
        (ctx->expected_revision >= 0 && ctx->expected_revision != revision)) {
        json_decref(old_roles);
        return outside ? MC_ERR_FORBIDDEN
                       : ctx->expected_revision == -2 ? MC_ERR_PRECONDITION_REQUIRED
                                                      : MC_ERR_PRECONDITION_FAILED;
    }
    const char *disabled = ctx->disabled < 0 ? NULL : ctx->disabled ? "true" : "false";
    const char *params[] = {ctx->id, ctx->roles_json, disabled};
    res = mc_db_exec(conn, &staff_update, params);
    if (res == NULL) {
        json_decref(old_roles);
        return mc_db_failure(conn);
    }
    ctx->out = mc_db_json(res, 0, 0);
    ctx->new_revision = mc_db_int(res, 0, 1);
    PQclear(res);
    if (ctx->out == NULL) {
        json_decref(old_roles);
        return MC_ERR_INTERNAL;
    }
    mc_error rc = MC_OK;
    json_t *new_roles = json_object_get(ctx->out, "roles");
    bool roles_same = json_equal(old_roles, new_roles);
    if (!roles_same) {
        json_t *detail = json_pack("{s:O, s:O}", "from", old_roles, "to", new_roles);
        char *text = detail != NULL ? json_dumps(detail, JSON_COMPACT) : NULL;
        json_decref(detail);
        rc = store_audit_conn(conn, ctx->who, "role_changed", ctx->id, text);
        free(text);
    }
    json_decref(old_roles);
    if (rc == MC_OK && ctx->disabled >= 0 && (ctx->disabled != 0) != was_disabled)
        rc = store_audit_conn(conn, ctx->who, ctx->disabled ? "disabled" : "enabled", ctx->id,
                              NULL);
    bool disabling = ctx->disabled == 1 && !was_disabled;
    if (rc == MC_OK && disabling) {
        res = mc_db_exec(conn, &staff_revoke_tokens, id_param);
        if (res == NULL)
            return mc_db_failure(conn);
        PQclear(res);
        rc = store_audit_conn(conn, ctx->who, "revoked", ctx->id, "{\"reason\":\"disabled\"}");
    }
    /* Access tokens carry the roles: after a change, or once disabled,
       the ones issued before must stop at every service. */
    if (rc == MC_OK && (disabling || !roles_same))
        rc = store_revoke_subject_conn(conn, ctx->id);
    return rc;
}

mc_error store_staff_update(mc_db_pool *pool, const char *id, const char *admin_agency,
                            long long expected_revision, const char *roles_json, int disabled,
                            const struct store_who *who, json_t **out, long long *revision)
{
    struct staff_update_ctx ctx = {id, admin_agency, roles_json, disabled, who, NULL,
                                   expected_revision, 0};
    mc_error rc = mc_db_transaction(pool, false, false, 3, staff_update_tx, &ctx);
    if (rc != MC_OK) {
        json_decref(ctx.out);
        ctx.out = NULL;
    }
    *out = ctx.out;
    *revision = ctx.new_revision;
    return rc;
}

mc_error store_staff_get(mc_db_pool *pool, const char *id, const char *admin_agency, json_t **out,
                         long long *revision)
{
    *out = NULL;
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(pool, &conn);
    if (rc != MC_OK)
        return rc;
    const char *params[] = {id};
    PGresult *res = mc_db_exec(conn, &staff_get, params);
    if (res == NULL) {
        rc = mc_db_failure(conn);
    } else if (PQntuples(res) == 0) {
        rc = MC_ERR_IDENTITY_STAFF_NOT_FOUND;
    } else if (admin_agency != NULL && strcmp(mc_db_text(res, 0, 2), admin_agency) != 0) {
        rc = MC_ERR_FORBIDDEN;
    } else {
        *out = mc_db_json(res, 0, 0);
        *revision = mc_db_int(res, 0, 1);
        rc = *out != NULL ? MC_OK : MC_ERR_INTERNAL;
    }
    PQclear(res);
    mc_db_release(pool, conn);
    return rc;
}

/* One page of a list query that fetched limit + 1 rows: column 0 the item
   (JSON text), columns 1..n_keys the keyset of the row. *next_keys: the
   keys of the page's last row when there is a next page, else NULL. */
static mc_error page_of(const PGresult *res, unsigned limit, int n_keys, json_t **items,
                        json_t **next_keys)
{
    json_t *list = json_array();
    int n = PQntuples(res);
    for (int r = 0; list != NULL && r < n && (unsigned)r < limit; r++)
        json_array_append_new(list, mc_db_json(res, r, 0));
    *items = list;
    if (list == NULL)
        return MC_ERR_INTERNAL;
    if ((unsigned)n > limit) {
        *next_keys = json_array();
        for (int c = 1; *next_keys != NULL && c <= n_keys; c++)
            json_array_append_new(*next_keys, json_string(mc_db_text(res, (int)limit - 1, c)));
    }
    return MC_OK;
}

mc_error store_staff_list(mc_db_pool *pool, const char *agency, const char *after, unsigned limit,
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
    PGresult *res = mc_db_exec(conn, &staff_list, params);
    if (res == NULL) {
        rc = mc_db_failure(conn);
    } else {
        rc = page_of(res, limit, 1, items, next_keys);
    }
    PQclear(res);
    mc_db_release(pool, conn);
    return rc;
}

mc_error store_colleague_list(mc_db_pool *pool, const char *agency, const char *after_name,
                              const char *after_id, unsigned limit, json_t **items,
                              json_t **next_keys)
{
    *items = NULL;
    *next_keys = NULL;
    char lim[16];
    snprintf(lim, sizeof lim, "%u", limit + 1);
    const char *params[] = {agency, after_name, after_id, lim};
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(pool, &conn);
    if (rc != MC_OK)
        return rc;
    PGresult *res = mc_db_exec(conn, &colleague_list, params);
    if (res == NULL) {
        rc = mc_db_failure(conn);
    } else {
        rc = page_of(res, limit, 2, items, next_keys);
    }
    PQclear(res);
    mc_db_release(pool, conn);
    return rc;
}

/* ---- the bootstrap administrator ---- */

/* clang-format off */
/* ON CONFLICT: two instances starting at once both try; one inserts, the
   other sees the account. An existing account is never changed. */
static const mc_db_statement bootstrap_insert = {
    "identity_bootstrap_insert",
    "INSERT INTO accounts (kind, username, full_name, roles, password_hash)"
    " VALUES ('staff', $1::text, $2::text, ARRAY['system_admin'], $3::text)"
    " ON CONFLICT (username) DO NOTHING RETURNING id::text",
    3};

static const mc_db_statement bootstrap_existing = {
    "identity_bootstrap_existing",
    "SELECT kind = 'staff' AND 'system_admin' = ANY(roles) AND NOT disabled FROM accounts"
    " WHERE username = $1::text",
    1};
/* clang-format on */

struct bootstrap_ctx {
    const char *username, *full_name, *password_hash;
    enum store_bootstrap_outcome outcome;
};

static mc_error bootstrap_tx(mc_db_conn *conn, void *p)
{
    struct bootstrap_ctx *ctx = p;
    const char *params[] = {ctx->username, ctx->full_name, ctx->password_hash};
    PGresult *res = mc_db_exec(conn, &bootstrap_insert, params);
    if (res == NULL)
        return mc_db_failure(conn);
    if (PQntuples(res) == 1) {
        char id[40];
        mc_db_copy(id, sizeof id, res, 0, 0);
        PQclear(res);
        ctx->outcome = STORE_BOOTSTRAP_CREATED;
        const struct store_who who = {"system:bootstrap", NULL};
        return store_audit_conn(conn, &who, "staff_created", id,
                                "{\"roles\":[\"system_admin\"],\"reason\":\"bootstrap\"}");
    }
    PQclear(res);
    res = mc_db_exec(conn, &bootstrap_existing, params);
    if (res == NULL)
        return mc_db_failure(conn);
    /* No row: the conflicting insert rolled back meanwhile; try again. */
    mc_error rc = MC_ERR_DB_RETRY;
    if (PQntuples(res) == 1) {
        ctx->outcome =
            mc_db_bool(res, 0, 0) ? STORE_BOOTSTRAP_EXISTS : STORE_BOOTSTRAP_EXISTS_UNUSABLE;
        rc = MC_OK;
    }
    PQclear(res);
    return rc;
}

mc_error store_bootstrap_admin(mc_db_pool *pool, const char *username, const char *full_name,
                               const char *password_hash, enum store_bootstrap_outcome *outcome)
{
    struct bootstrap_ctx ctx = {username, full_name, password_hash, STORE_BOOTSTRAP_EXISTS};
    mc_error rc = mc_db_transaction(pool, false, false, 3, bootstrap_tx, &ctx);
    *outcome = ctx.outcome;
    return rc;
}
