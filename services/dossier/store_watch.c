/*
 * Store: what the deadline watcher (watch.c) looks for. Each query is bounded
 * and served by a partial index of the migrations (dossiers_supplement_due;
 * dossiers_open_due, on the appointment since 0003). The watcher warns about
 * the appointment, which is the legal due date until an apology moves it.
 *
 * The watched statuses are written as the literal WF_WATCHED_STATUSES_SQL
 * (workflow.h, checked against the workflow's statuses by a unit test), not
 * passed as a parameter: these statements run prepared, and PostgreSQL's
 * generic plan can use the partial index only when the query repeats its
 * predicate. With "status = ANY($n)" EXPLAIN shows a sequential scan.
 */
#include <stdio.h>

#include "store.h"
#include "workflow.h"

/* clang-format off */
static const mc_db_statement supplement_expired = {
    "dossier_watch_supplement_expired",
    "SELECT id::text FROM dossiers WHERE status = 5 AND supplement_due_at < to_timestamp($1::bigint)"
    " ORDER BY supplement_due_at LIMIT $2::integer",
    2};
static const mc_db_statement overdue = {
    "dossier_watch_overdue",
    "SELECT id::text FROM dossiers WHERE status IN (" WF_WATCHED_STATUSES_SQL ") AND overdue_flagged_at IS NULL"
    " AND appointment_at < to_timestamp($1::bigint) ORDER BY appointment_at LIMIT $2::integer",
    2};
static const mc_db_statement due_soon = {
    "dossier_watch_due_soon",
    "SELECT id::text FROM dossiers WHERE status IN (" WF_WATCHED_STATUSES_SQL ") AND overdue_flagged_at IS NULL"
    " AND due_soon_flagged_at IS NULL AND appointment_at >= to_timestamp($1::bigint)"
    " AND appointment_at < to_timestamp($2::bigint) ORDER BY appointment_at LIMIT $3::integer",
    3};
static const mc_db_statement submission_payment_expired = {
    "dossier_watch_submission_payment_expired",
    "SELECT id::text FROM dossiers WHERE status = 11 AND updated_at < to_timestamp($1::bigint)"
    " ORDER BY updated_at LIMIT $2::integer",
    2};
static const mc_db_statement flag_overdue = {
    "dossier_watch_flag_overdue",
    "UPDATE dossiers SET overdue_flagged_at = now() WHERE id = $1::uuid", 1};
static const mc_db_statement flag_due_soon = {
    "dossier_watch_flag_due_soon",
    "UPDATE dossiers SET due_soon_flagged_at = now() WHERE id = $1::uuid", 1};
/* clang-format on */

struct ids_ctx {
    const mc_db_statement *stmt;
    const char *const *params;
    json_t *ids;
};

static mc_error ids_tx(mc_db_conn *conn, void *arg)
{
    struct ids_ctx *ctx = arg;
    PGresult *res = mc_db_exec(conn, ctx->stmt, ctx->params);
    if (res == NULL)
        return mc_db_failure(conn);
    for (int r = 0; r < PQntuples(res); r++)
        json_array_append_new(ctx->ids, json_string(mc_db_text(res, r, 0)));
    PQclear(res);
    return MC_OK;
}

static mc_error select_ids(mc_db_conn *conn, const mc_db_statement *stmt, const char *const *params,
                           json_t **out)
{
    struct ids_ctx ctx = {stmt, params, json_array()};
    mc_error rc = ids_tx(conn, &ctx);
    if (rc != MC_OK) {
        json_decref(ctx.ids);
        ctx.ids = NULL;
    }
    *out = ctx.ids;
    return rc;
}

mc_error store_watch_supplement_expired(mc_db_conn *conn, int64_t now, unsigned limit, json_t **ids)
{
    char t[24], l[12];
    snprintf(t, sizeof t, "%lld", (long long)now);
    snprintf(l, sizeof l, "%u", limit);
    const char *params[2] = {t, l};
    return select_ids(conn, &supplement_expired, params, ids);
}

mc_error store_watch_submission_payment_expired(mc_db_conn *conn, int64_t before, unsigned limit,
                                                json_t **ids)
{
    char t[24], l[12];
    snprintf(t, sizeof t, "%lld", (long long)before);
    snprintf(l, sizeof l, "%u", limit);
    const char *params[2] = {t, l};
    return select_ids(conn, &submission_payment_expired, params, ids);
}

mc_error store_watch_overdue(mc_db_conn *conn, int64_t now, unsigned limit, json_t **ids)
{
    char t[24], l[12];
    snprintf(t, sizeof t, "%lld", (long long)now);
    snprintf(l, sizeof l, "%u", limit);
    const char *params[2] = {t, l};
    return select_ids(conn, &overdue, params, ids);
}

mc_error store_watch_due_soon(mc_db_conn *conn, int64_t now, int64_t soon, unsigned limit,
                              json_t **ids)
{
    char t[24], s[24], l[12];
    snprintf(t, sizeof t, "%lld", (long long)now);
    snprintf(s, sizeof s, "%lld", (long long)soon);
    snprintf(l, sizeof l, "%u", limit);
    const char *params[3] = {t, s, l};
    return select_ids(conn, &due_soon, params, ids);
}

mc_error store_watch_flag(mc_db_conn *conn, const char *id, bool is_overdue)
{
    const char *params[1] = {id};
    PGresult *res = mc_db_exec(conn, is_overdue ? &flag_overdue : &flag_due_soon, params);
    if (res == NULL)
        return mc_db_failure(conn);
    PQclear(res);
    return MC_OK;
}
