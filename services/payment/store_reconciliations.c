/* Store: reconciliation runs and their mismatches (reconcile.c). */
#include <stdlib.h>
#include <string.h>

#include "store.h"

/* clang-format off */
#define DAY_START(d) "(" d "::date::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh')"
#define DAY_END(d) "((" d "::date + 1)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh')"
#define IN_DAY(col, d) "(" col " >= " DAY_START(d) " AND " col " < " DAY_END(d) ")"
/* A run without its mismatches (the list's items). */
#define RECON_FIELDS                                                                             \
    "'id', r.id, 'date', to_char(r.day, 'YYYY-MM-DD'), 'agency_code', r.agency_code,"          \
    " 'provider', r.provider, 'merchant_code', r.merchant_code, 'state', r.state,"              \
    " 'failure', r.failure, 'trigger', r.trigger, 'requested_by', r.requested_by,"              \
    " 'current', r.current, 'supersedes', r.supersedes, 'created_at', " VN_TIME("r.created_at") ","\
    " 'summary', json_build_object('statement_lines', r.statement_lines, 'matched', r.matched," \
    "   'mismatches', r.mismatch_count, 'our_paid', r.our_paid, 'their_paid', r.their_paid,"    \
    "   'our_refunded', r.our_refunded, 'their_refunded', r.their_refunded)"
#define MISMATCH_JSON                                                                            \
    "json_build_object('line', m.line, 'kind', m.kind, 'transaction_type', m.transaction_type," \
    " 'txn_ref', m.txn_ref, 'payment_id', m.payment_id, 'transaction_no', m.transaction_no,"    \
    " 'our_amount', m.our_amount, 'their_amount', m.their_amount, 'our_state', m.our_state,"   \
    " 'their_status', m.their_status)"
/* A current run that counts as done for the schedule: one that compared,
   or one that failed less than an hour ago (tried again after that). */
#define DONE_RUN(day, agency, provider)                                                          \
    "EXISTS (SELECT 1 FROM reconciliations r WHERE r.day = " day "::date"                       \
    " AND r.agency_code = " agency " AND r.provider = " provider " AND r.current"               \
    " AND (r.state <> 'failed' OR r.created_at > now() - interval '1 hour'))"

static const mc_db_statement recon_targets = {
    "recon_targets",
    "SELECT m.agency_code, m.provider, m.merchant_code FROM merchants m"
    " WHERE ($2::text IS NULL OR m.agency_code = $2)"
    " AND NOT ($3::boolean AND " DONE_RUN("$1", "m.agency_code", "m.provider") ")"
    " ORDER BY m.agency_code, m.provider LIMIT $4::int", 4};
static const mc_db_statement recon_due = {
    "recon_due",
    "SELECT NOT " DONE_RUN("$1", "$2", "$3"), 3};
static const mc_db_statement recon_lock_wait = {
    "recon_lock_wait",
    "SELECT pg_advisory_xact_lock(hashtextextended('payment.reconcile|' || $1 || '|' || $2"
    " || '|' || $3, 0)), true", 3};
static const mc_db_statement recon_lock_try = {
    "recon_lock_try",
    "SELECT pg_try_advisory_xact_lock(hashtextextended('payment.reconcile|' || $1 || '|' || $2"
    " || '|' || $3, 0))", 3};
/* Payments: paid in the day, or named by the statement; refunds: succeeded
   in the day, or of a payment the statement names and asked for since the
   day before (a refund the statement has and we do not count as done). */
static const mc_db_statement recon_records = {
    "recon_records",
    "WITH refs AS (SELECT jsonb_array_elements_text($4::jsonb) AS txn_ref)"
    " SELECT p.txn_ref, p.id::text, 'payment', p.amount, p.state,"
    "  p.state = 'paid' AND " IN_DAY("p.paid_at", "$1")
    " FROM payments p WHERE p.provider = $2 AND p.merchant_code = $3"
    " AND ((p.state = 'paid' AND " IN_DAY("p.paid_at", "$1") ")"
    "  OR p.txn_ref IN (SELECT txn_ref FROM refs))"
    " UNION ALL"
    " SELECT p.txn_ref, p.id::text, 'refund', f.amount, f.state,"
    "  f.state = 'succeeded' AND " IN_DAY("f.settled_at", "$1")
    " FROM refunds f JOIN payments p ON p.id = f.payment_id"
    " WHERE p.provider = $2 AND p.merchant_code = $3"
    " AND ((f.state = 'succeeded' AND " IN_DAY("f.settled_at", "$1") ")"
    "  OR (p.txn_ref IN (SELECT txn_ref FROM refs) AND f.created_at >= " DAY_START("$1")
    "   - interval '1 day' AND f.created_at < " DAY_END("$1") "))", 4};
static const mc_db_statement recon_supersede = {
    "recon_supersede",
    "UPDATE reconciliations SET current = false"
    " WHERE day = $1::date AND agency_code = $2 AND provider = $3 AND current RETURNING id::text", 3};
static const mc_db_statement recon_insert = {
    "recon_insert",
    "INSERT INTO reconciliations (day, agency_code, provider, merchant_code, state, failure,"
    " trigger, requested_by, supersedes, statement_lines, matched, mismatch_count, our_paid,"
    " their_paid, our_refunded, their_refunded)"
    " SELECT $1::date, $2, $3, $4, $5, $6, $7, $8, $9::uuid, (s->>'statement_lines')::int,"
    " (s->>'matched')::int, (s->>'mismatches')::int, (s->>'our_paid')::bigint,"
    " (s->>'their_paid')::bigint, (s->>'our_refunded')::bigint, (s->>'their_refunded')::bigint"
    " FROM (SELECT $10::jsonb AS s) x RETURNING id::text", 10};
static const mc_db_statement recon_mismatches_insert = {
    "recon_mismatches_insert",
    "INSERT INTO reconciliation_mismatches (reconciliation_id, line, kind, transaction_type,"
    " txn_ref, payment_id, transaction_no, our_amount, their_amount, our_state, their_status)"
    " SELECT $1::uuid, x.line, x.kind, x.transaction_type, x.txn_ref, x.payment_id,"
    " x.transaction_no, x.our_amount, x.their_amount, x.our_state, x.their_status"
    " FROM jsonb_to_recordset($2::jsonb) AS x(line int, kind text, transaction_type text,"
    " txn_ref text, payment_id uuid, transaction_no text, our_amount bigint, their_amount bigint,"
    " our_state text, their_status text)", 2};
static const mc_db_statement recon_get = {
    "recon_get",
    "SELECT json_build_object(" RECON_FIELDS ", 'mismatches', COALESCE((SELECT json_agg("
    MISMATCH_JSON " ORDER BY m.line) FROM reconciliation_mismatches m"
    " WHERE m.reconciliation_id = r.id), '[]'::json))::text, r.agency_code"
    " FROM reconciliations r WHERE r.id = $1::uuid", 1};
static const mc_db_statement recon_list = {
    "recon_list",
    "SELECT json_build_object(" RECON_FIELDS ")::text,"
    " (extract(epoch FROM r.created_at) * 1000000)::bigint, r.id::text FROM reconciliations r"
    " WHERE ($1::text IS NULL OR r.agency_code = $1) AND ($2::date IS NULL OR r.day = $2::date)"
    " AND ($3::text IS NULL OR r.provider = $3) AND ($4::text IS NULL OR r.state = $4)"
    " AND ($5::bigint IS NULL OR ((extract(epoch FROM r.created_at) * 1000000)::bigint, r.id)"
    "  < ($5::bigint, $6::uuid))"
    " ORDER BY (extract(epoch FROM r.created_at) * 1000000)::bigint DESC, r.id DESC"
    " LIMIT $7::int", 7};
/* clang-format on */

mc_error store_recon_targets(mc_db_conn *conn, const char *day, const char *agency, bool due_only,
                             struct recon_target *out, size_t max, size_t *n)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, day);
    mc_db_add_text(&p, agency);
    mc_db_add_bool(&p, due_only);
    mc_db_add_int64(&p, (long long)max);
    PGresult *res = mc_db_exec_params(conn, &recon_targets, &p);
    if (res == NULL)
        return mc_db_failure(conn);
    *n = 0;
    for (int r = 0; r < PQntuples(res) && *n < max; r++, (*n)++) {
        mc_db_copy(out[*n].agency_code, sizeof out[*n].agency_code, res, r, 0);
        mc_db_copy(out[*n].provider, sizeof out[*n].provider, res, r, 1);
        mc_db_copy(out[*n].merchant_code, sizeof out[*n].merchant_code, res, r, 2);
    }
    PQclear(res);
    return MC_OK;
}

static PGresult *exec_key(mc_db_conn *conn, const mc_db_statement *stmt, const char *day,
                          const struct recon_target *t)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, day);
    mc_db_add_text(&p, t->agency_code);
    mc_db_add_text(&p, t->provider);
    return mc_db_exec_params(conn, stmt, &p);
}

mc_error store_recon_lock(mc_db_conn *conn, const char *day, const struct recon_target *t,
                          bool wait)
{
    PGresult *res = exec_key(conn, wait ? &recon_lock_wait : &recon_lock_try, day, t);
    if (res == NULL)
        return mc_db_failure(conn);
    bool held = PQntuples(res) == 1 && mc_db_bool(res, 0, wait ? 1 : 0);
    PQclear(res);
    return held ? MC_OK : MC_ERR_CONFLICT;
}

mc_error store_recon_due(mc_db_conn *conn, const char *day, const struct recon_target *t,
                         bool *due)
{
    PGresult *res = exec_key(conn, &recon_due, day, t);
    if (res == NULL)
        return mc_db_failure(conn);
    *due = PQntuples(res) == 1 && mc_db_bool(res, 0, 0);
    PQclear(res);
    return MC_OK;
}

mc_error store_recon_records(mc_db_conn *conn, const char *day, const struct recon_target *t,
                             const json_t *refs, struct recon_record **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, day);
    mc_db_add_text(&p, t->provider);
    mc_db_add_text(&p, t->merchant_code);
    mc_db_add_json(&p, refs);
    PGresult *res = mc_db_exec_params(conn, &recon_records, &p);
    mc_db_params_clear(&p);
    if (res == NULL)
        return mc_db_failure(conn);
    int rows = PQntuples(res);
    *out = calloc((size_t)rows + 1, sizeof **out);
    if (*out == NULL) {
        PQclear(res);
        return MC_ERR_INTERNAL;
    }
    for (int r = 0; r < rows; r++) {
        struct recon_record *o = &(*out)[r];
        mc_db_copy(o->txn_ref, sizeof o->txn_ref, res, r, 0);
        mc_db_copy(o->payment_id, sizeof o->payment_id, res, r, 1);
        o->type = strcmp(mc_db_text(res, r, 2), "refund") == 0 ? RECON_REFUND : RECON_PAYMENT;
        o->amount = mc_db_int(res, r, 3);
        mc_db_copy(o->state, sizeof o->state, res, r, 4);
        o->in_day = mc_db_bool(res, r, 5);
    }
    *n = (size_t)rows;
    PQclear(res);
    return MC_OK;
}

mc_error store_recon_insert(mc_db_conn *conn, const struct recon_run *run, char id[37])
{
    char previous[37] = "";
    PGresult *res = exec_key(conn, &recon_supersede, run->day, run->target);
    if (res == NULL)
        return mc_db_failure(conn);
    if (PQntuples(res) == 1)
        mc_db_copy(previous, sizeof previous, res, 0, 0);
    PQclear(res);

    const struct recon_result *r = run->result;
    json_t *summary = json_pack(
        "{sI sI sI sI sI sI sI}", "statement_lines", (json_int_t)(r ? r->statement_lines : 0),
        "matched", (json_int_t)(r ? r->matched : 0), "mismatches",
        (json_int_t)(r ? r->n_mismatches : 0), "our_paid", (json_int_t)(r ? r->our_paid : 0),
        "their_paid", (json_int_t)(r ? r->their_paid : 0), "our_refunded",
        (json_int_t)(r ? r->our_refunded : 0), "their_refunded",
        (json_int_t)(r ? r->their_refunded : 0));
    json_t *lines = json_array();
    for (size_t i = 0; r != NULL && i < r->n_mismatches; i++)
        json_array_append_new(lines, recon_mismatch_json(&r->mismatches[i], i + 1));
    const char *state = run->failure != NULL ? "failed"
                        : r != NULL && r->n_mismatches > 0 ? "mismatched"
                                                            : "matched";
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, run->day);
    mc_db_add_text(&p, run->target->agency_code);
    mc_db_add_text(&p, run->target->provider);
    mc_db_add_text(&p, run->target->merchant_code);
    mc_db_add_text(&p, state);
    mc_db_add_text(&p, run->failure);
    mc_db_add_text(&p, run->trigger);
    mc_db_add_text(&p, run->requested_by);
    mc_db_add_text(&p, previous[0] != '\0' ? previous : NULL);
    mc_db_add_json(&p, summary);
    res = mc_db_exec_params(conn, &recon_insert, &p);
    mc_db_params_clear(&p);
    json_decref(summary);
    mc_error rc = res == NULL ? mc_db_failure(conn) : PQntuples(res) == 1 ? MC_OK : MC_ERR_INTERNAL;
    if (rc == MC_OK)
        mc_db_copy(id, 37, res, 0, 0);
    PQclear(res);
    if (rc == MC_OK && json_array_size(lines) > 0) {
        mc_db_params q = MC_DB_PARAMS_INIT;
        mc_db_add_text(&q, id);
        mc_db_add_json(&q, lines);
        res = mc_db_exec_params(conn, &recon_mismatches_insert, &q);
        mc_db_params_clear(&q);
        rc = res == NULL ? mc_db_failure(conn) : MC_OK;
        PQclear(res);
    }
    json_decref(lines);
    return rc;
}

mc_error store_recon_get_json(mc_db_conn *conn, const char *id, json_t **out, char agency[33])
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, id);
    PGresult *res = mc_db_exec_params(conn, &recon_get, &p);
    if (res == NULL)
        return mc_db_failure(conn);
    mc_error rc = MC_ERR_NOT_FOUND;
    if (PQntuples(res) == 1) {
        *out = mc_db_json(res, 0, 0);
        mc_db_copy(agency, 33, res, 0, 1);
        rc = *out != NULL ? MC_OK : MC_ERR_INTERNAL;
    }
    PQclear(res);
    return rc;
}

mc_error store_recon_list(mc_db_conn *conn, const struct recon_filter *f, unsigned limit,
                          json_t **items, json_t **next_keys)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, f->agency);
    mc_db_add_text(&p, f->day);
    mc_db_add_text(&p, f->provider);
    mc_db_add_text(&p, f->state);
    mc_db_add_text(&p, f->after_created);
    mc_db_add_text(&p, f->after_id);
    mc_db_add_int64(&p, (long long)limit + 1);
    PGresult *res = mc_db_exec_planned_params(conn, &recon_list, &p);
    if (res == NULL)
        return mc_db_failure(conn);
    mc_error rc = mc_db_page_from(res, limit, "is", items, next_keys);
    PQclear(res);
    return rc;
}
