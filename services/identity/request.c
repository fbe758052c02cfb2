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
    mc_client_address(req, out, out_len);
}

bool identity_no_errors(mc_request *req, json_t *errors)
{
    return mc_no_errors(req, MC_ERR_VALIDATION, errors);
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

void identity_reply_agency_list(mc_request *req, const char *own, bool (*valid)(const char *),
                                mc_list_fn list)
{
    json_t *errors = mc_errors_new();
    unsigned limit = 0;
    json_t *cursor = NULL;
    struct store_list_query q = {mc_query_str(req, "agency", 32, errors), NULL};
    if (q.agency != NULL && q.agency[0] == '\0')
        q.agency = NULL;
    if (mc_page_parse(req, IDENTITY_PAGE_DEFAULT, IDENTITY_PAGE_MAX, 1, &limit, &cursor, errors) &&
        cursor != NULL)
        q.after = mc_page_cursor_string(cursor, 0, valid, errors);
    if (!mc_query_ok(req, errors)) {
        json_decref(cursor);
        return;
    }
    if (own != NULL && q.agency != NULL && strcmp(q.agency, own) != 0) {
        json_decref(cursor);
        mc_reply_error(req, MC_ERR_FORBIDDEN, "an agency_admin lists their own agency only");
        return;
    }
    if (own != NULL)
        q.agency = own;
    mc_reply_list(req, NULL, cursor, list, &q, limit);
}

/* One attempt of an audited write: what an earlier attempt left is freed. */
struct audited_write {
    mc_db_tx_fn fn;
    void *ctx;
    json_t **out;
};

static mc_error audited_write_tx(mc_db_conn *conn, void *p)
{
    struct audited_write *w = p;
    json_decref(*w->out);
    *w->out = NULL;
    return w->fn(conn, w->ctx);
}

mc_error identity_run_audited_write(mc_request *req, mc_db_tx_fn fn, void *ctx,
                                    struct store_who *who, json_t **out)
{
    struct identity_who caller;
    identity_who_of(req, &caller);
    *who = (struct store_who){caller.actor, caller.address};
    *out = NULL;
    struct audited_write w = {fn, ctx, out};
    mc_error rc = mc_db_transaction(mc_request_db(req), NULL, audited_write_tx, &w);
    if (rc != MC_OK) {
        json_decref(*out); /* from an attempt whose commit failed */
        *out = NULL;
    }
    *who = (struct store_who){NULL, NULL}; /* caller's strings end here */
    return rc;
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

bool identity_throttle_stopped(mc_request *req, mc_error rc, unsigned retry_after)
{
    if (rc != MC_OK)
        mc_reply_error(req, rc, NULL);
    else if (retry_after > 0)
        reply_throttled(req, retry_after);
    else
        return false;
    return true;
}
