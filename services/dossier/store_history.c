/*
 * Store: the audit trail (dossier_history, append-only: a trigger refuses
 * UPDATE, DELETE and TRUNCATE).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

/* clang-format off */
static const mc_db_statement history_insert = {
    "dossier_history_insert",
    "INSERT INTO dossier_history (dossier_id, actor_sub, actor_role, actor_agency, action,"
    " from_status, to_status, reasons, note, documents, details, actor_name)"
    " VALUES ($1::uuid, $2, $3, $4, $5, $6::smallint, $7::smallint, $8::jsonb, $9, $10::jsonb,"
    " $11::jsonb, $12)",
    12};

static const mc_db_statement history_list = {
    "dossier_history_list",
    "SELECT json_build_object('seq', seq,"
    " 'at', to_char(at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+07:00\"'),"
    " 'actor', json_build_object('sub', actor_sub, 'role', actor_role, 'agency', actor_agency,"
    " 'name', actor_name),"
    " 'action', action, 'from_status', from_status, 'to_status', to_status,"
    " 'reasons', reasons, 'note', note, 'documents', documents,"
    " 'details', jsonb_strip_nulls(details))::text"
    " FROM dossier_history WHERE dossier_id = $1::uuid ORDER BY seq",
    1};

static const mc_db_statement history_payment_applied = {
    "dossier_history_payment_applied",
    "SELECT 1 FROM dossier_history WHERE dossier_id = $1::uuid AND action = $2"
    " AND details ->> 'payment_id' = $3 LIMIT 1",
    3};
/* clang-format on */

static char *text_or_null(const json_t *v)
{
    return v != NULL && !json_is_null(v)
               ? json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY)
               : NULL;
}

mc_error store_history_add(mc_db_conn *conn, const struct history_entry *e)
{
    char from[8], to[8];
    snprintf(from, sizeof from, "%d", e->from_status);
    snprintf(to, sizeof to, "%d", e->to_status);
    char *reasons = text_or_null(e->reasons);
    char *documents = text_or_null(e->documents);
    char *details = text_or_null(e->details);
    const char *params[12] = {e->dossier_id, e->actor_sub, e->actor_role, e->actor_agency,
                              e->action,     from,         to,            reasons,
                              e->note,       documents,    details,       e->actor_name};
    PGresult *res = mc_db_exec(conn, &history_insert, params);
    free(reasons);
    free(documents);
    free(details);
    if (res == NULL)
        return mc_db_failure(conn);
    PQclear(res);
    return MC_OK;
}

struct history_ctx {
    const char *id;
    json_t *items;
};

static mc_error history_tx(mc_db_conn *conn, void *arg)
{
    struct history_ctx *ctx = arg;
    const char *params[1] = {ctx->id};
    PGresult *res = mc_db_exec(conn, &history_list, params);
    if (res == NULL)
        return mc_db_failure(conn);
    for (int r = 0; r < PQntuples(res); r++) {
        json_t *item = mc_db_json(res, r, 0);
        if (item != NULL)
            json_array_append_new(ctx->items, item);
    }
    PQclear(res);
    return MC_OK;
}

mc_error store_history_list(mc_db_conn *conn, const char *dossier_id, json_t **out)
{
    struct history_ctx ctx = {dossier_id, json_array()};
    mc_error rc = history_tx(conn, &ctx);
    if (rc != MC_OK) {
        json_decref(ctx.items);
        *out = NULL;
        return rc;
    }
    *out = ctx.items;
    return MC_OK;
}

mc_error store_history_payment_applied(mc_db_conn *conn, const char *dossier_id, const char *action,
                                       const char *payment_id, bool *applied)
{
    const char *params[3] = {dossier_id, action, payment_id};
    PGresult *res = mc_db_exec(conn, &history_payment_applied, params);
    *applied = false;
    if (res == NULL)
        return mc_db_failure(conn);
    *applied = PQntuples(res) > 0;
    PQclear(res);
    return MC_OK;
}
