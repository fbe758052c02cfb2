/* Store: refunds (one per request; the amount reserved on the payment). */
#include <string.h>

#include "store.h"

/* clang-format off */
#define REFUND_JSON                                                                              \
    "json_build_object('id', id, 'payment_id', payment_id, 'amount', amount, 'reason', reason,"\
    " 'state', state, 'gateway_code', gateway_code,"                                           \
    " 'created_at', to_char(created_at AT TIME ZONE 'Asia/Ho_Chi_Minh',"                       \
    "   'YYYY-MM-DD\"T\"HH24:MI:SS\"+07:00\"'),"                                                 \
    " 'settled_at', to_char(settled_at AT TIME ZONE 'Asia/Ho_Chi_Minh',"                       \
    "   'YYYY-MM-DD\"T\"HH24:MI:SS\"+07:00\"'))::text"

/* A refund is due for a status query from $5 seconds on: should the request
   that records it never come back from the gateway (a crash), the sweeper
   settles it. */
static const mc_db_statement refund_insert = {
    "payment_refund_insert",
    "INSERT INTO refunds (payment_id, reference, amount, reason, requested_by, next_query_at)"
    " VALUES ($1::uuid, replace(gen_random_uuid()::text, '-', ''), $2::bigint, $3, $4,"
    " now() + make_interval(secs => $5::int))"
    " RETURNING " REFUND_JSON ", reference", 5};
static const mc_db_statement refund_settle = {
    "payment_refund_settle",
    "UPDATE refunds SET state = $2, gateway_code = $3, settled_at = now(), next_query_at = NULL"
    " WHERE reference = $1 AND state = 'pending' RETURNING " REFUND_JSON, 3};
static const mc_db_statement refund_await = {
    "payment_refund_await",
    "UPDATE refunds SET next_query_at = now() + make_interval(secs => $2::int)"
    " WHERE reference = $1 AND state = 'pending'", 2};
/* Due pending refunds, oldest first; SKIP LOCKED shares them between instances. */
static const mc_db_statement refunds_due = {
    "payment_refunds_due",
    "SELECT reference, payment_id, amount, query_attempts FROM refunds"
    " WHERE state = 'pending' AND next_query_at <= now()"
    " ORDER BY next_query_at LIMIT $1::int FOR UPDATE SKIP LOCKED", 1};
/* Asked once more: the next query after $2 seconds, none once it has been
   asked about for $3 seconds. */
static const mc_db_statement refund_queried = {
    "payment_refund_queried",
    "UPDATE refunds SET query_attempts = query_attempts + 1, next_query_at = CASE"
    " WHEN created_at > now() - make_interval(secs => $3::int)"
    " THEN now() + make_interval(secs => $2::int) END"
    " WHERE reference = $1 AND state = 'pending'", 3};
static const mc_db_statement refunds_succeeded_sum = {
    "payment_refunds_succeeded_sum",
    "SELECT coalesce(sum(amount), 0) FROM refunds"
    " WHERE payment_id = $1::uuid AND state = 'succeeded'", 1};
/* clang-format on */

mc_error store_refund_insert(mc_db_conn *conn, const char *payment_id, long long amount,
                             const char *reason, const char *requested_by, unsigned query_after_s,
                             json_t **out, char ref[33])
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, payment_id);
    mc_db_add_int64(&p, amount);
    mc_db_add_text(&p, reason);
    mc_db_add_text(&p, requested_by);
    mc_db_add_int64(&p, query_after_s);
    PGresult *res = mc_db_exec_params(conn, &refund_insert, &p);
    if (res == NULL)
        return mc_db_failure(conn);
    mc_error rc = MC_ERR_INTERNAL;
    if (PQntuples(res) == 1) {
        *out = mc_db_json(res, 0, 0);
        mc_db_copy(ref, 33, res, 0, 1);
        rc = *out != NULL ? MC_OK : MC_ERR_INTERNAL;
    }
    PQclear(res);
    return rc;
}

mc_error store_refund_settle(mc_db_conn *conn, const char *ref, const char *state,
                             const char *gateway_code, json_t **out)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, ref);
    mc_db_add_text(&p, state);
    mc_db_add_text(&p, gateway_code);
    return mc_db_fetch_json(conn, &refund_settle, &p, MC_ERR_CONFLICT, out, NULL);
}

static mc_error exec_ref(mc_db_conn *conn, const mc_db_statement *stmt, const char *ref,
                         unsigned a, unsigned b)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, ref);
    mc_db_add_int64(&p, a);
    if (stmt->nparams > 2)
        mc_db_add_int64(&p, b);
    PGresult *res = mc_db_exec_params(conn, stmt, &p);
    if (res == NULL)
        return mc_db_failure(conn);
    PQclear(res);
    return MC_OK;
}

mc_error store_refund_await(mc_db_conn *conn, const char *ref, unsigned delay_s)
{
    return exec_ref(conn, &refund_await, ref, delay_s, 0);
}

mc_error store_refunds_due_for_query(mc_db_conn *conn, unsigned limit, struct refund_row *out,
                                     size_t *n)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_int64(&p, limit);
    PGresult *res = mc_db_exec_params(conn, &refunds_due, &p);
    if (res == NULL)
        return mc_db_failure(conn);
    *n = 0;
    for (int r = 0; r < PQntuples(res) && *n < limit; r++) {
        struct refund_row *row = &out[(*n)++];
        memset(row, 0, sizeof *row);
        mc_db_copy(row->reference, sizeof row->reference, res, r, 0);
        mc_db_copy(row->payment_id, sizeof row->payment_id, res, r, 1);
        row->amount = mc_db_int(res, r, 2);
        row->query_attempts = (unsigned)mc_db_int(res, r, 3);
    }
    PQclear(res);
    return MC_OK;
}

mc_error store_refund_queried(mc_db_conn *conn, const char *ref, unsigned next_after_s,
                              unsigned give_up_after_s)
{
    return exec_ref(conn, &refund_queried, ref, next_after_s, give_up_after_s);
}

mc_error store_refunds_succeeded_sum(mc_db_conn *conn, const char *payment_id, long long *sum)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, payment_id);
    PGresult *res = mc_db_exec_params(conn, &refunds_succeeded_sum, &p);
    if (res == NULL)
        return mc_db_failure(conn);
    mc_error rc = PQntuples(res) == 1 ? MC_OK : MC_ERR_INTERNAL;
    *sum = rc == MC_OK ? mc_db_int(res, 0, 0) : 0;
    PQclear(res);
    return rc;
}
