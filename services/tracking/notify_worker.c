/* The delivery workers draining the notification outbox (notify.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delivery_schedule.h"
#include "delivery_workers.h"
#include "motcua/config.h"
#include "motcua/log.h"
#include "notify.h"

#define SVC "tracking"
#define LEASE_MS 60000u /* a claimed message is taken again after this if its worker died */

struct notify_workers {
    mc_db_pool *db;
    mc_service_token *token;
    const struct notify_settings *s;
    delivery_workers *pool;
};

/* MOTCUA_TRACKING_RETRY_SCALE: a positive number (1 in production). */
static bool retry_scale(double *out)
{
    const char *text = mc_config_str(SVC, "RETRY_SCALE", "1");
    char *end = NULL;
    double v = strtod(text, &end);
    if (end == text || *end != '\0' || !(v > 0.0) || v > 1000.0)
        return false;
    *out = v;
    return true;
}

/* The first line of a key file into out; false when unreadable or empty. */
static bool read_key_file(const char *path, char *out, size_t len)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return false;
    bool ok = fgets(out, (int)len, f) != NULL;
    fclose(f);
    if (ok)
        out[strcspn(out, "\r\n")] = '\0';
    return ok && out[0] != '\0';
}

static const char *empty_to_null(const char *s)
{
    return s != NULL && s[0] != '\0' ? s : NULL;
}

bool notify_settings_load(struct notify_settings *s)
{
    memset(s, 0, sizeof *s);
    static char dossier_default[64];
    mc_service_default_url("dossier", dossier_default, sizeof dossier_default);
    s->dossier_url = mc_config_str(SVC, "DOSSIER_URL", dossier_default);
    s->smtp_url = empty_to_null(mc_config_str(SVC, "SMTP_URL", NULL));
    s->mail_from = mc_config_str(SVC, "MAIL_FROM", "thongbao@dichvucong.local");
    s->sms_url = empty_to_null(mc_config_str(SVC, "SMS_URL", NULL));
    const char *key_file = empty_to_null(mc_config_str(SVC, "SMS_API_KEY_FILE", NULL));
    if (key_file != NULL && !read_key_file(key_file, s->sms_api_key, sizeof s->sms_api_key)) {
        mc_log(MC_LOG_ERROR, NULL, "config.invalid", "SMS_API_KEY_FILE cannot be read");
        return false;
    }
    if (!retry_scale(&s->retry_scale) ||
        !mc_config_uint(SVC, "NOTIFY_WORKERS", 2, 1, 64, &s->workers) ||
        !mc_config_uint(SVC, "DELIVERY_INTERVAL_MS", 500, 10, 60000, &s->interval_ms) ||
        !mc_config_uint(SVC, "DELIVERY_TIMEOUT_MS", 10000, 100, 120000, &s->timeout_ms)) {
        mc_log(MC_LOG_ERROR, NULL, "config.invalid",
               "RETRY_SCALE, NOTIFY_WORKERS, DELIVERY_INTERVAL_MS or DELIVERY_TIMEOUT_MS");
        return false;
    }
    if (s->smtp_url == NULL)
        mc_log(MC_LOG_WARNING, NULL, "config.missing", "no SMTP_URL: citizens get no e-mail");
    if (s->sms_url == NULL)
        mc_log(MC_LOG_WARNING, NULL, "config.missing", "no SMS_URL: citizens get no SMS");
    return true;
}

struct outcome {
    const char *state; /* sent, failed, given_up, skipped */
    int64_t retry_ms;
    char error[200];
};

static void fail(struct outcome *o, unsigned attempts, double scale)
{
    int64_t delay = delivery_retry_delay_ms(attempts, scale);
    o->state = delay < 0 ? "given_up" : "failed";
    o->retry_ms = delay < 0 ? 0 : delay;
}

static void skip(struct outcome *o, const char *why)
{
    o->state = "skipped";
    snprintf(o->error, sizeof o->error, "%s", why);
}

/* Whether the SMS of a notice that is not legally required is refused by
   its recipient; false with o filled when the database cannot say. */
static bool sms_refused(struct notify_workers *w, const char *recipient, bool *refused,
                        struct outcome *o)
{
    mc_db_conn *conn = NULL;
    mc_error rc = mc_db_acquire(w->db, &conn);
    if (rc == MC_OK) {
        rc = store_sms_opted_out(conn, recipient, refused);
        mc_db_release(w->db, conn);
    }
    if (rc != MC_OK)
        snprintf(o->error, sizeof o->error, "database: %s", mc_error_info(rc)->code);
    return rc == MC_OK;
}

/* Send one claimed delivery and say how it went. */
static void deliver(struct notify_workers *w, const json_t *d, struct outcome *o)
{
    const struct notify_settings *s = w->s;
    const char *id = json_string_value(json_object_get(d, "notification_id"));
    const char *channel = json_string_value(json_object_get(d, "channel"));
    const char *dossier_id = json_string_value(json_object_get(d, "dossier_id"));
    const char *recipient = json_string_value(json_object_get(d, "recipient_sub"));
    unsigned attempts = (unsigned)json_integer_value(json_object_get(d, "attempts"));
    bool legal = json_is_true(json_object_get(d, "legally_required"));
    bool sms = strcmp(channel, "sms") == 0;
    bool refused = false;
    if ((sms ? s->sms_url : s->smtp_url) == NULL) {
        skip(o, sms ? "no SMS gateway configured" : "no SMTP server configured");
    } else if (dossier_id == NULL) {
        skip(o, "no dossier");
    } else if (sms && !legal && recipient != NULL && !sms_refused(w, recipient, &refused, o)) {
        fail(o, attempts, s->retry_scale);
    } else if (refused) {
        skip(o, "the citizen opted out of SMS");
    } else {
        struct notify_contacts contacts;
        mc_error rc = notify_fetch_contacts(s, w->token, dossier_id, &contacts);
        const char *address = sms ? contacts.phone : contacts.email;
        char reference[80];
        snprintf(reference, sizeof reference, "%s.%s@motcua-tracking", id, channel);
        if (rc == MC_ERR_NOT_FOUND) {
            skip(o, "the dossier service does not know the dossier");
        } else if (rc != MC_OK) {
            snprintf(o->error, sizeof o->error, "contact details unavailable: %s",
                     mc_error_info(rc)->code);
            fail(o, attempts, s->retry_scale);
        } else if (address[0] == '\0') {
            skip(o, sms ? "no phone number" : "no e-mail address");
        } else if (sms ? notify_send_sms(s, address, json_string_value(json_object_get(d, "sms_text")),
                                         reference, o->error, sizeof o->error)
                       : notify_send_email(s, address, json_string_value(json_object_get(d, "title")),
                                           json_string_value(json_object_get(d, "body")), reference,
                                           o->error, sizeof o->error)) {
            o->state = "sent";
            o->error[0] = '\0';
        } else {
            fail(o, attempts, s->retry_scale);
        }
        memset(&contacts, 0, sizeof contacts); /* kept no longer than the send */
    }
}

static mc_error claim_fn(mc_db_conn *conn, void *arg)
{
    json_t **claimed = arg;
    json_decref(*claimed);
    return store_notification_claim(conn, 1, LEASE_MS, claimed);
}

static bool notify_step(void *arg)
{
    struct notify_workers *w = arg;
    json_t *claimed = NULL;
    if (mc_db_transaction(w->db, NULL, claim_fn, &claimed) != MC_OK || json_array_size(claimed) == 0) {
        json_decref(claimed);
        return false;
    }
    size_t i;
    const json_t *d;
    json_array_foreach (claimed, i, d) {
        struct outcome o = {0};
        deliver(w, d, &o);
        const char *id = json_string_value(json_object_get(d, "notification_id"));
        const char *channel = json_string_value(json_object_get(d, "channel"));
        mc_db_conn *conn = NULL;
        mc_error rc = mc_db_acquire(w->db, &conn);
        if (rc == MC_OK) {
            rc = store_notification_delivery_done(conn, id, channel, o.state, o.retry_ms,
                                                  o.error[0] != '\0' ? o.error : NULL);
            mc_db_release(w->db, conn);
        }
        mc_log(strcmp(o.state, "sent") == 0 || strcmp(o.state, "skipped") == 0 ? MC_LOG_INFO
                                                                               : MC_LOG_WARNING,
               NULL, "tracking.notification_delivery", "notification %s by %s: %s%s%s%s", id, channel,
               o.state, o.error[0] != '\0' ? " (" : "", o.error, o.error[0] != '\0' ? ")" : "");
        if (rc != MC_OK)
            mc_log(MC_LOG_ERROR, NULL, "tracking.notification_delivery",
                   "notification %s by %s: the outcome was not recorded (%s); sent again after the lease",
                   id, channel, mc_error_info(rc)->code);
    }
    json_decref(claimed);
    return true;
}

notify_workers *notify_workers_start(mc_db_pool *db, mc_service_token *token,
                                     const struct notify_settings *s)
{
    struct notify_workers *w = calloc(1, sizeof *w);
    if (w == NULL)
        return NULL;
    w->db = db;
    w->token = token;
    w->s = s;
    w->pool = delivery_workers_start("notifications", s->workers, s->interval_ms, notify_step, w);
    if (w->pool == NULL) {
        free(w);
        return NULL;
    }
    return w;
}

void notify_workers_stop(notify_workers *w)
{
    if (w == NULL)
        return;
    delivery_workers_stop(w->pool);
    free(w);
}
