/*
 * Declarations shared between libmotcua's own files (not for services).
 */
#ifndef MOTCUA_INTERNAL_H
#define MOTCUA_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "motcua/db.h"
#include "motcua/http.h"
#include "motcua/server.h"

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
    const char *jwks_url;            /* NULL unless MOTCUA_JWKS_URL */
    pthread_mutex_t jwks_mu;         /* serialises refreshes */
    long long jwks_fetched_at;       /* monotonic seconds of the last attempt */
};

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

/* ---- Events (events.c) ---- */
/* The event source and NOTIFY channel are named after the service. */
void mc_events_init_service(const char *service_name);
/* Start / stop the outbox relay thread (one per process). */
mc_error mc_events_relay_start(mc_db_pool *db, const char *conninfo, unsigned poll_ms,
                               unsigned retention_days, unsigned prune_interval_s);
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
/* A 200 JSON answer from stored bytes with its ETag (304 when If-None-Match matches). */
void mc_reply_stored_json(mc_request *req, const char *body, size_t len, const char *etag);

#endif
