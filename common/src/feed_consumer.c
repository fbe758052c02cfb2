/*
 * The event feed consumer's loop (motcua/feed_consumer.h): the instance
 * lock, the HTTP reads and the transactions that apply a page together with
 * the position. Its SQL is here, on the consumer's own schema (common
 * migration 0005_feed_positions.sql).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "internal.h"
#include "motcua/feed_consumer.h"
#include "motcua/http_client.h"
#include "motcua/log.h"

#define PAGE_BYTES_MAX (32u * 1024u * 1024u)
#define BACKOFF_BASE_MS 200u

/* ------------------------------------------------------------------ */
/* statements                                                          */

/* The instance lock: a session advisory lock named after the schema and the
   feed. Held already (this session took it earlier) counts as held, without
   stacking it again; a session that was reopened after a drop has lost it
   and tries afresh. */
static const mc_db_statement claim_lock = {
    "common_feed_claim",
    "WITH k AS (SELECT hashtextextended(current_schema() || '.feed_consumer.' || $1, 0) AS key)"
    " SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'"
    "                          AND pid = pg_backend_pid() AND granted AND objsubid = 1"
    "                          AND classid = ((k.key >> 32) & 4294967295)::oid"
    "                          AND objid = (k.key & 4294967295)::oid)"
    "        THEN true ELSE pg_try_advisory_lock(k.key) END FROM k",
    1};
static const mc_db_statement release_lock = {
    "common_feed_release",
    "SELECT pg_advisory_unlock(hashtextextended(current_schema() || '.feed_consumer.' || $1, 0))", 1};
static const mc_db_statement position_ensure = {
    "common_feed_position_ensure",
    "INSERT INTO feed_positions (feed) VALUES ($1) ON CONFLICT (feed) DO NOTHING", 1};
static const mc_db_statement position_select = {
    "common_feed_position", "SELECT position FROM feed_positions WHERE feed = $1", 1};
static const mc_db_statement position_lock = {
    "common_feed_position_lock", "SELECT position FROM feed_positions WHERE feed = $1 FOR UPDATE", 1};
static const mc_db_statement position_update = {
    "common_feed_position_update",
    "UPDATE feed_positions SET position = $2::bigint, updated_at = now()"
    " WHERE feed = $1 AND position < $2::bigint",
    2};

/* ------------------------------------------------------------------ */
/* the consumer                                                        */

struct mc_feed_consumer {
    mc_feed_consumer_config cfg; /* strings point into the copies below */
    char *feed, *url, *type, *conninfo, *schema;
    mc_db_pool *lock_db; /* one connection: the instance lock's session */
    mc_db_conn *lock_conn;
    bool leading;
    long long position;
    unsigned failures;
    bool renew_token;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
};

static bool should_stop(mc_feed_consumer *c)
{
    pthread_mutex_lock(&c->mu);
    bool stop = c->stop;
    pthread_mutex_unlock(&c->mu);
    return stop;
}

/* Sleep `ms` unless stopped meanwhile. */
static void pause_ms(mc_feed_consumer *c, unsigned ms)
{
    struct timespec until;
    mc_monotonic_after_ms(&until, ms);
    pthread_mutex_lock(&c->mu);
    while (!c->stop && pthread_cond_timedwait(&c->cv, &c->mu, &until) == 0)
        ;
    pthread_mutex_unlock(&c->mu);
}

static void back_off(mc_feed_consumer *c, const char *what)
{
    c->failures++;
    unsigned random = 0;
    if (getrandom(&random, sizeof random, 0) != (ssize_t)sizeof random)
        random = (unsigned)time(NULL);
    unsigned wait = mc_feed_backoff_ms(c->failures, BACKOFF_BASE_MS, c->cfg.max_backoff_ms, random);
    if (c->failures == 1 || c->failures % 20 == 0)
        mc_log(MC_LOG_WARNING, NULL, "feed.consumer_failed",
               "feed %s: %s (failure %u, retrying in %u ms)", c->feed, what, c->failures, wait);
    pause_ms(c, wait);
}

/* Do we hold the instance lock? Takes it when free. On the way in, read the
   stored position: whoever consumed before may have moved it. */
static bool lead(mc_feed_consumer *c)
{
    if (c->lock_conn == NULL && mc_db_acquire(c->lock_db, &c->lock_conn) != MC_OK) {
        c->lock_conn = NULL;
        return false;
    }
    const char *params[1] = {c->feed};
    PGresult *res = mc_db_exec(c->lock_conn, &claim_lock, params);
    if (res == NULL) {
        /* The lock's session is gone (a database restart) and the lock with it:
           give the connection back, so the next try borrows it reconnected. */
        mc_db_release(c->lock_db, c->lock_conn);
        c->lock_conn = NULL;
    }
    bool held = res != NULL && PQntuples(res) == 1 && mc_db_bool(res, 0, 0);
    PQclear(res);
    if (held && !c->leading) {
        res = mc_db_exec(c->lock_conn, &position_ensure, params);
        bool ensured = res != NULL;
        PQclear(res);
        res = ensured ? mc_db_exec(c->lock_conn, &position_select, params) : NULL;
        held = res != NULL && PQntuples(res) == 1;
        if (held) {
            c->position = mc_db_int(res, 0, 0);
            mc_log(MC_LOG_INFO, NULL, "feed.consumer_leading", "feed %s: consuming from %lld", c->feed,
                   c->position);
        }
        PQclear(res);
    } else if (!held && c->leading) {
        mc_log(MC_LOG_WARNING, NULL, "feed.consumer_standby",
               "feed %s: another instance holds the feed; standing by", c->feed);
    }
    c->leading = held;
    return held;
}

struct page_tx {
    mc_feed_consumer *c;
    const mc_feed_page *page; /* NULL for a resync */
    long long oldest_after;   /* the resync's new position */
    long long position;       /* out: the stored position after the transaction */
    size_t applied;           /* out: events handed to apply */
};

/* Lock the position row; apply what is past it (or resync); move it. */
static mc_error page_tx_run(mc_db_conn *conn, void *ctx)
{
    struct page_tx *tx = ctx;
    mc_feed_consumer *c = tx->c;
    const char *params[2] = {c->feed, NULL};
    PGresult *res = mc_db_exec(conn, &position_lock, params);
    if (res == NULL)
        return mc_db_failure(conn);
    if (PQntuples(res) != 1) {
        PQclear(res);
        return MC_ERR_INTERNAL; /* the row is created before consuming starts */
    }
    long long stored = mc_db_int(res, 0, 0);
    PQclear(res);
    long long target = stored;
    mc_error rc = MC_OK;
    tx->applied = 0;
    if (tx->page != NULL) {
        json_t *fresh = mc_feed_events_after(tx->page->items, stored);
        tx->applied = json_array_size(fresh);
        if (tx->applied > 0)
            rc = c->cfg.apply(conn, fresh, c->cfg.ctx);
        json_decref(fresh);
        if (tx->page->next_after > target)
            target = tx->page->next_after;
    } else if (tx->oldest_after > stored) {
        rc = c->cfg.resync(conn, tx->oldest_after, c->cfg.ctx);
        target = tx->oldest_after;
    }
    if (rc != MC_OK)
        return rc;
    if (target > stored) {
        char text[24];
        snprintf(text, sizeof text, "%lld", target);
        params[1] = text;
        res = mc_db_exec(conn, &position_update, params);
        if (res == NULL)
            return mc_db_failure(conn);
        PQclear(res);
    }
    tx->position = target;
    return MC_OK;
}

/* Read one page at c->position and act on it. Returns the number of events
   on the page (so the loop knows whether to read on at once), or -1 after a
   failure it has already backed off from. */
static long consume_page(mc_feed_consumer *c)
{
    char url[2048];
    if (!mc_feed_page_url(url, sizeof url, c->url, c->position, c->cfg.page_limit, c->type)) {
        back_off(c, "the feed URL or type is not usable");
        return -1;
    }
    char token[MC_FEED_TOKEN_MAX];
    token[0] = '\0';
    if (c->cfg.token(c->cfg.ctx, c->renew_token, token, sizeof token) != MC_OK) {
        back_off(c, "no token from the token provider");
        return -1;
    }
    c->renew_token = false;
    struct mc_http_result http;
    mc_error rc = mc_http_get(url, NULL, token, c->cfg.http_timeout_s, PAGE_BYTES_MAX, &http);
    explicit_bzero(token, sizeof token);
    if (rc != MC_OK) {
        back_off(c, "the feed did not answer");
        return -1;
    }
    struct page_tx tx = {c, NULL, 0, c->position, 0};
    mc_feed_page page = {NULL, 0};
    long got = -1;
    if (http.status == 200 && mc_feed_page_parse(http.body, c->position, &page)) {
        tx.page = &page;
        got = (long)json_array_size(page.items);
    } else if (http.status == 410 &&
               (tx.oldest_after = mc_feed_expired_oldest_after(http.body, c->position)) > 0) {
        mc_log(MC_LOG_WARNING, NULL, "feed.position_expired",
               "feed %s: events after %lld are gone; resynchronising, then reading from %lld", c->feed,
               c->position, tx.oldest_after);
        got = 0;
    } else {
        if (http.status == 401)
            c->renew_token = true;
        char what[80];
        if (http.status == 200 || http.status == 410)
            snprintf(what, sizeof what, "the feed's %ld answer is not what a feed sends", http.status);
        else
            snprintf(what, sizeof what, "the feed answered %ld", http.status);
        mc_http_result_free(&http);
        back_off(c, what);
        return -1;
    }
    mc_http_result_free(&http);
    if (tx.page != NULL && got == 0) { /* caught up: nothing to apply or store */
        mc_feed_page_clear(&page);
        c->failures = 0;
        return 0;
    }
    rc = mc_db_transaction(c->cfg.db, NULL, page_tx_run, &tx);
    mc_feed_page_clear(&page);
    if (rc != MC_OK) {
        back_off(c, "applying the page failed");
        return -1;
    }
    c->position = tx.position;
    c->failures = 0;
    return got;
}

static void *consumer_main(void *arg)
{
    mc_feed_consumer *c = arg;
    while (!should_stop(c)) {
        if (!lead(c)) {
            pause_ms(c, c->cfg.poll_ms);
            continue;
        }
        long got = consume_page(c);
        /* A full page means more is waiting: read on at once. */
        if (got >= 0 && (unsigned long)got < c->cfg.page_limit)
            pause_ms(c, c->cfg.poll_ms);
    }
    if (c->lock_conn != NULL) {
        if (c->leading) {
            const char *params[1] = {c->feed};
            PQclear(mc_db_exec(c->lock_conn, &release_lock, params));
        }
        mc_db_release(c->lock_db, c->lock_conn);
        c->lock_conn = NULL;
    }
    return NULL;
}

static void consumer_free(mc_feed_consumer *c)
{
    mc_db_pool_free(c->lock_db);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c->feed);
    free(c->url);
    free(c->type);
    free(c->conninfo);
    free(c->schema);
    free(c);
}

static char *copy_or_null(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

mc_feed_consumer *mc_feed_consumer_start(const mc_feed_consumer_config *cfg)
{
    if (cfg->feed == NULL || cfg->url == NULL || cfg->db == NULL || cfg->conninfo == NULL ||
        cfg->schema == NULL || cfg->token == NULL || cfg->apply == NULL || cfg->resync == NULL ||
        cfg->page_limit > 1000)
        return NULL;
    mc_feed_consumer *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    if (!mc_cond_init_monotonic(&c->cv)) {
        free(c);
        return NULL;
    }
    pthread_mutex_init(&c->mu, NULL);
    c->cfg = *cfg;
    c->feed = strdup(cfg->feed);
    c->url = strdup(cfg->url);
    c->type = copy_or_null(cfg->type);
    c->conninfo = strdup(cfg->conninfo);
    c->schema = strdup(cfg->schema);
    if (c->cfg.page_limit == 0)
        c->cfg.page_limit = 100;
    if (c->cfg.poll_ms == 0)
        c->cfg.poll_ms = 1000;
    if (c->cfg.max_backoff_ms == 0)
        c->cfg.max_backoff_ms = 30000;
    if (c->cfg.http_timeout_s == 0)
        c->cfg.http_timeout_s = 10;
    mc_db_pool_config pool = {c->conninfo, c->schema, 1, 5000, 10000};
    if (c->feed == NULL || c->url == NULL || (cfg->type != NULL && c->type == NULL) ||
        c->conninfo == NULL || c->schema == NULL || (c->lock_db = mc_db_pool_new(&pool)) == NULL) {
        consumer_free(c);
        return NULL;
    }
    if (pthread_create(&c->thread, NULL, consumer_main, c) != 0) {
        consumer_free(c);
        return NULL;
    }
    return c;
}

void mc_feed_consumer_stop(mc_feed_consumer *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->mu);
    c->stop = true;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    consumer_free(c);
}
