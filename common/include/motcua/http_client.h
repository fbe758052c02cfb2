/*
 * Outgoing HTTP GET for service-to-service reads (a service fetching the
 * catalogue's procedures, the identity service's JWKS). Conditional requests
 * with If-None-Match let callers keep a copy and revalidate it cheaply.
 */
#ifndef MOTCUA_HTTP_CLIENT_H
#define MOTCUA_HTTP_CLIENT_H

#include <stddef.h>

#include "motcua/error.h"

struct mc_http_result {
    long status;     /* HTTP status, 0 when no answer */
    char *body;      /* NUL-terminated, malloc'd (caller frees with mc_http_result_free); NULL for 304 */
    size_t body_len;
    char etag[160];  /* the ETag header, "" when none */
};

/* GET url. if_none_match and bearer may be NULL. Bodies over max_bytes are
   refused (MC_ERR_PAYLOAD_TOO_LARGE). Returns MC_ERR_NOT_READY when the
   server cannot be reached or times out, MC_OK otherwise (whatever the
   status: the caller reads out->status). */
mc_error mc_http_get(const char *url, const char *if_none_match, const char *bearer,
                     unsigned timeout_s, size_t max_bytes, struct mc_http_result *out);

/* POST a JSON body (Content-Type application/json) to url; otherwise as
   mc_http_get (bearer may be NULL). */
mc_error mc_http_post_json(const char *url, const char *json_body, const char *bearer,
                           unsigned timeout_s, size_t max_bytes, struct mc_http_result *out);

/* The same with more request headers: `headers` is name, value, name, value,
   ..., NULL (e.g. If-Match and Idempotency-Key of a write to another service). */
mc_error mc_http_post_json_headers(const char *url, const char *json_body, const char *bearer,
                                   const char *const *headers, unsigned timeout_s,
                                   size_t max_bytes, struct mc_http_result *out);
void mc_http_result_free(struct mc_http_result *r);

#endif
