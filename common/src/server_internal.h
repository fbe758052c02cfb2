/*
 * The parts of the service runtime (server*.c), private to libmotcua:
 *   server_config.c    the MOTCUA_<SVC>_* settings of the HTTP server and the pool
 *   server_keys.c      the token verifier's keys: files at start, JWKS refresh
 *   server_dispatch.c  one request: route, limits, auth, body, Idempotency-Key
 *   server_builtin.c   /healthz, /readyz, /metrics, /openapi.json
 *   server.c           serve and mc_service_main: start, run, stop
 */
#ifndef MOTCUA_SERVER_INTERNAL_H
#define MOTCUA_SERVER_INTERNAL_H

#include <stdbool.h>

#include "internal.h"

struct _u_request;
struct _u_response;

/* ---- configuration (server_config.c) ---- */
struct mc_server_config {
    const char *listen_address;
    unsigned port;
    unsigned threads;
    bool thread_per_connection;
    unsigned max_connections;
    unsigned idle_timeout_s;
    unsigned max_body_bytes;
    unsigned db_pool_size;
    unsigned db_checkout_timeout_ms;
    unsigned db_statement_timeout_ms;
    unsigned cache_ttl_ms;
    unsigned cache_entries;
    const char *database_url;
    unsigned events_poll_ms;
    unsigned events_retention_days;
    unsigned events_prune_interval_s;
    unsigned max_upload_bytes;
    struct mc_cidr_list trusted_proxies;  /* HTTP_TRUSTED_PROXIES */
    unsigned max_connections_per_client;  /* addresses not in trusted_proxies */
    unsigned reserved_proxy_connections;  /* of max_connections, never used by the others */
};

/* Reads the configuration of `svc`; false (each problem logged) when a value
   is invalid or missing. */
bool mc_server_config_read(const struct mc_service *svc, struct mc_server_config *c);

/* ---- keys (server_keys.c) ---- */
/* The verifier of service `svc` with the keys of its PEM / JWKS files, or NULL
   when a configured file is unusable (logged). Caller frees. */
mc_auth_verifier *mc_server_load_verifier(const char *svc);
/* Fetch app->jwks_url again (at most every 10 s, every second while there is no key);
   true if new keys loaded. */
bool mc_server_refresh_jwks(mc_app *app);

/* ---- dispatch (server_dispatch.c) ---- */
/* ulfius' default endpoint: every request of the service goes through it. */
int mc_server_dispatch(const struct _u_request *u, struct _u_response *response, void *user_data);
/* Requests inside mc_server_dispatch right now. */
unsigned mc_server_in_flight(void);
/* After SIGTERM, for DRAIN_SECONDS: every answer carries `Connection: close` (the
   gateway stops reusing its connections to this instance) and /readyz answers 503. */
void mc_server_set_draining(void);
bool mc_server_draining(void);

/* ---- built-in endpoints (server_builtin.c) ---- */
/* When `path` is a built-in endpoint, answers it (405 unless GET), sets
   *route_index (the metrics' negative index) and *label, and returns true. */
bool mc_server_builtin(mc_request *req, const char *path, int *route_index, const char **label);

#endif
