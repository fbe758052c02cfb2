/* Store: merchants (an agency's account with a provider). */
#include <string.h>

#include "store.h"

/* clang-format off */
#define MERCHANT_JSON                                                                            \
    "json_build_object('agency_code', agency_code, 'provider', provider,"                      \
    " 'merchant_code', merchant_code, 'has_token', token IS NOT NULL, 'revision', revision,"   \
    " 'updated_at', to_char(updated_at AT TIME ZONE 'Asia/Ho_Chi_Minh',"                       \
    " 'YYYY-MM-DD\"T\"HH24:MI:SS\"+07:00\"'))::text"

static const mc_db_statement merchant_put = {
    "payment_merchant_put",
    "INSERT INTO merchants (agency_code, provider, merchant_code, secret, token)"
    " VALUES ($1, $2, $3, $4, $5)"
    " ON CONFLICT (agency_code, provider) DO UPDATE SET merchant_code = EXCLUDED.merchant_code,"
    " secret = EXCLUDED.secret, token = EXCLUDED.token, revision = merchants.revision + 1,"
    " updated_at = now() RETURNING " MERCHANT_JSON, 5};
static const mc_db_statement merchant_get = {
    "payment_merchant_get",
    "SELECT agency_code, provider, merchant_code, secret, token FROM merchants"
    " WHERE agency_code = $1 AND provider = $2", 2};
static const mc_db_statement merchant_by_code = {
    "payment_merchant_by_code",
    "SELECT agency_code, provider, merchant_code, secret, token FROM merchants"
    " WHERE provider = $1 AND merchant_code = $2", 2};
/* The account locked, with how many of its payments are still pending. */
static const mc_db_statement merchant_lock_pending = {
    "payment_merchant_lock_pending",
    "SELECT (SELECT count(*) FROM payments p WHERE p.provider = m.provider"
    " AND p.merchant_code = m.merchant_code AND p.state = 'pending')"
    " FROM merchants m WHERE m.agency_code = $1 AND m.provider = $2 FOR UPDATE", 2};
static const mc_db_statement merchant_delete = {
    "payment_merchant_delete",
    "DELETE FROM merchants WHERE agency_code = $1 AND provider = $2", 2};
/* clang-format on */

mc_error store_merchant_put(mc_db_conn *conn, const char *agency, const char *provider,
                            const char *merchant_code, const char *secret, const char *token,
                            json_t **out)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, agency);
    mc_db_add_text(&p, provider);
    mc_db_add_text(&p, merchant_code);
    mc_db_add_text(&p, secret);
    mc_db_add_text(&p, token);
    mc_error rc = mc_db_fetch_json(conn, &merchant_put, &p, MC_ERR_INTERNAL, out, NULL);
    mc_db_params_clear(&p);
    return rc;
}

static mc_error merchant_row(mc_db_conn *conn, const mc_db_statement *stmt, const char *a,
                             const char *b, struct merchant_row *out)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, a);
    mc_db_add_text(&p, b);
    PGresult *res = mc_db_exec_params(conn, stmt, &p);
    if (res == NULL)
        return mc_db_failure(conn);
    mc_error rc = MC_ERR_NOT_FOUND;
    if (PQntuples(res) == 1) {
        mc_db_copy(out->agency_code, sizeof out->agency_code, res, 0, 0);
        mc_db_copy(out->provider, sizeof out->provider, res, 0, 1);
        mc_db_copy(out->merchant_code, sizeof out->merchant_code, res, 0, 2);
        mc_db_copy(out->secret, sizeof out->secret, res, 0, 3);
        mc_db_copy(out->token, sizeof out->token, res, 0, 4);
        rc = MC_OK;
    }
    PQclear(res);
    return rc;
}

mc_error store_merchant_get(mc_db_conn *conn, const char *agency, const char *provider,
                            struct merchant_row *out)
{
    return merchant_row(conn, &merchant_get, agency, provider, out);
}

mc_error store_merchant_by_code(mc_db_conn *conn, const char *provider, const char *merchant_code,
                                struct merchant_row *out)
{
    return merchant_row(conn, &merchant_by_code, provider, merchant_code, out);
}

mc_error store_merchant_delete(mc_db_conn *conn, const char *agency, const char *provider)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, agency);
    mc_db_add_text(&p, provider);
    PGresult *res = mc_db_exec_params(conn, &merchant_lock_pending, &p);
    if (res == NULL)
        return mc_db_failure(conn);
    mc_error rc = PQntuples(res) != 1       ? MC_ERR_NOT_FOUND
                  : mc_db_int(res, 0, 0) > 0 ? MC_ERR_CONFLICT
                                             : MC_OK;
    PQclear(res);
    if (rc != MC_OK)
        return rc;
    res = mc_db_exec_params(conn, &merchant_delete, &p);
    if (res == NULL)
        return mc_db_failure(conn);
    PQclear(res);
    return MC_OK;
}
