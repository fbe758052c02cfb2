/*
 * One event of the dossier feed into the service's database, inside the
 * feed consumer's transaction (feed.c). projection_apply_event is the
 * per-event dispatcher: it updates the dossier's card and timeline, then
 * hands a NEW event (one not applied before) to the service's other
 * reactions (notifications, webhooks), which add their own rows in the same
 * transaction so they commit with the position.
 */
#ifndef TRACKING_PROJECTION_H
#define TRACKING_PROJECTION_H

#include <jansson.h>

#include "motcua/db.h"
#include "store.h"
#include "tracking.h"

/* An event as the dispatcher has read it (members borrowed from the event). */
struct projection_event {
    const char *id;            /* the CloudEvent id (a UUID) */
    const char *type;          /* "dossier.dossier.received", ... */
    long long sequence;        /* its feed position */
    const json_t *data;        /* the dossier event's payload (dossier_event.c) */
    const char *dossier_id;
    /* the dossier as projected after this event */
    const struct tracked_dossier *dossier;
};

/* Apply one feed event (borrowed) inside the open transaction on conn.
   An event that cannot be applied (not a dossier event, a payload without
   what the projection needs) is logged, without personal data, and skipped
   with MC_OK, so it never blocks the feed. */
mc_error projection_apply_event(mc_db_conn *conn, const json_t *event, struct tracking_ctx *ctx);

/* Build the public card's answer of the dossier from its row and steps as
   conn sees them (card_view.h) and store it in the row, with the key id it
   was built with (inside the transaction that changed them). */
mc_error projection_store_public_card(mc_db_conn *conn, const struct tracking_ctx *ctx,
                                      const char *dossier_id);

/* Pure: the dossier row the event leaves (into *out, owned by the caller;
   tracked_dossier_clear), from the event's payload and the row before it
   (`before`, NULL for a new dossier). False when the payload lacks what the
   projection needs. */
bool projection_dossier_from_event(const char *type, const json_t *data, long long sequence,
                                   const struct tracked_dossier *before,
                                   struct tracked_dossier *out);

#endif
