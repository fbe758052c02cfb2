/*
 * Citizen notifications (docs/services/tracking.md, "Notifications").
 *
 *   notify_rules.c          which events notify, template variables (pure)
 *   notify_template.c       choosing and filling templates (pure)
 *   notify_mail.c           the e-mail message as sent (pure)
 *   notify_enqueue.c        an event into the inbox and the outbox, in the
 *                           projection's transaction
 *   notify_send.c           sending one message: SMTP (libcurl), the SMS
 *                           gateway (HTTP), the contact details from dossier
 *   notify_worker.c         the delivery workers draining the outbox
 *   handle_notifications.c  the inbox API
 *   store_notifications.c   every SQL statement of the above
 */
#ifndef TRACKING_NOTIFY_H
#define TRACKING_NOTIFY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "motcua/db.h"
#include "motcua/error.h"
#include "motcua/service_token.h"

struct projection_event;

/* ---- notify_enqueue.c ---- */

/* The citizen's notification for a new event (one the projection had not
   applied), written on conn inside the feed consumer's transaction: the
   inbox row and one outbox row per channel. Nothing for events that do not
   need the citizen. */
mc_error notify_on_event(mc_db_conn *conn, const struct projection_event *ev);

/* ---- notify_worker.c ---- */

struct notify_settings {
    const char *smtp_url;       /* "smtp://host:port" or "smtps://..."; NULL: no e-mail */
    const char *mail_from;
    const char *sms_url;        /* the SMS gateway's send URL; NULL: no SMS */
    char sms_api_key[256];
    const char *dossier_url;    /* where contact details are read */
    double retry_scale;         /* 1 in production (delivery_schedule.h) */
    unsigned workers;           /* delivery threads */
    unsigned interval_ms;       /* idle poll */
    unsigned timeout_ms;        /* per message */
};

typedef struct notify_workers notify_workers;

/* Read the settings (MOTCUA_TRACKING_SMTP_URL, ...) into *s; false (logged)
   when one is invalid. */
bool notify_settings_load(struct notify_settings *s);

/* Start the workers (db, token and settings borrowed: they outlive them).
   NULL when a thread cannot be started. */
notify_workers *notify_workers_start(mc_db_pool *db, mc_service_token *token,
                                     const struct notify_settings *s);
void notify_workers_stop(notify_workers *w);

/* ---- notify_send.c ---- */

struct notify_contacts {
    char email[256]; /* "" when none */
    char phone[32];  /* "" when none */
};

/* The applicant's contact details of a dossier, from the dossier service
   (GET /dossiers/{id}/contacts) with the service's own token. Never logged,
   never stored. MC_ERR_NOT_FOUND when the dossier is unknown there. */
mc_error notify_fetch_contacts(const struct notify_settings *s, mc_service_token *token,
                               const char *dossier_id, struct notify_contacts *out);

/* Send an e-mail over SMTP; false with a reason (no personal data) in err. */
bool notify_send_email(const struct notify_settings *s, const char *to, const char *subject,
                       const char *body, const char *message_id, char *err, size_t err_len);

/* Send an SMS through the gateway; reference lets it drop a repeat. */
bool notify_send_sms(const struct notify_settings *s, const char *to, const char *text,
                     const char *reference, char *err, size_t err_len);

/* ---- notify_mail.c (pure) ---- */

/* The RFC 5322 message (a new malloc'd string, CRLF line ends): UTF-8
   subject encoded per RFC 2047, the body base64 in text/plain; UTF-8. NULL
   when an address or the message id holds a control character or a space
   (header injection) or out of memory. date is an RFC 5322 date. */
char *notify_mail_compose(const char *from, const char *to, const char *subject, const char *body,
                          const char *message_id, const char *date);

/* ---- store_notifications.c ---- */

struct notification_new {
    const char *event_id;
    const char *dossier_id;
    const char *dossier_code;
    const char *recipient_sub; /* NULL: no inbox (filed at the counter) */
    const char *agency_code;
    const char *kind;
    bool legally_required;
    const char *title, *body, *sms_text;
    bool with_deliveries; /* e-mail and SMS rows in the outbox */
};

/* The templates of kind (all agencies and languages) as a new array of
   {agency_code, lang, subject, body, sms}. */
mc_error store_templates_of_kind(mc_db_conn *conn, const char *kind, json_t **rows);

/* Insert n (and its outbox rows). *added false when the event's
   notification exists already. */
mc_error store_notification_add(mc_db_conn *conn, const struct notification_new *n, bool *added);

/* Claim up to limit due deliveries (pending or failed, next_attempt_at
   passed): each is pushed lease_ms into the future and its attempts counted
   before the transaction commits, so another worker (or this one after a
   crash) takes it again only when the lease ran out. *claimed: a new array
   of {notification_id, channel, attempts, dossier_id, recipient_sub,
   legally_required, title, body, sms_text}. */
mc_error store_notification_claim(mc_db_conn *conn, unsigned limit, unsigned lease_ms, json_t **claimed);

/* Record how a claimed delivery went: state "sent", "failed" (retried in
   retry_ms), "given_up" or "skipped"; error may be NULL. */
mc_error store_notification_delivery_done(mc_db_conn *conn, const char *notification_id,
                                          const char *channel, const char *state, int64_t retry_ms,
                                          const char *error);

mc_error store_sms_opted_out(mc_db_conn *conn, const char *recipient_sub, bool *opted_out);
mc_error store_sms_opt_out_set(mc_db_conn *conn, const char *recipient_sub, bool opted_out);

struct inbox_query {
    const char *recipient_sub;
    bool unread_only;
    const char *after_created; /* the cursor's keys, NULL on the first page */
    const char *after_id;
};
/* A page of the recipient's inbox, newest first (items and next_keys new). */
mc_error store_inbox_list(mc_db_conn *conn, const struct inbox_query *q, unsigned limit,
                          json_t **items, json_t **next_keys);

/* Mark notification id of recipient_sub read (once; later calls keep the
   first time) and return it (*item new). MC_ERR_NOT_FOUND when it is not
   theirs. */
mc_error store_inbox_mark_read(mc_db_conn *conn, const char *recipient_sub, const char *id,
                               json_t **item);

#endif
