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
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "workflow.h"

/* Each claim takes the next batch of due dossiers FOR UPDATE SKIP LOCKED, in
   the transaction that then handles them: the instances of the service split
   what is due between them (a row another instance holds is skipped, not
   waited for, and no longer matches once it has been handled), and a row is
   handled by one transaction at a time. $n (uuid[]) names the dossiers this
   pass could not handle, so one that keeps failing does not stop the drain;
   it is retried on the next pass. */
/* clang-format off */
static const mc_db_statement supplement_expired = {
    "dossier_watch_claim_supplement_expired",
    "SELECT id::text FROM dossiers WHERE status = 5 AND supplement_due_at < to_timestamp($1::bigint)"
    " AND NOT (id = ANY($3::uuid[]))"
    " ORDER BY supplement_due_at LIMIT $2::integer FOR UPDATE SKIP LOCKED",
    3};
static const mc_db_statement overdue = {
    "dossier_watch_claim_overdue",
    "SELECT id::text FROM dossiers WHERE status IN (" WF_WATCHED_STATUSES_SQL ") AND overdue_flagged_at IS NULL"
    " AND appointment_at < to_timestamp($1::bigint) AND NOT (id = ANY($3::uuid[]))"
    " ORDER BY appointment_at LIMIT $2::integer FOR UPDATE SKIP LOCKED",
    3};
static const mc_db_statement due_soon = {
    "dossier_watch_claim_due_soon",
    "SELECT id::text FROM dossiers WHERE status IN (" WF_WATCHED_STATUSES_SQL ") AND overdue_flagged_at IS NULL"
    " AND due_soon_flagged_at IS NULL AND appointment_at >= to_timestamp($1::bigint)"
    " AND appointment_at < to_timestamp($4::bigint) AND NOT (id = ANY($3::uuid[]))"
    " ORDER BY appointment_at LIMIT $2::integer FOR UPDATE SKIP LOCKED",
    4};
/* The open dossiers flagged overdue: the overdue backlog, for /metrics
   (the watcher flags every open dossier past its appointment within a pass).
   Counted once a pass from the partial index of migration 0007. */
static const mc_db_statement overdue_open = {
    "dossier_watch_overdue_open",
    "SELECT count(*) FROM dossiers WHERE status IN (" WF_WATCHED_STATUSES_SQL ")"
    " AND overdue_flagged_at IS NOT NULL",
    0};
static const mc_db_statement submission_payment_expired = {
    "dossier_watch_claim_submission_payment_expired",
    "SELECT id::text FROM dossiers WHERE status = 11 AND updated_at < to_timestamp($1::bigint)"
    " AND NOT (id = ANY($3::uuid[]))"
    " ORDER BY updated_at LIMIT $2::integer FOR UPDATE SKIP LOCKED",
    3};
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

/* The PostgreSQL array literal of the ids in `skip` (uuids: no quoting
   needed), a new string to free. */
static char *uuid_array(const json_t *skip)
{
    size_t n = json_array_size(skip);
    char *out = malloc(2 + n * 37 + 1);
    if (out == NULL)
        return NULL;
    size_t len = 0;
    out[len++] = '{';
    size_t i;
    const json_t *id;
    json_array_foreach(skip, i, id)
    {
        const char *text = json_string_value(id);
        if (text == NULL || strlen(text) != 36)
            continue;
        if (len > 1)
            out[len++] = ',';
        memcpy(out + len, text, 36);
        len += 36;
    }
    out[len++] = '}';
    out[len] = '\0';
    return out;
}

mc_error store_watch_claim(mc_db_conn *conn, enum store_watch_kind kind, int64_t now, int64_t soon,
                           unsigned limit, const json_t *skip, json_t **ids)
{
    char t[24], s[24], l[12];
    snprintf(t, sizeof t, "%lld", (long long)now);
    snprintf(s, sizeof s, "%lld", (long long)soon);
    snprintf(l, sizeof l, "%u", limit);
    char *skipped = uuid_array(skip);
    if (skipped == NULL)
        return MC_ERR_INTERNAL;
    const char *params[4] = {t, l, skipped, s};
    static const mc_db_statement *const by_kind[STORE_WATCH__COUNT] = {
        [STORE_WATCH_SUPPLEMENT_EXPIRED] = &supplement_expired,
        [STORE_WATCH_OVERDUE] = &overdue,
        [STORE_WATCH_DUE_SOON] = &due_soon,
        [STORE_WATCH_SUBMISSION_PAYMENT_EXPIRED] = &submission_payment_expired,
    };
    const mc_db_statement *stmt = by_kind[kind];
    mc_error rc = select_ids(conn, stmt, params, ids);
    free(skipped);
    return rc;
}

mc_error store_watch_overdue_open(mc_db_conn *conn, long long *count)
{
    PGresult *res = mc_db_exec(conn, &overdue_open, NULL);
    if (res == NULL)
        return mc_db_failure(conn);
    *count = PQntuples(res) == 1 ? mc_db_int(res, 0, 0) : 0;
    PQclear(res);
    return MC_OK;
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
