/* Outgoing HTTP requests with libcurl (motcua/http_client_request.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "motcua/http_client_request.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

void mc_curl_global_init_once(void)
{
    pthread_once(&curl_once, curl_init);
}

struct answer_sink {
    struct mc_http_answer *out;
    size_t cap;
    size_t max;
};

/* Collects the body up to max bytes; the rest is read and dropped, so a
   large answer costs bounded memory and the receiver is not cut off. */
static size_t collect(char *data, size_t size, size_t nmemb, void *userp)
{
    struct answer_sink *s = userp;
    size_t n = size * nmemb;
    size_t room = s->max - s->out->body_len;
    size_t take = n < room ? n : room;
    if (take < n)
        s->out->truncated = true;
    if (take == 0)
        return n;
    if (s->out->body_len + take + 1 > s->cap) {
        size_t cap = (s->out->body_len + take + 1) * 2;
        if (cap > s->max + 1)
            cap = s->max + 1;
        char *grown = realloc(s->out->body, cap);
        if (grown == NULL)
            return 0; /* aborts the transfer */
        s->out->body = grown;
        s->cap = cap;
    }
    memcpy(s->out->body + s->out->body_len, data, take);
    s->out->body_len += take;
    s->out->body[s->out->body_len] = '\0';
    return n;
}

mc_error mc_http_request_send(const struct mc_http_request *req, struct mc_http_answer *out)
{
    memset(out, 0, sizeof *out);
    mc_curl_global_init_once();
    CURL *curl = curl_easy_init();
    if (curl == NULL)
        return MC_ERR_INTERNAL;
    struct curl_slist *headers = NULL, *resolve = NULL;
    mc_error rc = MC_OK;
    for (size_t i = 0; i < req->n_headers; i++) {
        size_t len = strlen(req->headers[i].name) + strlen(req->headers[i].value) + 3;
        char *line = malloc(len);
        if (line == NULL) {
            rc = MC_ERR_INTERNAL;
            goto done;
        }
        snprintf(line, len, "%s: %s", req->headers[i].name, req->headers[i].value);
        struct curl_slist *next = curl_slist_append(headers, line);
        free(line);
        if (next == NULL) {
            rc = MC_ERR_INTERNAL;
            goto done;
        }
        headers = next;
    }
    /* No "Expect: 100-continue" round trip: it only adds a wait. */
    struct curl_slist *next = curl_slist_append(headers, "Expect:");
    if (next == NULL) {
        rc = MC_ERR_INTERNAL;
        goto done;
    }
    headers = next;
    if (req->pinned_address != NULL) {
        resolve = curl_slist_append(NULL, req->pinned_address);
        if (resolve == NULL) {
            rc = MC_ERR_INTERNAL;
            goto done;
        }
        curl_easy_setopt(curl, CURLOPT_RESOLVE, resolve);
    }
    struct answer_sink sink = {.out = out, .cap = 0, .max = req->max_answer_bytes};
    curl_easy_setopt(curl, CURLOPT_URL, req->url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req->method);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)req->connect_timeout_ms);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)req->total_timeout_ms);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
    if (req->body != NULL) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    }
    CURLcode res = curl_easy_perform(curl);
    if (res == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
        if (out->body == NULL) {
            out->body = calloc(1, 1);
            if (out->body == NULL)
                rc = MC_ERR_INTERNAL;
        }
    } else {
        out->timed_out = res == CURLE_OPERATION_TIMEDOUT;
        snprintf(out->failure, sizeof out->failure, "%s", curl_easy_strerror(res));
        rc = res == CURLE_WRITE_ERROR ? MC_ERR_INTERNAL : MC_ERR_NOT_READY;
    }
done:
    if (rc != MC_OK) {
        free(out->body);
        out->body = NULL;
        out->body_len = 0;
    }
    curl_slist_free_all(headers);
    curl_slist_free_all(resolve);
    curl_easy_cleanup(curl);
    return rc;
}

void mc_http_answer_free(struct mc_http_answer *a)
{
    free(a->body);
    memset(a, 0, sizeof *a);
}
