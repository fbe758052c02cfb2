/* Store: receipt_documents (the national platform's e-receipts, fetched once). */
#include <stdlib.h>
#include <string.h>

#include "store.h"

/* clang-format off */
static const mc_db_statement receipt_document_get = {
    "receipt_document_get",
    "SELECT receipt_no, media_type, translate(encode(body, 'base64'), E'\\n', '')"
    " FROM receipt_documents WHERE payment_id = $1::uuid", 1};
/* The first one stored wins: a second fetch racing it changes nothing. */
static const mc_db_statement receipt_document_put = {
    "receipt_document_put",
    "INSERT INTO receipt_documents (payment_id, receipt_no, media_type, body)"
    " VALUES ($1::uuid, $2, $3, decode($4, 'base64')) ON CONFLICT (payment_id) DO NOTHING", 4};
/* clang-format on */

mc_error store_receipt_document_get(mc_db_conn *conn, const char *payment_id,
                                    struct receipt_document *out)
{
    memset(out, 0, sizeof *out);
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, payment_id);
    PGresult *res = mc_db_exec_params(conn, &receipt_document_get, &p);
    if (res == NULL)
        return mc_db_failure(conn);
    mc_error rc = MC_ERR_NOT_FOUND;
    if (PQntuples(res) == 1) {
        mc_db_copy(out->receipt_no, sizeof out->receipt_no, res, 0, 0);
        mc_db_copy(out->media_type, sizeof out->media_type, res, 0, 1);
        const char *b64 = mc_db_text(res, 0, 2);
        rc = pay_base64_decode(b64, strlen(b64), &out->body, &out->len) ? MC_OK : MC_ERR_INTERNAL;
    }
    PQclear(res);
    return rc;
}

mc_error store_receipt_document_put(mc_db_conn *conn, const char *payment_id,
                                    const char *receipt_no, const char *media_type,
                                    const char *body_base64)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, payment_id);
    mc_db_add_text(&p, receipt_no);
    mc_db_add_text(&p, media_type);
    mc_db_add_text(&p, body_base64);
    PGresult *res = mc_db_exec_params(conn, &receipt_document_put, &p);
    if (res == NULL)
        return mc_db_failure(conn);
    PQclear(res);
    return MC_OK;
}
