/*
 * Reading a request: path, query and header values, and query-parameter
 * parsing that reports every bad parameter at once.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ulfius.h>

#include "internal.h"
#include "motcua/json_spec.h"

const char *mc_path_param(const mc_request *req, const char *name)
{
    for (size_t i = 0; i < req->n_path_params; i++)
        if (strcmp(req->path_names[i], name) == 0)
            return req->path_values[i];
    return NULL;
}

const char *mc_query_param(const mc_request *req, const char *name)
{
    const char *v = u_map_get(req->u->map_url, name);
    return (v != NULL && *v != '\0') ? v : NULL;
}

const char *mc_query_string(const mc_request *req)
{
    const char *q = req->u->http_url != NULL ? strchr(req->u->http_url, '?') : NULL;
    return q != NULL ? q + 1 : "";
}

const char *mc_header(const mc_request *req, const char *name)
{
    return u_map_get_case(req->u->map_header, name);
}

const void *mc_request_body(const mc_request *req, size_t *len)
{
    *len = req->u->binary_body_length;
    return req->u->binary_body;
}

void mc_client_address(const mc_request *req, char *out, size_t out_len)
{
    const struct sockaddr *peer = req->u->client_address;
    if (mc_cidr_list_contains(req->app->trusted_proxies, peer)) {
        const char *forwarded = mc_header(req, "X-Real-IP");
        unsigned char parsed[16];
        if (forwarded != NULL && strlen(forwarded) < out_len &&
            (inet_pton(AF_INET, forwarded, parsed) == 1 || inet_pton(AF_INET6, forwarded, parsed) == 1)) {
            snprintf(out, out_len, "%s", forwarded);
            return;
        }
    }
    if (!mc_sockaddr_text(peer, out, out_len))
        snprintf(out, out_len, "unknown");
}

void *mc_request_service_ctx(const mc_request *req)
{
    return req->app->ctx;
}

struct mc_db_pool *mc_request_db(const mc_request *req)
{
    return req->app->db;
}

bool mc_request_write_generation(const mc_request *req, unsigned long *generation)
{
    if (req->app->cache == NULL)
        return false;
    *generation = mc_response_cache_generation(req->app->cache);
    return true;
}

void mc_errors_add_param(json_t *errors, const char *parameter, const char *code, const char *message)
{
    json_array_append_new(errors, json_pack("{ss ss ss}", "parameter", parameter, "code", code,
                                            "message", message));
}

/* A parameter whose value held %00 (noted by the dispatcher) is reported,
   never read as the shortened value libmicrohttpd leaves. */
static bool nul_tainted(const mc_request *req, const char *name, json_t *errors)
{
    for (size_t i = 0; i < req->n_nul_params; i++)
        if (strcmp(req->nul_params[i], name) == 0) {
            mc_errors_add_param(errors, name, "nul_character", "must not contain a NUL character (%00)");
            return true;
        }
    return false;
}

bool mc_query_uint(const mc_request *req, const char *name, unsigned min, unsigned max,
                   unsigned *out, bool *present, json_t *errors)
{
    if (nul_tainted(req, name, errors)) {
        if (present != NULL)
            *present = true;
        return false;
    }
    const char *text = mc_query_param(req, name);
    if (present != NULL)
        *present = text != NULL;
    if (text == NULL)
        return true;
    char msg[96];
    bool digits = *text != '\0' && strlen(text) <= 10;
    for (const char *c = text; digits && *c != '\0'; c++)
        digits = isdigit((unsigned char)*c) != 0;
    unsigned long long v = digits ? strtoull(text, NULL, 10) : 0;
    if (!digits || v < min || v > max) {
        snprintf(msg, sizeof msg, "must be an integer from %u to %u", min, max);
        mc_errors_add_param(errors, name, digits ? "out_of_range" : "type", msg);
        return false;
    }
    *out = (unsigned)v;
    return true;
}

static bool valid_utf8(const unsigned char *s)
{
    while (*s != '\0') {
        size_t n;
        unsigned cp;
        if (*s < 0x80) {
            s++;
            continue;
        } else if ((*s & 0xE0) == 0xC0) {
            n = 1;
            cp = *s & 0x1Fu;
        } else if ((*s & 0xF0) == 0xE0) {
            n = 2;
            cp = *s & 0x0Fu;
        } else if ((*s & 0xF8) == 0xF0) {
            n = 3;
            cp = *s & 0x07u;
        } else {
            return false;
        }
        for (size_t i = 1; i <= n; i++) {
            if ((s[i] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i] & 0x3Fu);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        s += n + 1;
    }
    return true;
}

const char *mc_query_str(const mc_request *req, const char *name, size_t max_len, json_t *errors)
{
    if (nul_tainted(req, name, errors))
        return NULL;
    const char *text = mc_query_param(req, name);
    if (text == NULL)
        return NULL;
    char msg[96];
    if (!valid_utf8((const unsigned char *)text)) {
        mc_errors_add_param(errors, name, "encoding", "must be valid UTF-8");
        return NULL;
    }
    for (const unsigned char *c = (const unsigned char *)text; *c != '\0'; c++)
        if (*c < 0x20 || *c == 0x7F) {
            mc_errors_add_param(errors, name, "control_characters", "must not contain control characters");
            return NULL;
        }
    if (mc_utf8_length(text) > max_len) {
        snprintf(msg, sizeof msg, "must be at most %zu characters", max_len);
        mc_errors_add_param(errors, name, "max_length", msg);
        return NULL;
    }
    return text;
}
