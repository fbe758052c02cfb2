/*
 * Store: sign-in throttling, kept in PostgreSQL so that every instance of
 * the service sees the same counters.
 */
#include <stdio.h>

#include "store.h"

/* clang-format off */
static const mc_db_statement throttle_wait = {
    "identity_throttle_wait",
    "SELECT coalesce(ceil(extract(epoch FROM max(blocked_until) - clock_timestamp())), 0)::integer"
    " FROM sign_in_throttle WHERE key IN ($1::text, $2::text)"
    " AND blocked_until > clock_timestamp()",
    2};

/* A failure counts as consecutive unless the previous one is a day old. */
static const mc_db_statement throttle_fail = {
    "identity_throttle_fail",
    "INSERT INTO sign_in_throttle AS t (key, failures, last_failure_at) VALUES ($1::text, 1, now())"
    " ON CONFLICT (key) DO UPDATE SET failures = CASE WHEN t.last_failure_at <"
    " now() - interval '1 day' THEN 1 ELSE t.failures + 1 END, last_failure_at = now()"
    " RETURNING failures",
    1};

/* Failures from one address over a fixed window, whatever the account: a
   success does not reset them (a sprayer's occasional hit, or another user
   behind the same NAT, must not wipe the count). */
static const mc_db_statement throttle_fail_window = {
    "identity_throttle_fail_window",
    "INSERT INTO sign_in_throttle AS t (key, failures, last_failure_at, window_started_at)"
    " VALUES ($1::text, 1, now(), now())"
    " ON CONFLICT (key) DO UPDATE SET failures = CASE WHEN t.window_started_at IS NULL"
    " OR t.window_started_at < now() - make_interval(secs => $2::integer) THEN 1"
    " ELSE t.failures + 1 END,"
    " window_started_at = CASE WHEN t.window_started_at IS NULL"
    " OR t.window_started_at < now() - make_interval(secs => $2::integer) THEN now()"
    " ELSE t.window_started_at END, last_failure_at = now()"
    " RETURNING failures",
    2};

static const mc_db_statement throttle_reset = {
    "identity_throttle_reset",
    "DELETE FROM sign_in_throttle WHERE key = $1::text", 1};

static const mc_db_statement throttle_block = {
    "identity_throttle_block",
    "UPDATE sign_in_throttle SET blocked_until = clock_timestamp() + make_interval(secs => $2::integer)"
    " WHERE key = $1::text",
    2};
/* clang-format on */

mc_error store_throttle_wait(mc_db_conn *conn, const char *account_key, const char *address_key,
                             unsigned *retry_after)
{
    *retry_after = 0;
    const char *params[] = {account_key, address_key};
    PGresult *res = mc_db_exec(conn, &throttle_wait, params);
    if (res == NULL)
        return mc_db_failure(conn);
    long long s = mc_db_int(res, 0, 0);
    *retry_after = s > 0 ? (unsigned)s : 0;
    PQclear(res);
    return MC_OK;
}

mc_error store_throttle_reset_conn(mc_db_conn *conn, const char *key)
{
    const char *params[] = {key};
    PGresult *res = mc_db_exec(conn, &throttle_reset, params);
    if (res == NULL)
        return mc_db_failure(conn);
    PQclear(res);
    return MC_OK;
}

/* Count one failure against key (consecutive failures, or failures within
   window_s seconds when window_s > 0) and block it when over threshold.
   *count (may be NULL): the failures counted so far. */
static mc_error fail_key(mc_db_conn *conn, const char *key, unsigned window_s, unsigned threshold,
                         unsigned max_s, long long *count)
{
    char window[16];
    snprintf(window, sizeof window, "%u", window_s);
    const char *params[] = {key, window};
    PGresult *res = mc_db_exec(conn, window_s > 0 ? &throttle_fail_window : &throttle_fail, params);
    if (res == NULL)
        return mc_db_failure(conn);
    long long failures = mc_db_int(res, 0, 0);
    PQclear(res);
    if (count != NULL)
        *count = failures;
    unsigned wait = identity_backoff_seconds(failures > 0 ? (unsigned)failures : 0, threshold,
                                             max_s);
    if (wait == 0)
        return MC_OK;
    char secs[16];
    snprintf(secs, sizeof secs, "%u", wait);
    const char *block[] = {key, secs};
    res = mc_db_exec(conn, &throttle_block, block);
    if (res == NULL)
        return mc_db_failure(conn);
    PQclear(res);
    return MC_OK;
}

mc_error store_sign_in_failed(mc_db_conn *conn, const char *account_key, const char *address_key,
                              const struct store_throttle_policy *policy, const char *subject,
                              const struct store_who *who, const char *reason)
{
    mc_error rc = fail_key(conn, account_key, 0, policy->account_failures, policy->max_backoff_s,
                           NULL);
    if (rc == MC_OK)
        rc = fail_key(conn, address_key, policy->address_window_s, policy->address_failures,
                      policy->max_backoff_s, NULL);
    if (rc != MC_OK)
        return rc;
    json_t *detail = json_pack("{s:s}", "reason", reason);
    rc = detail != NULL ? store_audit_json(conn, who, "sign_in_failed", subject, detail)
                        : MC_ERR_INTERNAL;
    json_decref(detail);
    return rc;
}

mc_error store_password_change_failed(mc_db_conn *conn, const char *account_id,
                                      const char *throttle_key,
                                      const struct store_throttle_policy *policy,
                                      unsigned revoke_after, const struct store_who *who,
                                      bool *revoked)
{
    *revoked = false;
    long long failures = 0;
    mc_error rc = fail_key(conn, throttle_key, 0, policy->account_failures, policy->max_backoff_s,
                           &failures);
    if (rc == MC_OK)
        rc = store_audit_conn(conn, who, "password_change_failed", account_id, NULL);
    if (rc != MC_OK || failures < (long long)revoke_after)
        return rc;
    /* Whoever holds this token does not know the password: end every
       session; the owner signs in again with the password. The key is reset
       because the token that failed is dead. */
    rc = store_account_revoke_all_conn(conn, account_id);
    if (rc == MC_OK)
        rc = store_throttle_reset_conn(conn, throttle_key);
    if (rc == MC_OK)
        rc = store_audit_conn(conn, who, "revoked", account_id,
                              "{\"reason\":\"password_change_failures\"}");
    *revoked = rc == MC_OK;
    return rc;
}
