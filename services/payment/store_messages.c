/* Store: gateway_messages (every message to and from a gateway, masked). */
#include "store.h"

static const mc_db_statement message_add = {
    "payment_message_add",
    "INSERT INTO gateway_messages (payment_id, provider, direction, kind, body, answer)"
    " VALUES ($1::uuid, $2, $3, $4, $5, $6)",
    6};

mc_error store_message_add(mc_db_conn *conn, const char *payment_id, const char *provider,
                           const char *direction, const char *kind, const char *body,
                           const char *answer)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, payment_id);
    mc_db_add_text(&p, provider);
    mc_db_add_text(&p, direction);
    mc_db_add_text(&p, kind);
    mc_db_add_text(&p, body != NULL ? body : "");
    mc_db_add_text(&p, answer);
    PGresult *res = mc_db_exec_params(conn, &message_add, &p);
    if (res == NULL)
        return mc_db_failure(conn);
    PQclear(res);
    return MC_OK;
}
