/*
 * Events: the transactional outbox of ARCHITECTURE.md §4.
 *
 * A service records an event with mc_event_add() inside the transaction that
 * makes the change the event describes; the event commits or rolls back with
 * it. A relay thread in each publishing service (started by mc_service_main
 * when the service sets `publishes_events`) then takes committed events in
 * batches, hands them to the transport and numbers them with a gap-free
 * `published_seq`, one relay transaction at a time, so every instance of a
 * service agrees on the order.
 *
 * Events are CloudEvents 1.0 JSON: {specversion, id, type, source, subject,
 * time, datacontenttype, data}, plus the extension `sequence` (the decimal
 * published_seq) in the feed. Types are "<service>.<noun>.<verb>".
 *
 * The embedded default transport is PostgreSQL itself: a published event is
 * readable at GET /api/v1/events?after=N (mc_handle_event_feed, mounted by each
 * publishing service). A producer's commit wakes its own process's relay
 * in-process, after the commit (no NOTIFY in the writing transaction: it
 * would serialise every producer's commit); the relay also polls. A broker transport
 * replaces it with mc_events_set_transport(): delivery is at-least-once
 * (a batch the broker accepted is re-sent if the relay's commit then fails),
 * and consumers are idempotent by event id.
 */
#ifndef MOTCUA_EVENTS_H
#define MOTCUA_EVENTS_H

#include <jansson.h>
#include <stdbool.h>

#include "motcua/db.h"
#include "motcua/error.h"
#include "motcua/http.h"

/* Record an event in the caller's open transaction on `conn`. `type` is e.g.
   "dossier.dossier.submitted", `subject` the resource ("dossiers/<id>"),
   `data` the payload (borrowed; consumers must not need to call back).
   Writes the new event's id (a UUID, 37 bytes with the NUL) into id_out when
   it is not NULL. */
mc_error mc_event_add(mc_db_conn *conn, const char *type, const char *subject, const json_t *data,
                      char id_out[37]);

/* A transport the relay delivers to. `deliver` gets a batch of CloudEvents
   (a JSON array, borrowed) in published order, inside the relay's
   transaction on `conn`; it returns MC_OK once the transport has durably
   accepted every event, anything else to have the batch retried later. */
typedef struct mc_event_transport {
    const char *name;
    mc_error (*deliver)(void *state, mc_db_conn *conn, const json_t *events);
    void *state;
} mc_event_transport;

/* Replace the default transport (PostgreSQL feed only). Call before
   mc_service_main; the struct must outlive the service. */
void mc_events_set_transport(const mc_event_transport *transport);

/* GET /api/v1/events?after=&limit=&type=: published events after a position,
   in order, {items: [CloudEvent + sequence], next_after}. Services mount it in
   their route table with the roles that may read it. */
void mc_handle_event_feed(mc_request *req);

/* Run one relay pass now (publish what is committed and unpublished), e.g.
   from tests or before a benchmark reads the feed. Returns the number of
   events published, or -1 on a database error. */
long mc_events_relay_once(mc_db_pool *db);
/* Delete published events older than `retention_days` (0 keeps everything),
   in short batches; the relay thread does this every
   MOTCUA_<SVC>_EVENTS_PRUNE_INTERVAL_SECONDS. A feed position behind the
   deleted events then gets 410 events.position_expired with `oldest_after`.
   Returns the number deleted, or -1 on a database error. */
long mc_events_prune_once(mc_db_pool *db, unsigned retention_days);

#endif
