/*
 * Minting access tokens and answering the OAuth2 token response.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "identity.h"

char *identity_mint_access(const struct identity_ctx *ctx, const char *sub,
                           const char *roles_json, const char *agency, const char *scope,
                           const char *name, long long not_before)
{
    unsigned char raw[16];
    char jti[33];
    randombytes_buf(raw, sizeof raw);
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(jti + 2 * i, 3, "%02x", raw[i]);
    json_t *roles = json_loads(roles_json, JSON_DECODE_ANY, NULL);
    json_t *claims = json_object();
    if (roles == NULL || claims == NULL) {
        json_decref(roles);
        json_decref(claims);
        return NULL;
    }
    json_object_set_new(claims, "roles", roles);
    json_object_set_new(claims, "jti", json_string(jti));
    if (agency != NULL && agency[0] != '\0')
        json_object_set_new(claims, "agency", json_string(agency));
    if (scope != NULL && scope[0] != '\0')
        json_object_set_new(claims, "scope", json_string(scope));
    if (name != NULL && name[0] != '\0')
        json_object_set_new(claims, "name", json_string(name));
    char *text = json_dumps(claims, JSON_COMPACT);
    json_decref(claims);
    if (text == NULL)
        return NULL;
    int64_t now = (int64_t)time(NULL);
    if (not_before > now)
        now = (int64_t)not_before;
    char *token = mc_auth_mint(ctx->keys.private_pem, ctx->keys.kid, ctx->issuer, ctx->audience,
                               sub, now, now + IDENTITY_ACCESS_TTL_SECONDS, text);
    free(text);
    return token;
}

void identity_reply_tokens(mc_request *req, const char *access, const char *refresh,
                           const char *scope)
{
    json_t *body = json_pack("{s:s, s:s, s:i, s:s}", "access_token", access, "token_type",
                             "Bearer", "expires_in", IDENTITY_ACCESS_TTL_SECONDS, "scope",
                             scope != NULL ? scope : "");
    if (body != NULL && refresh != NULL)
        json_object_set_new(body, "refresh_token", json_string(refresh));
    mc_set_header(req, "Cache-Control", "no-store");
    mc_set_header(req, "Pragma", "no-cache");
    mc_reply_json(req, 200, body);
}
