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

mc_error store_throttle_wait(mc_db_pool *pool, const char *account_key, const char *address_key,
                             unsigned *retry_after)
{
    *retry_after = 0;
    const char *params[] = {account_key, address_key};
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(pool, &conn);
    if (rc != MC_OK)
        return rc;
    PGresult *res = mc_db_exec(conn, &throttle_wait, params);
    if (res == NULL) {
        rc = mc_db_failure(conn);
    } else {
        long long s = mc_db_int(res, 0, 0);
        *retry_after = s > 0 ? (unsigned)s : 0;
    }
    PQclear(res);
    mc_db_release(pool, conn);
    return rc;
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

struct failed_ctx {
    const char *account_key, *address_key;
    const struct store_throttle_policy *policy;
    const char *subject;
    const struct store_who *who;
    const char *reason;
};

static mc_error failed_tx(mc_db_conn *conn, void *p)
{
    struct failed_ctx *ctx = p;
    mc_error rc = fail_key(conn, ctx->account_key, ctx->policy->account_failures,
                           ctx->policy->max_backoff_s);
    if (rc == MC_OK)
        rc = fail_key(conn, ctx->address_key, ctx->policy->address_failures,
                      ctx->policy->max_backoff_s);
    if (rc != MC_OK)
        return rc;
    json_t *detail = json_pack("{s:s}", "reason", ctx->reason);
    char *text = detail != NULL ? json_dumps(detail, JSON_COMPACT) : NULL;
    json_decref(detail);
    rc = store_audit_conn(conn, ctx->who, "sign_in_failed", ctx->subject, text);
    free(text);
    return rc;
}

mc_error store_sign_in_failed(mc_db_pool *pool, const char *account_key, const char *address_key,
                              const struct store_throttle_policy *policy, const char *subject,
                              const struct store_who *who, const char *reason)
{
    struct failed_ctx ctx = {account_key, address_key, policy, subject, who, reason};
    return mc_db_transaction(pool, &(mc_db_tx_options){.max_attempts = 5}, failed_tx, &ctx);
}
