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

/* The writes, each in one transaction with its audit events
   (identity_run_audited_write). */
struct client_write {
    const char *client_id, *name, *scopes_json, *agency, *secret_hash; /* create */
    const struct store_client_change *change;                          /* update */
    long long if_match;
    struct store_who who;
    json_t *out;
    long long revision;
};

static mc_error client_create_tx(mc_db_conn *conn, void *p)
{
    struct client_write *t = p;
    return store_client_create(conn, t->client_id, t->name, t->scopes_json, t->agency,
                               t->secret_hash, &t->who, &t->out, &t->revision);
}

static mc_error client_update_tx(mc_db_conn *conn, void *p)
{
    struct client_write *t = p;
    return store_client_update(conn, t->client_id, t->if_match, t->change, &t->who, &t->out,
                               &t->revision);
}

void handle_client_create(mc_request *req)
{
    json_t *errors = mc_errors_new();
    struct client_body body = {0};
    mc_json_parse_fields(req->body, client_fields, "", errors, &body);
    const json_t *scopes = body.scopes;
    identity_unique_items(scopes, "/scopes", errors);
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
    struct client_write t = {.client_id = client_id,
                             .name = body.name,
                             .scopes_json = scopes_json,
                             .agency = body.agency,
                             .secret_hash = hash};
    mc_error rc = scopes_json != NULL
                      ? identity_run_audited_write(req, client_create_tx, &t, &t.who, &t.out)
                      : MC_ERR_INTERNAL;
    free(scopes_json);
    sodium_memzero(hash, sizeof hash);
    if (rc != MC_OK) {
        sodium_memzero(secret, sizeof secret);
        mc_reply_error(req, rc, NULL);
        return;
    }
    json_t *out = t.out;
    long long revision = t.revision;
    json_object_set_new(out, "client_secret", json_string(secret));
    sodium_memzero(secret, sizeof secret);
    char etag[40], location[128];
    client_etag(etag, sizeof etag, revision);
    snprintf(location, sizeof location, API_CLIENTS "/%s", client_id);
    mc_set_header(req, "Cache-Control", "no-store");
    mc_reply_created(req, out, location, etag);
}

static mc_error client_page(mc_db_conn *conn, const void *query, unsigned limit, json_t **items,
                            json_t **next_keys)
{
    return store_client_list(conn, query, limit, items, next_keys);
}

void handle_client_list(mc_request *req)
{
    identity_reply_agency_list(req, NULL, identity_is_client_id, client_page);
}

void handle_client_get(mc_request *req)
{
    const char *id = path_client_id(req);
    if (id == NULL)
        return;
    json_t *out = NULL;
    long long revision = 0;
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(mc_request_db(req), &conn);
    if (rc == MC_OK) {
        rc = store_client_get(conn, id, &out, &revision);
        mc_db_release(mc_request_db(req), conn);
    }
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
    identity_unique_items(scopes, "/scopes", errors);
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
    /* The store checks If-Match after the existence check. */
    struct client_write t = {
        .client_id = id, .change = &change, .if_match = mc_if_match_revision(req, "c")};
    mc_error rc = identity_run_audited_write(req, client_update_tx, &t, &t.who, &t.out);
    free(scopes_json);
    if (rc != MC_OK) {
        identity_reply_write_error(req, rc, "client", API_CLIENTS "/{client_id}");
        return;
    }
    json_t *out = t.out;
    long long revision = t.revision;
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
    struct client_write t = {
        .client_id = id, .change = &change, .if_match = mc_if_match_revision(req, "c")};
    if (t.if_match == -2)
        t.if_match = -1; /* optional here */
    mc_error rc = identity_run_audited_write(req, client_update_tx, &t, &t.who, &t.out);
    sodium_memzero(hash, sizeof hash);
    if (rc != MC_OK) {
        sodium_memzero(secret, sizeof secret);
        identity_reply_write_error(req, rc, "client", API_CLIENTS "/{client_id}");
        return;
    }
    json_t *out = t.out;
    long long revision = t.revision;
    json_object_set_new(out, "client_secret", json_string(secret));
    sodium_memzero(secret, sizeof secret);
    char etag[40];
    client_etag(etag, sizeof etag, revision);
    mc_set_header(req, "ETag", etag);
    mc_set_header(req, "Cache-Control", "no-store");
    mc_reply_json(req, 200, out);
}
