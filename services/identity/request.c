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

void identity_who_of(const mc_request *req, struct identity_who *who)
{
    identity_actor(req, who->actor, sizeof who->actor);
    identity_client_address(req, who->address, sizeof who->address);
}

void identity_unique_items(const json_t *items, const char *pointer, json_t *errors)
{
    for (size_t i = 0; json_is_array(items) && i < json_array_size(items); i++)
        for (size_t j = 0; j < i; j++)
            if (json_equal(json_array_get(items, i), json_array_get(items, j))) {
                char ptr[64];
                snprintf(ptr, sizeof ptr, "%s/%zu", pointer, i);
                mc_errors_add(errors, ptr, "duplicate", "is listed twice");
                break;
            }
}

void identity_reply_write_error(mc_request *req, mc_error rc, const char *what,
                                const char *read_path)
{
    if (rc == MC_ERR_PRECONDITION_REQUIRED)
        mc_reply_error(req, rc, "send If-Match with the ETag from GET %s", read_path);
    else if (rc == MC_ERR_PRECONDITION_FAILED)
        mc_reply_error(req, rc, "the %s changed since you read it; read it again", what);
    else if (rc == MC_ERR_FORBIDDEN)
        mc_reply_error(req, rc, "this %s is of another agency", what);
    else if (rc == MC_ERR_IDENTITY_CLIENT_NOT_FOUND || rc == MC_ERR_IDENTITY_STAFF_NOT_FOUND)
        mc_reply_error(req, rc, "no such %s", what);
    else
        mc_reply_error(req, rc, NULL);
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
