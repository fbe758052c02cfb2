/*
 * The outbox relay (motcua/events.h): one thread per service instance.
 *
 * Each pass takes a transaction-scoped advisory lock (so the instances of a
 * service relay one at a time), numbers up to RELAY_BATCH unpublished
 * committed events after the highest published_seq, in outbox order, hands
 * them to the transport and commits. An event whose producer commits late
 * (lower seq, later commit) is simply numbered by a later pass: a feed
 * position never skips a committed event.
 *
 * Between passes the thread sleeps until a writer in this process wakes it
 * after its commit (mc_events_after_commit) or the poll interval passes. It
 * drains before sleeping, and commits that land during a pass cause exactly
 * one more pass: wake-ups coalesce, so a busy service runs relay passes back
 * to back, each publishing what has committed meanwhile. Events written by
 * another instance of the service are relayed by that instance's own relay;
 * the poll catches anything else (a writer whose relay is not running).
 * There is no LISTEN/NOTIFY: see mc_events_after_commit (events.c). The
 * relay has a database connection of its own, so a busy service's request
 * threads, which keep its pool's connections taken, do not delay it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "motcua/events.h"
#include "motcua/log.h"
#include "motcua/metrics.h"

#define RELAY_BATCH "500"

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

/* The unpublished events, for /metrics (served by outbox_unpublished): how
   many, and the age in seconds of the oldest. */
static const mc_db_statement relay_backlog = {
    "common_outbox_relay_backlog",
    "SELECT count(*), coalesce(floor(extract(epoch FROM now() - min(time))), 0)::bigint"
    " FROM outbox WHERE published_seq IS NULL",
    0};
#define BACKLOG_INTERVAL_S 15

struct relay_metrics {
    mc_metric *published, *last_pass, *unpublished, *oldest_age;
};

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
    const mc_event_transport *transport = mc_events_transport();
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
            json_t *ev = mc_event_from_row(res, r);
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

static mc_error relay_backlog_fn(mc_db_conn *conn, void *ctx)
{
    struct relay_metrics *m = ctx;
    PGresult *res = mc_db_exec(conn, &relay_backlog, NULL);
    if (res == NULL)
        return mc_db_last_error(conn);
    if (PQntuples(res) == 1) {
        mc_metric_set(m->unpublished, mc_db_int(res, 0, 0));
        mc_metric_set(m->oldest_age, mc_db_int(res, 0, 1));
    }
    PQclear(res);
    return MC_OK;
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
    unsigned poll_ms;
    unsigned retention_days;
    unsigned prune_interval_s;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool wake;    /* a commit wrote events since the last pass began */
    bool stop;
    bool running; /* guarded by mu: writers' threads read it in mc_events_relay_wake */
};

static struct relay relay_state = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

void mc_events_relay_wake(void)
{
    struct relay *r = &relay_state;
    pthread_mutex_lock(&r->mu);
    if (r->running && !r->wake) {
        r->wake = true;
        pthread_cond_signal(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
}

static bool relay_should_stop(struct relay *r)
{
    pthread_mutex_lock(&r->mu);
    bool stop = r->stop;
    pthread_mutex_unlock(&r->mu);
    return stop;
}

/* Sleep until a writer's commit wakes the relay, the poll interval passes or
   the relay is stopped. Clears the wake-up: a commit during the coming pass
   sets it again, so its events are never left for the poll. */
static void relay_wait(struct relay *r)
{
    struct timespec until;
    mc_monotonic_after_ms(&until, r->poll_ms);
    pthread_mutex_lock(&r->mu);
    while (!r->stop && !r->wake) {
        if (pthread_cond_timedwait(&r->cv, &r->mu, &until) == ETIMEDOUT)
            break;
    }
    r->wake = false;
    pthread_mutex_unlock(&r->mu);
}

static void *relay_main(void *arg)
{
    struct relay *r = arg;
    long failures = 0;
    struct timespec last_prune = {0, 0}, last_backlog = {0, 0};
    struct relay_metrics metrics = {
        mc_metric_counter("motcua_outbox_published_total",
                          "Outbox events this instance's relay published.", NULL),
        mc_metric_gauge("motcua_outbox_relay_last_pass_timestamp_seconds",
                        "When this instance's relay last finished a pass without error.", NULL),
        mc_metric_gauge("motcua_outbox_unpublished_events",
                        "Committed outbox events not yet published (read every 15 s).", NULL),
        mc_metric_gauge("motcua_outbox_oldest_unpublished_age_seconds",
                        "Age of the oldest unpublished outbox event (read every 15 s).", NULL)};
    while (!relay_should_stop(r)) {
        struct timespec now_mono;
        clock_gettime(CLOCK_MONOTONIC, &now_mono);
        if (last_backlog.tv_sec == 0 || now_mono.tv_sec - last_backlog.tv_sec >= BACKLOG_INTERVAL_S) {
            last_backlog = now_mono;
            mc_db_with_conn(r->db, relay_backlog_fn, &metrics);
        }
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
            if (n > 0)
                mc_metric_add(metrics.published, (unsigned long long)n);
        } while (n >= atol(RELAY_BATCH) && !relay_should_stop(r));
        if (n >= 0)
            mc_metric_set(metrics.last_pass, (long long)time(NULL));
        if (n < 0) {
            if (failures++ % 60 == 0)
                mc_log(MC_LOG_WARNING, NULL, "events.relay_failed",
                       "could not publish outbox events; retrying");
        } else {
            failures = 0;
        }
        relay_wait(r);
    }
    return NULL;
}

mc_error mc_events_relay_start(const mc_db_pool_config *db_cfg, unsigned poll_ms, unsigned retention_days,
                               unsigned prune_interval_s)
{
    struct relay *r = &relay_state;
    mc_db_pool_config own = *db_cfg;
    own.size = 1;
    mc_db_pool *db = mc_db_pool_new(&own);
    if (db == NULL)
        return MC_ERR_INTERNAL;
    if (!mc_cond_init_monotonic(&r->cv)) {
        mc_db_pool_free(db);
        return MC_ERR_INTERNAL;
    }
    r->db = db;
    r->poll_ms = poll_ms;
    r->retention_days = retention_days;
    r->prune_interval_s = prune_interval_s;
    pthread_mutex_lock(&r->mu);
    r->stop = false;
    r->wake = false;
    r->running = true;
    pthread_mutex_unlock(&r->mu);
    if (pthread_create(&r->thread, NULL, relay_main, r) != 0) {
        pthread_mutex_lock(&r->mu);
        r->running = false;
        pthread_mutex_unlock(&r->mu);
        mc_db_pool_free(db);
        r->db = NULL;
        return MC_ERR_INTERNAL;
    }
    return MC_OK;
}

void mc_events_relay_stop(void)
{
    struct relay *r = &relay_state;
    pthread_mutex_lock(&r->mu);
    bool running = r->running;
    r->stop = true;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    if (!running)
        return;
    pthread_join(r->thread, NULL);
    pthread_mutex_lock(&r->mu);
    r->running = false;
    pthread_mutex_unlock(&r->mu);
    mc_db_pool_free(r->db);
    r->db = NULL;
}
