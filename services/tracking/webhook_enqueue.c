/* An event into each matching subscription's outbox (webhook.h), inside the
   projection's transaction. */
#include <stdlib.h>
#include <string.h>

#include "projection.h"
#include "webhook.h"

mc_error webhook_on_event(mc_db_conn *conn, const struct projection_event *ev)
{
    /* The agencies whose systems may hear of the dossier: where it was
       filed and where it is handled now. */
    json_t *agencies = json_pack("[ss]", ev->dossier->agency_code, ev->dossier->handling_agency);
    char *payload = webhook_payload(ev->id, ev->type, ev->data);
    mc_error rc = agencies != NULL && payload != NULL
                      ? store_webhook_enqueue(conn, ev->id, ev->type, payload, agencies)
                      : MC_ERR_INTERNAL;
    free(payload);
    json_decref(agencies);
    return rc;
}
