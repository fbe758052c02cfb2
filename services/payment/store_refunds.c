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

static const mc_db_statement refund_insert = {
    "payment_refund_insert",
    "INSERT INTO refunds (payment_id, reference, amount, reason, requested_by)"
    " VALUES ($1::uuid, replace(gen_random_uuid()::text, '-', ''), $2::bigint, $3, $4)"
    " RETURNING " REFUND_JSON ", reference", 4};
static const mc_db_statement refund_settle = {
    "payment_refund_settle",
    "UPDATE refunds SET state = $2, gateway_code = $3, settled_at = now()"
    " WHERE reference = $1 AND state = 'pending' RETURNING " REFUND_JSON, 3};
/* clang-format on */

mc_error store_refund_insert(mc_db_conn *conn, const char *payment_id, long long amount,
                             const char *reason, const char *requested_by, json_t **out,
                             char ref[33])
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, payment_id);
    mc_db_add_int64(&p, amount);
    mc_db_add_text(&p, reason);
    mc_db_add_text(&p, requested_by);
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
