/*
 * Helpers shared by the identity service's handlers: context, client
 * address, error answers, random tokens and hashes. No SQL, no domain rules.
 */
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

#include "identity.h"

const struct identity_ctx *identity_ctx(const mc_request *req)
{
    return mc_request_service_ctx(req);
}

void identity_client_address(const mc_request *req, char *out, size_t out_len)
{
    mc_client_address(req, out, out_len);
}

bool identity_no_errors(mc_request *req, json_t *errors)
{
    if (json_array_size(errors) == 0) {
        json_decref(errors);
        return true;
    }
    mc_reply_errors(req, MC_ERR_VALIDATION, errors);
    return false;
}

void identity_actor(const mc_request *req, char *out, size_t out_len)
{
    if (!req->authenticated)
        snprintf(out, out_len, "anonymous");
    else if (mc_principal_has_any_role(&req->principal, MC_ROLE_SERVICE))
        snprintf(out, out_len, "client:%s", req->principal.sub);
    else
        snprintf(out, out_len, "account:%s", req->principal.sub);
}

void identity_random_token(size_t n, char *out)
{
    unsigned char bytes[64];
    if (n > sizeof bytes)
        n = sizeof bytes;
    randombytes_buf(bytes, n);
    identity_b64url(bytes, n, out);
    sodium_memzero(bytes, sizeof bytes);
}

void identity_sha256_hex(const char *text, char *out)
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)text, strlen(text), digest);
    for (size_t i = 0; i < sizeof digest; i++)
        snprintf(out + 2 * i, 3, "%02x", digest[i]);
}
