/*
 * The request context handed to every handler, the route table, and the
 * helpers a handler uses to answer.
 *
 * A request's path through a service is short and one-directional:
 *   route table -> request id, limits, auth, content type, JSON parse ->
 *   handler (parse spec -> domain logic -> store) -> one mc_reply_* call.
 * Handlers never touch ulfius directly; they read path/query/header values
 * and answer through these helpers, which also keep the metrics, the access
 * log and Idempotency-Key replay consistent across services.
 */
#ifndef MOTCUA_HTTP_H
#define MOTCUA_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "motcua/auth.h"
#include "motcua/error.h"

#define MC_MAX_PATH_PARAMS 8

struct _u_request;
struct _u_response;
struct mc_db_conn;
struct mc_db_pool;
typedef struct mc_app mc_app;
typedef struct mc_request mc_request;

typedef void (*mc_handler_fn)(mc_request *req);

enum mc_auth_mode {
    MC_AUTH_NONE = 0,  /* public; an Authorization header is still verified if sent */
    MC_AUTH_REQUIRED,  /* 401 without a valid token */
};

enum mc_route_flags {
    MC_ROUTE_JSON_BODY = 1u << 0,   /* requires application/json; body parsed strictly into req->body */
    MC_ROUTE_IDEMPOTENT = 1u << 1,  /* honours Idempotency-Key (creating POSTs) */
    MC_ROUTE_CACHEABLE = 1u << 2,   /* GET whose 200 answer is the same for every caller:
                                       served from the response cache (server.h) */
    MC_ROUTE_OWN_AUTH = 1u << 3,    /* the handler reads Authorization itself (e.g. HTTP
                                       Basic client authentication on an OAuth2 token
                                       endpoint); only with MC_AUTH_NONE */
    MC_ROUTE_UPLOAD = 1u << 4,      /* a file upload: the body limit is the service's
                                       HTTP_MAX_UPLOAD_BYTES instead of HTTP_MAX_BODY_BYTES */
};

struct mc_route {
    const char *method;   /* "GET", "POST", ... */
    const char *pattern;  /* "/api/v1/procedures/{code}/versions/{version}" */
    mc_handler_fn handler;
    enum mc_auth_mode auth;
    unsigned roles;       /* enum mc_role bits allowed; 0 = any authenticated caller */
    unsigned flags;       /* enum mc_route_flags */
};

struct mc_request {
    const struct _u_request *u;
    struct _u_response *response;
    mc_app *app;
    const struct mc_route *route;
    char request_id[129];
    size_t n_path_params;
    const char *path_names[MC_MAX_PATH_PARAMS];
    char *path_values[MC_MAX_PATH_PARAMS];
    bool authenticated;
    mc_principal principal;
    json_t *body;       /* parsed body for MC_ROUTE_JSON_BODY routes; owned by the dispatcher */
    size_t n_nul_params;
    char *nul_params[MC_MAX_PATH_PARAMS]; /* query parameters whose value held %00 */
    const char *idempotency_key; /* the Idempotency-Key being honoured, else NULL */
    unsigned status;    /* status answered; 0 until a reply */
    const char *error_code; /* machine code of an error answer, for the access log */
};

/* Values from the request. Pointers stay valid for the request's lifetime. */
const char *mc_path_param(const mc_request *req, const char *name);
const char *mc_query_param(const mc_request *req, const char *name);
/* The raw query string after '?' (still percent-encoded), "" when none: for
   a handler that must see every parameter exactly as sent (a payment
   gateway's signed callback). */
const char *mc_query_string(const mc_request *req);
const char *mc_header(const mc_request *req, const char *name);
/* The raw request body (not NUL-terminated; *len bytes), for routes that
   accept other media types than JSON (e.g. an OAuth2 form-encoded grant).
   The size limit has already been enforced. */
const void *mc_request_body(const mc_request *req, size_t *len);
/* The address of the client, for throttling and audit (out >= 64 bytes):
   the X-Real-IP header when the connection comes from a trusted proxy
   (HTTP_TRUSTED_PROXIES, the gateway) and the header holds an IP address;
   otherwise the connection's own address, whatever the headers say. */
void mc_client_address(const mc_request *req, char *out, size_t out_len);
/* The service-specific context set by the service's start hook. */
void *mc_request_service_ctx(const mc_request *req);
struct mc_db_pool *mc_request_db(const mc_request *req);
/* A number that changes after every successful write of this service, on any
   instance (the response cache's generation, moved by LISTEN/NOTIFY), so an
   in-process copy of the service's data knows when it is stale. False when
   writes are not tracked (the response cache is off). */
bool mc_request_write_generation(const mc_request *req, unsigned long *generation);

/* Answers. Each steals the json_t it is given. */
void mc_reply_json(mc_request *req, unsigned status, json_t *body);
/* A cacheable read: sets ETag (computed from the body when etag is NULL) and
   answers 304 without a body when If-None-Match matches. */
void mc_reply_json_etag(mc_request *req, unsigned status, json_t *body, const char *etag);
/* mc_reply_json_etag for a body already serialised as compact JSON (e.g. by
   mc_page_body_text): ETag hashed from the text, 304 on If-None-Match. The
   body is copied. */
void mc_reply_json_text(mc_request *req, unsigned status, const char *body, size_t len);
/* 201 Created with Location and (optional) ETag. */
/* The bytes mc_reply_json_etag would send for body (consumed) and their ETag,
   for an answer kept to be sent again (a handler's own cache); NULL when out
   of memory. The caller frees the text. */
#define MC_BODY_ETAG_MAX 72
char *mc_json_text_etag(json_t *body, size_t *len, char etag[MC_BODY_ETAG_MAX]);
/* A 200 JSON answer from stored bytes with its ETag (304 when If-None-Match matches). */
void mc_reply_stored_json(mc_request *req, const char *body, size_t len, const char *etag);
void mc_reply_created(mc_request *req, json_t *body, const char *location, const char *etag);
void mc_reply_no_content(mc_request *req);
/* Conditional GET for an answer the handler builds itself (mc_reply_stream):
   sets ETag and, when If-None-Match matches it, answers 304 and returns true,
   so the handler returns before reading what it would have sent. */
bool mc_reply_not_modified(mc_request *req, const char *etag);
/* Answer with a body of `size` bytes produced while it is sent, so a large
   file never sits in memory: `read` fills up to `max` bytes of buf from
   `offset` and returns how many (0 at the end, -1 on an error: the connection
   is then closed short of its Content-Length, which the client sees as a
   failed download). `done` releases ctx once the response is over (sent,
   failed, or the client went away), also when this function fails to set
   the response (then it answers 500). */
typedef long (*mc_stream_read_fn)(void *ctx, unsigned long long offset, char *buf, size_t max);
void mc_reply_stream(mc_request *req, unsigned status, const char *content_type,
                     unsigned long long size, mc_stream_read_fn read, void (*done)(void *ctx),
                     void *ctx);
/* problem+json for `err`; detail is printf-style (may be NULL). */
void mc_reply_error(mc_request *req, mc_error err, const char *detail_fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* problem+json with extension members (an object, stolen; standard members
   are never overwritten), e.g. the allowed actions of a refused transition. */
void mc_reply_problem(mc_request *req, mc_error err, const char *detail, json_t *members);
/* problem+json with an `errors` list (stolen): 422 for body validation
   (MC_ERR_VALIDATION) or 400 for query parameters (MC_ERR_BAD_QUERY). */
void mc_reply_errors(mc_request *req, mc_error err, json_t *errors);
void mc_set_header(mc_request *req, const char *name, const char *value);

/* Store the answer to an Idempotency-Key request inside the handler's own
   transaction on `conn`, so that a crash after the commit cannot leave a
   retried request to run again (the dispatcher stores it after the handler
   too, which is then a no-op rewrite). `body` is borrowed and must be what
   the handler then answers. A no-op when the request has no key. */
mc_error mc_idempotency_record(const mc_request *req, struct mc_db_conn *conn, unsigned status,
                               const json_t *body, const char *location, const char *etag);

/* Optimistic concurrency for writes to an existing resource: answers 428 when
   If-Match is missing and 412 when it does not match `current_etag`, and
   returns false in both cases (the handler then returns). */
bool mc_require_if_match(mc_request *req, const char *current_etag);
/* Strong ETag for a resource revision: writes "\"<prefix><revision>\"". */
void mc_etag_for_revision(char *out, size_t out_len, const char *prefix, long long revision);
/* The revision an If-Match header names, for a store that compares it in its
   own transaction: -1 for "*", -2 when the header is missing, -3 when it is no
   ETag of mc_etag_for_revision with this prefix (it can never match: 412). */
long long mc_if_match_revision(const mc_request *req, const char *prefix);
/* For a store that locked the row and read its `current` revision: MC_OK when
   `if_match` (from mc_if_match_revision) allows the write, else
   MC_ERR_PRECONDITION_REQUIRED (header missing) or MC_ERR_PRECONDITION_FAILED
   (another revision, or no ETag of ours). Check existence and scope first,
   so a 412 tells nothing about a resource the caller may not see. */
mc_error mc_revision_precondition(long long if_match, long long current);

/* Query-parameter errors: {parameter, code, message} into `errors`. */
void mc_errors_add_param(json_t *errors, const char *parameter, const char *code, const char *message);

/* Keyset pagination. `limit` defaults to default_limit and must be in
   1..max_limit; `cursor` is an opaque base64url token the server produced,
   decoding to a JSON array of `cursor_arity` sort keys. Problems go to
   `errors` (as parameter errors); returns false if there were any. On success
   *cursor_keys is a new reference (or NULL on the first page). */
bool mc_page_parse(const mc_request *req, unsigned default_limit, unsigned max_limit,
                   size_t cursor_arity, unsigned *limit, json_t **cursor_keys, json_t *errors);
/* {"items": items, "next_cursor": <token or null>}; steals both arguments. */
json_t *mc_page_body(json_t *items, json_t *next_cursor_keys);
/* The bytes mc_reply_json sends for mc_page_body, from items that are
   already compact JSON texts (e.g. kept by an in-memory index), so a page is
   answered without parsing them and serialising them again. Steals
   next_cursor_keys; malloc'd, its length in *len; NULL when out of memory. */
char *mc_page_body_text(const char *const *items, size_t n, json_t *next_cursor_keys, size_t *len);
/* Sort key i of a decoded cursor as a string that valid() accepts (valid
   may be NULL), or NULL after adding the parameter problem "cursor"
   invalid_cursor to `errors`. Borrowed from keys. */
const char *mc_page_cursor_string(const json_t *keys, size_t i, bool (*valid)(const char *),
                                  json_t *errors);
/* Answer a list: rc's problem when it is not MC_OK, else 200 with
   mc_page_body(items, next_keys) and an ETag that hashes the body
   (If-None-Match gives 304). Steals items and next_keys either way. */
void mc_reply_page(mc_request *req, mc_error rc, json_t *items, json_t *next_keys);

/* The tail every list handler shares. When `errors` (may be NULL) holds
   query problems, answers 400 with all of them; else borrows a connection,
   runs list(conn, query, limit, &items, &next_keys) and answers
   mc_reply_page. Steals errors and cursor (the decoded cursor keys, which
   query may point into). */
typedef mc_error (*mc_list_fn)(struct mc_db_conn *conn, const void *query, unsigned limit,
                               json_t **items, json_t **next_keys);
void mc_reply_list(mc_request *req, json_t *errors, json_t *cursor, mc_list_fn list,
                   const void *query, unsigned limit);
/* A whole list handler for a resource paged by one string key (a code, a
   phrase): parses limit and cursor, checks the cursor's key with valid_key,
   and answers mc_reply_list with the key after which the page starts (NULL
   on the first page) as list's query (a const char *). */
void mc_reply_keyed_list(mc_request *req, unsigned default_limit, unsigned max_limit,
                         bool (*valid_key)(const char *), mc_list_fn list);

/* After checks appended their problems to `errors`: true when there are
   none; else answers `err` (MC_ERR_VALIDATION: 422 for a body,
   MC_ERR_BAD_QUERY: 400 for query parameters) with every problem and
   returns false. Steals errors either way. */
bool mc_no_errors(mc_request *req, mc_error err, json_t *errors);
/* mc_no_errors for query parameters (400). */
bool mc_query_ok(mc_request *req, json_t *errors);

/* Query parameters: parse helpers that add a parameter error when invalid. */
bool mc_query_uint(const mc_request *req, const char *name, unsigned min, unsigned max,
                   unsigned *out, bool *present, json_t *errors);
/* A string parameter of at most max_len code points, valid UTF-8, no control
   characters. Returns NULL when absent or invalid (invalid adds an error). */
const char *mc_query_str(const mc_request *req, const char *name, size_t max_len, json_t *errors);

#endif
