/*
 * The transactional outbox: writing events (motcua/events.h). The outbox
 * table is common's migration 0002_outbox.sql, present in every service's
 * schema. The relay that publishes them is events_relay.c, the feed that
 * serves them events_feed.c.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "motcua/events.h"

static char event_source[96] = "/motcua";
static const mc_event_transport *transport;

/* Set by mc_event_add, consumed by mc_events_after_commit: did this thread's
   current transaction write an event? A transaction runs on one thread. */
static _Thread_local bool event_written;

static const mc_db_statement insert_event = {
    "common_outbox_insert",
    "INSERT INTO outbox (type, source, subject, data) VALUES ($1, $2, $3, $4::jsonb) RETURNING id",
    4};

void mc_events_init_service(const char *service_name)
{
    snprintf(event_source, sizeof event_source, "/motcua/%s", service_name);
}

void mc_events_set_transport(const mc_event_transport *t)
{
    transport = t;
}

const mc_event_transport *mc_events_transport(void)
{
    return transport;
}

mc_error mc_event_add(mc_db_conn *conn, const char *type, const char *subject, const json_t *data,
                      char id_out[37])
{
    char *text = json_dumps(data, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (text == NULL)
        return MC_ERR_INTERNAL;
    const char *params[4] = {type, event_source, subject, text};
    PGresult *res = mc_db_exec(conn, &insert_event, params);
    free(text);
    if (res == NULL)
        return mc_db_last_error(conn);
    if (id_out != NULL)
        snprintf(id_out, 37, "%s", mc_db_text(res, 0, 0));
    PQclear(res);
    event_written = true;
    return MC_OK;
}

/* No pg_notify in the writing transaction: PostgreSQL queues notifications
   under one cluster-wide lock taken at commit, which serialises every
   notifying commit (16 clients inserting outbox rows: 9,500 commits/s
   without, 3,700 with; tests/bench/dossier). The writer instead wakes its own
   process's relay once the commit is done; another instance's writes are its
   own relay's business, and the relay's poll is the safety net. A flag left
   by a transaction that rolled back only costs one relay pass. */
void mc_events_after_commit(void)
{
    if (!event_written)
        return;
    event_written = false;
    mc_events_relay_wake();
}

/* (internal.h) */
json_t *mc_event_from_row(const PGresult *res, int r)
{
    json_t *data = json_loads(mc_db_text(res, r, 6), 0, NULL);
    if (data == NULL)
        return NULL;
    return json_pack("{ss ss ss ss ss ss ss so ss}", "specversion", "1.0", "id",
                     mc_db_text(res, r, 1), "type", mc_db_text(res, r, 2), "source",
                     mc_db_text(res, r, 3), "subject", mc_db_text(res, r, 4), "time",
                     mc_db_text(res, r, 5), "datacontenttype", "application/json", "data", data,
                     "sequence", mc_db_text(res, r, 0));
}
