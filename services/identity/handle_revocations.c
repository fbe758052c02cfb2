/*
 * GET /.well-known/revocations: the access tokens every service must refuse
 * before they expire, as {"revocations": {"<sub>": <not_before>}}; a token of
 * a listed subject issued (iat) before not_before (a NumericDate, like iat)
 * is refused by common's verifier (auth.c), which polls this document every
 * few seconds (auth_revocations.c).
 *
 * Public like the JWKS, and small: an entry lives only as long as the tokens
 * it cuts (the access-token lifetime plus the clock leeway), so the document
 * holds the subjects revoked in the last 20 minutes. Subjects are account
 * ids and client ids, never names or personal numbers. The ETag makes an
 * unchanged poll a 304; max-age is short because revocation must spread
 * within seconds.
 */
#include "identity.h"
#include "store.h"

void handle_revocations(mc_request *req)
{
    json_t *doc = NULL;
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(mc_request_db(req), &conn);
    if (rc == MC_OK) {
        rc = store_revocations_document(conn, &doc);
        mc_db_release(mc_request_db(req), conn);
    }
    if (rc != MC_OK) {
        mc_reply_error(req, rc, NULL);
        return;
    }
    mc_set_header(req, "Cache-Control", "public, max-age=1");
    mc_reply_json_etag(req, 200, doc, NULL);
}
