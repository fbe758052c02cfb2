/*
 * One request, from ulfius to the handler and back: request id, built-in
 * endpoints, route (404/405), NUL in the query, body size (413), bearer
 * token (401/403), content type and strict JSON (415/400), the response
 * cache, Idempotency-Key replay, the handler; then the access log and the
 * metrics.
 */
#include <ctype.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <ulfius.h>

#include "motcua/json_spec.h"
#include "motcua/log.h"
#include "server_internal.h"

#define API_VERSION "1"

static atomic_uint in_flight;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

unsigned mc_server_in_flight(void)
{
    return atomic_load(&in_flight);
}

static atomic_bool draining;

void mc_server_set_draining(void)
{
    atomic_store(&draining, true);
}

bool mc_server_draining(void)
{
    return atomic_load(&draining);
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
    if (rc != MC_OK && reason == MC_AUTH_UNKNOWN_KEY && mc_server_refresh_jwks(req->app))
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

/* Run the handler under Idempotency-Key protection. */
static void run_idempotent(mc_request *req, const char *key)
{
    if (!valid_idempotency_key(key)) {
        mc_reply_error(req, MC_ERR_INVALID_IDEMPOTENCY_KEY, NULL);
        return;
    }
    char hash[65];
    if (!mc_idem_request_hash(req->u->http_verb, req->u->url_path, req->u->binary_body,
                              req->u->binary_body_length, hash)) {
        mc_reply_error(req, MC_ERR_DB_UNAVAILABLE, "could not check the Idempotency-Key; retry");
        return;
    }
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
    if (req->status == 0 || !mc_idem_status_pins_key(req->status)) {
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

/* An answer that is not a public read (a GET of a route without
   authentication, asked without a token) may hold personal data: no cache,
   private or shared, may keep it, unless the handler chose otherwise. */
static void default_cache_control(mc_request *req)
{
    if (req->route == NULL || u_map_get_case(req->response->map_header, "Cache-Control") != NULL)
        return;
    bool public_read = req->route->auth == MC_AUTH_NONE && !req->authenticated &&
                       (strcmp(req->u->http_verb, "GET") == 0 || strcmp(req->u->http_verb, "HEAD") == 0);
    if (!public_read)
        mc_set_header(req, "Cache-Control", "private, no-store");
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

int mc_server_dispatch(const struct _u_request *u, struct _u_response *response, void *user_data)
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
    /* Browsers must take every answer for what its Content-Type says. */
    mc_set_header(&req, "X-Content-Type-Options", "nosniff");

    const struct mc_service *svc = req.app->svc;
    const char *path = u->url_path != NULL ? u->url_path : "/";
    int route_index = -1;
    const char *route_label = "unmatched";

    if (mc_server_builtin(&req, path, &route_index, &route_label))
        goto done;

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
    if (req.status >= 200 && req.status < 300 && strcmp(u->http_verb, "GET") != 0) {
        mc_response_cache_invalidate(req.app->cache);
        if (req.app->cache_listener != NULL) /* and on the other instances */
            mc_cache_notify(req.app->db, req.app->svc->name);
    }
    if (req.status == 0) {
        mc_log(MC_LOG_ERROR, req.request_id, "http.no_reply", "handler for %s gave no answer",
               route_label);
        mc_reply_error(&req, MC_ERR_INTERNAL, NULL);
    }

done:;
    /* Stopping: no further request on this connection (server.c, DRAIN_SECONDS). */
    if (mc_server_draining())
        mc_set_header(&req, "Connection", "close");
    default_cache_control(&req);
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
