/*
 * Store: sign-in throttling, kept in PostgreSQL so that every instance of
 * the service sees the same counters.
 */
#include <stdio.h>
#include <stdlib.h>

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

/* Count one failure against key and block it when over threshold. */
static mc_error fail_key(mc_db_conn *conn, const char *key, unsigned threshold, unsigned max_s)
{
    const char *params[] = {key};
    PGresult *res = mc_db_exec(conn, &throttle_fail, params);
    if (res == NULL)
        return mc_db_failure(conn);
    long long failures = mc_db_int(res, 0, 0);
    PQclear(res);
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
    mc_error rc = fail_key(conn, account_key, policy->account_failures, policy->max_backoff_s);
    if (rc == MC_OK)
        rc = fail_key(conn, address_key, policy->address_failures, policy->max_backoff_s);
    if (rc != MC_OK)
        return rc;
    json_t *detail = json_pack("{s:s}", "reason", reason);
    char *text = detail != NULL ? json_dumps(detail, JSON_COMPACT) : NULL;
    json_decref(detail);
    rc = store_audit_conn(conn, who, "sign_in_failed", subject, text);
    free(text);
    return rc;
}
