/*
 * Store: staff accounts (officers, approvers, agency administrators).
 */
#include <string.h>

#include "store.h"

/* clang-format off */
/* The Account shape (every member present, null when empty); staff have no personal id,
   phone or date of birth. */
#define STAFF_JSON                                                                               \
    "json_build_object('id', id, 'kind', kind, 'full_name', full_name,"                         \
    " 'personal_id', NULL, 'phone', NULL, 'date_of_birth', NULL,"                               \
    " 'email', email, 'username', username, 'agency', agency, 'roles', roles,"                  \
    " 'disabled', disabled, 'created_at', f_rfc3339(created_at))::text"

static const mc_db_statement staff_insert = {
    "identity_staff_insert",
    "INSERT INTO accounts (kind, username, full_name, agency, roles, email, password_hash)"
    " VALUES ('staff', $1::text, $2::text, $3::text,"
    " ARRAY(SELECT json_array_elements_text($4::json)), $5::text, $6::text)"
    " ON CONFLICT DO NOTHING RETURNING " STAFF_JSON ", id::text",
    6};

/* The state an update checks (agency) and compares with (roles, disabled). */
static const mc_db_statement staff_lock = {
    "identity_staff_lock",
    "SELECT json_build_object('agency', agency, 'roles', roles, 'disabled', disabled)::text,"
    " revision FROM accounts WHERE id = $1::uuid AND kind = 'staff' FOR UPDATE",
    1};

static const mc_db_statement staff_get = {
    "identity_staff_get",
    "SELECT " STAFF_JSON ", revision FROM accounts WHERE id = $1::uuid AND kind = 'staff'",
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

mc_error store_staff_create(mc_db_conn *conn, const struct store_staff *s,
                            const struct store_who *who, json_t **out)
{
    *out = NULL;
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, s->username);
    mc_db_add_text(&p, s->full_name);
    mc_db_add_text(&p, s->agency);
    mc_db_add_text(&p, s->roles_json);
    mc_db_add_text(&p, s->email);
    mc_db_add_text(&p, s->password_hash);
    PGresult *res = mc_db_exec_params(conn, &staff_insert, &p);
    if (res == NULL)
        return mc_db_failure(conn);
    if (PQntuples(res) == 0) {
        /* Taken: found without a unique violation the server would log. */
        PQclear(res);
        return MC_ERR_IDENTITY_USERNAME_TAKEN;
    }
    *out = mc_db_json(res, 0, 0);
    char id[40];
    mc_db_copy(id, sizeof id, res, 0, 1);
    PQclear(res);
    json_t *detail = *out != NULL ? json_pack("{s:s, s:O}", "agency", s->agency, "roles",
                                              json_object_get(*out, "roles"))
                                  : NULL;
    mc_error rc = detail != NULL ? store_audit_json(conn, who, "staff_created", id, detail)
                                 : MC_ERR_INTERNAL;
    json_decref(detail);
    if (rc != MC_OK) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

/* What an update's audit needs besides the rows. */
struct staff_change_audit {
    const char *id;
    int disabled;
    const struct store_who *who;
};

/* The audit events of one change (before: the locked row, after: the
   updated account), and the revocation that disabling implies. */
static mc_error audit_staff_change(mc_db_conn *conn, const json_t *before, const json_t *after,
                                   const void *arg)
{
    const struct staff_change_audit *a = arg;
    mc_error rc = MC_OK;
    json_t *old_roles = json_object_get(before, "roles");
    json_t *new_roles = json_object_get(after, "roles");
    bool roles_same = json_equal(old_roles, new_roles);
    if (!roles_same) {
        json_t *detail = json_pack("{s:O, s:O}", "from", old_roles, "to", new_roles);
        rc = detail != NULL ? store_audit_json(conn, a->who, "role_changed", a->id, detail)
                            : MC_ERR_INTERNAL;
        json_decref(detail);
    }
    bool was_disabled = json_is_true(json_object_get(before, "disabled"));
    if (rc == MC_OK && a->disabled >= 0 && (a->disabled != 0) != was_disabled)
        rc = store_audit_conn(conn, a->who, a->disabled ? "disabled" : "enabled", a->id, NULL);
    bool disabling = a->disabled == 1 && !was_disabled;
    if (rc == MC_OK && disabling) {
        mc_db_params key = MC_DB_PARAMS_INIT;
        mc_db_add_text(&key, a->id);
        PGresult *res = mc_db_exec_params(conn, &staff_revoke_tokens, &key);
        if (res == NULL)
            return mc_db_failure(conn);
        PQclear(res);
        rc = store_audit_conn(conn, a->who, "revoked", a->id, "{\"reason\":\"disabled\"}");
    }
    /* Access tokens carry the roles: after a change, or once disabled,
       the ones issued before must stop at every service. */
    if (rc == MC_OK && (disabling || !roles_same))
        rc = store_revoke_subject_conn(conn, a->id);
    return rc;
}

mc_error store_staff_update(mc_db_conn *conn, const char *id, const char *admin_agency,
                            long long if_match, const char *roles_json, int disabled,
                            const struct store_who *who, json_t **out, long long *revision)
{
    mc_db_params key = MC_DB_PARAMS_INIT;
    mc_db_add_text(&key, id);
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, id);
    mc_db_add_text(&p, roles_json);
    mc_db_add_bool_or_null(&p, disabled);
    const struct staff_change_audit audit = {id, disabled, who};
    const struct store_locked_update u = {
        .lock = &staff_lock,
        .key = &key,
        .not_found = MC_ERR_IDENTITY_STAFF_NOT_FOUND,
        .scope_agency = admin_agency,
        .if_match = if_match,
        .update = &staff_update,
        .update_params = &p,
        .audit = audit_staff_change,
        .audit_arg = &audit,
    };
    return store_locked_update(conn, &u, out, revision);
}

mc_error store_staff_get(mc_db_conn *conn, const char *id, const char *admin_agency, json_t **out,
                         long long *revision)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, id);
    mc_error rc =
        mc_db_fetch_json(conn, &staff_get, &p, MC_ERR_IDENTITY_STAFF_NOT_FOUND, out, revision);
    if (rc == MC_OK && admin_agency != NULL) {
        const char *agency = json_string_value(json_object_get(*out, "agency"));
        if (agency == NULL || strcmp(agency, admin_agency) != 0) {
            json_decref(*out);
            *out = NULL;
            rc = MC_ERR_FORBIDDEN;
        }
    }
    return rc;
}

mc_error store_staff_list(mc_db_conn *conn, const struct store_list_query *q, unsigned limit,
                          json_t **items, json_t **next_keys)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, q->agency);
    mc_db_add_text(&p, q->after);
    mc_db_add_int64(&p, (long long)limit + 1);
    return mc_db_fetch_page(conn, &staff_list, &p, limit, "s", items, next_keys);
}

mc_error store_colleague_list(mc_db_conn *conn, const char *agency, const char *after_name,
                              const char *after_id, unsigned limit, json_t **items,
                              json_t **next_keys)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, agency);
    mc_db_add_text(&p, after_name);
    mc_db_add_text(&p, after_id);
    mc_db_add_int64(&p, (long long)limit + 1);
    return mc_db_fetch_page(conn, &colleague_list, &p, limit, "ss", items, next_keys);
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

mc_error store_bootstrap_admin(mc_db_conn *conn, const char *username, const char *full_name,
                               const char *password_hash, enum store_bootstrap_outcome *outcome)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, username);
    mc_db_add_text(&p, full_name);
    mc_db_add_text(&p, password_hash);
    PGresult *res = mc_db_exec_params(conn, &bootstrap_insert, &p);
    if (res == NULL)
        return mc_db_failure(conn);
    if (PQntuples(res) == 1) {
        char id[40];
        mc_db_copy(id, sizeof id, res, 0, 0);
        PQclear(res);
        *outcome = STORE_BOOTSTRAP_CREATED;
        const struct store_who who = {"system:bootstrap", NULL};
        return store_audit_conn(conn, &who, "staff_created", id,
                                "{\"roles\":[\"system_admin\"],\"reason\":\"bootstrap\"}");
    }
    PQclear(res);
    mc_db_params name = MC_DB_PARAMS_INIT;
    mc_db_add_text(&name, username);
    res = mc_db_exec_params(conn, &bootstrap_existing, &name);
    if (res == NULL)
        return mc_db_failure(conn);
    /* No row: the conflicting insert rolled back meanwhile; try again. */
    mc_error rc = MC_ERR_DB_RETRY;
    if (PQntuples(res) == 1) {
        *outcome = mc_db_bool(res, 0, 0) ? STORE_BOOTSTRAP_EXISTS : STORE_BOOTSTRAP_EXISTS_UNUSABLE;
        rc = MC_OK;
    }
    PQclear(res);
    return rc;
}
