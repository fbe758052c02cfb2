/* Store: demands (a fee to pay for a dossier). */
#include <string.h>

#include "store.h"

/* clang-format off */
static const mc_db_statement demand_supersede = {
    "payment_demand_supersede",
    "UPDATE demands SET state = 'superseded' WHERE dossier_id = $1::uuid AND state = 'open'"
    " AND source_event_id <> $2", 2};
static const mc_db_statement demand_insert = {
    "payment_demand_insert",
    "INSERT INTO demands (dossier_id, dossier_code, kind, agency_code, procedure_code, owner_sub,"
    " amount, fee_items, source_event_id)"
    " VALUES ($1::uuid, $2, $3, $4, $5, $6, $7::bigint, $8::jsonb, $9)"
    " ON CONFLICT (source_event_id) DO NOTHING", 9};
static const mc_db_statement demand_open_lock = {
    "payment_demand_open_lock",
    "SELECT id, dossier_id, kind, agency_code, owner_sub, dossier_code, amount FROM demands"
    " WHERE dossier_id = $1::uuid AND state = 'open' ORDER BY created_at DESC LIMIT 1 FOR UPDATE", 1};
static const mc_db_statement demand_paid = {
    "payment_demand_paid",
    "UPDATE demands SET state = 'paid' WHERE id = $1::uuid", 1};
/* clang-format on */

mc_error store_demand_add(mc_db_conn *conn, const struct demand *d)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, d->dossier_id);
    mc_db_add_text(&p, d->event_id);
    PGresult *res = mc_db_exec_params(conn, &demand_supersede, &p);
    if (res == NULL)
        return mc_db_failure(conn);
    PQclear(res);
    mc_db_params q = MC_DB_PARAMS_INIT;
    mc_db_add_text(&q, d->dossier_id);
    mc_db_add_text(&q, d->dossier_code);
    mc_db_add_text(&q, d->kind);
    mc_db_add_text(&q, d->agency_code);
    mc_db_add_text(&q, d->procedure_code);
    mc_db_add_text(&q, d->owner_sub);
    mc_db_add_int64(&q, d->amount);
    mc_db_add_json(&q, d->fee_items);
    mc_db_add_text(&q, d->event_id);
    res = mc_db_exec_params(conn, &demand_insert, &q);
    mc_db_params_clear(&q);
    if (res == NULL)
        return mc_db_failure(conn);
    PQclear(res);
    return MC_OK;
}

mc_error store_demand_open_lock(mc_db_conn *conn, const char *dossier_id, struct demand_row *out)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, dossier_id);
    PGresult *res = mc_db_exec_params(conn, &demand_open_lock, &p);
    if (res == NULL)
        return mc_db_failure(conn);
    mc_error rc = MC_ERR_PAYMENT_NO_OPEN_DEMAND;
    if (PQntuples(res) == 1) {
        mc_db_copy(out->id, sizeof out->id, res, 0, 0);
        mc_db_copy(out->dossier_id, sizeof out->dossier_id, res, 0, 1);
        mc_db_copy(out->kind, sizeof out->kind, res, 0, 2);
        mc_db_copy(out->agency_code, sizeof out->agency_code, res, 0, 3);
        mc_db_copy(out->owner_sub, sizeof out->owner_sub, res, 0, 4);
        mc_db_copy(out->dossier_code, sizeof out->dossier_code, res, 0, 5);
        out->amount = mc_db_int(res, 0, 6);
        rc = MC_OK;
    }
    PQclear(res);
    return rc;
}

mc_error store_demand_paid(mc_db_conn *conn, const char *demand_id)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, demand_id);
    PGresult *res = mc_db_exec_params(conn, &demand_paid, &p);
    if (res == NULL)
        return mc_db_failure(conn);
    PQclear(res);
    return MC_OK;
}
