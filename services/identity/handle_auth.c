/*
 * POST /api/v1/auth/token (OAuth2-style token endpoint: password,
 * refresh_token and client_credentials grants) and POST /api/v1/auth/logout.
 *
 * Both accept application/x-www-form-urlencoded (RFC 6749) and
 * application/json with the same parameter names, so the routes do not use
 * MC_ROUTE_JSON_BODY: the body is read here. Every parameter is a string;
 * unknown or repeated parameters are refused (400 identity.invalid_request).
 *
 * Failures never say whether an account exists: an unknown login name and a
 * wrong password both answer 400 identity.invalid_grant, after the same
 * argon2id verification (against a dummy hash when there is no account), and
 * count the same against the throttle. After too many consecutive failures
 * for a login name, or too many failures from a client address within a
 * window (whatever the accounts, and not reset by a success: password
 * spraying), the answer is 429 identity.too_many_attempts with Retry-After.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "identity.h"
#include "identity_rules.h"
#include "store.h"

#define MAX_PARAM_BYTES 4096
#define IDENTITY_BASIC_ID_MAX 64 /* longer client ids are not ours */

static const char *const known_params[] = {"grant_type", "username",      "password", "refresh_token",
                                           "client_id",  "client_secret", "scope",    NULL};

/* Is the Content-Type's media type `want` (parameters after ';' ignored)? */
static bool media_type_is(const char *content_type, const char *want)
{
    if (content_type == NULL)
        return false;
    while (*content_type == ' ')
        content_type++;
    size_t n = strcspn(content_type, ";");
    while (n > 0 && content_type[n - 1] == ' ')
        n--;
    return n == strlen(want) && strncasecmp(content_type, want, n) == 0;
}

/* The request's parameters as a JSON object of strings (new reference), or
   answers (415, 400) and returns NULL. */
static json_t *read_params(mc_request *req)
{
    const char *ct = mc_header(req, "Content-Type");
    size_t len = 0;
    const char *body = mc_request_body(req, &len);
    json_t *params = NULL;
    if (media_type_is(ct, "application/x-www-form-urlencoded")) {
        struct identity_form form;
        const char *error = NULL;
        if (!identity_form_parse(body != NULL ? body : "", body != NULL ? len : 0, &form, &error)) {
            mc_reply_error(req, MC_ERR_IDENTITY_INVALID_REQUEST, "%s", error);
            return NULL;
        }
        params = json_object();
        for (size_t i = 0; params != NULL && i < form.n; i++)
            json_object_set_new(params, form.keys[i], json_string(form.values[i]));
        identity_form_free(&form);
    } else if (media_type_is(ct, "application/json")) {
        char err[160];
        params = body != NULL && len > 0 ? mc_json_parse_strict(body, len, err, sizeof err) : NULL;
        if (params == NULL) {
            mc_reply_error(req, MC_ERR_MALFORMED_JSON, "%s",
                           body != NULL && len > 0 ? err : "the request body is empty");
            return NULL;
        }
        if (!json_is_object(params)) {
            json_decref(params);
            mc_reply_error(req, MC_ERR_IDENTITY_INVALID_REQUEST, "the body must be a JSON object");
            return NULL;
        }
    } else {
        mc_reply_error(req, MC_ERR_UNSUPPORTED_MEDIA_TYPE,
                       "send application/x-www-form-urlencoded or application/json");
        return NULL;
    }
    if (params == NULL) {
        mc_reply_error(req, MC_ERR_INTERNAL, NULL);
        return NULL;
    }
    const char *key;
    json_t *value;
    json_object_foreach(params, key, value) {
        bool known = false;
        for (size_t i = 0; known_params[i] != NULL && !known; i++)
            known = strcmp(known_params[i], key) == 0;
        if (!known || !json_is_string(value) || json_string_length(value) > MAX_PARAM_BYTES ||
            strlen(json_string_value(value)) != json_string_length(value)) {
            mc_reply_error(req, MC_ERR_IDENTITY_INVALID_REQUEST,
                           known ? "parameter %.64s must be a string of at most 4096 bytes"
                                 : "unknown parameter %.64s",
                           key);
            json_decref(params);
            return NULL;
        }
    }
    return params;
}

/* A required parameter, or answers 400 invalid_request and returns NULL. */
static const char *need(mc_request *req, const json_t *params, const char *name)
{
    const char *v = mc_json_str(params, name, NULL);
    if (v == NULL || v[0] == '\0') {
        mc_reply_error(req, MC_ERR_IDENTITY_INVALID_REQUEST, "%s is required", name);
        return NULL;
    }
    return v;
}

/* Throttle keys: a hash of the (normalised) login name, and the address. */
static void throttle_keys(const char *prefix, const char *login, const char *address,
                          char *account_key, char *address_key)
{
    char hex[65];
    identity_sha256_hex(login, hex);
    snprintf(account_key, 80, "%s:%s", prefix, hex);
    snprintf(address_key, 80, "ip:%s", address);
}

/* ---- the sign-in writes: each one transaction, retried a few more times
   than usual because concurrent sign-ins contend on the same throttle and
   token rows (docs/architecture.md, "Stores and transactions") ---- */

static const mc_db_tx_options sign_in_tx = {.max_attempts = 5};

struct sign_in_failed_args {
    const char *account_key, *address_key;
    const struct store_throttle_policy *policy;
    const char *subject;
    const struct store_who *who;
    const char *reason;
};

static mc_error sign_in_failed_tx(mc_db_conn *conn, void *p)
{
    const struct sign_in_failed_args *a = p;
    return store_sign_in_failed(conn, a->account_key, a->address_key, a->policy, a->subject,
                                a->who, a->reason);
}

static mc_error record_sign_in_failed(mc_db_pool *db, const char *account_key,
                                      const char *address_key,
                                      const struct store_throttle_policy *policy,
                                      const char *subject, const struct store_who *who,
                                      const char *reason)
{
    struct sign_in_failed_args a = {account_key, address_key, policy, subject, who, reason};
    return mc_db_transaction(db, &sign_in_tx, sign_in_failed_tx, &a);
}

struct sign_in_succeeded_args {
    const char *account_key, *account_id, *refresh_hash, *new_password_hash;
    const struct store_who *who;
};

static mc_error sign_in_succeeded_tx(mc_db_conn *conn, void *p)
{
    const struct sign_in_succeeded_args *a = p;
    return store_sign_in_succeeded(conn, a->account_key, a->account_id, a->refresh_hash,
                                   a->new_password_hash, a->who);
}

static mc_error record_sign_in_succeeded(mc_db_pool *db, const char *account_key,
                                         const char *account_id, const char *refresh_hash,
                                         const char *new_password_hash,
                                         const struct store_who *who)
{
    struct sign_in_succeeded_args a = {account_key, account_id, refresh_hash, new_password_hash,
                                       who};
    return mc_db_transaction(db, &sign_in_tx, sign_in_succeeded_tx, &a);
}

struct refresh_args {
    const char *old_hash, *new_hash;
    const struct store_who *who;
    struct store_refreshed *out;
};

static mc_error refresh_rotate_tx(mc_db_conn *conn, void *p)
{
    struct refresh_args *a = p;
    return store_refresh_rotate(conn, a->old_hash, a->new_hash, a->who, a->out);
}

static mc_error refresh_revoke_tx(mc_db_conn *conn, void *p)
{
    struct refresh_args *a = p;
    return store_refresh_revoke_family(conn, a->old_hash, a->who);
}

static void grant_password(mc_request *req, const json_t *params)
{
    const char *username = need(req, params, "username");
    const char *password = username != NULL ? need(req, params, "password") : NULL;
    if (password == NULL)
        return;
    if (mc_json_str(params, "scope", NULL) != NULL) {
        mc_reply_error(req, MC_ERR_IDENTITY_INVALID_SCOPE, "accounts are not granted scopes");
        return;
    }
    const struct identity_ctx *ctx = identity_ctx(req);
    mc_db_pool *db = mc_request_db(req);
    char login[80], address[64], account_key[80], address_key[80];
    enum identity_login_kind kind = identity_login_kind(username, login, sizeof login);
    if (kind == IDENTITY_LOGIN_INVALID)
        snprintf(login, sizeof login, "%.79s", username);
    identity_client_address(req, address, sizeof address);
    throttle_keys("a", login, address, account_key, address_key);

    /* The sign-in's reads, on one connection. */
    unsigned retry_after = 0;
    struct store_login account;
    memset(&account, 0, sizeof account);
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(db, &conn);
    if (rc == MC_OK) {
        rc = store_throttle_wait(conn, account_key, address_key, &retry_after);
        if (rc == MC_OK && retry_after == 0)
            rc = store_login_lookup(conn, kind, login, &account);
        mc_db_release(db, conn);
    }
    if (identity_throttle_stopped(req, rc, retry_after))
        return;
    /* Always one argon2id verification, so an unknown account costs the same. */
    bool ok = identity_password_verify(account.found ? account.hash : ctx->dummy_hash, password);
    ok = ok && account.found;
    char new_hash[crypto_pwhash_STRBYTES];
    bool rehash = ok && identity_password_needs_rehash(account.hash) &&
                  identity_password_hash(password, new_hash);
    sodium_memzero(account.hash, sizeof account.hash);
    char actor[160];
    snprintf(actor, sizeof actor, account.found ? "account:%s" : "anonymous", account.id);
    struct store_who who = {actor, address};
    if (!ok) {
        struct store_throttle_policy policy = identity_throttle_policy(ctx);
        rc = record_sign_in_failed(db, account_key, address_key, &policy,
                                   account.found ? account.id : NULL, &who,
                                   account.found ? "wrong_password" : "unknown_account");
        if (rc != MC_OK)
            mc_reply_error(req, rc, NULL);
        else
            mc_reply_error(req, MC_ERR_IDENTITY_INVALID_GRANT,
                           "the username or the password is not correct");
        return;
    }
    char refresh[64], refresh_hash[65];
    identity_random_token(32, refresh);
    identity_sha256_hex(refresh, refresh_hash);
    char *access = identity_mint_access(ctx, account.id, account.roles_json, account.agency, NULL,
                                        account.name, account.not_before);
    rc = access != NULL ? record_sign_in_succeeded(db, account_key, account.id, refresh_hash,
                                                   rehash ? new_hash : NULL, &who)
                        : MC_ERR_INTERNAL;
    if (rc == MC_OK)
        identity_reply_tokens(req, access, refresh, "");
    else
        mc_reply_error(req, rc, NULL);
    free(access);
    sodium_memzero(refresh, sizeof refresh);
}

static void grant_refresh(mc_request *req, const json_t *params)
{
    const char *token = need(req, params, "refresh_token");
    if (token == NULL)
        return;
    if (mc_json_str(params, "scope", NULL) != NULL) {
        mc_reply_error(req, MC_ERR_IDENTITY_INVALID_SCOPE, "accounts are not granted scopes");
        return;
    }
    if (!identity_is_refresh_token(token)) {
        mc_reply_error(req, MC_ERR_IDENTITY_INVALID_GRANT, "the refresh token is not valid");
        return;
    }
    const struct identity_ctx *ctx = identity_ctx(req);
    char old_hash[65], refresh[64], new_hash[65], address[64];
    identity_sha256_hex(token, old_hash);
    identity_random_token(32, refresh);
    identity_sha256_hex(refresh, new_hash);
    identity_client_address(req, address, sizeof address);
    struct store_who who = {"anonymous", address};
    struct store_refreshed out;
    struct refresh_args a = {old_hash, new_hash, &who, &out};
    mc_error rc = mc_db_transaction(mc_request_db(req), &sign_in_tx, refresh_rotate_tx, &a);
    if (rc != MC_OK) {
        mc_reply_error(req, rc, NULL);
        return;
    }
    if (out.outcome != STORE_REFRESH_OK) {
        mc_reply_error(req, MC_ERR_IDENTITY_INVALID_GRANT,
                       out.outcome == STORE_REFRESH_REUSED
                           ? "the refresh token was already used; its sign-in was revoked"
                           : "the refresh token is not valid");
        return;
    }
    char *access = identity_mint_access(ctx, out.account_id, out.roles_json, out.agency, NULL,
                                        out.name, out.not_before);
    if (access == NULL)
        mc_reply_error(req, MC_ERR_INTERNAL, NULL);
    else
        identity_reply_tokens(req, access, refresh, "");
    free(access);
    sodium_memzero(refresh, sizeof refresh);
}

/* invalid_client: 401 whose challenge names the scheme of the token
   endpoint's client authentication (RFC 6749 §5.2); mc_reply_error keeps a
   challenge set before it instead of its default Bearer one. */
static void reply_invalid_client(mc_request *req, const char *detail)
{
    mc_set_header(req, "WWW-Authenticate", "Basic realm=\"motcua\"");
    mc_reply_error(req, MC_ERR_IDENTITY_INVALID_CLIENT, "%s", detail);
}

/* basic_id/basic_secret: the credentials of an HTTP Basic header (NULL when
   the client sent them in the body). */
static void grant_client_credentials(mc_request *req, const json_t *params, const char *basic_id,
                                     const char *basic_secret)
{
    const char *client_id = basic_id, *secret = basic_secret;
    if (basic_id == NULL) {
        client_id = need(req, params, "client_id");
        secret = client_id != NULL ? need(req, params, "client_secret") : NULL;
    }
    if (secret == NULL)
        return;
    const char *scope = mc_json_str(params, "scope", NULL);
    const struct identity_ctx *ctx = identity_ctx(req);
    mc_db_pool *db = mc_request_db(req);
    char address[64], account_key[80], address_key[80];
    identity_client_address(req, address, sizeof address);
    throttle_keys("c", client_id, address, account_key, address_key);
    /* The sign-in's reads, on one connection. */
    unsigned retry_after = 0;
    struct store_client_login client;
    memset(&client, 0, sizeof client);
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(db, &conn);
    if (rc == MC_OK) {
        rc = store_throttle_wait(conn, account_key, address_key, &retry_after);
        if (rc == MC_OK && retry_after == 0 && strlen(client_id) <= 64)
            rc = store_client_lookup(conn, client_id, &client);
        mc_db_release(db, conn);
    }
    if (identity_throttle_stopped(req, rc, retry_after))
        return;
    bool ok = identity_password_verify(client.found ? client.hash : ctx->dummy_hash, secret);
    ok = ok && client.found;
    char actor[160];
    snprintf(actor, sizeof actor, ok ? "client:%.64s" : "anonymous", client_id);
    struct store_who who = {actor, address};
    if (!ok) {
        struct store_throttle_policy policy = identity_throttle_policy(ctx);
        rc = record_sign_in_failed(db, account_key, address_key, &policy, NULL, &who,
                                   client.found ? "wrong_client_secret" : "unknown_client");
        if (rc != MC_OK)
            mc_reply_error(req, rc, NULL);
        else
            reply_invalid_client(req, "the client id or the client secret is not correct");
        return;
    }
    if (scope != NULL && !identity_scope_subset(scope, client.scopes)) {
        mc_reply_error(req, MC_ERR_IDENTITY_INVALID_SCOPE, "the client may not have this scope");
        return;
    }
    const char *granted = scope != NULL ? scope : client.scopes;
    char *access =
        identity_mint_access(ctx, client_id, "[\"service\"]", client.agency, granted, NULL, 0);
    rc = access != NULL ? record_sign_in_succeeded(db, account_key, NULL, NULL, NULL, &who)
                        : MC_ERR_INTERNAL;
    if (rc == MC_OK)
        identity_reply_tokens(req, access, NULL, granted);
    else
        mc_reply_error(req, rc, NULL);
    free(access);
}

/* The route has MC_ROUTE_OWN_AUTH: the Authorization header is read here.
   "Basic ..." is client authentication (client_credentials grant only);
   any other scheme (a Bearer token of an earlier sign-in, say) is ignored:
   the token endpoint authenticates with the grant's own parameters. */
void handle_auth_token(mc_request *req)
{
    json_t *params = read_params(req);
    if (params == NULL)
        return;
    const char *authorization = mc_header(req, "Authorization");
    bool basic = authorization != NULL && strncasecmp(authorization, "Basic", 5) == 0 &&
                 (authorization[5] == ' ' || authorization[5] == '\0');
    const char *grant = need(req, params, "grant_type");
    if (grant == NULL) {
        /* answered */
    } else if (basic && strcmp(grant, "client_credentials") != 0) {
        mc_reply_error(req, MC_ERR_IDENTITY_INVALID_REQUEST,
                       "HTTP Basic client authentication is only for the client_credentials "
                       "grant");
    } else if (basic && (json_object_get(params, "client_id") != NULL ||
                         json_object_get(params, "client_secret") != NULL)) {
        mc_reply_error(req, MC_ERR_IDENTITY_INVALID_REQUEST,
                       "send the client credentials either in the Authorization header or in "
                       "the body, not both");
    } else if (basic) {
        char id[IDENTITY_BASIC_ID_MAX + 1], secret[MAX_PARAM_BYTES + 1];
        if (identity_basic_credentials(authorization, id, sizeof id, secret, sizeof secret))
            grant_client_credentials(req, params, id, secret);
        else
            reply_invalid_client(req, "the Authorization header is not valid HTTP Basic "
                                      "client authentication");
        sodium_memzero(secret, sizeof secret);
    } else if (strcmp(grant, "password") == 0) {
        grant_password(req, params);
    } else if (strcmp(grant, "refresh_token") == 0) {
        grant_refresh(req, params);
    } else if (strcmp(grant, "client_credentials") == 0) {
        grant_client_credentials(req, params, NULL, NULL);
    } else {
        mc_reply_error(req, MC_ERR_IDENTITY_UNSUPPORTED_GRANT_TYPE,
                       "grant_type must be password, refresh_token or client_credentials");
    }
    json_decref(params);
}

void handle_auth_logout(mc_request *req)
{
    json_t *params = read_params(req);
    if (params == NULL)
        return;
    const char *token = need(req, params, "refresh_token");
    if (token != NULL) {
        /* Unknown or malformed tokens are ignored (RFC 7009): nothing to revoke. */
        mc_error rc = MC_OK;
        if (identity_is_refresh_token(token)) {
            char hash[65], address[64];
            identity_sha256_hex(token, hash);
            identity_client_address(req, address, sizeof address);
            struct store_who who = {"anonymous", address};
            struct refresh_args a = {hash, NULL, &who, NULL};
            rc = mc_db_transaction(mc_request_db(req), &sign_in_tx, refresh_revoke_tx, &a);
        }
        if (rc != MC_OK)
            mc_reply_error(req, rc, NULL);
        else
            mc_reply_no_content(req);
    }
    json_decref(params);
}
