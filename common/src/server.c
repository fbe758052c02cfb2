/*
 * The service runtime: configuration, migrations, the HTTP server and the
 * request dispatcher shared by every motcua service.
 *
 * Threading (see README "Performance and sizing"): the default model is an
 * epoll thread pool (MHD_USE_EPOLL_INTERNAL_THREAD + THREAD_POOL_SIZE). Each
 * connection is pinned to one worker; a handler blocked in libpq stalls the
 * other connections of that worker, so the pool has several threads per core
 * and the database pool about as many connections as worker threads. The
 * thread-per-connection model stays available (MOTCUA_HTTP_THREAD_MODEL=
 * per_connection) but always with a connection limit and an idle timeout.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <ulfius.h>
#include <unistd.h>

#include "internal.h"
#include "motcua/http_client.h"
#include "motcua/config.h"
#include "motcua/json_spec.h"
#include "motcua/log.h"

#define API_VERSION "1"

static atomic_uint in_flight;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void mc_app_set_ctx(mc_app *app, void *ctx)
{
    app->ctx = ctx;
}

void *mc_app_ctx(const mc_app *app)
{
    return app->ctx;
}

mc_db_pool *mc_app_db(const mc_app *app)
{
    return app->db;
}

const char *mc_app_service_name(const mc_app *app)
{
    return app->svc->name;
}

/* ---------------------------------------------------------------- */
/* request id                                                        */

static bool valid_request_id(const char *id)
{
    size_t n = 0;
    for (const char *c = id; *c != '\0'; c++, n++)
        if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_' && *c != '.')
            return false;
    return n >= 8 && n <= 128;
}

static void assign_request_id(mc_request *req)
{
    const char *given = mc_header(req, "X-Request-Id");
    if (given != NULL && valid_request_id(given)) {
        snprintf(req->request_id, sizeof req->request_id, "%s", given);
        return;
    }
    unsigned char raw[16];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
        memset(raw, 0, sizeof raw);
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(req->request_id + 2 * i, 3, "%02x", raw[i]);
}

/* ---------------------------------------------------------------- */
/* built-in endpoints                                                */

static const char *const builtin_paths[] = {"/healthz", "/readyz", "/metrics", "/openapi.json"};

static void handle_builtin(mc_request *req, int which)
{
    mc_app *app = req->app;
    switch (which) {
    case 0:
        mc_reply_json(req, 200, json_pack("{ss ss}", "status", "ok", "service", app->svc->name));
        return;
    case 1: {
        mc_error rc = mc_db_ready(app->db, app->expected_migrations);
        if (rc == MC_OK)
            mc_reply_json(req, 200, json_pack("{ss ss}", "status", "ready", "service", app->svc->name));
        else
            mc_reply_error(req, MC_ERR_NOT_READY, "%s",
                           rc == MC_ERR_NOT_READY ? "database migrations not applied"
                                                  : "database not reachable");
        return;
    }
    case 2: {
        char *text = mc_metrics_render(app->metrics, app->db, app->cache, atomic_load(&in_flight));
        if (text == NULL) {
            mc_reply_error(req, MC_ERR_INTERNAL, NULL);
            return;
        }
        mc_reply_raw(req, 200, "text/plain; version=0.0.4; charset=utf-8", text, strlen(text));
        free(text);
        return;
    }
    default:
        if (app->svc->openapi_json != NULL)
            mc_reply_raw(req, 200, "application/json", app->svc->openapi_json,
                         strlen(app->svc->openapi_json));
        else
            mc_reply_error(req, MC_ERR_ROUTE_NOT_FOUND, "no OpenAPI document built in");
        return;
    }
}

/* ---------------------------------------------------------------- */
/* request checks                                                    */

static bool content_type_is_json(const char *ct)
{
    if (ct == NULL)
        return false;
    while (*ct == ' ')
        ct++;
    size_t n = strlen("application/json");
    if (strncasecmp(ct, "application/json", n) != 0)
        return false;
    const char *rest = ct + n;
    while (*rest == ' ')
        rest++;
    if (*rest == '\0')
        return true;
    if (*rest != ';')
        return false;
    rest++;
    while (*rest == ' ')
        rest++;
    /* Only UTF-8 is accepted (RFC 8259). */
    return strncasecmp(rest, "charset=utf-8", 13) == 0 &&
           (rest[13] == '\0' || rest[13] == ' ' || rest[13] == ';');
}

static size_t body_limit(const mc_request *req)
{
    return (req->route->flags & MC_ROUTE_UPLOAD) != 0 ? req->app->max_upload_bytes
                                                     : req->app->max_body_bytes;
}

static bool body_too_large(const mc_request *req)
{
    size_t limit = body_limit(req);
    const char *cl = mc_header(req, "Content-Length");
    if (cl != NULL) {
        errno = 0;
        char *end = NULL;
        unsigned long long n = strtoull(cl, &end, 10);
        if (errno == 0 && end != cl && n > limit)
            return true;
    }
    /* ulfius stops reading at max_post_body_size (set to the limit + 1)
       without saying so: a body that reached it was cut short. */
    return req->u->binary_body_length > limit;
}

static char *fetch_url(const char *url);

/* Refresh the verifier's JWKS keys from the issuer, at most once every
   10 s whatever the traffic (a flood of tokens with made-up kids must not
   become a flood of requests to the identity service). True if new keys
   were loaded. */
static bool refresh_jwks(mc_app *app)
{
    if (app->jwks_url == NULL)
        return false;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    bool refreshed = false;
    /* One refresh at a time; requests arriving meanwhile do not queue
       behind its network round trip, they are refused as before. */
    if (pthread_mutex_trylock(&app->jwks_mu) != 0)
        return false;
    if (app->jwks_fetched_at == 0 || ts.tv_sec - app->jwks_fetched_at >= 10) {
        app->jwks_fetched_at = ts.tv_sec;
        char *jwks = fetch_url(app->jwks_url);
        refreshed = jwks != NULL && mc_auth_verifier_replace_jwks(app->auth, jwks) == MC_OK;
        mc_log(refreshed ? MC_LOG_INFO : MC_LOG_WARNING, NULL, "auth.jwks_refresh", "%s %s",
               refreshed ? "loaded keys from" : "could not load keys from", app->jwks_url);
        free(jwks);
    }
    pthread_mutex_unlock(&app->jwks_mu);
    return refreshed;
}

static bool authenticate(mc_request *req)
{
    if ((req->route->flags & MC_ROUTE_OWN_AUTH) != 0 && req->route->auth == MC_AUTH_NONE)
        return true;
    const char *header = mc_header(req, "Authorization");
    if (header == NULL) {
        if (req->route->auth == MC_AUTH_REQUIRED) {
            mc_reply_error(req, MC_ERR_UNAUTHENTICATED, "send Authorization: Bearer <token>");
            return false;
        }
        return true;
    }
    if (strncasecmp(header, "Bearer ", 7) != 0) {
        mc_reply_error(req, MC_ERR_UNAUTHENTICATED, "only Bearer tokens are accepted");
        return false;
    }
    const char *token = header + 7;
    while (*token == ' ')
        token++;
    const char *reason = "token rejected";
    mc_error rc = mc_auth_verify(req->app->auth, token, (int64_t)time(NULL), &req->principal, &reason);
    /* A key we do not know may be the issuer's new one (key rotation):
       refresh the JWKS once and try again. */
    if (rc != MC_OK && reason == MC_AUTH_UNKNOWN_KEY && refresh_jwks(req->app))
        rc = mc_auth_verify(req->app->auth, token, (int64_t)time(NULL), &req->principal, &reason);
    if (rc != MC_OK) {
        mc_reply_error(req, MC_ERR_UNAUTHENTICATED, "%s", reason);
        return false;
    }
    req->authenticated = true;
    if (req->route->roles != 0 && (req->principal.roles & req->route->roles) == 0) {
        mc_reply_error(req, MC_ERR_FORBIDDEN, "your role may not do this");
        return false;
    }
    return true;
}

static bool parse_json_body(mc_request *req)
{
    if (!content_type_is_json(mc_header(req, "Content-Type"))) {
        mc_reply_error(req, MC_ERR_UNSUPPORTED_MEDIA_TYPE, "send Content-Type: application/json");
        return false;
    }
    if (req->u->binary_body_length == 0) {
        mc_reply_error(req, MC_ERR_MALFORMED_JSON, "the request body is empty");
        return false;
    }
    char err[256];
    req->body = mc_json_parse_strict(req->u->binary_body, req->u->binary_body_length, err, sizeof err);
    if (req->body == NULL) {
        mc_reply_error(req, MC_ERR_MALFORMED_JSON, "%s", err);
        return false;
    }
    return true;
}

static bool valid_idempotency_key(const char *key)
{
    size_t n = 0;
    for (const unsigned char *c = (const unsigned char *)key; *c != '\0'; c++, n++)
        if (*c < 0x20 || *c > 0x7E)
            return false;
    return n >= 1 && n <= 255;
}

static void request_hash(const mc_request *req, char out[65])
{
    size_t plen = strlen(req->u->url_path), mlen = strlen(req->u->http_verb);
    size_t total = mlen + 1 + plen + 1 + req->u->binary_body_length;
    char *buf = malloc(total);
    if (buf == NULL) {
        memset(out, '0', 64);
        out[64] = '\0';
        return;
    }
    memcpy(buf, req->u->http_verb, mlen);
    buf[mlen] = '\n';
    memcpy(buf + mlen + 1, req->u->url_path, plen);
    buf[mlen + 1 + plen] = '\n';
    if (req->u->binary_body_length > 0)
        memcpy(buf + mlen + plen + 2, req->u->binary_body, req->u->binary_body_length);
    mc_sha256_hex(buf, total, out);
    free(buf);
}

/* Run the handler under Idempotency-Key protection. */
static void run_idempotent(mc_request *req, const char *key)
{
    if (!valid_idempotency_key(key)) {
        mc_reply_error(req, MC_ERR_INVALID_IDEMPOTENCY_KEY, NULL);
        return;
    }
    char hash[65];
    request_hash(req, hash);
    const char *principal = req->authenticated ? req->principal.sub : "";
    struct mc_idem_replay replay;
    switch (mc_idem_begin(req->app->db, principal, key, req->u->http_verb, req->u->url_path, hash,
                          &replay)) {
    case MC_IDEM_REPLAY:
        if (replay.location != NULL)
            mc_set_header(req, "Location", replay.location);
        if (replay.etag != NULL)
            mc_set_header(req, "ETag", replay.etag);
        mc_set_header(req, "Idempotent-Replayed", "true");
        if (replay.status >= 400 && replay.body != NULL) {
            /* A replayed problem names this request, not the first one. */
            json_t *problem = json_loads(replay.body, 0, NULL);
            if (json_is_object(problem)) {
                json_object_set_new(problem, "request_id", json_string(req->request_id));
                char *text = json_dumps(problem, JSON_COMPACT | JSON_PRESERVE_ORDER);
                if (text != NULL) {
                    free(replay.body);
                    replay.body = text;
                }
            }
            json_decref(problem);
        }
        mc_reply_raw(req, replay.status,
                     replay.status >= 400 ? "application/problem+json" : "application/json",
                     replay.body != NULL ? replay.body : "", replay.body != NULL ? strlen(replay.body) : 0);
        mc_idem_replay_free(&replay);
        return;
    case MC_IDEM_MISMATCH:
        mc_reply_error(req, MC_ERR_IDEMPOTENCY_KEY_REUSED,
                       "this Idempotency-Key was used for a different request");
        return;
    case MC_IDEM_IN_PROGRESS:
        mc_set_header(req, "Retry-After", "1");
        mc_reply_error(req, MC_ERR_IDEMPOTENCY_IN_PROGRESS, NULL);
        return;
    case MC_IDEM_ERROR:
        mc_reply_error(req, MC_ERR_DB_UNAVAILABLE, NULL);
        return;
    case MC_IDEM_PROCEED:
        break;
    }
    req->idempotency_key = key;
    req->route->handler(req);
    if (req->status == 0 || req->status >= 500) {
        mc_idem_abandon(req->app->db, principal, key);
        return;
    }
    struct _u_response *r = req->response;
    char *body = NULL;
    if (r->binary_body != NULL) {
        body = malloc(r->binary_body_length + 1);
        if (body != NULL) {
            memcpy(body, r->binary_body, r->binary_body_length);
            body[r->binary_body_length] = '\0';
        }
    }
    mc_idem_finish(req->app->db, principal, key, req->status, body,
                   u_map_get(r->map_header, "Location"), u_map_get(r->map_header, "ETag"));
    free(body);
}

/* libmicrohttpd decodes %00 in a query value into a NUL that silently cuts
   the value short. The names of such parameters are noted here; the query
   helpers (mc_query_str, mc_query_uint, mc_page_parse) then report them
   with the request's other bad parameters. A %00 in a parameter *name*, or
   more such parameters than can be noted, is refused at once. Returns true
   when it answered. */
static bool note_nul_in_query(mc_request *req)
{
    const char *query = req->u->http_url != NULL ? strchr(req->u->http_url, '?') : NULL;
    if (query == NULL || strcasestr(query, "%00") == NULL)
        return false;
    bool refuse = false;
    for (const char *pair = query + 1; *pair != '\0';) {
        size_t len = strcspn(pair, "&");
        char *text = strndup(pair, len);
        if (text != NULL && strcasestr(text, "%00") != NULL) {
            size_t name_len = strcspn(text, "=");
            text[name_len] = '\0';
            if (name_len == 0 || strchr(text, '%') != NULL || req->n_nul_params == MC_MAX_PATH_PARAMS) {
                refuse = true;
            } else {
                req->nul_params[req->n_nul_params++] = text;
                text = NULL;
            }
        }
        free(text);
        pair += len;
        if (*pair == '&')
            pair++;
    }
    if (!refuse)
        return false;
    json_t *errors = mc_errors_new();
    mc_errors_add_param(errors, "query", "nul_character",
                        "parameter names must not contain a NUL character (%00)");
    mc_reply_errors(req, MC_ERR_BAD_QUERY, errors);
    return true;
}

static bool serve_from_cache(mc_request *req)
{
    char *body = NULL, etag[96];
    size_t len = 0;
    if (!mc_response_cache_get(req->app->cache, req->u->http_url, &body, &len, etag, sizeof etag))
        return false;
    mc_reply_stored_json(req, body, len, etag);
    free(body);
    return true;
}

static void store_in_cache(mc_request *req, unsigned long generation)
{
    struct _u_response *r = req->response;
    const char *etag = u_map_get(r->map_header, "ETag");
    if (r->binary_body != NULL && etag != NULL)
        mc_response_cache_put(req->app->cache, req->u->http_url, r->binary_body,
                              r->binary_body_length, etag, generation);
}

static void access_log(const mc_request *req, const char *route, double seconds)
{
    json_t *fields = json_pack("{ss ss si sf}", "method", req->u->http_verb, "route", route,
                               "status", (int)req->status, "duration_ms", seconds * 1000.0);
    if (req->error_code != NULL)
        json_object_set_new(fields, "code", json_string(req->error_code));
    mc_log_event(req->status >= 500 ? MC_LOG_ERROR : MC_LOG_INFO, req->request_id, "http.request",
                 fields);
}

static int dispatch(const struct _u_request *u, struct _u_response *response, void *user_data)
{
    double started = now_seconds();
    atomic_fetch_add(&in_flight, 1);
    mc_request req;
    memset(&req, 0, sizeof req);
    req.u = u;
    req.response = response;
    req.app = user_data;
    assign_request_id(&req);
    mc_set_header(&req, "X-Request-Id", req.request_id);
    mc_set_header(&req, "API-Version", API_VERSION);

    const struct mc_service *svc = req.app->svc;
    const char *path = u->url_path != NULL ? u->url_path : "/";
    int route_index = -1;
    const char *route_label = "unmatched";

    for (int b = 0; b < 4; b++) {
        if (strcmp(path, builtin_paths[b]) == 0) {
            route_index = -2 - b;
            route_label = builtin_paths[b];
            if (strcmp(u->http_verb, "GET") != 0) {
                mc_set_header(&req, "Allow", "GET");
                mc_reply_error(&req, MC_ERR_METHOD_NOT_ALLOWED, NULL);
            } else {
                handle_builtin(&req, b);
            }
            goto done;
        }
    }

    char allow[128];
    bool path_known = false;
    route_index = mc_router_match(svc->routes, svc->n_routes, u->http_verb, path, &req, allow,
                                  sizeof allow, &path_known);
    if (route_index < 0) {
        if (path_known) {
            mc_set_header(&req, "Allow", allow);
            mc_reply_error(&req, MC_ERR_METHOD_NOT_ALLOWED, "allowed: %s", allow);
        } else {
            mc_reply_error(&req, MC_ERR_ROUTE_NOT_FOUND, "no such endpoint");
        }
        goto done;
    }
    req.route = &svc->routes[route_index];
    route_label = req.route->pattern;

    if (note_nul_in_query(&req))
        goto done;

    if (body_too_large(&req)) {
        mc_reply_error(&req, MC_ERR_PAYLOAD_TOO_LARGE, "the body limit is %zu bytes",
                       body_limit(&req));
        goto done;
    }
    if (!authenticate(&req))
        goto done;
    if ((req.route->flags & MC_ROUTE_JSON_BODY) != 0 && !parse_json_body(&req))
        goto done;

    bool cacheable = (req.route->flags & MC_ROUTE_CACHEABLE) != 0 && req.app->cache != NULL &&
                     req.n_nul_params == 0 && u->http_url != NULL;
    if (cacheable && serve_from_cache(&req))
        goto done;
    unsigned long generation = mc_response_cache_generation(req.app->cache);

    const char *idem_key = mc_header(&req, "Idempotency-Key");
    if ((req.route->flags & MC_ROUTE_IDEMPOTENT) != 0 && idem_key != NULL)
        run_idempotent(&req, idem_key);
    else
        req.route->handler(&req);
    if (cacheable && req.status == 200)
        store_in_cache(&req, generation);
    /* A successful write may change what any cached read would answer. */
    if (req.status >= 200 && req.status < 300 && strcmp(u->http_verb, "GET") != 0)
        mc_response_cache_invalidate(req.app->cache);
    if (req.status == 0) {
        mc_log(MC_LOG_ERROR, req.request_id, "http.no_reply", "handler for %s gave no answer",
               route_label);
        mc_reply_error(&req, MC_ERR_INTERNAL, NULL);
    }

done:;
    double elapsed = now_seconds() - started;
    access_log(&req, route_label, elapsed);
    mc_metrics_observe(req.app->metrics, route_index, u->http_verb, req.status, elapsed);
    json_decref(req.body);
    mc_router_free_params(&req);
    for (size_t i = 0; i < req.n_nul_params; i++)
        free(req.nul_params[i]);
    atomic_fetch_sub(&in_flight, 1);
    return U_CALLBACK_COMPLETE;
}

/* ---------------------------------------------------------------- */
/* start-up                                                          */

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        if (size >= 0 && size < 1024 * 1024 && fseek(f, 0, SEEK_SET) == 0) {
            buf = malloc((size_t)size + 1);
            if (buf != NULL && fread(buf, 1, (size_t)size, f) == (size_t)size)
                buf[size] = '\0';
            else {
                free(buf);
                buf = NULL;
            }
        }
    }
    fclose(f);
    return buf;
}

/* The body of a 200 answer to GET url (malloc'd, caller frees), or NULL. */
static char *fetch_url(const char *url)
{
    struct mc_http_result r;
    char *body = NULL;
    if (mc_http_get(url, NULL, NULL, 5, 1024 * 1024, &r) == MC_OK && r.status == 200) {
        body = r.body;
        r.body = NULL;
    }
    mc_http_result_free(&r);
    return body;
}

/* Load the token verifier's public keys: a PEM file, a JWKS file and/or a
   JWKS URL (the identity service's /.well-known/jwks.json). Keys are read
   once at start, never per request. */
static mc_auth_verifier *load_verifier(const char *svc)
{
    unsigned leeway = 30;
    if (!mc_config_uint(svc, "JWT_LEEWAY_SECONDS", 30, 0, 300, &leeway))
        return NULL;
    mc_auth_verifier *v = mc_auth_verifier_new(mc_config_str(svc, "JWT_ISSUER", "motcua-identity"),
                                               mc_config_str(svc, "JWT_AUDIENCE", "motcua"), leeway);
    const char *pem_file = mc_config_str(svc, "JWT_PUBLIC_KEY_FILE", NULL);
    const char *jwks_file = mc_config_str(svc, "JWKS_FILE", NULL);
    const char *jwks_url = mc_config_str(svc, "JWKS_URL", NULL);
    bool ok = true;
    if (pem_file != NULL) {
        char *pem = read_file(pem_file);
        if (pem == NULL || mc_auth_verifier_add_pem(v, mc_config_str(svc, "JWT_KEY_ID", NULL), pem) != MC_OK) {
            mc_log(MC_LOG_ERROR, NULL, "auth.key_invalid", "cannot load RSA public key from %s", pem_file);
            ok = false;
        }
        free(pem);
    }
    if (ok && jwks_file != NULL) {
        char *jwks = read_file(jwks_file);
        if (jwks == NULL || mc_auth_verifier_add_jwks(v, jwks) != MC_OK) {
            mc_log(MC_LOG_ERROR, NULL, "auth.jwks_invalid", "no usable RS256 key in %s", jwks_file);
            ok = false;
        }
        free(jwks);
    }
    if (!ok) {
        mc_auth_verifier_free(v);
        return NULL;
    }
    /* A JWKS URL is fetched by serve() once the app exists, and again when a
       token names an unknown key, so the identity service being down at
       start-up does not stop this service from starting. */
    if (mc_auth_verifier_key_count(v) == 0 && jwks_url == NULL)
        mc_log(MC_LOG_WARNING, NULL, "auth.no_keys",
               "no token keys configured (MOTCUA_JWT_PUBLIC_KEY_FILE, MOTCUA_JWKS_FILE or "
               "MOTCUA_JWKS_URL): every authenticated request will be refused");
    return v;
}

struct server_config {
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
};

static bool read_server_config(const struct mc_service *svc, struct server_config *c)
{
    const char *name = svc->name;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    /* Two workers per core: enough that a handler waiting on PostgreSQL
       rarely stalls the others, few enough that, with the database on the
       same cores, requests are not queued behind context switches (at 4 per
       core the dossier inbox's p99 was 26 ms; at 2, 19 ms: tests/bench). */
    unsigned default_threads = (unsigned)(cores > 0 ? cores : 2) * 2;
    bool ok = true;
    c->listen_address = mc_config_str(name, "LISTEN_ADDRESS", "127.0.0.1");
    ok &= mc_config_uint(name, "PORT", svc->default_port, 1, 65535, &c->port);
    ok &= mc_config_uint(name, "HTTP_THREADS", default_threads, 1, 1024, &c->threads);
    ok &= mc_config_uint(name, "HTTP_MAX_CONNECTIONS", 1000, 1, 100000, &c->max_connections);
    ok &= mc_config_uint(name, "HTTP_IDLE_TIMEOUT_SECONDS", 60, 1, 3600, &c->idle_timeout_s);
    ok &= mc_config_uint(name, "HTTP_MAX_BODY_BYTES", 1024 * 1024, 1024, 512 * 1024 * 1024,
                         &c->max_body_bytes);
    ok &= mc_config_uint(name, "DB_POOL_SIZE", default_threads, 1, 1000, &c->db_pool_size);
    ok &= mc_config_uint(name, "DB_CHECKOUT_TIMEOUT_MS", 2000, 1, 60000, &c->db_checkout_timeout_ms);
    ok &= mc_config_uint(name, "DB_STATEMENT_TIMEOUT_MS", 5000, 1, 600000,
                         &c->db_statement_timeout_ms);
    ok &= mc_config_uint(name, "RESPONSE_CACHE_TTL_MS", 2000, 0, 3600000, &c->cache_ttl_ms);
    ok &= mc_config_uint(name, "HTTP_MAX_UPLOAD_BYTES", 10 * 1024 * 1024, 1024, 1024u * 1024 * 1024,
                         &c->max_upload_bytes);
    ok &= mc_config_uint(name, "EVENTS_POLL_MS", 500, 10, 60000, &c->events_poll_ms);
    ok &= mc_config_uint(name, "EVENTS_RETENTION_DAYS", 90, 0, 36500, &c->events_retention_days);
    ok &= mc_config_uint(name, "EVENTS_PRUNE_INTERVAL_SECONDS", 3600, 1, 86400,
                         &c->events_prune_interval_s);
    ok &= mc_config_uint(name, "RESPONSE_CACHE_ENTRIES", 4096, 1, 1000000, &c->cache_entries);
    const char *model = mc_config_str(name, "HTTP_THREAD_MODEL", "pool");
    if (strcmp(model, "pool") != 0 && strcmp(model, "per_connection") != 0) {
        mc_log(MC_LOG_ERROR, NULL, "config.invalid", "HTTP_THREAD_MODEL must be pool or per_connection");
        ok = false;
    }
    c->thread_per_connection = strcmp(model, "per_connection") == 0;
    c->database_url = mc_config_str(name, "DATABASE_URL", NULL);
    if (c->database_url == NULL) {
        mc_log(MC_LOG_ERROR, NULL, "config.missing", "MOTCUA_%s_DATABASE_URL is required (a libpq connection string)",
               name);
        ok = false;
    }
    return ok;
}

static int serve(const struct mc_service *svc, const struct server_config *cfg, bool migrate_first)
{
    if (migrate_first && mc_db_migrate(cfg->database_url, svc->name, svc->migrations, svc->n_migrations) != MC_OK) {
        mc_log(MC_LOG_ERROR, NULL, "server.migrate_failed", "migrations failed; not starting");
        return 1;
    }
    mc_events_init_service(svc->name);
    mc_app app;
    memset(&app, 0, sizeof app);
    app.svc = svc;
    app.max_body_bytes = cfg->max_body_bytes;
    app.max_upload_bytes = cfg->max_upload_bytes;
    app.expected_migrations = mc_db_migration_count(svc->n_migrations);
    mc_db_pool_config pc = {cfg->database_url, svc->name, cfg->db_pool_size,
                            cfg->db_checkout_timeout_ms, cfg->db_statement_timeout_ms};
    app.db = mc_db_pool_new(&pc);
    app.auth = load_verifier(svc->name);
    app.jwks_url = mc_config_str(svc->name, "JWKS_URL", NULL);
    pthread_mutex_init(&app.jwks_mu, NULL);
    if (app.auth != NULL)
        refresh_jwks(&app);
    if (app.auth != NULL && !mc_auth_revocations_start(app.auth, svc->name)) {
        mc_auth_verifier_free(app.auth);
        app.auth = NULL;
    }
    app.metrics = mc_metrics_new(svc->name, svc->routes, svc->n_routes);
    app.cache = mc_response_cache_new(cfg->cache_ttl_ms, cfg->cache_entries);
    if (app.db == NULL || app.auth == NULL || app.metrics == NULL ||
        (svc->start != NULL && svc->start(&app) != MC_OK)) {
        mc_log(MC_LOG_ERROR, NULL, "server.start_failed", "could not initialise the service");
        mc_db_pool_free(app.db);
        mc_auth_verifier_free(app.auth);
        mc_metrics_free(app.metrics);
        return 1;
    }
    if (svc->publishes_events &&
        mc_events_relay_start(app.db, cfg->database_url, cfg->events_poll_ms,
                              cfg->events_retention_days, cfg->events_prune_interval_s) != MC_OK) {
        mc_log(MC_LOG_ERROR, NULL, "server.start_failed", "could not start the event relay");
        return 1;
    }

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)cfg->port);
    if (inet_pton(AF_INET, cfg->listen_address, &addr.sin_addr) != 1) {
        mc_log(MC_LOG_ERROR, NULL, "config.invalid", "LISTEN_ADDRESS must be an IPv4 address");
        return 1;
    }

    /* Block the stop signals before any thread exists, so only sigwait()
       below receives them; ignore SIGPIPE from clients that went away. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct _u_instance instance;
    if (ulfius_init_instance(&instance, cfg->port, &addr, NULL) != U_OK)
        return 1;
    /* One byte over the limit lets body_too_large() see that ulfius cut it. */
    size_t largest_body = cfg->max_body_bytes;
    for (size_t i = 0; i < svc->n_routes; i++)
        if ((svc->routes[i].flags & MC_ROUTE_UPLOAD) != 0 && cfg->max_upload_bytes > largest_body)
            largest_body = cfg->max_upload_bytes;
    instance.max_post_body_size = largest_body + 1;
    instance.allowed_post_processor = U_POST_PROCESS_NONE;
    /* ulfius would drop query values that are not UTF-8, hiding bad input
       as "absent"; keep them so the handlers answer 400 naming the parameter. */
    instance.check_utf8 = 0;
    ulfius_set_default_endpoint(&instance, dispatch, &app);

    struct MHD_OptionItem options[] = {
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)mhd_request_completed, NULL},
        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)ulfius_uri_logger, NULL},
        {MHD_OPTION_SOCK_ADDR, 0, &addr},
        {MHD_OPTION_CONNECTION_LIMIT, (intptr_t)cfg->max_connections, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)cfg->idle_timeout_s, NULL},
        {MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL},
        /* The pool size applies to the pool model only; for thread per
           connection this slot ends the list early. */
        {cfg->thread_per_connection ? MHD_OPTION_END : MHD_OPTION_THREAD_POOL_SIZE,
         (intptr_t)cfg->threads, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    unsigned flags = cfg->thread_per_connection
                         ? (MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL)
                         : MHD_USE_EPOLL_INTERNAL_THREAD;
    flags |= MHD_USE_ITC | MHD_USE_ERROR_LOG;
    if (ulfius_start_framework_with_mhd_options(&instance, flags, options) != U_OK) {
        mc_log(MC_LOG_ERROR, NULL, "server.listen_failed", "cannot listen on %s:%u",
               cfg->listen_address, cfg->port);
        ulfius_clean_instance(&instance);
        return 1;
    }
    mc_log_event(MC_LOG_INFO, NULL, "server.started",
                 json_pack("{ss si ss si si si}", "address", cfg->listen_address, "port",
                           (int)cfg->port, "thread_model",
                           cfg->thread_per_connection ? "per_connection" : "pool", "threads",
                           (int)cfg->threads, "db_pool_size", (int)cfg->db_pool_size,
                           "max_connections", (int)cfg->max_connections));

    int sig = 0;
    sigwait(&stop_signals, &sig);
    mc_log(MC_LOG_INFO, NULL, "server.stopping", "signal %d: finishing in-flight requests", sig);
    /* Stop accepting, let requests already inside a handler finish (up to
       10 s), then close connections and stop the workers. */
    MHD_socket listen_fd = MHD_quiesce_daemon(instance.mhd_daemon);
    if (listen_fd != MHD_INVALID_SOCKET)
        close(listen_fd);
    for (int i = 0; i < 1000 && atomic_load(&in_flight) > 0; i++)
        usleep(10000);
    ulfius_stop_framework(&instance);
    ulfius_clean_instance(&instance);
    mc_events_relay_stop();
    if (svc->stop != NULL)
        svc->stop(&app);
    mc_metrics_free(app.metrics);
    mc_response_cache_free(app.cache);
    mc_auth_verifier_free(app.auth);
    mc_db_pool_free(app.db);
    pthread_mutex_destroy(&app.jwks_mu);
    mc_log(MC_LOG_INFO, NULL, "server.stopped", "bye");
    return 0;
}

int mc_service_main(const struct mc_service *svc, int argc, char **argv)
{
    const char *command = argc > 1 ? argv[1] : "serve";
    mc_log_init(svc->name, mc_config_str(svc->name, "LOG_LEVEL", "info"));
    int rc;
    if (strcmp(command, "version") == 0 || strcmp(command, "--version") == 0) {
        printf("motcua-%s %s\n", svc->name, MOTCUA_VERSION);
        rc = 0;
    } else if (strcmp(command, "serve") == 0 || strcmp(command, "migrate") == 0) {
        struct server_config cfg;
        if (!read_server_config(svc, &cfg)) {
            rc = 2;
        } else if (strcmp(command, "migrate") == 0) {
            rc = mc_db_migrate(cfg.database_url, svc->name, svc->migrations, svc->n_migrations) == MC_OK ? 0 : 1;
        } else {
            const char *on_start = mc_config_str(svc->name, "MIGRATE_ON_START", "1");
            rc = serve(svc, &cfg, strcmp(on_start, "0") != 0);
        }
    } else {
        fprintf(stderr,
                "usage: motcua-%s [serve|migrate|version]\n"
                "  serve    apply migrations (unless MOTCUA_%s_MIGRATE_ON_START=0) and serve HTTP\n"
                "  migrate  apply migrations and exit\n"
                "configuration: environment variables, see the README\n",
                svc->name, svc->name);
        rc = 2;
    }
    mc_log_close();
    return rc;
}
