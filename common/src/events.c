/*
 * The transactional outbox, its relay and the PostgreSQL event feed
 * (motcua/events.h). The outbox table is common's migration
 * 0002_outbox.sql, present in every service's schema.
 *
 * Relay: one thread per service instance. Each pass takes a transaction-
 * scoped advisory lock (so the instances of a service relay one at a time),
 * numbers up to RELAY_BATCH unpublished committed events after the highest
 * published_seq, in outbox order, hands them to the transport and commits.
 * An event whose producer commits late (lower seq, later commit) is simply
 * numbered by a later pass: a feed position never skips a committed event.
 * The thread sleeps on a LISTEN connection (producers NOTIFY in their
 * transaction, delivered at commit) with a poll interval as the fallback.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "motcua/events.h"
#include "motcua/json_spec.h"
#include "motcua/log.h"

#define RELAY_BATCH "500"
#define FEED_DEFAULT_LIMIT 100
#define FEED_MAX_LIMIT 1000

static char event_source[96] = "/motcua";
/* Every service NOTIFYs one fixed channel with its name as the payload (the
   channel is then a literal in LISTEN: no SQL is built from a name). A wake-up
   meant for another service only costs a relay pass that finds nothing. */
static char notify_payload[80] = "";
static const mc_event_transport *transport;

/* ------------------------------------------------------------------ */
/* statements                                                          */

static const mc_db_statement insert_event = {
    "common_outbox_insert",
    "INSERT INTO outbox (type, source, subject, data) VALUES ($1, $2, $3, $4::jsonb)"
    " RETURNING id, pg_notify('motcua_outbox', $5)",
    5};
static const mc_db_statement relay_lock = {
    "common_outbox_relay_lock",
    "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.outbox_relay'))", 0};
static const mc_db_statement relay_number = {
    "common_outbox_relay_number",
    "WITH base AS (SELECT greatest(coalesce(max(published_seq), 0),"
    "                      (SELECT pruned_through FROM outbox_horizon)) AS b FROM outbox),"
    " batch AS (SELECT seq, row_number() OVER (ORDER BY seq) AS rn FROM outbox"
    "           WHERE published_seq IS NULL ORDER BY seq LIMIT " RELAY_BATCH ")"
    " UPDATE outbox o SET published_seq = base.b + batch.rn, published_at = clock_timestamp()"
    " FROM base, batch WHERE o.seq = batch.seq"
    " RETURNING o.published_seq, o.id, o.type, o.source, o.subject,"
    " to_char(o.time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), o.data::text",
    0};
static const mc_db_statement feed_select = {
    "common_outbox_feed",
    "SELECT published_seq, id, type, source, subject,"
    " to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), data::text"
    " FROM outbox WHERE published_seq > $1::bigint AND ($3::text IS NULL OR type = $3)"
    " ORDER BY published_seq LIMIT $2::integer",
    3};

/* Retention: delete up to PRUNE_BATCH published events older than $1 days,
   oldest first (by published_seq, which follows published_at), and move the
   horizon to the last one deleted. With nothing old enough, `cut` has no row
   and nothing is deleted (least() would ignore a NULL bound). Runs under the
   relay lock. */
#define PRUNE_BATCH "5000"
static const mc_db_statement prune = {
    "common_outbox_prune",
    "WITH cut AS (SELECT least(o.published_seq, h.pruned_through + " PRUNE_BATCH ") AS upto"
    "             FROM (SELECT published_seq FROM outbox"
    "                   WHERE published_seq IS NOT NULL"
    "                     AND published_at < now() - make_interval(days => $1::integer)"
    "                   ORDER BY published_at DESC LIMIT 1) o, outbox_horizon h),"
    " gone AS (DELETE FROM outbox o USING cut WHERE o.published_seq <= cut.upto"
    "          RETURNING o.published_seq)"
    " UPDATE outbox_horizon SET pruned_through = greatest(pruned_through, g.last)"
    " FROM (SELECT max(published_seq) AS last, count(*) AS n FROM gone) g"
    " WHERE g.n > 0 RETURNING g.n",
    1};
static const mc_db_statement horizon_select = {
    "common_outbox_horizon", "SELECT pruned_through FROM outbox_horizon", 0};

/* ------------------------------------------------------------------ */
/* producing                                                           */

void mc_events_init_service(const char *service_name)
{
    snprintf(event_source, sizeof event_source, "/motcua/%s", service_name);
    snprintf(notify_payload, sizeof notify_payload, "%s", service_name);
}

void mc_events_set_transport(const mc_event_transport *t)
{
    transport = t;
}

mc_error mc_event_add(mc_db_conn *conn, const char *type, const char *subject, const json_t *data,
                      char id_out[37])
{
    char *text = json_dumps(data, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (text == NULL)
        return MC_ERR_INTERNAL;
    const char *params[5] = {type, event_source, subject, text, notify_payload};
    PGresult *res = mc_db_exec(conn, &insert_event, params);
    free(text);
    if (res == NULL)
        return mc_db_last_error(conn);
    if (id_out != NULL)
        snprintf(id_out, 37, "%s", mc_db_text(res, 0, 0));
    PQclear(res);
    return MC_OK;
}

/* A CloudEvent from a row (published_seq, id, type, source, subject, time,
   data). Returns a new reference, NULL when the stored data is not JSON. */
static json_t *event_from_row(const PGresult *res, int r)
{
    json_t *data = json_loads(mc_db_text(res, r, 6), 0, NULL);
    if (data == NULL)
        return NULL;
    return json_pack("{ss ss ss ss ss ss ss so ss}", "specversion", "1.0", "id",
                     mc_db_text(res, r, 1), "type", mc_db_text(res, r, 2), "source",
                     mc_db_text(res, r, 3), "subject", mc_db_text(res, r, 4), "time",
                     mc_db_text(res, r, 5), "datacontenttype", "application/json", "data", data,
                     "sequence", mc_db_text(res, r, 0));
}

/* ------------------------------------------------------------------ */
/* relaying                                                            */

struct relay_pass {
    long published;
};

static mc_error relay_pass_tx(mc_db_conn *conn, void *ctx)
{
    struct relay_pass *pass = ctx;
    PGresult *res = mc_db_exec(conn, &relay_lock, NULL);
    if (res == NULL)
        return mc_db_last_error(conn);
    PQclear(res);
    res = mc_db_exec(conn, &relay_number, NULL);
    if (res == NULL)
        return mc_db_last_error(conn);
    int n = PQntuples(res);
    mc_error rc = MC_OK;
    if (n > 0 && transport != NULL && transport->deliver != NULL) {
        /* RETURNING has no order; the numbers are first..first+n-1, so each
           row's place in the batch is its number minus the smallest. */
        long long first = mc_db_int(res, 0, 0);
        for (int r = 1; r < n; r++)
            if (mc_db_int(res, r, 0) < first)
                first = mc_db_int(res, r, 0);
        json_t *batch = json_array();
        for (int r = 0; r < n; r++)
            json_array_append_new(batch, json_null());
        for (int r = 0; r < n; r++) {
            json_t *ev = event_from_row(res, r);
            long long at = mc_db_int(res, r, 0) - first;
            if (ev == NULL || at < 0 || at >= n)
                json_decref(ev);
            else
                json_array_set_new(batch, (size_t)at, ev);
        }
        rc = transport->deliver(transport->state, conn, batch);
        json_decref(batch);
    }
    PQclear(res);
    pass->published = n;
    return rc;
}

long mc_events_relay_once(mc_db_pool *db)
{
    struct relay_pass pass = {0};
    mc_error rc = mc_db_transaction(db, NULL, relay_pass_tx, &pass);
    return rc == MC_OK ? pass.published : -1;
}

struct prune_pass {
    unsigned retention_days;
    long deleted;
};

static mc_error prune_tx(mc_db_conn *conn, void *ctx)
{
    struct prune_pass *pass = ctx;
    PGresult *res = mc_db_exec(conn, &relay_lock, NULL);
    if (res == NULL)
        return mc_db_last_error(conn);
    PQclear(res);
    char days[12];
    snprintf(days, sizeof days, "%u", pass->retention_days);
    const char *params[1] = {days};
    res = mc_db_exec(conn, &prune, params);
    if (res == NULL)
        return mc_db_last_error(conn);
    pass->deleted = PQntuples(res) > 0 ? (long)mc_db_int(res, 0, 0) : 0;
    PQclear(res);
    return MC_OK;
}

long mc_events_prune_once(mc_db_pool *db, unsigned retention_days)
{
    if (retention_days == 0)
        return 0;
    long total = 0;
    for (;;) {
        struct prune_pass pass = {retention_days, 0};
        if (mc_db_transaction(db, NULL, prune_tx, &pass) != MC_OK)
            return -1;
        total += pass.deleted;
        /* Short transactions: the relay lock is not held across batches. */
        if (pass.deleted < atol(PRUNE_BATCH))
            return total;
    }
}

struct relay {
    pthread_t thread;
    mc_db_pool *db;
    char *conninfo;
    unsigned poll_ms;
    unsigned retention_days;
    unsigned prune_interval_s;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    bool running;
};

static struct relay relay_state = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

/* A LISTEN connection, or NULL when the database is not reachable now. */
static PGconn *listen_connect(const char *conninfo)
{
    PGconn *pg = PQconnectdb(conninfo);
    if (pg == NULL || PQstatus(pg) != CONNECTION_OK) {
        PQfinish(pg);
        return NULL;
    }
    PGresult *res = PQexec(pg, "LISTEN motcua_outbox");
    bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    if (!ok) {
        PQfinish(pg);
        return NULL;
    }
    return pg;
}

static bool relay_should_stop(struct relay *r)
{
    pthread_mutex_lock(&r->mu);
    bool stop = r->stop;
    pthread_mutex_unlock(&r->mu);
    return stop;
}

static void *relay_main(void *arg)
{
    struct relay *r = arg;
    PGconn *listen = NULL;
    long failures = 0;
    struct timespec last_prune = {0, 0};
    while (!relay_should_stop(r)) {
        struct timespec now_mono;
        clock_gettime(CLOCK_MONOTONIC, &now_mono);
        if (r->retention_days > 0 &&
            (last_prune.tv_sec == 0 || now_mono.tv_sec - last_prune.tv_sec >= (time_t)r->prune_interval_s)) {
            last_prune = now_mono;
            long pruned = mc_events_prune_once(r->db, r->retention_days);
            if (pruned > 0)
                mc_log(MC_LOG_INFO, NULL, "events.pruned", "deleted %ld published events older than %u days",
                       pruned, r->retention_days);
            else if (pruned < 0)
                mc_log(MC_LOG_WARNING, NULL, "events.prune_failed",
                       "could not delete expired outbox events; will retry");
        }
        long n;
        /* Drain: full batches mean more is waiting. */
        do {
            n = mc_events_relay_once(r->db);
        } while (n >= atol(RELAY_BATCH) && !relay_should_stop(r));
        if (n < 0) {
            if (failures++ % 60 == 0)
                mc_log(MC_LOG_WARNING, NULL, "events.relay_failed",
                       "could not publish outbox events; retrying");
        } else {
            failures = 0;
        }
        if (listen == NULL)
            listen = listen_connect(r->conninfo);
        if (listen != NULL) {
            struct pollfd pfd = {.fd = PQsocket(listen), .events = POLLIN};
            int ready = poll(&pfd, 1, (int)r->poll_ms);
            if (ready > 0) {
                if (!PQconsumeInput(listen)) {
                    PQfinish(listen);
                    listen = NULL;
                    continue;
                }
                PGnotify *note;
                while ((note = PQnotifies(listen)) != NULL)
                    PQfreemem(note);
            }
        } else {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += (long)(r->poll_ms % 1000) * 1000000L;
            until.tv_sec += r->poll_ms / 1000 + until.tv_nsec / 1000000000L;
            until.tv_nsec %= 1000000000L;
            pthread_mutex_lock(&r->mu);
            if (!r->stop)
                pthread_cond_timedwait(&r->cv, &r->mu, &until);
            pthread_mutex_unlock(&r->mu);
        }
    }
    PQfinish(listen);
    return NULL;
}

mc_error mc_events_relay_start(mc_db_pool *db, const char *conninfo, unsigned poll_ms,
                               unsigned retention_days, unsigned prune_interval_s)
{
    struct relay *r = &relay_state;
    r->db = db;
    r->conninfo = strdup(conninfo);
    r->poll_ms = poll_ms;
    r->retention_days = retention_days;
    r->prune_interval_s = prune_interval_s;
    r->stop = false;
    if (r->conninfo == NULL || pthread_create(&r->thread, NULL, relay_main, r) != 0) {
        free(r->conninfo);
        r->conninfo = NULL;
        return MC_ERR_INTERNAL;
    }
    r->running = true;
    return MC_OK;
}

void mc_events_relay_stop(void)
{
    struct relay *r = &relay_state;
    if (!r->running)
        return;
    pthread_mutex_lock(&r->mu);
    r->stop = true;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    free(r->conninfo);
    r->conninfo = NULL;
    r->running = false;
}

/* ------------------------------------------------------------------ */
/* the feed                                                            */

struct feed_query {
    const char *after;
    const char *limit;
    const char *type;
    json_t *items;
    long long last;
    long long horizon;
};

/* The page, then the horizon, each in its own snapshot: the horizon only
   grows, so if it is not past `after` when read after the page, it was not
   when the page was read, and the page misses nothing. If it is, the answer is
   410 (the page may have been complete; telling is the safe side). */
static mc_error feed_tx(mc_db_conn *conn, void *ctx)
{
    struct feed_query *q = ctx;
    long long after = q->last;
    const char *params[3] = {q->after, q->limit, q->type};
    PGresult *res = mc_db_exec(conn, &feed_select, params);
    if (res == NULL)
        return mc_db_last_error(conn);
    for (int r = 0; r < PQntuples(res); r++) {
        json_t *ev = event_from_row(res, r);
        if (ev != NULL)
            json_array_append_new(q->items, ev);
        q->last = mc_db_int(res, r, 0);
    }
    PQclear(res);
    res = mc_db_exec(conn, &horizon_select, NULL);
    if (res == NULL)
        return mc_db_last_error(conn);
    q->horizon = PQntuples(res) > 0 ? mc_db_int(res, 0, 0) : 0;
    PQclear(res);
    return after < q->horizon ? MC_ERR_EVENTS_POSITION_EXPIRED : MC_OK;
}

void mc_handle_event_feed(mc_request *req)
{
    json_t *errors = mc_errors_new();
    const char *after_text = mc_query_str(req, "after", 20, errors);
    long long after = 0;
    if (after_text != NULL) {
        char *end = NULL;
        errno = 0;
        after = strtoll(after_text, &end, 10);
        if (errno != 0 || end == after_text || *end != '\0' || after < 0 || after_text[0] == '+' ||
            after_text[0] == '-')
            mc_errors_add_param(errors, "after", "invalid",
                                "must be a published sequence number (an integer >= 0)");
    }
    unsigned limit = FEED_DEFAULT_LIMIT;
    bool present = false;
    mc_query_uint(req, "limit", 1, FEED_MAX_LIMIT, &limit, &present, errors);
    const char *type = mc_query_str(req, "type", 200, errors);
    if (json_array_size(errors) > 0) {
        mc_reply_errors(req, MC_ERR_BAD_QUERY, errors);
        return;
    }
    json_decref(errors);
    char after_buf[24], limit_buf[12];
    snprintf(after_buf, sizeof after_buf, "%lld", after);
    snprintf(limit_buf, sizeof limit_buf, "%u", limit);
    struct feed_query q = {after_buf, limit_buf, type, json_array(), after, 0};
    mc_error rc = mc_db_with_conn(mc_request_db(req), feed_tx, &q);
    if (rc == MC_ERR_EVENTS_POSITION_EXPIRED) {
        json_decref(q.items);
        char detail[160];
        snprintf(detail, sizeof detail,
                 "events up to %lld are past their retention; resynchronise, then read from after=%lld",
                 q.horizon, q.horizon);
        mc_reply_problem(req, rc, detail, json_pack("{sI}", "oldest_after", (json_int_t)q.horizon));
        return;
    }
    if (rc != MC_OK) {
        json_decref(q.items);
        mc_reply_error(req, rc, NULL);
        return;
    }
    mc_set_header(req, "Cache-Control", "no-store");
    mc_reply_json(req, 200, json_pack("{so sI}", "items", q.items, "next_after", (json_int_t)q.last));
}
