/*
 * Outgoing HTTP requests to addresses the service does not control (a
 * webhook receiver, an SMS gateway): any method, custom headers, no
 * redirects followed, a bounded connect and total time, a bounded answer,
 * and optionally the address pinned (the one a guard has checked), so a
 * second DNS answer cannot send the request elsewhere. libcurl underneath;
 * motcua/http_client.h stays the simple reader for service-to-service GETs.
 */
#ifndef MOTCUA_HTTP_CLIENT_REQUEST_H
#define MOTCUA_HTTP_CLIENT_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "motcua/error.h"

struct mc_http_header {
    const char *name;
    const char *value;
};

struct mc_http_request {
    const char *method; /* "POST", "GET", ... */
    const char *url;    /* http:// or https:// only */
    const struct mc_http_header *headers;
    size_t n_headers;
    const char *body; /* NULL for none */
    size_t body_len;
    /* "host:port:address" (CURLOPT_RESOLVE) so the connection goes to that
       address whatever DNS says now; NULL to resolve normally. */
    const char *pinned_address;
    unsigned connect_timeout_ms;
    unsigned total_timeout_ms;
    size_t max_answer_bytes; /* more is dropped and `truncated` set */
};

struct mc_http_answer {
    long status;    /* 0 when no answer arrived */
    char *body;     /* NUL-terminated, malloc'd, freed by mc_http_answer_free; never NULL on MC_OK */
    size_t body_len;
    bool truncated;
    bool timed_out;
    char failure[128]; /* why no answer arrived, "" otherwise (no URL, no personal data) */
};

/* Send req. MC_OK when an HTTP answer arrived, whatever its status (a 3xx
   is returned as is: redirects are never followed); MC_ERR_NOT_READY when
   none did (refused, timed out, TLS failure: out->failure says which);
   MC_ERR_INTERNAL when out of memory. */
mc_error mc_http_request_send(const struct mc_http_request *req, struct mc_http_answer *out);

void mc_http_answer_free(struct mc_http_answer *a);

/* curl_global_init once, thread-safe; every libcurl user in the process
   calls it before its first handle. */
void mc_curl_global_init_once(void);

#endif
