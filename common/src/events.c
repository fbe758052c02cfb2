/*
 * The transactional outbox: writing events (motcua/events.h). The outbox
 * table is common's migration 0002_outbox.sql, present in every service's
 * schema. The relay that publishes them is events_relay.c, the feed that
 * serves them events_feed.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "motcua/events.h"

static char event_source[96] = "/motcua";
/* Every service NOTIFYs one fixed channel with its name as the payload (the
   channel is then a literal in LISTEN: no SQL is built from a name). A wake-up
   meant for another service only costs a relay pass that finds nothing. */
static char notify_payload[80] = "";
static const mc_event_transport *transport;

static const mc_db_statement insert_event = {
    "common_outbox_insert",
    "INSERT INTO outbox (type, source, subject, data) VALUES ($1, $2, $3, $4::jsonb)"
    " RETURNING id, pg_notify('motcua_outbox', $5)",
    5};

void mc_events_init_service(const char *service_name)
{
    snprintf(event_source, sizeof event_source, "/motcua/%s", service_name);
    snprintf(notify_payload, sizeof notify_payload, "%s", service_name);
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
    const char *params[5] = {type, event_source, subject, text, notify_payload};
    PGresult *res = mc_db_exec(conn, &insert_event, params);
    free(text);
    if (res == NULL)
        return mc_db_last_error(conn);
    if (id_out != NULL)
        snprintf(id_out, 37, "%s", mc_db_text(res, 0, 0));
    PQclear(res);
    return MC_OK;
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
