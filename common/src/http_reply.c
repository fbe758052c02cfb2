/*
 * Answers: JSON bodies, problem+json errors, ETags and preconditions.
 * Every answer goes through mc_reply_raw, which records the status for the
 * access log and the metrics.
 */
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ulfius.h>

#include "internal.h"
#include "motcua/json_spec.h"

void mc_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char digest[32];
    unsigned int dlen = 0;
    EVP_Digest(data, len, digest, &dlen, EVP_sha256(), NULL);
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

void mc_set_header(mc_request *req, const char *name, const char *value)
{
    u_map_put(req->response->map_header, name, value);
}

void mc_reply_raw(mc_request *req, unsigned status, const char *content_type, const char *body,
                  size_t len)
{
    req->response->status = status;
    req->status = status;
    if (content_type != NULL)
        u_map_put(req->response->map_header, "Content-Type", content_type);
    if (body != NULL)
        ulfius_set_binary_body_response(req->response, status, body, len);
}

static char *dump(const json_t *body)
{
    /* Unicode stays UTF-8 (smaller than \u escapes, and what clients expect);
       keys keep their insertion order. */
    return json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
}

void mc_reply_json(mc_request *req, unsigned status, json_t *body)
{
    char *text = dump(body);
    json_decref(body);
    if (text == NULL) {
        mc_reply_raw(req, 500, "application/problem+json",
                     "{\"type\":\"about:blank\",\"title\":\"Internal server error\",\"status\":500,"
                     "\"code\":\"server.internal_error\"}",
                     strlen("{\"type\":\"about:blank\",\"title\":\"Internal server error\","
                            "\"status\":500,\"code\":\"server.internal_error\"}"));
        return;
    }
    mc_reply_raw(req, status, "application/json", text, strlen(text));
    free(text);
}

/* Does a list header (If-None-Match / If-Match) contain `etag`? Weak
   comparison strips W/ (If-None-Match); "*" matches anything. */
static bool etag_list_has(const char *header, const char *etag, bool weak)
{
    const char *p = header;
    size_t elen = strlen(etag);
    while (*p != '\0') {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '\0')
            break;
        if (*p == '*')
            return true;
        bool is_weak = strncmp(p, "W/", 2) == 0;
        if (is_weak)
            p += 2;
        const char *end = p;
        if (*end == '"') {
            end = strchr(end + 1, '"');
            end = end != NULL ? end + 1 : p + strlen(p);
        } else {
            while (*end != '\0' && *end != ',')
                end++;
        }
        if ((size_t)(end - p) == elen && memcmp(p, etag, elen) == 0 && (weak || !is_weak))
            return true;
        p = end;
    }
    return false;
}

/* The ETag of an answer's bytes: the first 128 bits of their SHA-256. */
static void body_etag(const char *text, size_t len, char etag[MC_BODY_ETAG_MAX])
{
    char hex[65];
    mc_sha256_hex(text, len, hex);
    snprintf(etag, MC_BODY_ETAG_MAX, "\"%.32s\"", hex);
}

char *mc_json_text_etag(json_t *body, size_t *len, char etag[MC_BODY_ETAG_MAX])
{
    char *text = dump(body);
    json_decref(body);
    if (text == NULL)
        return NULL;
    *len = strlen(text);
    body_etag(text, *len, etag);
    return text;
}

/* A serialised JSON answer with its ETag (hashed from the text when etag
   is NULL); 304 without a body when If-None-Match matches. */
static void reply_text_etag(mc_request *req, unsigned status, const char *text, size_t len,
                            const char *etag)
{
    char computed[MC_BODY_ETAG_MAX];
    if (etag == NULL) {
        body_etag(text, len, computed);
        etag = computed;
    }
    mc_set_header(req, "ETag", etag);
    const char *inm = mc_header(req, "If-None-Match");
    if (inm != NULL && status == 200 && etag_list_has(inm, etag, true)) {
        req->response->status = 304;
        req->status = 304;
        return;
    }
    mc_reply_raw(req, status, "application/json", text, len);
}

void mc_reply_json_etag(mc_request *req, unsigned status, json_t *body, const char *etag)
{
    char *text = dump(body);
    json_decref(body);
    if (text == NULL) {
        mc_reply_error(req, MC_ERR_INTERNAL, NULL);
        return;
    }
    reply_text_etag(req, status, text, strlen(text), etag);
    free(text);
}

void mc_reply_json_text(mc_request *req, unsigned status, const char *body, size_t len)
{
    reply_text_etag(req, status, body, len, NULL);
}

void mc_reply_stored_json(mc_request *req, const char *body, size_t len, const char *etag)
{
    mc_set_header(req, "ETag", etag);
    const char *inm = mc_header(req, "If-None-Match");
    if (inm != NULL && etag_list_has(inm, etag, true)) {
        req->response->status = 304;
        req->status = 304;
        return;
    }
    mc_reply_raw(req, 200, "application/json", body, len);
}

struct reply_stream {
    mc_stream_read_fn read;
    void (*done)(void *ctx);
    void *ctx;
};

#define STREAM_BLOCK_BYTES (64 * 1024)

static ssize_t stream_block(void *arg, uint64_t offset, char *buf, size_t max)
{
    struct reply_stream *st = arg;
    long n = st->read(st->ctx, (unsigned long long)offset, buf, max);
    if (n < 0)
        return U_STREAM_ERROR;
    return n == 0 ? U_STREAM_END : (ssize_t)n;
}

static void stream_done(void *arg)
{
    struct reply_stream *st = arg;
    if (st->done != NULL)
        st->done(st->ctx);
    free(st);
}

void mc_reply_stream(mc_request *req, unsigned status, const char *content_type,
                     unsigned long long size, mc_stream_read_fn read, void (*done)(void *ctx),
                     void *ctx)
{
    struct reply_stream *st = malloc(sizeof *st);
    if (st == NULL) {
        if (done != NULL)
            done(ctx);
        mc_reply_error(req, MC_ERR_INTERNAL, NULL);
        return;
    }
    *st = (struct reply_stream){read, done, ctx};
    if (ulfius_set_stream_response(req->response, status, stream_block, stream_done, (uint64_t)size,
                                   STREAM_BLOCK_BYTES, st) != U_OK) {
        stream_done(st);
        mc_reply_error(req, MC_ERR_INTERNAL, NULL);
        return;
    }
    req->status = status;
    if (content_type != NULL)
        u_map_put(req->response->map_header, "Content-Type", content_type);
}

bool mc_reply_not_modified(mc_request *req, const char *etag)
{
    mc_set_header(req, "ETag", etag);
    const char *inm = mc_header(req, "If-None-Match");
    if (inm == NULL || !etag_list_has(inm, etag, true))
        return false;
    req->response->status = 304;
    req->status = 304;
    return true;
}

void mc_reply_created(mc_request *req, json_t *body, const char *location, const char *etag)
{
    if (location != NULL)
        mc_set_header(req, "Location", location);
    if (etag != NULL)
        mc_set_header(req, "ETag", etag);
    mc_reply_json(req, 201, body);
}

void mc_reply_no_content(mc_request *req)
{
    req->response->status = 204;
    req->status = 204;
}

static json_t *problem(mc_request *req, mc_error err, const char *detail)
{
    const struct mc_error_info *info = mc_error_info(err);
    char type[160];
    snprintf(type, sizeof type, "urn:motcua:problem:%s", info->code);
    json_t *body = json_pack("{ss ss si ss}", "type", type, "title", info->title, "status",
                             (int)info->status, "code", info->code);
    if (detail != NULL)
        json_object_set_new(body, "detail", json_string(detail));
    if (req->u != NULL && req->u->url_path != NULL)
        json_object_set_new(body, "instance", json_string(req->u->url_path));
    if (req->request_id[0] != '\0')
        json_object_set_new(body, "request_id", json_string(req->request_id));
    req->error_code = info->code;
    return body;
}

static void send_problem(mc_request *req, mc_error err, json_t *body)
{
    const struct mc_error_info *info = mc_error_info(err);
    char *text = dump(body);
    json_decref(body);
    /* A handler may have named another scheme (e.g. Basic on an OAuth2 token
       endpoint) before answering; otherwise the challenge is Bearer. */
    if (info->status == 401 && u_map_get_case(req->response->map_header, "WWW-Authenticate") == NULL)
        mc_set_header(req, "WWW-Authenticate", "Bearer realm=\"motcua\"");
    if (info->status == 503)
        mc_set_header(req, "Retry-After", "1");
    mc_reply_raw(req, info->status, "application/problem+json", text != NULL ? text : "{}",
                 text != NULL ? strlen(text) : 2);
    free(text);
}

void mc_reply_error(mc_request *req, mc_error err, const char *detail_fmt, ...)
{
    char detail[512];
    if (detail_fmt != NULL) {
        va_list ap;
        va_start(ap, detail_fmt);
        vsnprintf(detail, sizeof detail, detail_fmt, ap);
        va_end(ap);
    }
    /* Valid UTF-8 only: a detail may quote client input cut at a byte limit. */
    json_t *body = problem(req, err, detail_fmt != NULL ? detail : NULL);
    if (detail_fmt != NULL && json_object_get(body, "detail") == NULL)
        json_object_set_new(body, "detail", json_string("(detail not shown: invalid text)"));
    send_problem(req, err, body);
}

void mc_reply_problem(mc_request *req, mc_error err, const char *detail, json_t *members)
{
    json_t *body = problem(req, err, detail);
    const char *key;
    json_t *value;
    json_object_foreach(members, key, value)
    {
        if (json_object_get(body, key) == NULL)
            json_object_set(body, key, value);
    }
    json_decref(members);
    send_problem(req, err, body);
}

void mc_reply_errors(mc_request *req, mc_error err, json_t *errors)
{
    size_t n = json_array_size(errors);
    char detail[96];
    snprintf(detail, sizeof detail, "%zu problem%s found; see errors", n, n == 1 ? "" : "s");
    json_t *body = problem(req, err, detail);
    json_object_set_new(body, "errors", errors);
    send_problem(req, err, body);
}

void mc_etag_for_revision(char *out, size_t out_len, const char *prefix, long long revision)
{
    snprintf(out, out_len, "\"%s%lld\"", prefix != NULL ? prefix : "", revision);
}

long long mc_if_match_revision(const mc_request *req, const char *prefix)
{
    const char *h = mc_header(req, "If-Match");
    if (h == NULL)
        return -2;
    while (*h == ' ')
        h++;
    if (strcmp(h, "*") == 0)
        return -1;
    size_t plen = strlen(prefix);
    if (h[0] != '"' || strncmp(h + 1, prefix, plen) != 0)
        return -3;
    const char *digits = h + 1 + plen;
    char *end = NULL;
    long long rev = strtoll(digits, &end, 10);
    return (end != digits && end != NULL && end[0] == '"' && end[1] == '\0' && rev >= 0 &&
            digits[0] >= '0' && digits[0] <= '9')
               ? rev
               : -3;
}

mc_error mc_revision_precondition(long long if_match, long long current)
{
    if (if_match == -2)
        return MC_ERR_PRECONDITION_REQUIRED;
    if (if_match == -1 || if_match == current)
        return MC_OK;
    return MC_ERR_PRECONDITION_FAILED; /* -3 included: it names no revision of ours */
}

bool mc_require_if_match(mc_request *req, const char *current_etag)
{
    const char *if_match = mc_header(req, "If-Match");
    if (if_match == NULL) {
        mc_reply_error(req, MC_ERR_PRECONDITION_REQUIRED,
                       "send If-Match with the ETag you read, so concurrent edits are not lost");
        return false;
    }
    if (!etag_list_has(if_match, current_etag, false)) {
        mc_set_header(req, "ETag", current_etag);
        mc_reply_error(req, MC_ERR_PRECONDITION_FAILED,
                       "the resource was changed by someone else; read it again (current ETag %s)",
                       current_etag);
        return false;
    }
    return true;
}
