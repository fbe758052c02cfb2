/* Store: dossier_confirmations (the outbox of confirmations to the dossier service). */
#include <string.h>

#include "store.h"

/* clang-format off */
static const mc_db_statement confirmation_add = {
    "payment_confirmation_add",
    "INSERT INTO dossier_confirmations (payment_id, dossier_id, action, body)"
    " VALUES ($1::uuid, $2::uuid, $3, $4::jsonb) ON CONFLICT (payment_id) DO NOTHING", 4};
/* A claim is a lease: a sender that dies leaves the row due again after it. */
static const mc_db_statement confirmations_claim = {
    "payment_confirmations_claim",
    "UPDATE dossier_confirmations SET attempts = attempts + 1,"
    " next_attempt_at = now() + make_interval(secs => $2::int)"
    " WHERE payment_id IN (SELECT payment_id FROM dossier_confirmations"
    "  WHERE done_at IS NULL AND next_attempt_at <= now() ORDER BY next_attempt_at"
    "  LIMIT $1::int FOR UPDATE SKIP LOCKED)"
    " RETURNING payment_id, dossier_id, action, body::text, attempts", 2};
static const mc_db_statement confirmation_done = {
    "payment_confirmation_done",
    "UPDATE dossier_confirmations SET done_at = now(), last_status = $2::int"
    " WHERE payment_id = $1::uuid", 2};
static const mc_db_statement confirmation_retry = {
    "payment_confirmation_retry",
    "UPDATE dossier_confirmations SET last_status = $2::int,"
    " next_attempt_at = now() + make_interval(secs => $3::int) WHERE payment_id = $1::uuid", 3};
/* clang-format on */

mc_error store_confirmation_add(mc_db_conn *conn, const char *payment_id, const char *dossier_id,
                                const char *action, const json_t *body)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, payment_id);
    mc_db_add_text(&p, dossier_id);
    mc_db_add_text(&p, action);
    mc_db_add_json(&p, body);
    PGresult *res = mc_db_exec_params(conn, &confirmation_add, &p);
    mc_db_params_clear(&p);
    if (res == NULL)
        return mc_db_failure(conn);
    PQclear(res);
    return MC_OK;
}

mc_error store_confirmations_claim(mc_db_conn *conn, unsigned limit, unsigned lease_s,
                                   struct confirmation_row *out, size_t *n)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_int64(&p, limit);
    mc_db_add_int64(&p, lease_s);
    PGresult *res = mc_db_exec_params(conn, &confirmations_claim, &p);
    if (res == NULL)
        return mc_db_failure(conn);
    *n = 0;
    for (int r = 0; r < PQntuples(res) && *n < limit; r++) {
        struct confirmation_row *c = &out[*n];
        mc_db_copy(c->payment_id, sizeof c->payment_id, res, r, 0);
        mc_db_copy(c->dossier_id, sizeof c->dossier_id, res, r, 1);
        mc_db_copy(c->action, sizeof c->action, res, r, 2);
        c->body = mc_db_json(res, r, 3);
        c->attempts = (unsigned)mc_db_int(res, r, 4);
        if (c->body != NULL)
            (*n)++;
    }
    PQclear(res);
    return MC_OK;
}

static mc_error confirmation_update(mc_db_conn *conn, const mc_db_statement *stmt,
                                    const char *payment_id, int status, int delay_s)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, payment_id);
    mc_db_add_int64(&p, status);
    if (delay_s >= 0)
        mc_db_add_int64(&p, delay_s);
    PGresult *res = mc_db_exec_params(conn, stmt, &p);
    if (res == NULL)
        return mc_db_failure(conn);
    PQclear(res);
    return MC_OK;
}

mc_error store_confirmation_done(mc_db_conn *conn, const char *payment_id, int status)
{
    return confirmation_update(conn, &confirmation_done, payment_id, status, -1);
}

mc_error store_confirmation_retry(mc_db_conn *conn, const char *payment_id, int status,
                                  unsigned delay_s)
{
    return confirmation_update(conn, &confirmation_retry, payment_id, status, (int)delay_s);
}
