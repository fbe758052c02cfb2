/*
 * Idempotency-Key: a creating POST retried by a client on a flaky mobile
 * connection must not create a second resource. The first request's
 * response is stored under (caller, key) with a hash of the request; a retry
 * with the same key and the same request gets that response again; the same
 * key with another request is a 409.
 *
 * Which answers pin the key (mc_idem_status_pins_key, README "API
 * conventions"): successes and final outcomes are stored and replayed;
 * answers the client is expected to fix and retry (validation failures,
 * missing documents, a stale If-Match, a state that may change, 5xx) are not:
 * the row is dropped and the same key may be sent again, with the same or a
 * corrected body, and runs afresh. This follows the IETF Idempotency-Key
 * draft and Stripe's rule that a request which failed validation or
 * conflicted leaves no stored result.
 *
 * Crashes: while the first request runs its row is 'pending' and names the
 * process that holds it (holder). Each process keeps one PostgreSQL session
 * holding the advisory lock (IDEM_LOCK_CLASS, holder) for its whole life; a
 * retry that finds the key pending tries that lock, and if it can take it,
 * the holder is dead (kill -9, crash, lost database session) and the retry
 * takes the key over at once. A holder that is alive means a truly concurrent
 * duplicate: 409 idempotency.in_progress. A session rather than a
 * per-request lock: holding a pool connection for each request's lifetime
 * would need two connections per request and starve the pool. A row left
 * pending by a live process (its clean-up failed) is taken over after a
 * minute, as are rows written before the holder column existed.
 *
 * The dossier service stores its answer inside its own transaction
 * (mc_idempotency_record), so a crash can never leave a committed change
 * with a pending key; for other routes the answer is stored just after the
 * commit and a crash in between lets the retry run again (a duplicate
 * create then meets the resource's own uniqueness constraint).
 * Rows older than 24 hours are removed.
 */
#include <openssl/evp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "internal.h"
#include "motcua/log.h"

/* The advisory lock class ("mcID") of holder sessions; the object is the holder id. */
#define IDEM_LOCK_CLASS "1835223364"

static const mc_db_statement insert_pending = {
    "common_idem_insert",
    "INSERT INTO idempotency_keys (principal, idem_key, method, path, request_hash, state, holder)"
    " VALUES ($1, $2, $3, $4, $5, 'pending', $6::integer) ON CONFLICT DO NOTHING RETURNING 1",
    6};
static const mc_db_statement select_existing = {
    "common_idem_select",
    "SELECT method, path, request_hash, state, status, response_body, location, etag,"
    " created_at < now() - interval '60 seconds' AS stale, holder"
    " FROM idempotency_keys WHERE principal = $1 AND idem_key = $2",
    2};
/* True when nobody holds the holder's lock, i.e. its process is gone. The
   lock is released in the same statement (CASE evaluates in order). */
static const mc_db_statement holder_is_dead = {
    "common_idem_holder_dead",
    "SELECT CASE WHEN pg_try_advisory_lock(" IDEM_LOCK_CLASS ", $1::integer)"
    " THEN pg_advisory_unlock(" IDEM_LOCK_CLASS ", $1::integer) ELSE false END",
    1};
/* Take a pending key over from a dead holder ($4) or, whoever holds it, when
   it is stale; only one retry can win (the row changes under it). */
static const mc_db_statement take_over = {
    "common_idem_take_over",
    "UPDATE idempotency_keys SET created_at = now(), holder = $3::integer"
    " WHERE principal = $1 AND idem_key = $2 AND state = 'pending'"
    " AND (holder IS NOT DISTINCT FROM $4::integer AND $5::boolean"
    "      OR created_at < now() - interval '60 seconds') RETURNING 1",
    5};
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

/* ---------------------------------------------------------------- */
/* the holder session                                                */

static struct {
    pthread_mutex_t mu;
    char *conninfo; /* NULL until mc_idem_holder_start */
    PGconn *conn;   /* the session holding the lock, or NULL */
    int32_t id;     /* this process's holder id; 0 until locked once */
    char id_text[12];
} holder = {PTHREAD_MUTEX_INITIALIZER, NULL, NULL, 0, ""};

static bool try_lock(PGconn *conn, int32_t id)
{
    char text[12];
    snprintf(text, sizeof text, "%d", (int)id);
    const char *params[1] = {text};
    PGresult *res = PQexecParams(conn, "SELECT pg_try_advisory_lock(" IDEM_LOCK_CLASS ", $1::integer)",
                                 1, NULL, params, NULL, NULL, 0);
    bool locked = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
                  strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return locked;
}

static int32_t random_holder_id(void)
{
    uint32_t raw = 0;
    while (raw == 0 || raw > INT32_MAX)
        if (getrandom(&raw, sizeof raw, 0) != (ssize_t)sizeof raw)
            raw = (uint32_t)rand();
    return (int32_t)raw;
}

/* Makes sure the holder session is connected and holds its lock; writes the
   holder id. Caller holds holder.mu. A broken session (database restart) is
   reopened; the same id is kept when its lock is free, else a new one. */
static bool holder_ready_locked(void)
{
    if (holder.conninfo == NULL)
        return false;
    if (holder.conn != NULL && PQstatus(holder.conn) == CONNECTION_OK &&
        PQconsumeInput(holder.conn) == 1 && PQstatus(holder.conn) == CONNECTION_OK)
        return true;
    if (holder.conn != NULL)
        PQfinish(holder.conn);
    /* A 2 s connect timeout unless the connection string sets its own (it
       comes later, so it wins): requests with a key wait on this mutex. */
    const char *const keys[] = {"connect_timeout", "dbname", NULL};
    const char *const values[] = {"2", holder.conninfo, NULL};
    holder.conn = PQconnectdbParams(keys, values, 1);
    if (PQstatus(holder.conn) != CONNECTION_OK) {
        PQfinish(holder.conn);
        holder.conn = NULL;
        mc_log(MC_LOG_WARNING, NULL, "idempotency.holder_unavailable",
               "cannot open the Idempotency-Key holder session");
        return false;
    }
    for (int attempt = 0; attempt < 8; attempt++) {
        if (holder.id == 0 || attempt > 0)
            holder.id = random_holder_id();
        if (try_lock(holder.conn, holder.id)) {
            snprintf(holder.id_text, sizeof holder.id_text, "%d", (int)holder.id);
            return true;
        }
    }
    PQfinish(holder.conn);
    holder.conn = NULL;
    return false;
}

/* This process's holder id as text (into out), or false when the holder
   session cannot be had (the database is unreachable). */
static bool holder_id(char out[12])
{
    pthread_mutex_lock(&holder.mu);
    bool ok = holder_ready_locked();
    if (ok)
        memcpy(out, holder.id_text, sizeof holder.id_text);
    pthread_mutex_unlock(&holder.mu);
    return ok;
}

void mc_idem_holder_start(const char *conninfo)
{
    pthread_mutex_lock(&holder.mu);
    free(holder.conninfo);
    holder.conninfo = strdup(conninfo);
    /* Connect now when the database is there; else at the first request. */
    holder_ready_locked();
    pthread_mutex_unlock(&holder.mu);
}

void mc_idem_holder_stop(void)
{
    pthread_mutex_lock(&holder.mu);
    if (holder.conn != NULL)
        PQfinish(holder.conn);
    holder.conn = NULL;
    free(holder.conninfo);
    holder.conninfo = NULL;
    pthread_mutex_unlock(&holder.mu);
}

/* ---------------------------------------------------------------- */
/* pure rules                                                        */

bool mc_idem_request_hash(const char *method, const char *path, const void *body, size_t body_len,
                          char out[65])
{
    /* Incremental: no copy of the body, so no allocation that could fail
       apart from the digest context itself, whose failure is reported. */
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    bool ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
              EVP_DigestUpdate(ctx, method, strlen(method)) == 1 &&
              EVP_DigestUpdate(ctx, "\n", 1) == 1 && EVP_DigestUpdate(ctx, path, strlen(path)) == 1 &&
              EVP_DigestUpdate(ctx, "\n", 1) == 1 &&
              (body_len == 0 || EVP_DigestUpdate(ctx, body, body_len) == 1) &&
              EVP_DigestFinal_ex(ctx, digest, &dlen) == 1 && dlen == 32;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return false;
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", digest[i]);
    return true;
}

bool mc_idem_status_pins_key(unsigned status)
{
    if (status >= 200 && status < 400)
        return true;
    switch (status) {
    case 400: /* malformed request */
    case 401: /* token missing or expired: sign in again */
    case 403: /* not allowed now (a role or an assignment may change) */
    case 404: /* not found yet (e.g. a resource still being created) */
    case 409: /* conflicts with the current state, which may change */
    case 412: /* stale If-Match: read again, retry */
    case 415: /* wrong content type */
    case 422: /* invalid fields, missing documents: fix and resubmit */
    case 428: /* If-Match missing */
    case 429: /* rate limited */
        return false;
    default:
        /* 5xx: the server failed, the client should retry; other 4xx
           (e.g. 410 Gone) are final. */
        return status < 500;
    }
}

/* ---------------------------------------------------------------- */
/* the store                                                         */

static char *dup_or_null(const PGresult *res, int col)
{
    return mc_db_is_null(res, 0, col) ? NULL : strdup(mc_db_text(res, 0, col));
}

enum mc_idem_outcome mc_idem_begin(mc_db_pool *db, const char *principal, const char *key,
                                   const char *method, const char *path, const char *request_hash,
                                   struct mc_idem_replay *replay)
{
    memset(replay, 0, sizeof *replay);
    char me[12];
    if (!holder_id(me))
        return MC_IDEM_ERROR;
    mc_db_conn *c;
    if (mc_db_acquire(db, &c) != MC_OK)
        return MC_IDEM_ERROR;
    enum mc_idem_outcome outcome = MC_IDEM_ERROR;
    const char *params[6] = {principal, key, method, path, request_hash, me};
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
    } else {
        /* Pending: is its holder (another process, or this one before a
           lost session) still alive? */
        const char *old_holder = mc_db_is_null(res, 0, 9) ? NULL : mc_db_text(res, 0, 9);
        bool dead = false;
        if (old_holder != NULL && strcmp(old_holder, me) != 0) {
            const char *check[1] = {old_holder};
            PGresult *d = mc_db_exec(c, &holder_is_dead, check);
            dead = d != NULL && PQntuples(d) == 1 && mc_db_bool(d, 0, 0);
            PQclear(d);
        }
        if (dead || mc_db_bool(res, 0, 8)) {
            const char *take[5] = {principal, key, me, old_holder, dead ? "true" : "false"};
            PGresult *taken = mc_db_exec(c, &take_over, take);
            outcome = taken != NULL && PQntuples(taken) == 1 ? MC_IDEM_PROCEED : MC_IDEM_IN_PROGRESS;
            PQclear(taken);
            if (outcome == MC_IDEM_PROCEED)
                mc_log(MC_LOG_INFO, NULL, "idempotency.taken_over", "a pending key of a %s holder was taken over",
                       dead ? "dead" : "stale");
        } else {
            outcome = MC_IDEM_IN_PROGRESS;
        }
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
