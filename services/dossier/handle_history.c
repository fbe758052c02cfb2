/*
 * GET /dossiers/{id}/history: the audit trail, oldest first. Whoever may see
 * the dossier may read its trail, except a payment client (403). Staff see
 * the display name of the staff who acted (recorded at the time); the
 * applicant sees the agency that acted and why, not the officer's name.
 */
#include "dossier.h"
#include "store.h"

void handle_dossier_history(mc_request *req)
{
    struct dossier d;
    unsigned actors;
    bool read_only;
    if (!dossier_load_for_request(req, &d, &actors, &read_only))
        return;
    if (dossier_refuse_payment_view(req, actors, read_only)) {
        dossier_clear(&d);
        return;
    }
    json_t *items = NULL;
    mc_db_conn *conn = NULL;
    mc_error rc = mc_db_acquire(mc_request_db(req), &conn);
    if (rc == MC_OK) {
        rc = store_history_list(conn, d.id, &items);
        mc_db_release(mc_request_db(req), conn);
    }
    if (rc == MC_OK)
        dossier_history_for_viewer(items, actors, read_only);
    json_t *body = rc == MC_OK ? json_pack("{ss so so}", "dossier_id", d.id, "code",
                                           d.code[0] != '\0' ? json_string(d.code) : json_null(),
                                           "items", items)
                               : NULL;
    dossier_clear(&d);
    if (rc != MC_OK) {
        mc_reply_error(req, rc, NULL);
        return;
    }
    mc_set_header(req, "Cache-Control", "private, no-store");
    mc_reply_json(req, 200, body);
}
