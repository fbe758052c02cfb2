/* Outgoing HTTP GET and POST over ulfius' client (motcua/http_client.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ulfius.h>

#include "motcua/http_client.h"

/* Send one request and copy the answer into *out. */
static mc_error send_request(const char *verb, const char *url, const char *json_body,
                             const char *if_none_match, const char *const *headers,
                             const char *bearer, unsigned timeout_s, size_t max_bytes,
                             struct mc_http_result *out)
{
    memset(out, 0, sizeof *out);
    struct _u_request request;
    struct _u_response response;
    ulfius_init_request(&request);
    ulfius_init_response(&response);
    ulfius_set_request_properties(&request, U_OPT_HTTP_VERB, verb, U_OPT_HTTP_URL, url,
                                  U_OPT_TIMEOUT, (unsigned long)timeout_s, U_OPT_HEADER_PARAMETER,
                                  "Accept", "application/json", U_OPT_NONE);
    if (json_body != NULL) {
        u_map_put(request.map_header, "Content-Type", "application/json");
        ulfius_set_binary_body_request(&request, json_body, strlen(json_body));
    }
    if (if_none_match != NULL && if_none_match[0] != '\0')
        u_map_put(request.map_header, "If-None-Match", if_none_match);
    for (size_t i = 0; headers != NULL && headers[i] != NULL && headers[i + 1] != NULL; i += 2)
        u_map_put(request.map_header, headers[i], headers[i + 1]);
    if (bearer != NULL) {
        char auth[9000];
        snprintf(auth, sizeof auth, "Bearer %s", bearer);
        u_map_put(request.map_header, "Authorization", auth);
    }
    mc_error rc = MC_OK;
    if (ulfius_send_http_request(&request, &response) != U_OK) {
        rc = MC_ERR_NOT_READY;
    } else if (response.binary_body_length > max_bytes) {
        rc = MC_ERR_PAYLOAD_TOO_LARGE;
    } else {
        out->status = response.status;
        const char *etag = u_map_get_case(response.map_header, "ETag");
        if (etag != NULL)
            snprintf(out->etag, sizeof out->etag, "%s", etag);
        if (response.status != 304) {
            out->body = malloc(response.binary_body_length + 1);
            if (out->body == NULL) {
                rc = MC_ERR_INTERNAL;
            } else {
                if (response.binary_body_length > 0)
                    memcpy(out->body, response.binary_body, response.binary_body_length);
                out->body[response.binary_body_length] = '\0';
                out->body_len = response.binary_body_length;
            }
        }
    }
    ulfius_clean_request(&request);
    ulfius_clean_response(&response);
    return rc;
}

mc_error mc_http_get(const char *url, const char *if_none_match, const char *bearer,
                     unsigned timeout_s, size_t max_bytes, struct mc_http_result *out)
{
    return send_request("GET", url, NULL, if_none_match, NULL, bearer, timeout_s, max_bytes, out);
}

mc_error mc_http_post_json(const char *url, const char *json_body, const char *bearer,
                           unsigned timeout_s, size_t max_bytes, struct mc_http_result *out)
{
    return send_request("POST", url, json_body, NULL, NULL, bearer, timeout_s, max_bytes, out);
}

mc_error mc_http_post_json_headers(const char *url, const char *json_body, const char *bearer,
                                   const char *const *headers, unsigned timeout_s,
                                   size_t max_bytes, struct mc_http_result *out)
{
    return send_request("POST", url, json_body, NULL, headers, bearer, timeout_s, max_bytes, out);
}

void mc_http_result_free(struct mc_http_result *r)
{
    free(r->body);
    memset(r, 0, sizeof *r);
}
