/* Store: dossier_evaluations (one per dossier). */
#include <stdio.h>
#include <string.h>

#include "store.h"

/* clang-format off */
#define EVALUATION_JSON                                                                          \
    "json_build_object('dossier_id', dossier_id, 'scores', json_build_object("                 \
    " 'total_time', scores[1], 'time_at_each_unit', scores[2], 'contacts_needed', scores[3],"  \
    " 'agencies_contacted', scores[4], 'one_stop_handling', scores[5],"                        \
    " 'procedure_publication', scores[6], 'staff_attitude', scores[7],"                        \
    " 'complaint_handling', scores[8], 'online_service_quality', scores[9]),"                  \
    " 'total', total, 'satisfaction', satisfaction, 'comment', comment,"                       \
    " 'evaluated_at', to_char(evaluated_at AT TIME ZONE 'Asia/Ho_Chi_Minh',"                   \
    " 'YYYY-MM-DD\"T\"HH24:MI:SS\"+07:00\"'))::text"

static const mc_db_statement evaluation_insert = {
    "dossier_evaluation_insert",
    "INSERT INTO dossier_evaluations (dossier_id, scores, total, satisfaction, comment,"
    " agency_code, procedure_code, evaluated_by)"
    " VALUES ($1::uuid, ARRAY[$2, $3, $4, $5, $6, $7, $8, $9, $10]::smallint[], $11::smallint, $12,"
    " $13, $14, $15, $16) ON CONFLICT (dossier_id) DO NOTHING RETURNING " EVALUATION_JSON,
    16};
static const mc_db_statement evaluation_get = {
    "dossier_evaluation_get",
    "SELECT " EVALUATION_JSON " FROM dossier_evaluations WHERE dossier_id = $1::uuid", 1};
/* clang-format on */

mc_error store_evaluation_insert(mc_db_conn *conn, struct store_evaluation *e, json_t **out)
{
    char scores[9][4], total[8];
    e->total = 0;
    for (int i = 0; i < 9; i++) {
        snprintf(scores[i], sizeof scores[i], "%d", e->scores[i]);
        e->total += e->scores[i];
    }
    snprintf(total, sizeof total, "%d", e->total);
    const char *params[16] = {e->dossier_id, scores[0], scores[1], scores[2], scores[3],
                              scores[4],     scores[5], scores[6], scores[7], scores[8],
                              total,         e->satisfaction, e->comment, e->agency_code,
                              e->procedure_code, e->evaluated_by};
    PGresult *res = mc_db_exec(conn, &evaluation_insert, params);
    if (res == NULL)
        return mc_db_failure(conn);
    if (PQntuples(res) != 1) {
        PQclear(res);
        return MC_ERR_DOSSIER_ALREADY_EVALUATED;
    }
    *out = mc_db_json(res, 0, 0);
    PQclear(res);
    return *out != NULL ? MC_OK : MC_ERR_INTERNAL;
}

struct get_ctx {
    const char *id;
    json_t *out;
};

static mc_error get_tx(mc_db_conn *conn, void *arg)
{
    struct get_ctx *g = arg;
    const char *params[1] = {g->id};
    PGresult *res = mc_db_exec(conn, &evaluation_get, params);
    if (res == NULL)
        return mc_db_failure(conn);
    if (PQntuples(res) == 1)
        g->out = mc_db_json(res, 0, 0);
    PQclear(res);
    return g->out != NULL ? MC_OK : MC_ERR_NOT_FOUND;
}

mc_error store_evaluation_get(mc_db_conn *conn, const char *dossier_id, json_t **out)
{
    struct get_ctx g = {dossier_id, NULL};
    mc_error rc = get_tx(conn, &g);
    *out = g.out;
    return rc;
}
