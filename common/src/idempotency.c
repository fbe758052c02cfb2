/*
 * Idempotency-Key: a creating POST retried by a client on a flaky mobile
 * connection must not create a second resource. The first request's
 * response is stored under (caller, key) with a hash of the request; a retry
 * with the same key and the same request gets that response again; the same
 * key with another request is a 409. Responses of 5xx are not stored (the
 * row is dropped), so the client can retry after a server fault.
 *
 * Limits (written down in docs): the stored response is written after the
 * handler's own transaction committed, so a crash in between leaves a
 * 'pending' row that expires after a minute, after which a retry re-runs the
 * handler (a duplicate-create then meets the resource's own uniqueness
 * constraint). Rows older than 24 hours are removed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "motcua/log.h"

static const mc_db_statement insert_pending = {
    "common_idem_insert",
    "INSERT INTO idempotency_keys (principal, idem_key, method, path, request_hash, state)"
    " VALUES ($1, $2, $3, $4, $5, 'pending') ON CONFLICT DO NOTHING RETURNING 1",
    5};
static const mc_db_statement select_existing = {
    "common_idem_select",
    "SELECT method, path, request_hash, state, status, response_body, location, etag,"
    " created_at < now() - interval '60 seconds' AS stale"
    " FROM idempotency_keys WHERE principal = $1 AND idem_key = $2",
    2};
static const mc_db_statement take_over_stale = {
    "common_idem_take_over",
    "UPDATE idempotency_keys SET created_at = now() WHERE principal = $1 AND idem_key = $2"
    " AND state = 'pending' AND created_at < now() - interval '60 seconds' RETURNING 1",
    2};
static const mc_db_statement finish = {
    "common_idem_finish",
    "UPDATE idempotency_keys SET state = 'done', status = $3::integer, response_body = $4,"
    " location = $5, etag = $6 WHERE principal = $1 AND idem_key = $2",
    6};
static const mc_db_statement abandon = {
    "common_idem_abandon",
    "DELETE FROM idempotency_keys WHERE principal = $1 AND idem_key = $2 AND state = 'pending'", 2};
static const mc_db_statement expire = {
    "common_idem_expire",
    "DELETE FROM idempotency_keys WHERE created_at < now() - interval '24 hours'", 0};

static char *dup_or_null(const PGresult *res, int col)
{
    return mc_db_is_null(res, 0, col) ? NULL : strdup(mc_db_text(res, 0, col));
}

enum mc_idem_outcome mc_idem_begin(mc_db_pool *db, const char *principal, const char *key,
                                   const char *method, const char *path, const char *request_hash,
                                   struct mc_idem_replay *replay)
{
    memset(replay, 0, sizeof *replay);
    mc_db_conn *c;
    if (mc_db_acquire(db, &c) != MC_OK)
        return MC_IDEM_ERROR;
    enum mc_idem_outcome outcome = MC_IDEM_ERROR;
    const char *params[5] = {principal, key, method, path, request_hash};
    PGresult *res = mc_db_exec(c, &insert_pending, params);
    if (res == NULL)
        goto out;
    if (PQntuples(res) == 1) {
        PQclear(res);
        /* Opportunistic clean-up: one cheap indexed delete per new key. */
        PQclear(mc_db_exec(c, &expire, NULL));
        outcome = MC_IDEM_PROCEED;
        goto out;
    }
    PQclear(res);
    res = mc_db_exec(c, &select_existing, params);
    if (res == NULL || PQntuples(res) != 1) {
        PQclear(res);
        goto out;
    }
    if (strcmp(mc_db_text(res, 0, 0), method) != 0 || strcmp(mc_db_text(res, 0, 1), path) != 0 ||
        strcmp(mc_db_text(res, 0, 2), request_hash) != 0) {
        outcome = MC_IDEM_MISMATCH;
    } else if (strcmp(mc_db_text(res, 0, 3), "done") == 0) {
        replay->status = (unsigned)mc_db_int(res, 0, 4);
        replay->body = dup_or_null(res, 5);
        replay->location = dup_or_null(res, 6);
        replay->etag = dup_or_null(res, 7);
        outcome = MC_IDEM_REPLAY;
    } else if (mc_db_bool(res, 0, 8)) {
        PGresult *taken = mc_db_exec(c, &take_over_stale, params);
        outcome = taken != NULL && PQntuples(taken) == 1 ? MC_IDEM_PROCEED : MC_IDEM_IN_PROGRESS;
        PQclear(taken);
    } else {
        outcome = MC_IDEM_IN_PROGRESS;
    }
    PQclear(res);
out:
    mc_db_release(db, c);
    return outcome;
}

void mc_idem_finish(mc_db_pool *db, const char *principal, const char *key, unsigned status,
                    const char *body, const char *location, const char *etag)
{
    mc_db_conn *c;
    if (mc_db_acquire(db, &c) != MC_OK)
        return;
    char status_text[8];
    snprintf(status_text, sizeof status_text, "%u", status);
    const char *params[6] = {principal, key, status_text, body != NULL ? body : "", location, etag};
    PGresult *res = mc_db_exec(c, &finish, params);
    if (res == NULL)
        mc_log(MC_LOG_WARNING, NULL, "idempotency.store_failed", "response not stored");
    PQclear(res);
    mc_db_release(db, c);
}

mc_error mc_idempotency_record(const mc_request *req, mc_db_conn *conn, unsigned status,
                               const json_t *body, const char *location, const char *etag)
{
    if (req->idempotency_key == NULL)
        return MC_OK;
    char *text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (text == NULL)
        return MC_ERR_INTERNAL;
    char status_text[8];
    snprintf(status_text, sizeof status_text, "%u", status);
    const char *principal = req->authenticated ? req->principal.sub : "";
    const char *params[6] = {principal, req->idempotency_key, status_text, text, location, etag};
    PGresult *res = mc_db_exec(conn, &finish, params);
    free(text);
    if (res == NULL)
        return mc_db_last_error(conn);
    PQclear(res);
    return MC_OK;
}

void mc_idem_abandon(mc_db_pool *db, const char *principal, const char *key)
{
    mc_db_conn *c;
    if (mc_db_acquire(db, &c) != MC_OK)
        return;
    const char *params[2] = {principal, key};
    PQclear(mc_db_exec(c, &abandon, params));
    mc_db_release(db, c);
}

void mc_idem_replay_free(struct mc_idem_replay *replay)
{
    free(replay->body);
    free(replay->location);
    free(replay->etag);
    memset(replay, 0, sizeof *replay);
}
