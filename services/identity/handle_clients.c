/*
 * /api/v1/clients, /api/v1/clients/{client_id} and
 * /api/v1/clients/{client_id}/secret: machine clients of the
 * client-credentials grant (another agency's system, or one of our
 * services), managed by a system_admin (the route table refuses everyone
 * else with 403).
 *
 * A secret is generated here, answered once (on creation or rotation) and
 * stored only as an argon2id hash; no other answer carries it. Changes take
 * If-Match with the ETag of GET /clients/{client_id} ("c<revision>"), like
 * PATCH /staff/{id}. A disabled client's grant fails with the same 401
 * identity.invalid_client as a wrong secret (the login lookup skips it).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "identity.h"
#include "identity_rules.h"
#include "store.h"

#define API_CLIENTS "/api/v1/clients"

static const char *check_scope(const json_t *value, const char **code)
{
    const char *s = json_string_value(value);
    if (s != NULL && identity_is_scope(s, json_string_length(value)))
        return NULL;
    *code = "pattern";
    return "must be 1-64 characters of letters, digits, '.', '_', ':' or '-'";
}

static const struct mc_field scope_item = {.type = MC_F_STRING, .check = check_scope};

/* A client body (POST and PATCH), bound by the tables below. */
struct client_body {
    const char *name;
    const json_t *scopes;
    const char *agency;
    const json_t *disabled; /* NULL: unchanged */
};

static const struct mc_field client_fields[] = {
    {.name = "name", .type = MC_F_STRING, .required = true, .min_len = 1, .max_len = 200,
     MC_BIND(struct client_body, name)},
    {.name = "scopes", .type = MC_F_ARRAY, .required = true, .min_len = 1, .max_len = 8,
     .item = &scope_item, MC_BIND(struct client_body, scopes)},
    {.name = "agency", .type = MC_F_STRING, .nullable = true, .min_len = 1, .max_len = 32,
     .pattern = "^[A-Za-z0-9.]+$", MC_BIND(struct client_body, agency)},
    {0}};

/* PATCH: the agency of a client is fixed at creation (its tokens' agency
   claim); register another client for another agency. */
static const struct mc_field update_fields[] = {
    {.name = "name", .type = MC_F_STRING, .min_len = 1, .max_len = 200,
     MC_BIND(struct client_body, name)},
    {.name = "scopes", .type = MC_F_ARRAY, .min_len = 1, .max_len = 8, .item = &scope_item,
     MC_BIND(struct client_body, scopes)},
    {.name = "disabled", .type = MC_F_BOOLEAN, MC_BIND(struct client_body, disabled)},
    {0}};

static void duplicate_scopes(const json_t *scopes, json_t *errors)
{
    for (size_t i = 0; json_is_array(scopes) && i < json_array_size(scopes); i++)
        for (size_t j = 0; j < i; j++)
            if (json_equal(json_array_get(scopes, i), json_array_get(scopes, j))) {
                char ptr[32];
                snprintf(ptr, sizeof ptr, "/scopes/%zu", i);
                mc_errors_add(errors, ptr, "duplicate", "is listed twice");
            }
}

static void who_of(mc_request *req, char *actor, char *address, struct store_who *who)
{
    identity_actor(req, actor, 160);
    identity_client_address(req, address, 64);
    who->actor = actor;
    who->address = address;
}

static void client_etag(char *out, size_t len, long long revision)
{
    mc_etag_for_revision(out, len, "c", revision);
}

/* The {client_id} of the path, or NULL after answering 404 (a value that
   is no client id names no client). Borrowed from the request. */
static const char *path_client_id(mc_request *req)
{
    const char *id = mc_path_param(req, "client_id");
    if (id == NULL || !identity_is_client_id(id)) {
        mc_reply_error(req, MC_ERR_IDENTITY_CLIENT_NOT_FOUND, "no such client");
        return NULL;
    }
    return id;
}

static void reply_write_error(mc_request *req, mc_error rc)
{
    mc_reply_error(req, rc,
                   rc == MC_ERR_IDENTITY_CLIENT_NOT_FOUND ? "no such client"
                   : rc == MC_ERR_PRECONDITION_REQUIRED
                       ? "send If-Match with the ETag from GET /api/v1/clients/{client_id}"
                   : rc == MC_ERR_PRECONDITION_FAILED
                       ? "the client changed since you read it; read it again"
                       : NULL);
}

/* A new secret (base64url of 32 random bytes) into secret (>= 64 bytes) and
   its argon2id hash into hash; false when hashing failed (both wiped). */
static bool new_secret(char *secret, size_t secret_len, char *hash)
{
    identity_random_token(32, secret);
    if (identity_password_hash(secret, hash))
        return true;
    sodium_memzero(secret, secret_len);
    sodium_memzero(hash, crypto_pwhash_STRBYTES);
    return false;
}

void handle_client_create(mc_request *req)
{
    json_t *errors = mc_errors_new();
    struct client_body body = {0};
    mc_json_parse_fields(req->body, client_fields, "", errors, &body);
    const json_t *scopes = body.scopes;
    duplicate_scopes(scopes, errors);
    if (!identity_no_errors(req, errors))
        return;

    char client_id[40], secret[64], hash[crypto_pwhash_STRBYTES];
    char raw_id[24];
    identity_random_token(12, raw_id);
    snprintf(client_id, sizeof client_id, "cl_%s", raw_id);
    if (!new_secret(secret, sizeof secret, hash)) {
        mc_reply_error(req, MC_ERR_INTERNAL, NULL);
        return;
    }
    char *scopes_json = json_dumps(scopes, JSON_COMPACT);
    char address[64], actor[160];
    struct store_who who;
    who_of(req, actor, address, &who);
    json_t *out = NULL;
    long long revision = 0;
    mc_error rc =
        scopes_json != NULL
            ? store_client_create(mc_request_db(req), client_id, body.name, scopes_json,
                                  body.agency, hash, &who, &out, &revision)
            : MC_ERR_INTERNAL;
    free(scopes_json);
    sodium_memzero(hash, sizeof hash);
    if (rc != MC_OK) {
        sodium_memzero(secret, sizeof secret);
        mc_reply_error(req, rc, NULL);
        return;
    }
    json_object_set_new(out, "client_secret", json_string(secret));
    sodium_memzero(secret, sizeof secret);
    char etag[40], location[128];
    client_etag(etag, sizeof etag, revision);
    snprintf(location, sizeof location, API_CLIENTS "/%s", client_id);
    mc_set_header(req, "Cache-Control", "no-store");
    mc_reply_created(req, out, location, etag);
}

void handle_client_list(mc_request *req)
{
    json_t *errors = mc_errors_new();
    unsigned limit = 0;
    json_t *cursor = NULL;
    const char *after = NULL;
    const char *agency = mc_query_str(req, "agency", 32, errors);
    if (agency != NULL && agency[0] == '\0')
        agency = NULL;
    if (mc_page_parse(req, IDENTITY_PAGE_DEFAULT, IDENTITY_PAGE_MAX, 1, &limit, &cursor, errors) &&
        cursor != NULL) {
        after = json_string_value(json_array_get(cursor, 0));
        if (after == NULL || !identity_is_client_id(after))
            mc_errors_add_param(errors, "cursor", "invalid", "is not a cursor of this list");
    }
    if (json_array_size(errors) > 0) {
        json_decref(cursor);
        mc_reply_errors(req, MC_ERR_BAD_QUERY, errors);
        return;
    }
    json_decref(errors);
    json_t *items = NULL, *next = NULL;
    mc_error rc = store_client_list(mc_request_db(req), agency, after, limit, &items, &next);
    json_decref(cursor);
    if (rc != MC_OK) {
        json_decref(items);
        json_decref(next);
        mc_reply_error(req, rc, NULL);
        return;
    }
    mc_reply_json(req, 200, mc_page_body(items, next));
}

void handle_client_get(mc_request *req)
{
    const char *id = path_client_id(req);
    if (id == NULL)
        return;
    json_t *out = NULL;
    long long revision = 0;
    mc_error rc = store_client_get(mc_request_db(req), id, &out, &revision);
    if (rc != MC_OK) {
        mc_reply_error(req, rc, rc == MC_ERR_IDENTITY_CLIENT_NOT_FOUND ? "no such client" : NULL);
        return;
    }
    char etag[40];
    client_etag(etag, sizeof etag, revision);
    mc_reply_json_etag(req, 200, out, etag);
}

void handle_client_update(mc_request *req)
{
    const char *id = path_client_id(req);
    if (id == NULL)
        return;
    json_t *errors = mc_errors_new();
    struct client_body body = {0};
    mc_json_parse_fields(req->body, update_fields, "", errors, &body);
    const json_t *scopes = body.scopes;
    duplicate_scopes(scopes, errors);
    if (json_is_object(req->body) && json_object_size(req->body) == 0)
        mc_errors_add(errors, "", "required", "change name, scopes, disabled or several");
    if (!identity_no_errors(req, errors))
        return;
    const json_t *disabled = body.disabled;
    char *scopes_json = scopes != NULL ? json_dumps(scopes, JSON_COMPACT) : NULL;
    if (scopes != NULL && scopes_json == NULL) {
        mc_reply_error(req, MC_ERR_INTERNAL, NULL);
        return;
    }
    struct store_client_change change = {
        .name = body.name,
        .scopes_json = scopes_json,
        .disabled = disabled == NULL ? -1 : (json_is_true(disabled) ? 1 : 0),
        .secret_hash = NULL,
    };
    char actor[160], address[64];
    struct store_who who;
    who_of(req, actor, address, &who);
    json_t *out = NULL;
    long long expected = mc_if_match_revision(req, "c"), revision = 0;
    /* A header naming no revision of ours can never match: 412 (after the
       existence check, which the store performs first). */
    mc_error rc = store_client_update(mc_request_db(req), id, expected == -3 ? LLONG_MAX : expected,
                                      &change, &who, &out, &revision);
    free(scopes_json);
    if (rc != MC_OK) {
        reply_write_error(req, rc);
        return;
    }
    char etag[40];
    client_etag(etag, sizeof etag, revision);
    mc_set_header(req, "ETag", etag);
    mc_reply_json(req, 200, out);
}

/* POST /clients/{client_id}/secret: a new secret replaces the old one at
   once (the old one stops working). If-Match is optional here: rotating
   needs no knowledge of the client's fields, but an If-Match that no longer
   matches is still 412. Answers the client with client_secret, once. */
void handle_client_rotate_secret(mc_request *req)
{
    const char *id = path_client_id(req);
    if (id == NULL)
        return;
    char secret[64], hash[crypto_pwhash_STRBYTES];
    if (!new_secret(secret, sizeof secret, hash)) {
        mc_reply_error(req, MC_ERR_INTERNAL, NULL);
        return;
    }
    struct store_client_change change = {.disabled = -1, .secret_hash = hash};
    char actor[160], address[64];
    struct store_who who;
    who_of(req, actor, address, &who);
    json_t *out = NULL;
    long long expected = mc_if_match_revision(req, "c"), revision = 0;
    if (expected == -2)
        expected = -1;
    mc_error rc = store_client_update(mc_request_db(req), id, expected == -3 ? LLONG_MAX : expected,
                                      &change, &who, &out, &revision);
    sodium_memzero(hash, sizeof hash);
    if (rc != MC_OK) {
        sodium_memzero(secret, sizeof secret);
        reply_write_error(req, rc);
        return;
    }
    json_object_set_new(out, "client_secret", json_string(secret));
    sodium_memzero(secret, sizeof secret);
    char etag[40];
    client_etag(etag, sizeof etag, revision);
    mc_set_header(req, "ETag", etag);
    mc_set_header(req, "Cache-Control", "no-store");
    mc_reply_json(req, 200, out);
}
