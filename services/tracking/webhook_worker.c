/* The webhook delivery workers: claim, guard the URL, sign, send, record
   (webhook.h). Each delivery holds one worker for at most the timeout; a
   subscription has one delivery in flight at a time, so a slow or dead
   receiver occupies one worker, never the others' deliveries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "delivery_schedule.h"
#include "delivery_workers.h"
#include "motcua/config.h"
#include "motcua/http_client_request.h"
#include "motcua/log.h"
#include "webhook.h"
#include "webhook_signature.h"

#define SVC "tracking"

struct webhook_workers {
    mc_db_pool *db;
    const struct webhook_settings *s;
    delivery_workers *pool;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool webhook_settings_load(struct webhook_settings *s)
{
    memset(s, 0, sizeof *s);
    unsigned allow_http = 0, disable_after_h = 120;
    const char *scale_text = mc_config_str(SVC, "RETRY_SCALE", "1");
    char *end = NULL;
    s->retry_scale = strtod(scale_text, &end);
    bool ok = end != scale_text && *end == '\0' && s->retry_scale > 0.0 && s->retry_scale <= 1000.0 &&
              mc_config_uint(SVC, "WEBHOOK_ALLOW_HTTP", 0, 0, 1, &allow_http) &&
              mc_config_uint(SVC, "WEBHOOK_WORKERS", 4, 1, 64, &s->workers) &&
              mc_config_uint(SVC, "DELIVERY_INTERVAL_MS", 500, 10, 60000, &s->interval_ms) &&
              mc_config_uint(SVC, "WEBHOOK_TIMEOUT_MS", 10000, 100, 60000, &s->timeout_ms) &&
              mc_config_uint(SVC, "WEBHOOK_DISABLE_AFTER_HOURS", 120, 1, 24 * 365, &disable_after_h) &&
              mc_config_uint(SVC, "WEBHOOK_SECRET_OVERLAP_SECONDS", 86400, 0, 30 * 86400,
                             &s->secret_overlap_s);
    if (!ok) {
        mc_log(MC_LOG_ERROR, NULL, "config.invalid",
               "RETRY_SCALE or a WEBHOOK_* setting is invalid (docs/services/tracking.md)");
        return false;
    }
    s->policy.allow_plain_http = allow_http != 0;
    const char *internal = mc_config_str(SVC, "WEBHOOK_ALLOWED_INTERNAL", "");
    s->policy.allowed_internal = internal[0] != '\0' ? internal : NULL;
    const char *hosts = mc_config_str(SVC, "WEBHOOK_ALLOWED_HOSTS", "");
    s->policy.allowed_hosts = hosts[0] != '\0' ? hosts : NULL;
    s->disable_after_ms = (int64_t)((double)disable_after_h * 3600000.0 * s->retry_scale);
    if (s->disable_after_ms < 1)
        s->disable_after_ms = 1;
    if (s->policy.allowed_internal != NULL)
        mc_log(MC_LOG_WARNING, NULL, "config",
               "WEBHOOK_ALLOWED_INTERNAL=%s: callbacks may reach these internal addresses",
               s->policy.allowed_internal);
    return true;
}

/* One attempt at the claimed delivery d; fills r (status, error, duration). */
static void attempt(const struct webhook_settings *s, const json_t *d, struct webhook_result *r,
                    char *error, size_t error_len)
{
    const char *url = json_string_value(json_object_get(d, "url"));
    const char *payload = json_string_value(json_object_get(d, "payload"));
    struct mc_callback_target target;
    char pin[300] = "";
    /* Checked again at every attempt: DNS may now answer an internal
       address, and the address checked is the one connected to (pinned). */
    enum mc_callback_verdict v = mc_callback_url_check(url, &s->policy, &target);
    if (v == MC_CALLBACK_OK)
        v = mc_callback_resolve(&target, &s->policy, pin, sizeof pin);
    if (v != MC_CALLBACK_OK) {
        snprintf(error, error_len, "%s", mc_callback_verdict_code(v));
        return;
    }
    const char *secrets[WEBHOOK_MAX_LIVE_SECRETS] = {json_string_value(json_object_get(d, "secret")),
                                                     json_string_value(json_object_get(d, "previous_secret"))};
    size_t n_secrets = secrets[1] != NULL ? 2 : 1;
    char timestamp[24], signature[2 * WEBHOOK_SIGNATURE_MAX];
    int64_t ts = now_ms() / 1000;
    snprintf(timestamp, sizeof timestamp, "%lld", (long long)ts);
    if (!webhook_signature_header(secrets, n_secrets, r->delivery_id, ts, payload, strlen(payload),
                                  signature, sizeof signature)) {
        snprintf(error, error_len, "the subscription's secret is invalid");
        return;
    }
    const struct mc_http_header headers[] = {
        {"Content-Type", "application/json"},
        {"User-Agent", "motcua-tracking-webhooks/1"},
        {"webhook-id", r->delivery_id},
        {"webhook-timestamp", timestamp},
        {"webhook-signature", signature},
    };
    struct mc_http_request req = {
        .method = "POST",
        .url = url,
        .headers = headers,
        .n_headers = sizeof headers / sizeof headers[0],
        .body = payload,
        .body_len = strlen(payload),
        .pinned_address = pin[0] != '\0' ? pin : NULL,
        .connect_timeout_ms = s->timeout_ms,
        .total_timeout_ms = s->timeout_ms,
        .max_answer_bytes = 1024,
    };
    struct mc_http_answer answer;
    int64_t started = monotonic_ms();
    mc_error rc = mc_http_request_send(&req, &answer);
    r->duration_ms = (int)(monotonic_ms() - started);
    if (rc != MC_OK) {
        snprintf(error, error_len, "%s", answer.timed_out ? "timed out" : answer.failure);
        return;
    }
    r->status = answer.status;
    if (delivery_outcome_of(answer.status) != DELIVERY_DELIVERED)
        snprintf(error, error_len, "answered %ld", answer.status);
    mc_http_answer_free(&answer);
}

struct claim_tx {
    unsigned lease_ms;
    json_t *claimed;
};

static mc_error claim_tx_fn(mc_db_conn *conn, void *arg)
{
    struct claim_tx *t = arg;
    json_decref(t->claimed);
    t->claimed = NULL;
    return store_webhook_claim(conn, t->lease_ms, &t->claimed);
}

static mc_error record_tx_fn(mc_db_conn *conn, void *arg)
{
    return store_webhook_record(conn, arg);
}

static bool webhook_step(void *arg)
{
    struct webhook_workers *w = arg;
    const struct webhook_settings *s = w->s;
    struct claim_tx t = {.lease_ms = s->timeout_ms * 2 + 5000};
    if (mc_db_transaction(w->db, NULL, claim_tx_fn, &t) != MC_OK || t.claimed == NULL) {
        json_decref(t.claimed);
        return false;
    }
    const json_t *d = t.claimed;
    char error[200] = "";
    struct webhook_result r = {
        .delivery_id = json_string_value(json_object_get(d, "id")),
        .subscription_id = json_string_value(json_object_get(d, "subscription_id")),
        .attempt = (int)json_integer_value(json_object_get(d, "attempts")),
    };
    attempt(s, d, &r, error, sizeof error);
    enum delivery_outcome outcome = delivery_outcome_of(r.status);
    r.succeeded = outcome == DELIVERY_DELIVERED;
    r.error = error[0] != '\0' ? error : NULL;
    if (r.succeeded) {
        r.state = "delivered";
    } else {
        int64_t delay = outcome == DELIVERY_GONE ? -1 : delivery_retry_delay_ms((unsigned)r.attempt,
                                                                                 s->retry_scale);
        r.state = delay < 0 ? "given_up" : "failed";
        r.retry_ms = delay < 0 ? 0 : delay;
        const json_t *since = json_object_get(d, "failing_since_ms");
        int64_t failing_since = json_is_integer(since) ? (int64_t)json_integer_value(since) : now_ms();
        if (outcome == DELIVERY_GONE)
            r.disable_reason = "the receiver answered 410 Gone";
        else if (webhook_should_disable(outcome, failing_since, now_ms(), s->disable_after_ms))
            r.disable_reason = "no delivery succeeded for the configured time";
    }
    mc_error rc = mc_db_transaction(w->db, NULL, record_tx_fn, &r);
    mc_log(r.succeeded ? MC_LOG_INFO : MC_LOG_WARNING, NULL, "tracking.webhook_delivery",
           "delivery %s to subscription %s, attempt %d: %s%s%s%s", r.delivery_id, r.subscription_id,
           r.attempt, r.state, r.error != NULL ? " (" : "", r.error != NULL ? r.error : "",
           r.error != NULL ? ")" : "");
    if (r.disable_reason != NULL)
        mc_log(MC_LOG_WARNING, NULL, "tracking.webhook_disabled", "subscription %s disabled: %s",
               r.subscription_id, r.disable_reason);
    if (rc != MC_OK)
        mc_log(MC_LOG_ERROR, NULL, "tracking.webhook_delivery",
               "delivery %s: the outcome was not recorded (%s); sent again after the lease",
               r.delivery_id, mc_error_info(rc)->code);
    json_decref(t.claimed);
    return true;
}

webhook_workers *webhook_workers_start(mc_db_pool *db, const struct webhook_settings *s)
{
    struct webhook_workers *w = calloc(1, sizeof *w);
    if (w == NULL)
        return NULL;
    w->db = db;
    w->s = s;
    w->pool = delivery_workers_start("webhooks", s->workers, s->interval_ms, webhook_step, w);
    if (w->pool == NULL) {
        free(w);
        return NULL;
    }
    return w;
}

void webhook_workers_stop(webhook_workers *w)
{
    if (w == NULL)
        return;
    delivery_workers_stop(w->pool);
    free(w);
}
