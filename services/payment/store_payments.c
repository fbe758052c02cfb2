/* Store: payments (attempts to pay a demand). */
#include <stdlib.h>
#include <string.h>

#include "store.h"

/* clang-format off */
/* The public JSON of a payment (p joined with its demand d). */
#define PAYMENT_JSON                                                                             \
    "json_build_object('id', p.id, 'dossier_id', p.dossier_id, 'dossier_code', d.dossier_code,"\
    " 'demand_kind', d.kind, 'agency_code', p.agency_code, 'provider', p.provider,"            \
    " 'amount', p.amount, 'fee_items', d.fee_items, 'state', p.state,"                         \
    " 'redirect_url', CASE WHEN p.state = 'pending' THEN p.redirect_url END,"                  \
    " 'gateway_code', p.gateway_code, 'transaction_no', p.transaction_no,"                     \
    " 'bank_code', p.bank_code, 'created_at', " VN_TIME("p.created_at") ","                    \
    " 'expires_at', " VN_TIME("p.expires_at") ", 'paid_at', " VN_TIME("p.paid_at") ","         \
    " 'settled_at', " VN_TIME("p.settled_at") ","                                               \
    " 'refund_summary', json_build_object('amount_available',"                                 \
    "   CASE WHEN p.state = 'paid' THEN p.amount - p.amount_refunded ELSE 0 END,"               \
    "   'amount_refunded', p.amount_refunded))::text"
#define PAYMENT_COLUMNS                                                                          \
    "p.id, p.demand_id, p.dossier_id, d.kind, p.txn_ref, p.provider, p.agency_code,"           \
    " p.merchant_code, p.state, p.payer_sub, p.amount, p.amount_refunded,"                     \
    " extract(epoch FROM p.created_at)::bigint, extract(epoch FROM p.expires_at)::bigint,"      \
    " p.transaction_no, p.revision"

static const mc_db_statement payment_insert = {
    "payment_insert",
    "WITH p AS (INSERT INTO payments (demand_id, dossier_id, txn_ref, provider, agency_code,"
    " merchant_code, amount, payer_sub, expires_at)"
    " VALUES ($1::uuid, $2::uuid, replace(gen_random_uuid()::text, '-', ''), $3, $4, $5,"
    " $6::bigint, $7, now() + make_interval(secs => $8::int)) RETURNING *)"
    " SELECT " PAYMENT_COLUMNS " FROM p JOIN demands d ON d.id = p.demand_id", 8};
static const mc_db_statement payment_pending_of_demand = {
    "payment_pending_of_demand",
    "SELECT id FROM payments WHERE demand_id = $1::uuid AND state = 'pending'", 1};
static const mc_db_statement payment_set_redirect = {
    "payment_set_redirect",
    "UPDATE payments SET redirect_url = $2 WHERE id = $1::uuid", 2};
static const mc_db_statement payment_lock_by_ref = {
    "payment_lock_by_ref",
    "SELECT " PAYMENT_COLUMNS " FROM payments p JOIN demands d ON d.id = p.demand_id"
    " WHERE p.txn_ref = $1 FOR UPDATE OF p", 1};
/* Only a pending payment settles: the condition makes a second settlement a no-op. */
static const mc_db_statement payment_lock_by_id = {
    "payment_lock_by_id",
    "SELECT " PAYMENT_COLUMNS " FROM payments p JOIN demands d ON d.id = p.demand_id"
    " WHERE p.id = $1::uuid FOR UPDATE OF p", 1};
/* Reserve (a positive delta) or give back (negative) a refund's amount; the
   CHECK on amount_refunded refuses more than was paid. */
static const mc_db_statement payment_refunded = {
    "payment_refunded",
    "UPDATE payments SET amount_refunded = amount_refunded + $2::bigint, revision = revision + 1"
    " WHERE id = $1::uuid", 2};
static const mc_db_statement payment_by_ref = {
    "payment_by_ref",
    "SELECT " PAYMENT_COLUMNS " FROM payments p JOIN demands d ON d.id = p.demand_id"
    " WHERE p.txn_ref = $1", 1};
static const mc_db_statement payment_settle = {
    "payment_settle",
    "UPDATE payments SET state = $2, gateway_code = $3, transaction_no = NULLIF($4, ''),"
    " bank_code = NULLIF($5, ''), paid_at = CASE WHEN $2 = 'paid' THEN"
    " COALESCE(to_timestamp($6::bigint), now()) END, settled_at = now(), revision = revision + 1"
    " WHERE id = $1::uuid AND state = 'pending'", 6};
static const mc_db_statement payments_due = {
    "payment_due_for_query",
    "SELECT " PAYMENT_COLUMNS " FROM payments p JOIN demands d ON d.id = p.demand_id"
    " WHERE p.state = 'pending' AND p.expires_at < now()"
    " AND (p.last_query_at IS NULL OR p.last_query_at < now() - interval '1 minute')"
    " ORDER BY p.expires_at LIMIT $1::int FOR UPDATE OF p SKIP LOCKED", 1};
static const mc_db_statement payment_queried = {
    "payment_queried",
    "UPDATE payments SET last_query_at = now() WHERE id = $1::uuid", 1};
static const mc_db_statement payment_get = {
    "payment_get",
    "SELECT " PAYMENT_JSON ", p.revision, p.payer_sub, p.agency_code"
    " FROM payments p JOIN demands d ON d.id = p.demand_id WHERE p.id = $1::uuid", 1};
/* The e-receipt of a payment: its number is the payment day and the
   reference, so it is the same whenever it is asked for. */
static const mc_db_statement payment_receipt = {
    "payment_receipt",
    "SELECT json_build_object('receipt_no', 'BL-' || to_char(p.paid_at AT TIME ZONE"
    " 'Asia/Ho_Chi_Minh', 'YYYYMMDD') || '-' || upper(left(p.txn_ref, 12)),"
    " 'payment_id', p.id, 'dossier_id', p.dossier_id, 'dossier_code', d.dossier_code,"
    " 'procedure_code', d.procedure_code, 'agency_code', p.agency_code,"
    " 'payer_account', p.payer_sub, 'provider', p.provider, 'transaction_no', p.transaction_no,"
    " 'fee_items', d.fee_items, 'amount', p.amount, 'paid_at', " VN_TIME("p.paid_at") ","
    " 'amount_refunded', p.amount_refunded)::text, p.state, p.payer_sub, p.agency_code"
    " FROM payments p JOIN demands d ON d.id = p.demand_id WHERE p.id = $1::uuid", 1};
static const mc_db_statement payments_list = {
    "payment_list",
    "SELECT " PAYMENT_JSON ", (extract(epoch FROM p.created_at) * 1000000)::bigint, p.id::text"
    " FROM payments p JOIN demands d ON d.id = p.demand_id"
    " WHERE ($1::text IS NULL OR p.payer_sub = $1) AND ($2::text IS NULL OR p.agency_code = $2)"
    " AND ($3::text IS NULL OR p.state = $3) AND ($4::text IS NULL OR p.provider = $4)"
    " AND ($5::uuid IS NULL OR p.dossier_id = $5::uuid)"
    " AND ($6::date IS NULL OR p.created_at >= $6::date::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh')"
    " AND ($7::date IS NULL OR p.created_at < ($7::date + 1)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh')"
    " AND ($8::bigint IS NULL OR ((extract(epoch FROM p.created_at) * 1000000)::bigint, p.id)"
    "      < ($8::bigint, $9::uuid))"
    " ORDER BY (extract(epoch FROM p.created_at) * 1000000)::bigint DESC, p.id DESC"
    " LIMIT $10::int", 10};
/* clang-format on */

static void payment_from_row(const PGresult *res, int r, struct payment_row *out)
{
    memset(out, 0, sizeof *out);
    mc_db_copy(out->id, sizeof out->id, res, r, 0);
    mc_db_copy(out->demand_id, sizeof out->demand_id, res, r, 1);
    mc_db_copy(out->dossier_id, sizeof out->dossier_id, res, r, 2);
    mc_db_copy(out->kind, sizeof out->kind, res, r, 3);
    mc_db_copy(out->txn_ref, sizeof out->txn_ref, res, r, 4);
    mc_db_copy(out->provider, sizeof out->provider, res, r, 5);
    mc_db_copy(out->agency_code, sizeof out->agency_code, res, r, 6);
    mc_db_copy(out->merchant_code, sizeof out->merchant_code, res, r, 7);
    mc_db_copy(out->state, sizeof out->state, res, r, 8);
    mc_db_copy(out->payer_sub, sizeof out->payer_sub, res, r, 9);
    out->amount = mc_db_int(res, r, 10);
    out->amount_refunded = mc_db_int(res, r, 11);
    out->created_at = mc_db_int(res, r, 12);
    out->expires_at = mc_db_int(res, r, 13);
    mc_db_copy(out->transaction_no, sizeof out->transaction_no, res, r, 14);
    out->revision = mc_db_int(res, r, 15);
}

static mc_error one_payment(mc_db_conn *conn, const mc_db_statement *stmt, const mc_db_params *p,
                            struct payment_row *out)
{
    PGresult *res = mc_db_exec_params(conn, stmt, p);
    if (res == NULL)
        return mc_db_failure(conn);
    mc_error rc = MC_ERR_PAYMENT_NOT_FOUND;
    if (PQntuples(res) == 1) {
        payment_from_row(res, 0, out);
        rc = MC_OK;
    }
    PQclear(res);
    return rc;
}

mc_error store_payment_insert(mc_db_conn *conn, const struct demand_row *demand,
                              const char *provider, const char *merchant_code,
                              const char *payer_sub, unsigned expiry_seconds,
                              struct payment_row *out)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, demand->id);
    mc_db_add_text(&p, demand->dossier_id);
    mc_db_add_text(&p, provider);
    mc_db_add_text(&p, demand->agency_code);
    mc_db_add_text(&p, merchant_code);
    mc_db_add_int64(&p, demand->amount);
    mc_db_add_text(&p, payer_sub);
    mc_db_add_int64(&p, expiry_seconds);
    mc_error rc = one_payment(conn, &payment_insert, &p, out);
    if (rc == MC_ERR_CONFLICT)
        return MC_ERR_PAYMENT_ATTEMPT_PENDING;
    return rc == MC_ERR_PAYMENT_NOT_FOUND ? MC_ERR_INTERNAL : rc;
}

mc_error store_payment_pending_of_demand(mc_db_conn *conn, const char *demand_id, char id[37])
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, demand_id);
    PGresult *res = mc_db_exec_params(conn, &payment_pending_of_demand, &p);
    if (res == NULL)
        return mc_db_failure(conn);
    mc_error rc = MC_ERR_NOT_FOUND;
    if (PQntuples(res) == 1) {
        mc_db_copy(id, 37, res, 0, 0);
        rc = MC_OK;
    }
    PQclear(res);
    return rc;
}

static mc_error exec_text2(mc_db_conn *conn, const mc_db_statement *stmt, const char *a,
                           const char *b)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, a);
    if (b != NULL)
        mc_db_add_text(&p, b);
    PGresult *res = mc_db_exec_params(conn, stmt, &p);
    if (res == NULL)
        return mc_db_failure(conn);
    PQclear(res);
    return MC_OK;
}

mc_error store_payment_set_redirect(mc_db_conn *conn, const char *id, const char *url)
{
    return exec_text2(conn, &payment_set_redirect, id, url);
}

mc_error store_payment_lock_by_ref(mc_db_conn *conn, const char *txn_ref, struct payment_row *out)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, txn_ref);
    return one_payment(conn, &payment_lock_by_ref, &p, out);
}

mc_error store_payment_lock_by_id(mc_db_conn *conn, const char *id, struct payment_row *out)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, id);
    return one_payment(conn, &payment_lock_by_id, &p, out);
}

mc_error store_payment_refunded(mc_db_conn *conn, const char *id, long long delta)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, id);
    mc_db_add_int64(&p, delta);
    PGresult *res = mc_db_exec_params(conn, &payment_refunded, &p);
    if (res == NULL)
        return mc_db_failure(conn);
    PQclear(res);
    return MC_OK;
}

mc_error store_payment_by_ref(mc_db_conn *conn, const char *txn_ref, struct payment_row *out)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, txn_ref);
    return one_payment(conn, &payment_by_ref, &p, out);
}

mc_error store_payment_settle(mc_db_conn *conn, const char *id, const char *state,
                              const char *gateway_code, const char *transaction_no,
                              const char *bank_code, int64_t paid_at)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, id);
    mc_db_add_text(&p, state);
    mc_db_add_text(&p, gateway_code);
    mc_db_add_text(&p, transaction_no != NULL ? transaction_no : "");
    mc_db_add_text(&p, bank_code != NULL ? bank_code : "");
    if (paid_at > 0)
        mc_db_add_int64(&p, paid_at);
    else
        mc_db_add_null(&p);
    PGresult *res = mc_db_exec_params(conn, &payment_settle, &p);
    if (res == NULL)
        return mc_db_failure(conn);
    mc_error rc = atoi(PQcmdTuples(res)) == 1 ? MC_OK : MC_ERR_CONFLICT;
    PQclear(res);
    return rc;
}

mc_error store_payments_due_for_query(mc_db_conn *conn, unsigned limit, struct payment_row *out,
                                      size_t *n)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_int64(&p, limit);
    PGresult *res = mc_db_exec_params(conn, &payments_due, &p);
    if (res == NULL)
        return mc_db_failure(conn);
    *n = 0;
    for (int r = 0; r < PQntuples(res) && *n < limit; r++)
        payment_from_row(res, r, &out[(*n)++]);
    PQclear(res);
    return MC_OK;
}

mc_error store_payment_queried(mc_db_conn *conn, const char *id)
{
    return exec_text2(conn, &payment_queried, id, NULL);
}

mc_error store_payment_get_json(mc_db_conn *conn, const char *id, json_t **out,
                                long long *revision, char payer_sub[129], char agency[33])
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, id);
    PGresult *res = mc_db_exec_params(conn, &payment_get, &p);
    if (res == NULL)
        return mc_db_failure(conn);
    mc_error rc = MC_ERR_PAYMENT_NOT_FOUND;
    if (PQntuples(res) == 1) {
        *out = mc_db_json(res, 0, 0);
        *revision = mc_db_int(res, 0, 1);
        mc_db_copy(payer_sub, 129, res, 0, 2);
        mc_db_copy(agency, 33, res, 0, 3);
        rc = *out != NULL ? MC_OK : MC_ERR_INTERNAL;
    }
    PQclear(res);
    return rc;
}

mc_error store_payments_list(mc_db_conn *conn, const struct payment_filter *f, unsigned limit,
                             json_t **items, json_t **next_keys)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, f->payer_sub);
    mc_db_add_text(&p, f->agency);
    mc_db_add_text(&p, f->state);
    mc_db_add_text(&p, f->provider);
    mc_db_add_text(&p, f->dossier_id);
    mc_db_add_text(&p, f->from);
    mc_db_add_text(&p, f->to);
    mc_db_add_text(&p, f->after_created);
    mc_db_add_text(&p, f->after_id);
    mc_db_add_int64(&p, (long long)limit + 1);
    PGresult *res = mc_db_exec_planned_params(conn, &payments_list, &p);
    if (res == NULL)
        return mc_db_failure(conn);
    mc_error rc = mc_db_page_from(res, limit, "is", items, next_keys);
    PQclear(res);
    return rc;
}

mc_error store_payment_receipt(mc_db_conn *conn, const char *id, json_t **out, char state[16],
                               char payer_sub[129], char agency[33])
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, id);
    PGresult *res = mc_db_exec_params(conn, &payment_receipt, &p);
    if (res == NULL)
        return mc_db_failure(conn);
    mc_error rc = MC_ERR_PAYMENT_NOT_FOUND;
    if (PQntuples(res) == 1) {
        *out = mc_db_json(res, 0, 0);
        mc_db_copy(state, 16, res, 0, 1);
        mc_db_copy(payer_sub, 129, res, 0, 2);
        mc_db_copy(agency, 33, res, 0, 3);
        rc = *out != NULL ? MC_OK : MC_ERR_INTERNAL;
    }
    PQclear(res);
    return rc;
}
