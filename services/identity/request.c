/*
 * Helpers shared by the identity service's handlers: context, client
 * address, error answers, random tokens and hashes. No SQL, no domain rules.
 */
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

#include "identity.h"
#include "store.h"

const struct identity_ctx *identity_ctx(const mc_request *req)
{
    return mc_request_service_ctx(req);
}

void identity_client_address(const mc_request *req, char *out, size_t out_len)
{
    const char *ip = mc_header(req, "X-Real-IP");
    size_t n = ip != NULL ? strlen(ip) : 0;
    bool ok = n > 0 && n < 46; /* IPv4 or IPv6 text */
    for (size_t i = 0; ok && i < n; i++) {
        char c = ip[i];
        ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
             c == '.' || c == ':';
    }
    snprintf(out, out_len, "%s", ok ? ip : "unknown");
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

static void reply_throttled(mc_request *req, unsigned retry_after)
{
    char value[16];
    snprintf(value, sizeof value, "%u", retry_after);
    mc_set_header(req, "Retry-After", value);
    mc_reply_error(req, MC_ERR_IDENTITY_TOO_MANY_ATTEMPTS, "retry in %u s", retry_after);
}

struct store_throttle_policy identity_throttle_policy(const struct identity_ctx *ctx)
{
    struct store_throttle_policy p = {ctx->account_failures, ctx->address_failures,
                                      ctx->address_window_s, ctx->max_backoff_s};
    return p;
}

bool identity_throttle_allows(mc_request *req, const char *key1, const char *key2)
{
    unsigned retry_after = 0;
    mc_error rc = store_throttle_wait(mc_request_db(req), key1, key2, &retry_after);
    if (rc != MC_OK)
        mc_reply_error(req, rc, NULL);
    else if (retry_after > 0)
        reply_throttled(req, retry_after);
    return rc == MC_OK && retry_after == 0;
}
