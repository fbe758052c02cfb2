/*
 * Store: the per-subject "not before" of access tokens that every service
 * reads through GET /.well-known/revocations (docs/services/identity.md,
 * "Revocation across services").
 */

#include "identity.h"
#include "store.h"

/* A row is needed while a token it cuts may still be accepted somewhere:
   until not_before + the access-token lifetime + the largest clock leeway a
   verifier may be configured with (MOTCUA_JWT_LEEWAY_SECONDS <= 300). */
#define REVOCATION_KEEP_TEXT "1200"
_Static_assert(IDENTITY_ACCESS_TTL_SECONDS + 300 == 1200, "REVOCATION_KEEP_TEXT");

/* clang-format off */
/* not_before is the next whole second: tokens carry iat in whole seconds,
   and a token minted earlier in this very second must be cut too. Tokens
   minted afterwards get iat >= not_before (identity_mint_access). An
   existing row only moves forward. */
static const mc_db_statement revocation_upsert = {
    "identity_revocation_upsert",
    "INSERT INTO token_revocations AS t (subject, not_before, keep_until)"
    " SELECT $1::text, nb, nb + make_interval(secs => $2::integer)"
    " FROM (SELECT to_timestamp(floor(extract(epoch FROM clock_timestamp())) + 1) AS nb) n"
    " ON CONFLICT (subject) DO UPDATE SET not_before = greatest(t.not_before, excluded.not_before),"
    " keep_until = greatest(t.keep_until, excluded.keep_until)",
    2};

static const mc_db_statement revocation_prune = {
    "identity_revocation_prune",
    "DELETE FROM token_revocations WHERE keep_until < now()", 0};

static const mc_db_statement revocation_document = {
    "identity_revocation_document",
    "SELECT json_build_object('revocations', coalesce(json_object_agg(subject,"
    " extract(epoch FROM not_before)::bigint ORDER BY subject), '{}'::json))::text"
    " FROM token_revocations WHERE keep_until > now()",
    0};
/* clang-format on */

mc_error store_revoke_subject_conn(mc_db_conn *conn, const char *subject)
{
    const char *params[] = {subject, REVOCATION_KEEP_TEXT};
    PGresult *res = mc_db_exec(conn, &revocation_upsert, params);
    if (res == NULL)
        return mc_db_failure(conn);
    PQclear(res);
    /* Rows past their use go with the next revocation (an indexed delete). */
    res = mc_db_exec(conn, &revocation_prune, NULL);
    if (res == NULL)
        return mc_db_failure(conn);
    PQclear(res);
    return MC_OK;
}

mc_error store_revocations_document(mc_db_conn *conn, json_t **out)
{
    return mc_db_fetch_json(conn, &revocation_document, NULL, MC_ERR_INTERNAL, out, NULL);
}
