/*
 * Webhooks for agency systems (docs/services/tracking.md, "Webhooks").
 *
 *   webhook_signature.c  Standard Webhooks signatures (pure)
 *   webhook_payload.c    the body an event is delivered as (pure)
 *   delivery_schedule.c  the retry schedule, what answers mean (pure)
 *   webhook_enqueue.c    an event into each matching subscription's outbox,
 *                        in the projection's transaction
 *   webhook_worker.c     the delivery workers: guard, sign, send, record
 *   handle_webhooks.c    subscriptions and their delivery logs
 *   store_webhooks.c     every SQL statement of the above
 */
#ifndef TRACKING_WEBHOOK_H
#define TRACKING_WEBHOOK_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "motcua/callback_url.h"
#include "motcua/db.h"
#include "motcua/error.h"

struct projection_event;

#define WEBHOOK_SCOPE "tracking:webhooks"

/* ---- webhook_payload.c (pure) ---- */

/* The delivery body of an event, Standard Webhooks' shape:
   {"type", "timestamp", "data": {...}} with data limited to what an
   agency's system needs about its dossier (no applicant data). A new
   string (caller frees) or NULL. */
char *webhook_payload(const char *event_id, const char *type, const json_t *data);

/* Is type a dossier event type a subscription may name ("dossier.dossier.x")? */
bool webhook_event_type_valid(const char *type);

/* ---- webhook_enqueue.c ---- */

/* One delivery per active subscription of the event's agencies (the filing
   and the handling agency) that wants its type, on conn in the feed
   consumer's transaction. */
mc_error webhook_on_event(mc_db_conn *conn, const struct projection_event *ev);

/* ---- webhook_worker.c ---- */

struct webhook_settings {
    struct mc_callback_policy policy;
    double retry_scale;
    unsigned workers, interval_ms, timeout_ms;
    int64_t disable_after_ms;     /* failing this long: disabled (scaled like the schedule) */
    unsigned secret_overlap_s;    /* the previous secret signs this long after a rotation */
};

typedef struct webhook_workers webhook_workers;

bool webhook_settings_load(struct webhook_settings *s);
webhook_workers *webhook_workers_start(mc_db_pool *db, const struct webhook_settings *s);
void webhook_workers_stop(webhook_workers *w);

/* ---- store_webhooks.c ---- */

struct webhook_new {
    const char *owner_sub, *agency_code, *url, *description, *secret;
    const json_t *event_types; /* array of strings */
};

/* Subscriptions as JSON: {id, agency_code, url, event_types, description,
   state, disabled_reason, disabled_at, created_at, updated_at}; never the
   secret. Every call is scoped to agency: another agency's subscription is
   MC_ERR_NOT_FOUND. */
mc_error store_webhook_insert(mc_db_conn *conn, const struct webhook_new *w, json_t **out);
mc_error store_webhook_get(mc_db_conn *conn, const char *agency, const char *id, json_t **out);
mc_error store_webhook_list(mc_db_conn *conn, const char *agency, const char *after_created,
                            const char *after_id, unsigned limit, json_t **items, json_t **next_keys);
mc_error store_webhook_delete(mc_db_conn *conn, const char *agency, const char *id);
/* A new secret; the current one keeps signing for overlap_s seconds.
   *previous_until: its end (RFC 3339, new). */
mc_error store_webhook_rotate(mc_db_conn *conn, const char *agency, const char *id,
                              const char *secret, unsigned overlap_s, json_t **out);
/* Active again, its failure clock reset. */
mc_error store_webhook_enable(mc_db_conn *conn, const char *agency, const char *id, json_t **out);

/* The delivery log of a subscription, newest first, each with its attempts. */
mc_error store_webhook_deliveries(mc_db_conn *conn, const char *agency, const char *subscription_id,
                                  const char *after_created, const char *after_id, unsigned limit,
                                  json_t **items, json_t **next_keys);
/* Send delivery_id again from now on, on the schedule from the start. */
mc_error store_webhook_redeliver(mc_db_conn *conn, const char *agency, const char *subscription_id,
                                 const char *delivery_id, json_t **out);

/* The projection's enqueue (webhook_enqueue.c). */
mc_error store_webhook_enqueue(mc_db_conn *conn, const char *event_id, const char *type,
                               const char *payload, const json_t *agencies);

/* The workers' claim: one due delivery of an active subscription with none
   in flight, its attempt counted and the subscription marked in flight for
   lease_ms. *claimed: {id, subscription_id, attempts, payload, url, secret,
   previous_secret (or null), failing_since_ms (or null), owner_sub,
   agency_code}, or NULL when none is due. */
mc_error store_webhook_claim(mc_db_conn *conn, unsigned lease_ms, json_t **claimed);

struct webhook_result {
    const char *delivery_id, *subscription_id;
    int attempt;
    long status;            /* 0: no answer */
    const char *error;      /* NULL when none */
    int duration_ms;
    const char *state;      /* delivered, failed, given_up */
    int64_t retry_ms;       /* for failed */
    bool succeeded;         /* resets the subscription's failure clock */
    const char *disable_reason; /* NULL, or why the subscription is disabled now */
};
/* Record an attempt, the delivery's state and the subscription's (in one
   transaction with the owner's notice when it is disabled). */
mc_error store_webhook_record(mc_db_conn *conn, const struct webhook_result *r);

/* A notice in recipient's inbox (no e-mail, no SMS). */
mc_error store_notice_add(mc_db_conn *conn, const char *recipient_sub, const char *agency,
                          const char *kind, const char *title, const char *body);

#endif
