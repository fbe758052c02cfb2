/*
 * Store: refresh tokens (only their SHA-256 is kept), rotation, reuse
 * detection and revocation, and the bookkeeping of a successful sign-in.
 */
#include <stdio.h>
#include <string.h>

#include "identity.h"
#include "store.h"

/* clang-format off */
static const mc_db_statement refresh_insert_family = {
    "identity_refresh_insert_family",
    "INSERT INTO refresh_tokens (token_hash, family_id, account_id, expires_at)"
    " VALUES (decode($1::text, 'hex'), gen_random_uuid(), $2::uuid,"
    " now() + make_interval(secs => $3::integer))",
    3};

/* The token, its account, and whether it may be used (locked against a
   concurrent rotation of the same token). */
static const mc_db_statement account_rehash = {
    "identity_account_rehash",
    "UPDATE accounts SET password_hash = $2::text WHERE id = $1::uuid", 2};

static const mc_db_statement refresh_lookup = {
    "identity_refresh_lookup",
    "SELECT r.family_id::text, r.account_id::text, r.rotated_at IS NOT NULL,"
    " r.revoked_at IS NULL AND r.expires_at > now() AND NOT a.disabled,"
    " array_to_json(a.roles)::text, coalesce(a.agency, ''),"
    " CASE WHEN a.kind = 'staff' THEN a.full_name ELSE '' END,"
    " coalesce((SELECT extract(epoch FROM v.not_before)::bigint FROM token_revocations v"
    " WHERE v.subject = a.id::text), 0)"
    " FROM refresh_tokens r JOIN accounts a ON a.id = r.account_id"
    " WHERE r.token_hash = decode($1::text, 'hex') FOR UPDATE OF r",
    1};

static const mc_db_statement refresh_mark_rotated = {
    "identity_refresh_mark_rotated",
    "UPDATE refresh_tokens SET rotated_at = now() WHERE token_hash = decode($1::text, 'hex')", 1};

static const mc_db_statement refresh_insert_child = {
    "identity_refresh_insert_child",
    "INSERT INTO refresh_tokens (token_hash, family_id, account_id, expires_at)"
    " VALUES (decode($1::text, 'hex'), $2::uuid, $3::uuid,"
    " now() + make_interval(secs => $4::integer))",
    4};

static const mc_db_statement refresh_revoke_family = {
    "identity_refresh_revoke_family",
    "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1::uuid"
    " AND revoked_at IS NULL",
    1};

static const mc_db_statement refresh_family_of = {
    "identity_refresh_family_of",
    "SELECT family_id::text, account_id::text FROM refresh_tokens"
    " WHERE token_hash = decode($1::text, 'hex')",
    1};
/* clang-format on */

mc_error store_sign_in_succeeded(mc_db_conn *conn, const char *account_key,
                                 const char *account_id, const char *refresh_hash,
                                 const char *new_password_hash, const struct store_who *who)
{
    mc_error rc = store_throttle_reset_conn(conn, account_key);
    if (rc != MC_OK)
        return rc;
    PGresult *res;
    if (refresh_hash != NULL) {
        mc_db_params p = MC_DB_PARAMS_INIT;
        mc_db_add_text(&p, refresh_hash);
        mc_db_add_text(&p, account_id);
        mc_db_add_int64(&p, IDENTITY_REFRESH_TTL_SECONDS);
        res = mc_db_exec_params(conn, &refresh_insert_family, &p);
        if (res == NULL)
            return mc_db_failure(conn);
        PQclear(res);
    }
    if (new_password_hash != NULL && account_id != NULL) {
        const char *params[] = {account_id, new_password_hash};
        res = mc_db_exec(conn, &account_rehash, params);
        if (res == NULL)
            return mc_db_failure(conn);
        PQclear(res);
    }
    /* Clients have no account row: their id is in the actor. */
    const char *subject = refresh_hash != NULL ? account_id : NULL;
    return store_audit_conn(conn, who, "sign_in", subject, NULL);
}

static mc_error revoke_family_conn(mc_db_conn *conn, const char *family, const char *account,
                                   const struct store_who *who, const char *reason)
{
    const char *params[] = {family};
    PGresult *res = mc_db_exec(conn, &refresh_revoke_family, params);
    if (res == NULL)
        return mc_db_failure(conn);
    PQclear(res);
    /* The account's access tokens too (per subject: other sessions get new
       ones with their refresh tokens). */
    mc_error rc = store_revoke_subject_conn(conn, account);
    if (rc != MC_OK)
        return rc;
    char detail[96];
    snprintf(detail, sizeof detail, "{\"reason\":\"%s\"}", reason);
    return store_audit_conn(conn, who, "revoked", account, detail);
}

mc_error store_refresh_rotate(mc_db_conn *conn, const char *old_hash, const char *new_hash,
                              const struct store_who *who, struct store_refreshed *out)
{
    memset(out, 0, sizeof *out);
    out->outcome = STORE_REFRESH_INVALID;
    const char *params[] = {old_hash};
    PGresult *res = mc_db_exec(conn, &refresh_lookup, params);
    if (res == NULL)
        return mc_db_failure(conn);
    if (PQntuples(res) == 0) {
        PQclear(res);
        return MC_OK;
    }
    char family[40];
    mc_db_copy(family, sizeof family, res, 0, 0);
    mc_db_copy(out->account_id, sizeof out->account_id, res, 0, 1);
    bool rotated = mc_db_bool(res, 0, 2);
    bool usable = mc_db_bool(res, 0, 3);
    mc_db_copy(out->roles_json, sizeof out->roles_json, res, 0, 4);
    mc_db_copy(out->agency, sizeof out->agency, res, 0, 5);
    mc_db_copy(out->name, sizeof out->name, res, 0, 6);
    out->not_before = mc_db_int(res, 0, 7);
    PQclear(res);
    if (rotated) {
        /* Reuse of a rotated token: whoever holds the family may be a thief. */
        out->outcome = STORE_REFRESH_REUSED;
        return revoke_family_conn(conn, family, out->account_id, who, "refresh_token_reused");
    }
    if (!usable)
        return MC_OK;
    res = mc_db_exec(conn, &refresh_mark_rotated, params);
    if (res == NULL)
        return mc_db_failure(conn);
    PQclear(res);
    mc_db_params child = MC_DB_PARAMS_INIT;
    mc_db_add_text(&child, new_hash);
    mc_db_add_text(&child, family);
    mc_db_add_text(&child, out->account_id);
    mc_db_add_int64(&child, IDENTITY_REFRESH_TTL_SECONDS);
    res = mc_db_exec_params(conn, &refresh_insert_child, &child);
    if (res == NULL)
        return mc_db_failure(conn);
    PQclear(res);
    out->outcome = STORE_REFRESH_OK;
    return MC_OK;
}

mc_error store_refresh_revoke_family(mc_db_conn *conn, const char *hash,
                                     const struct store_who *who)
{
    const char *params[] = {hash};
    PGresult *res = mc_db_exec(conn, &refresh_family_of, params);
    if (res == NULL)
        return mc_db_failure(conn);
    if (PQntuples(res) == 0) {
        PQclear(res);
        return MC_OK;
    }
    char family[40], account[40];
    mc_db_copy(family, sizeof family, res, 0, 0);
    mc_db_copy(account, sizeof account, res, 0, 1);
    PQclear(res);
    return revoke_family_conn(conn, family, account, who, "logout");
}
