/*
 * The event feed consumer: how a service (tracking, payment, statistics)
 * reads another service's event feed (GET /api/v1/events/<service>?after=N,
 * motcua/events.h) into its own database. The contract for service authors
 * is docs/architecture.md, "Consuming an event feed".
 *
 * One thread per consumer. It reads a page of the feed over HTTP with a
 * bearer token from the caller's token provider and hands the page's events
 * to the caller's `apply` callback inside ONE transaction of the consumer's
 * own database; the same transaction moves the feed's position in the
 * consumer's `feed_positions` table (common migration 0005), so an effect
 * and the position that records it commit or roll back together: a crash
 * never loses or doubles an effect.
 *
 * Idempotency is the position check: the transaction locks the feed's
 * position row (FOR UPDATE) and hands `apply` only the events after the
 * stored position. An event is therefore applied exactly once to the
 * consumer's database, whatever the feed's at-least-once delivery, a restart
 * or a second instance does. (Effects outside that database, an SMS say,
 * must be made idempotent by event id by the callback itself.)
 *
 * Several instances may run the same consumer: the one holding a session
 * advisory lock on the feed (on its own connection) consumes, the others
 * stand by, retry the lock every poll interval, and one of them takes over
 * when the consuming instance dies (its session ends, the lock goes with it).
 * The position row lock above keeps even a brief overlap correct.
 *
 * A feed position behind the producer's retention (410
 * events.position_expired) calls `resync`, in a transaction that then moves
 * the position to the feed's `oldest_after`, and consuming continues there.
 * Failures (the producer unreachable, 5xx, 401, a bad page, a failing
 * callback) are retried with exponential back-off; the same page is offered
 * again, so `apply` must not fail forever on one event (record what cannot be
 * applied and return MC_OK instead).
 */
#ifndef MOTCUA_FEED_CONSUMER_H
#define MOTCUA_FEED_CONSUMER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "motcua/db.h"
#include "motcua/error.h"

/* Largest bearer token a provider may return, with its NUL. */
#define MC_FEED_TOKEN_MAX 8192

/* Writes a bearer token (a machine client's access token) into out, NUL
   terminated, and returns MC_OK; anything else is a failure the consumer
   backs off from. `renew` is true after the feed answered 401: the cached
   token, if any, is no good. Called from the consumer's thread. */
typedef mc_error (*mc_feed_token_fn)(void *ctx, bool renew, char *out, size_t out_len);

/* Applies `events` (a non-empty JSON array of CloudEvents in feed order,
   each with `sequence`, borrowed) inside the consumer's open transaction on
   `conn`. MC_OK commits them with the new position; MC_ERR_DB_RETRY retries
   the transaction; anything else rolls back and the page is offered again
   after a back-off. */
typedef mc_error (*mc_feed_apply_fn)(mc_db_conn *conn, const json_t *events, void *ctx);

/* The events up to `oldest_after` are gone from the feed: rebuild what the
   consumer keeps from the producer's resources (or record the gap), inside
   the consumer's open transaction on `conn`; the position then moves to
   oldest_after. Return values as for mc_feed_apply_fn. */
typedef mc_error (*mc_feed_resync_fn)(mc_db_conn *conn, long long oldest_after, void *ctx);

typedef struct mc_feed_consumer_config {
    const char *feed;          /* the position's name in feed_positions, e.g. "dossier" */
    const char *url;           /* the feed, e.g. "http://gateway/api/v1/events/dossier" */
    const char *type;          /* only this event type (the feed's ?type=), or NULL for all */
    mc_db_pool *db;            /* the consumer's database: apply and resync run here */
    const char *conninfo;      /* the same database, for the instance lock's own session */
    const char *schema;        /* the consumer's schema (search_path of that session) */
    unsigned page_limit;       /* events per page, 1..1000 (0: 100) */
    unsigned poll_ms;          /* wait when caught up, and a stand-by's lock retry (0: 1000) */
    unsigned max_backoff_ms;   /* ceiling of the back-off after failures (0: 30000) */
    unsigned http_timeout_s;   /* per request (0: 10) */
    mc_feed_token_fn token;    /* required */
    mc_feed_apply_fn apply;    /* required */
    mc_feed_resync_fn resync;  /* required */
    void *ctx;                 /* passed to the three callbacks */
} mc_feed_consumer_config;

typedef struct mc_feed_consumer mc_feed_consumer;

/* Start the consumer's thread (strings in cfg are copied). Returns NULL when
   a required field is missing or the thread cannot start. The database is
   reached lazily: a consumer started while it is down waits and retries. */
mc_feed_consumer *mc_feed_consumer_start(const mc_feed_consumer_config *cfg);

/* Stop it: waits for the page in hand (at most one HTTP timeout and one
   transaction), releases the instance lock, frees everything. NULL is a no-op. */
void mc_feed_consumer_stop(mc_feed_consumer *consumer);

/* ---- Pure parts (feed_page.c), exposed for tests ---- */

/* A page of the feed, parsed and checked. */
typedef struct mc_feed_page {
    json_t *items;        /* new reference: the events, sequences strictly increasing, all > after */
    long long next_after; /* the position after this page */
} mc_feed_page;

/* Parse a 200 answer to ?after=`after`. Checks the shape the consumer relies
   on: items an array of objects with a decimal `sequence` and an `id`,
   sequences increasing and past `after`, next_after an integer equal to the
   last sequence (or to `after` when there are none). Returns false (and no
   reference) otherwise. */
bool mc_feed_page_parse(const char *body, long long after, mc_feed_page *out);
void mc_feed_page_clear(mc_feed_page *page);

/* The `oldest_after` of a 410 events.position_expired problem, or -1 when
   the body is not one (or does not move the position forward of `after`). */
long long mc_feed_expired_oldest_after(const char *body, long long after);

/* The events of `items` whose sequence is greater than `position` (a new
   array, borrowed elements increffed; possibly empty). For the transaction's
   position check. */
json_t *mc_feed_events_after(const json_t *items, long long position);

/* The feed URL for a page: base?after=N&limit=L[&type=T]. False when it does
   not fit `len` or `type` holds a character other than [A-Za-z0-9._-]. */
bool mc_feed_page_url(char *out, size_t len, const char *base, long long after, unsigned limit,
                      const char *type);

/* The wait after `failures` consecutive failures (>= 1): base_ms doubled per
   failure, capped at max_ms, then scaled by a jitter factor in [0.5, 1.0)
   taken from `random` (any 32-bit value), so instances do not retry in step. */
unsigned mc_feed_backoff_ms(unsigned failures, unsigned base_ms, unsigned max_ms, unsigned random);

#endif
