/*
 * Declarations shared between libmotcua's own files (not for services).
 */
#ifndef MOTCUA_INTERNAL_H
#define MOTCUA_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "motcua/db.h"
#include "motcua/events.h"
#include "motcua/http.h"
#include "motcua/server.h"

/* ---- Client addresses (net_address.c) ---- */
struct sockaddr;
#define MC_MAX_CIDRS 32
struct mc_cidr {
    unsigned char bytes[16]; /* IPv4 as ::ffff:a.b.c.d */
    unsigned prefix_bits;    /* of the 128 */
};
struct mc_cidr_list {
    size_t n;
    struct mc_cidr items[MC_MAX_CIDRS];
};
/* Parse "10.0.0.0/8, 127.0.0.1 ::1" (commas or spaces; a bare address is
   /32 or /128). False with the bad item copied into bad. */
bool mc_cidr_list_parse(const char *text, struct mc_cidr_list *out, char *bad, size_t bad_len);
bool mc_cidr_list_contains(const struct mc_cidr_list *list, const struct sockaddr *sa);
/* The address as text ("127.0.0.2", "::1"); false for other families. */
bool mc_sockaddr_text(const struct sockaddr *sa, char *out, size_t out_len);

/* Connections per client address: trusted proxies (the gateway) are not
   counted; every other address may hold per_client connections, and all of
   them together untrusted_max, so the rest stays for the proxies. */
enum mc_admission {
    MC_ADMIT_TRUSTED, /* admitted, not counted */
    MC_ADMIT_COUNTED, /* admitted: call mc_conn_release when it closes */
    MC_ADMIT_REFUSED, /* over a limit: close it at once */
};
struct mc_conn_admission;
struct mc_conn_admission *mc_conn_admission_new(const struct mc_cidr_list *trusted, unsigned per_client,
                                                unsigned untrusted_max);
void mc_conn_admission_free(struct mc_conn_admission *a);
enum mc_admission mc_conn_admit(struct mc_conn_admission *a, const struct sockaddr *sa);
void mc_conn_release(struct mc_conn_admission *a, const struct sockaddr *sa);

struct mc_app {
    const struct mc_service *svc;
    mc_db_pool *db;
    mc_auth_verifier *auth;
    void *ctx;
    size_t max_body_bytes;
    size_t max_upload_bytes;
    size_t expected_migrations;
    struct mc_metrics *metrics;
    struct mc_response_cache *cache; /* NULL when off */
    /* Drops `cache` on other instances' writes; NULL when the cache is off or
       no route is cacheable (then writes notify nobody either). */
    struct mc_cache_listener *cache_listener;
    const char *jwks_url;            /* NULL unless MOTCUA_JWKS_URL */
    pthread_mutex_t jwks_mu;         /* serialises refreshes */
    long long jwks_fetched_at;       /* monotonic seconds of the last attempt */
    const struct mc_cidr_list *trusted_proxies; /* whose X-Real-IP is believed */
};

/* The CLOCK_MONOTONIC time `ms` from now, for pthread_cond_timedwait on a
   condition variable set to that clock. */
static inline void mc_monotonic_after_ms(struct timespec *out, unsigned ms)
{
    clock_gettime(CLOCK_MONOTONIC, out);
    out->tv_nsec += (long)(ms % 1000) * 1000000L;
    out->tv_sec += (time_t)(ms / 1000) + out->tv_nsec / 1000000000L;
    out->tv_nsec %= 1000000000L;
}

/* Initialise a condition variable whose timed waits use CLOCK_MONOTONIC. */
static inline bool mc_cond_init_monotonic(pthread_cond_t *cv)
{
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0)
        return false;
    bool ok = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 && pthread_cond_init(cv, &attr) == 0;
    pthread_condattr_destroy(&attr);
    return ok;
}

/* ---- Response cache (response_cache.c) ---- */
struct mc_response_cache;
struct mc_response_cache *mc_response_cache_new(unsigned ttl_ms, size_t max_entries);
void mc_response_cache_free(struct mc_response_cache *c);
/* Copies a fresh entry's body (malloc'd, caller frees) and ETag. */
bool mc_response_cache_get(struct mc_response_cache *c, const char *key, char **body, size_t *len,
                           char *etag, size_t etag_len);
/* Stores a body unless a write happened since generation_at_start. */
void mc_response_cache_put(struct mc_response_cache *c, const char *key, const char *body, size_t len,
                           const char *etag, unsigned long generation_at_start);
void mc_response_cache_invalidate(struct mc_response_cache *c);
unsigned long mc_response_cache_generation(struct mc_response_cache *c);
void mc_response_cache_stats(struct mc_response_cache *c, unsigned long *hits, unsigned long *misses);

/* ---- Response cache across instances (response_cache_notify.c) ---- */
/* A thread that LISTENs on its own connection and drops `cache` when an
   instance of `service` notifies a write (and on every (re)connect). NULL
   when the thread cannot be made. */
struct mc_cache_listener;
struct mc_cache_listener *mc_cache_listener_start(const char *conninfo, const char *service,
                                                  struct mc_response_cache *cache);
void mc_cache_listener_stop(struct mc_cache_listener *l); /* NULL is allowed */
/* Tell every instance of `service` that a write committed (best effort: a
   failure is logged; the TTL still bounds how long others are stale). */
void mc_cache_notify(mc_db_pool *pool, const char *service);

/* ---- Idempotency-Key store (idempotency.c) ---- */
enum mc_idem_outcome {
    MC_IDEM_PROCEED,     /* first time: run the handler, then finish or abandon */
    MC_IDEM_REPLAY,      /* same key and request: answer the stored response */
    MC_IDEM_MISMATCH,    /* same key, another request: 409 */
    MC_IDEM_IN_PROGRESS, /* the first request is still running: 409, retry later */
    MC_IDEM_ERROR,       /* database trouble: 503 */
};
struct mc_idem_replay {
    unsigned status;
    char *body;     /* malloc'd; caller frees */
    char *location; /* malloc'd or NULL */
    char *etag;     /* malloc'd or NULL */
};
enum mc_idem_outcome mc_idem_begin(mc_db_pool *db, const char *principal, const char *key,
                                   const char *method, const char *path, const char *request_hash,
                                   struct mc_idem_replay *replay);
void mc_idem_finish(mc_db_pool *db, const char *principal, const char *key, unsigned status,
                    const char *body, const char *location, const char *etag);
void mc_idem_abandon(mc_db_pool *db, const char *principal, const char *key);
void mc_idem_replay_free(struct mc_idem_replay *replay);
/* Open (or, at the first request, retry opening) this process's holder
   session, whose advisory lock tells retries that its pending keys are
   alive; stop closes it. */
void mc_idem_holder_start(const char *conninfo);
void mc_idem_holder_stop(void);
/* SHA-256 (hex) of "method\npath\nbody", hashed incrementally. False when
   the digest cannot be computed (out of memory): the caller answers 503
   rather than compare a made-up hash. */
bool mc_idem_request_hash(const char *method, const char *path, const void *body, size_t body_len,
                          char out[65]);
/* Whether an answer with this status is stored and replayed for its key
   (successes and final outcomes), or the key is released so that a retry
   with the same key runs again (4xx the client fixes, 5xx). */
bool mc_idem_status_pins_key(unsigned status);

/* ---- Events (events.c, events_relay.c, events_feed.c) ---- */
/* The event source is named after the service. */
void mc_events_init_service(const char *service_name);
/* The transport set with mc_events_set_transport, NULL for the feed only. */
const mc_event_transport *mc_events_transport(void);
/* A CloudEvent from an outbox row (published_seq, id, type, source, subject,
   time, data). Returns a new reference, NULL when the stored data is not JSON. */
json_t *mc_event_from_row(const PGresult *res, int r);
/* Called by mc_db_transaction after every successful COMMIT: when the
   transaction wrote an event, wake this process's relay (events.c). */
void mc_events_after_commit(void);
/* Have the relay run a pass now (coalesced: commits during a pass cause one
   more pass, not one each); a no-op when no relay runs (events_relay.c). */
void mc_events_relay_wake(void);
/* Start / stop the outbox relay thread (one per process). The relay works on
   a connection of its own (db_cfg with a pool of one), not the service's
   pool: under load the request threads keep every pooled connection busy
   and a relay waiting for one was published hundreds of ms late. */
mc_error mc_events_relay_start(const mc_db_pool_config *db_cfg, unsigned poll_ms, unsigned retention_days,
                               unsigned prune_interval_s);
void mc_events_relay_stop(void);

/* ---- Router (router.c) ---- */
/* Match `path` against the service's routes. Returns the matched route index
   (writing path parameters, URL-decoded, into req) or -1. When no route
   matches the method but others match the path, *allow lists them
   ("GET, PUT") and *path_known is true. */
int mc_router_match(const struct mc_route *routes, size_t n_routes, const char *method,
                    const char *path, mc_request *req, char *allow, size_t allow_len,
                    bool *path_known);
void mc_router_free_params(mc_request *req);

/* ---- Metrics (metrics.c) ---- */
struct mc_metrics;
struct mc_metrics *mc_metrics_new(const char *service, const struct mc_route *routes, size_t n);
void mc_metrics_free(struct mc_metrics *m);
/* route_index -1 = unmatched, -2.. = built-in endpoints */
void mc_metrics_observe(struct mc_metrics *m, int route_index, const char *method, unsigned status,
                        double seconds);
char *mc_metrics_render(struct mc_metrics *m, mc_db_pool *db, struct mc_response_cache *cache,
                        unsigned in_flight);
/* metrics_registry.c: append the metrics of motcua/metrics.h to a rendered
   text (taken over); the new text or NULL. */
char *mc_metrics_registered_append(char *text, const char *service);

/* ---- Token revocations (auth.c, auth_revocations.c) ---- */
struct mc_revocation_poller;
/* The verifier owns its poller from now on and stops it when freed. */
void mc_auth_verifier_attach_poller(mc_auth_verifier *v, struct mc_revocation_poller *poller);
/* Stop the poller's thread and free it; NULL is ignored. */
void mc_revocation_poller_stop(struct mc_revocation_poller *poller);

/* ---- Replies (http_reply.c) ---- */
void mc_reply_raw(mc_request *req, unsigned status, const char *content_type, const char *body,
                  size_t len);
void mc_sha256_hex(const void *data, size_t len, char out[65]);

#endif
