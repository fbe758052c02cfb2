/*
 * Store: accounts (citizens and staff) as seen by their owner, sign-in
 * lookups and password changes. Every SQL text of accounts lives here and
 * in store_staff.c.
 */
#include <string.h>

#include "store.h"

/* clang-format off */
/* The read shape: every member present, null when empty (README, API conventions). */
#define ACCOUNT_JSON                                                                             \
    "json_build_object('id', id, 'kind', kind, 'full_name', full_name,"                         \
    " 'personal_id', personal_id, 'phone', phone, 'date_of_birth', date_of_birth::text,"        \
    " 'email', email, 'username', username, 'agency', agency, 'roles', roles,"                  \
    " 'disabled', disabled, 'created_at', f_rfc3339(created_at))::text"

static const mc_db_statement citizen_insert = {
    "identity_citizen_insert",
    "INSERT INTO accounts (kind, personal_id, phone, full_name, date_of_birth, email, roles,"
    " password_hash) VALUES ('citizen', $1::text, $2::text, $3::text, $4::date, $5::text,"
    " ARRAY['citizen'], $6::text) ON CONFLICT DO NOTHING RETURNING " ACCOUNT_JSON ", id::text",
    6};

static const mc_db_statement account_get = {
    "identity_account_get", "SELECT " ACCOUNT_JSON " FROM accounts WHERE id = $1::uuid", 1};

static const mc_db_statement account_hash = {
    "identity_account_hash",
    "SELECT password_hash FROM accounts WHERE id = $1::uuid AND NOT disabled", 1};

static const mc_db_statement account_set_password = {
    "identity_account_set_password",
    "UPDATE accounts SET password_hash = $2::text, revision = revision + 1, updated_at = now()"
    " WHERE id = $1::uuid AND NOT disabled",
    2};

static const mc_db_statement account_revoke_tokens = {
    "identity_account_revoke_tokens",
    "UPDATE refresh_tokens SET revoked_at = now() WHERE account_id = $1::uuid"
    " AND revoked_at IS NULL",
    1};

/* One statement for the three login kinds: exactly one of $1..$3 is set.
   Also the staff member's name (the token's `name` claim) and the subject's
   revocation (new tokens are minted at or after it). */
static const mc_db_statement login_lookup = {
    "identity_login_lookup",
    "SELECT id::text, password_hash, array_to_json(roles)::text, coalesce(agency, ''),"
    " CASE WHEN kind = 'staff' THEN full_name ELSE '' END,"
    " coalesce((SELECT extract(epoch FROM r.not_before)::bigint FROM token_revocations r"
    " WHERE r.subject = accounts.id::text), 0)"
    " FROM accounts WHERE NOT disabled AND (personal_id = $1::text OR phone = $2::text"
    " OR username = $3::text)",
    3};

/* The squatter of a personal id loses it; the account is disabled and flagged. */
static const mc_db_statement personal_id_reclaim = {
    "identity_personal_id_reclaim",
    "UPDATE accounts SET personal_id = NULL, disabled = true, reclaimed_at = now(),"
    " reclaimed_by = $2::text, reclaim_reason = $3::text, revision = revision + 1,"
    " updated_at = now() WHERE personal_id = $1::text AND kind = 'citizen'"
    " RETURNING id::text, f_rfc3339(reclaimed_at)",
    3};
/* clang-format on */

mc_error store_citizen_create(mc_db_conn *conn, const struct store_citizen *c,
                              const struct store_who *who, json_t **out)
{
    *out = NULL;
    const char *params[] = {c->personal_id,   c->phone, c->full_name,
                            c->date_of_birth, c->email, c->password_hash};
    PGresult *res = mc_db_exec(conn, &citizen_insert, params);
    if (res == NULL)
        return mc_db_failure(conn);
    if (PQntuples(res) == 0) {
        /* ON CONFLICT DO NOTHING: the personal id or the phone is taken. No
           unique violation, so the server's log never names either. */
        PQclear(res);
        return MC_ERR_IDENTITY_ACCOUNT_EXISTS;
    }
    *out = mc_db_json(res, 0, 0);
    char id[40];
    mc_db_copy(id, sizeof id, res, 0, 1);
    PQclear(res);
    mc_error rc = *out != NULL ? store_audit_conn(conn, who, "registered", id, NULL)
                               : MC_ERR_INTERNAL;
    if (rc != MC_OK) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

mc_error store_account_get(mc_db_conn *conn, const char *id, json_t **out)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, id);
    return mc_db_fetch_json(conn, &account_get, &p, MC_ERR_IDENTITY_ACCOUNT_NOT_FOUND, out, NULL);
}

mc_error store_account_password_hash(mc_db_conn *conn, const char *id, char *hash, size_t len)
{
    const char *params[] = {id};
    PGresult *res = mc_db_exec(conn, &account_hash, params);
    if (res == NULL)
        return mc_db_failure(conn);
    mc_error rc = MC_OK;
    if (PQntuples(res) == 0)
        rc = MC_ERR_IDENTITY_ACCOUNT_NOT_FOUND;
    else
        mc_db_copy(hash, len, res, 0, 0);
    PQclear(res);
    return rc;
}

mc_error store_account_set_password(mc_db_conn *conn, const char *id, const char *hash,
                                    const struct store_who *who)
{
    const char *params[] = {id, hash};
    PGresult *res = mc_db_exec(conn, &account_set_password, params);
    if (res == NULL)
        return mc_db_failure(conn);
    bool updated = strcmp(PQcmdTuples(res), "1") == 0;
    PQclear(res);
    if (!updated)
        return MC_ERR_IDENTITY_ACCOUNT_NOT_FOUND;
    mc_error rc = store_account_revoke_all_conn(conn, id);
    if (rc == MC_OK)
        rc = store_audit_conn(conn, who, "password_changed", id, NULL);
    return rc;
}

mc_error store_login_lookup(mc_db_conn *conn, enum identity_login_kind kind, const char *login,
                            struct store_login *out)
{
    memset(out, 0, sizeof *out);
    const char *params[3] = {NULL, NULL, NULL};
    if (kind == IDENTITY_LOGIN_PERSONAL_ID)
        params[0] = login;
    else if (kind == IDENTITY_LOGIN_PHONE)
        params[1] = login;
    else if (kind == IDENTITY_LOGIN_USERNAME)
        params[2] = login;
    else
        return MC_OK;
    PGresult *res = mc_db_exec(conn, &login_lookup, params);
    if (res == NULL)
        return mc_db_failure(conn);
    if (PQntuples(res) == 1) {
        out->found = true;
        mc_db_copy(out->id, sizeof out->id, res, 0, 0);
        mc_db_copy(out->hash, sizeof out->hash, res, 0, 1);
        mc_db_copy(out->roles_json, sizeof out->roles_json, res, 0, 2);
        mc_db_copy(out->agency, sizeof out->agency, res, 0, 3);
        mc_db_copy(out->name, sizeof out->name, res, 0, 4);
        out->not_before = mc_db_int(res, 0, 5);
    }
    PQclear(res);
    return MC_OK;
}

mc_error store_account_revoke_all_conn(mc_db_conn *conn, const char *account_id)
{
    const char *params[] = {account_id};
    PGresult *res = mc_db_exec(conn, &account_revoke_tokens, params);
    if (res == NULL)
        return mc_db_failure(conn);
    PQclear(res);
    return store_revoke_subject_conn(conn, account_id);
}

mc_error store_personal_id_reclaim(mc_db_conn *conn, const char *personal_id,
                                   const char *masked_id, const char *reason,
                                   const char *staff_agency, const struct store_who *who,
                                   json_t **out)
{
    *out = NULL;
    const char *params[] = {personal_id, who->actor, reason};
    PGresult *res = mc_db_exec(conn, &personal_id_reclaim, params);
    if (res == NULL)
        return mc_db_failure(conn);
    if (PQntuples(res) == 0) {
        PQclear(res);
        return MC_ERR_IDENTITY_ACCOUNT_NOT_FOUND;
    }
    char id[40];
    mc_db_copy(id, sizeof id, res, 0, 0);
    *out = json_pack("{s:s, s:s, s:s, s:s}", "account_id", id, "personal_id", masked_id,
                     "reclaimed_at", mc_db_text(res, 0, 1), "reclaimed_by", who->actor);
    PQclear(res);
    if (*out == NULL)
        return MC_ERR_INTERNAL;
    mc_error rc = store_account_revoke_all_conn(conn, id);
    json_t *detail = json_pack("{s:s, s:s, s:s}", "reason", reason, "personal_id", masked_id,
                               "agency", staff_agency);
    if (rc == MC_OK)
        rc = detail != NULL ? store_audit_json(conn, who, "personal_id_reclaimed", id, detail)
                            : MC_ERR_INTERNAL;
    json_decref(detail);
    if (rc == MC_OK)
        rc = store_audit_conn(conn, who, "revoked", id, "{\"reason\":\"personal_id_reclaimed\"}");
    return rc;
}
