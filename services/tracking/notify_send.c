/* Sending one message: SMTP through libcurl, the SMS gateway over HTTP, and
   the contact details from the dossier service (notify.h). Addresses and
   phone numbers are never logged nor kept. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "motcua/http_client.h"
#include "motcua/http_client_request.h"
#include "notify.h"

#define TOKEN_MAX 8192

static void copy_contact(const json_t *body, const char *name, char *out, size_t len)
{
    const char *v = json_string_value(json_object_get(body, name));
    out[0] = '\0';
    if (v != NULL && strlen(v) < len)
        memcpy(out, v, strlen(v) + 1);
}

mc_error notify_fetch_contacts(const struct notify_settings *s, mc_service_token *token,
                               const char *dossier_id, struct notify_contacts *out)
{
    memset(out, 0, sizeof *out);
    char url[512], bearer[TOKEN_MAX];
    int n = snprintf(url, sizeof url, "%s/api/v1/dossiers/%s/contacts", s->dossier_url, dossier_id);
    if (n < 0 || (size_t)n >= sizeof url)
        return MC_ERR_INTERNAL;
    mc_error rc = MC_OK;
    for (int attempt = 0; attempt < 2; attempt++) {
        rc = mc_service_token_get(token, (int64_t)time(NULL), bearer, sizeof bearer);
        if (rc != MC_OK)
            return rc;
        struct mc_http_result res;
        unsigned timeout_s = s->timeout_ms / 1000 > 0 ? s->timeout_ms / 1000 : 1;
        rc = mc_http_get(url, NULL, bearer, timeout_s, 16384, &res);
        if (rc != MC_OK)
            return rc;
        if (res.status == 401 && attempt == 0) { /* expired or revoked: a fresh token once */
            mc_http_result_free(&res);
            mc_service_token_invalidate(token);
            continue;
        }
        if (res.status == 200) {
            json_t *body = json_loads(res.body, JSON_REJECT_DUPLICATES, NULL);
            copy_contact(body, "email", out->email, sizeof out->email);
            copy_contact(body, "phone", out->phone, sizeof out->phone);
            rc = body != NULL ? MC_OK : MC_ERR_NOT_READY;
            json_decref(body);
        } else {
            rc = res.status == 404 ? MC_ERR_NOT_FOUND : MC_ERR_NOT_READY;
        }
        mc_http_result_free(&res);
        break;
    }
    return rc;
}

struct upload {
    const char *data;
    size_t len, pos;
};

static size_t read_upload(char *buf, size_t size, size_t nmemb, void *userp)
{
    struct upload *u = userp;
    size_t room = size * nmemb, left = u->len - u->pos;
    size_t n = left < room ? left : room;
    memcpy(buf, u->data + u->pos, n);
    u->pos += n;
    return n;
}

bool notify_send_email(const struct notify_settings *s, const char *to, const char *subject,
                       const char *body, const char *message_id, char *err, size_t err_len)
{
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    char *msg = notify_mail_compose(s->mail_from, to, subject, body, message_id, date);
    if (msg == NULL) {
        snprintf(err, err_len, "the address is not usable in a message");
        return false;
    }
    mc_curl_global_init_once();
    CURL *curl = curl_easy_init();
    if (curl == NULL) {
        free(msg);
        snprintf(err, err_len, "out of memory");
        return false;
    }
    char from_angle[300], to_angle[300];
    snprintf(from_angle, sizeof from_angle, "<%s>", s->mail_from);
    snprintf(to_angle, sizeof to_angle, "<%s>", to);
    struct curl_slist *rcpt = curl_slist_append(NULL, to_angle);
    struct upload up = {.data = msg, .len = strlen(msg)};
    curl_easy_setopt(curl, CURLOPT_URL, s->smtp_url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from_angle);
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_upload);
    curl_easy_setopt(curl, CURLOPT_READDATA, &up);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)s->timeout_ms);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)s->timeout_ms);
    /* STARTTLS when the server offers it (smtps:// is TLS from the start). */
    curl_easy_setopt(curl, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
    CURLcode res = rcpt != NULL ? curl_easy_perform(curl) : CURLE_OUT_OF_MEMORY;
    bool ok = res == CURLE_OK;
    if (!ok)
        snprintf(err, err_len, "smtp: %s", curl_easy_strerror(res));
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(curl);
    free(msg);
    return ok;
}

bool notify_send_sms(const struct notify_settings *s, const char *to, const char *text,
                     const char *reference, char *err, size_t err_len)
{
    json_t *payload = json_pack("{ss ss ss}", "to", to, "text", text, "reference", reference);
    char *body = payload != NULL ? json_dumps(payload, JSON_COMPACT) : NULL;
    json_decref(payload);
    if (body == NULL) {
        snprintf(err, err_len, "out of memory");
        return false;
    }
    char auth[300];
    snprintf(auth, sizeof auth, "Bearer %s", s->sms_api_key);
    const struct mc_http_header headers[] = {
        {"Content-Type", "application/json"},
        {"Authorization", auth},
    };
    struct mc_http_request req = {
        .method = "POST",
        .url = s->sms_url,
        .headers = headers,
        .n_headers = s->sms_api_key[0] != '\0' ? 2 : 1,
        .body = body,
        .body_len = strlen(body),
        .connect_timeout_ms = s->timeout_ms,
        .total_timeout_ms = s->timeout_ms,
        .max_answer_bytes = 4096,
    };
    struct mc_http_answer answer;
    mc_error rc = mc_http_request_send(&req, &answer);
    free(body);
    bool ok = rc == MC_OK && answer.status >= 200 && answer.status <= 299;
    if (!ok) {
        if (rc == MC_OK)
            snprintf(err, err_len, "sms gateway answered %ld", answer.status);
        else
            snprintf(err, err_len, "sms gateway: %s", answer.failure[0] != '\0' ? answer.failure : "no answer");
    }
    if (rc == MC_OK)
        mc_http_answer_free(&answer);
    return ok;
}
