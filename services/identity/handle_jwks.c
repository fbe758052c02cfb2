/*
 * GET /.well-known/jwks.json: the public keys that verify this service's
 * access tokens (the current key and, during a rotation, the previous one).
 * Public; other services fetch it at start and again on an unknown kid.
 */
#include "identity.h"

void handle_jwks(mc_request *req)
{
    const struct identity_ctx *ctx = identity_ctx(req);
    json_t *doc = json_loads(ctx->keys.jwks_json, 0, NULL);
    if (doc == NULL) {
        mc_reply_error(req, MC_ERR_INTERNAL, NULL);
        return;
    }
    mc_set_header(req, "Cache-Control", "public, max-age=300");
    mc_reply_json_etag(req, 200, doc, NULL);
}
