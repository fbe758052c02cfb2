/*
 * Store: the audit trail. Written inside the transaction of the change it
 * records, so an audited change cannot commit without its event.
 */
#include <stdlib.h>

#include "store.h"

static const mc_db_statement audit_insert = {
    "identity_audit_insert",
    "INSERT INTO audit_events (actor, action, subject, client_address, detail)"
    " VALUES ($1::text, $2::text, $3::uuid, $4::text, $5::jsonb)",
    5};

mc_error store_audit_conn(mc_db_conn *conn, const struct store_who *who, const char *action,
                          const char *subject, const char *detail_json)
{
    const char *params[] = {who->actor, action, subject, who->address, detail_json};
    PGresult *res = mc_db_exec(conn, &audit_insert, params);
    if (res == NULL)
        return mc_db_failure(conn);
    PQclear(res);
    return MC_OK;
}

mc_error store_audit_json(mc_db_conn *conn, const struct store_who *who, const char *action,
                          const char *subject, const json_t *detail)
{
    char *text = json_dumps(detail, JSON_COMPACT);
    mc_error rc = text != NULL ? store_audit_conn(conn, who, action, subject, text)
                               : MC_ERR_INTERNAL;
    free(text);
    return rc;
}
