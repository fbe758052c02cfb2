/*
 * Store: the shape every If-Match update of identity shares (staff accounts,
 * machine clients): lock the row, answer 404 / 403 / 428 / 412 in that order,
 * update it, and hand the state before and after to the caller, which audits
 * what changed in the same transaction.
 */
#include <string.h>

#include "motcua/http.h"
#include "store.h"

mc_error store_locked_update(mc_db_conn *conn, const struct store_locked_update *u, json_t **after,
                             long long *revision)
{
    *after = NULL;
    json_t *before = NULL;
    long long current = 0;
    mc_error rc = mc_db_fetch_json(conn, u->lock, u->key, u->not_found, &before, &current);
    if (rc != MC_OK)
        return rc;
    /* Scope and existence are answered before the precondition, so an
       administrator of another agency learns nothing from a 412. */
    if (u->scope_agency != NULL) {
        const char *agency = json_string_value(json_object_get(before, "agency"));
        if (agency == NULL || strcmp(agency, u->scope_agency) != 0)
            rc = MC_ERR_FORBIDDEN;
    }
    if (rc == MC_OK)
        rc = mc_revision_precondition(u->if_match, current);
    if (rc == MC_OK)
        rc = mc_db_fetch_json(conn, u->update, u->update_params, MC_ERR_INTERNAL, after, revision);
    if (rc == MC_OK)
        rc = u->audit(conn, before, *after, u->audit_arg);
    json_decref(before);
    if (rc != MC_OK) {
        json_decref(*after);
        *after = NULL;
    }
    return rc;
}
