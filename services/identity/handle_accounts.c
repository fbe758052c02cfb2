/*
 * /api/v1/accounts (citizens register themselves), /api/v1/accounts/me (the
 * caller's own account) and /api/v1/accounts/me/password.
 *
 * Registration answers 409 identity.account_exists when the personal id or
 * the phone number already has an account: one account per person is the
 * rule, so that much enumeration is unavoidable (documented in
 * docs/services/identity.md); the gateway's rate limits bound it.
 * Registration honours Idempotency-Key: a mobile app retrying after a lost
 * answer gets the first answer again (recorded in the same transaction as
 * the account), not 409.
 *
 * Changing the password is throttled per account like sign-in (a stolen
 * access token must not become a password oracle): after
 * SIGNIN_ACCOUNT_FAILURES wrong current passwords the answer is 429 with a
 * growing Retry-After, and at PASSWORD_CHANGE_REVOKE_FAILURES every session
 * and access token of the account is revoked (401 from then on).
 */
#include <stdio.h>
#include <string.h>

#include "identity.h"
#include "identity_rules.h"
#include "store.h"

static const struct mc_field register_fields[] = {
    {.name = "full_name", .type = MC_F_STRING, .required = true, .min_len = 1, .max_len = 200},
    {.name = "personal_id", .type = MC_F_STRING, .required = true, .max_len = 12},
    {.name = "date_of_birth", .type = MC_F_DATE, .required = true},
    {.name = "phone", .type = MC_F_STRING, .required = true, .max_len = 32},
    {.name = "email", .type = MC_F_STRING, .nullable = true, .max_len = 254},
    {.name = "password", .type = MC_F_STRING, .required = true, .max_len = 1024},
    {0}};

static const struct mc_field password_fields[] = {
    {.name = "current_password", .type = MC_F_STRING, .required = true, .max_len = 1024},
    {.name = "new_password", .type = MC_F_STRING, .required = true, .max_len = 1024},
    {0}};

/* Replace personal_id by its masked form (never sent back in full). */
static void mask_account(json_t *account)
{
    const char *pid = mc_json_str(account, "personal_id", NULL);
    if (pid == NULL)
        return;
    char masked[16];
    identity_mask_personal_id(pid, masked, sizeof masked);
    json_object_set_new(account, "personal_id", json_string(masked));
}

static bool is_blank(const char *s)
{
    for (; *s != '\0'; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return false;
    return true;
}

#define ACCOUNT_LOCATION "/api/v1/accounts/me"

/* In the registration's transaction: the answer as sent (personal id
   masked), recorded for the request's Idempotency-Key if it has one. */
static mc_error registered(mc_db_conn *conn, json_t *account, void *arg)
{
    mask_account(account);
    return mc_idempotency_record(arg, conn, 201, account, ACCOUNT_LOCATION, NULL);
}

void handle_account_register(mc_request *req)
{
    json_t *errors = mc_errors_new();
    mc_json_check(req->body, register_fields, "", errors);
    const char *full_name = mc_json_str(req->body, "full_name", NULL);
    const char *pid = mc_json_str(req->body, "personal_id", NULL);
    const char *dob = mc_json_str(req->body, "date_of_birth", NULL);
    const char *phone = mc_json_str(req->body, "phone", NULL);
    const char *email = mc_json_str(req->body, "email", NULL);
    const char *password = mc_json_str(req->body, "password", NULL);
    /* The personal id is checked against the date of birth only when that is valid. */
    bool dob_ok = dob != NULL;
    for (size_t i = 0; i < json_array_size(errors); i++)
        if (strcmp(mc_json_str(json_array_get(errors, i), "pointer", ""), "/date_of_birth") == 0)
            dob_ok = false;
    if (full_name != NULL && is_blank(full_name))
        mc_errors_add(errors, "/full_name", "blank", "must not be blank");
    const char *code = NULL, *msg = NULL;
    if (pid != NULL && (msg = identity_check_personal_id(pid, dob_ok ? dob : NULL, &code)) != NULL)
        mc_errors_add(errors, "/personal_id", code, msg);
    char e164[24] = "";
    if (phone != NULL && !identity_normalize_phone(phone, e164, sizeof e164))
        mc_errors_add(errors, "/phone", IDENTITY_E_FORMAT,
                      "must be a Vietnamese phone number (0912345678, +84912345678)");
    if (email != NULL && !identity_is_email(email))
        mc_errors_add(errors, "/email", IDENTITY_E_FORMAT, "must be an email address");
    if (password != NULL &&
        (msg = identity_check_password(password, pid, e164[0] != '\0' ? e164 : NULL, NULL,
                                       &code)) != NULL)
        mc_errors_add(errors, "/password", code, msg);
    if (!identity_no_errors(req, errors))
        return;

    char hash[crypto_pwhash_STRBYTES];
    if (!identity_password_hash(password, hash)) {
        mc_reply_error(req, MC_ERR_INTERNAL, NULL);
        return;
    }
    char address[64];
    identity_client_address(req, address, sizeof address);
    struct store_who who = {"anonymous", address};
    struct store_citizen c = {pid, e164, full_name, dob, email, hash};
    json_t *out = NULL;
    mc_error rc = store_citizen_create(mc_request_db(req), &c, &who, registered, req, &out);
    sodium_memzero(hash, sizeof hash);
    if (rc != MC_OK) {
        mc_reply_error(req, rc, NULL);
        return;
    }
    mc_reply_created(req, out, ACCOUNT_LOCATION, NULL);
}

/* The caller's account id, or answers 404 (a machine client or a token
   whose subject is not an account of this service) and returns NULL. */
static const char *caller_account(mc_request *req)
{
    const char *sub = req->principal.sub;
    if (mc_principal_has_any_role(&req->principal, MC_ROLE_SERVICE) || !identity_is_uuid(sub)) {
        mc_reply_error(req, MC_ERR_IDENTITY_ACCOUNT_NOT_FOUND, "the token's subject has no account");
        return NULL;
    }
    return sub;
}

void handle_account_me(mc_request *req)
{
    const char *id = caller_account(req);
    if (id == NULL)
        return;
    json_t *account = NULL;
    mc_error rc = store_account_get(mc_request_db(req), id, &account);
    if (rc != MC_OK) {
        mc_reply_error(req, rc, NULL);
        return;
    }
    mask_account(account);
    mc_set_header(req, "Cache-Control", "private, no-cache");
    mc_reply_json_etag(req, 200, account, NULL);
}

void handle_account_change_password(mc_request *req)
{
    const char *id = caller_account(req);
    if (id == NULL)
        return;
    json_t *errors = mc_errors_new();
    mc_json_check(req->body, password_fields, "", errors);
    if (!identity_no_errors(req, errors))
        return;
    const char *current = mc_json_str(req->body, "current_password", "");
    const char *next = mc_json_str(req->body, "new_password", "");

    mc_db_pool *db = mc_request_db(req);
    const struct identity_ctx *ctx = identity_ctx(req);
    char throttle_key[80];
    snprintf(throttle_key, sizeof throttle_key, "p:%.40s", id); /* id: a uuid */
    if (!identity_throttle_allows(req, throttle_key, throttle_key))
        return;
    char address[64], actor[160];
    identity_client_address(req, address, sizeof address);
    identity_actor(req, actor, sizeof actor);
    struct store_who who = {actor, address};
    char hash[crypto_pwhash_STRBYTES];
    json_t *account = NULL;
    mc_error rc = store_account_password_hash(db, id, hash, sizeof hash);
    if (rc == MC_OK)
        rc = store_account_get(db, id, &account);
    if (rc != MC_OK) {
        json_decref(account);
        mc_reply_error(req, rc, NULL);
        return;
    }
    errors = mc_errors_new();
    if (!identity_password_verify(hash, current)) {
        struct store_throttle_policy policy = identity_throttle_policy(ctx);
        bool revoked = false;
        rc = store_password_change_failed(db, id, throttle_key, &policy,
                                          ctx->password_change_revoke_after, &who, &revoked);
        if (rc != MC_OK || revoked) {
            json_decref(errors);
            json_decref(account);
            if (rc != MC_OK)
                mc_reply_error(req, rc, NULL);
            else
                mc_reply_error(req, MC_ERR_UNAUTHENTICATED,
                               "too many wrong passwords: every sign-in of this account was "
                               "revoked; sign in again");
            return;
        }
        mc_errors_add(errors, "/current_password", "incorrect", "is not your current password");
    }
    const char *code = NULL;
    const char *msg = identity_check_password(next, mc_json_str(account, "personal_id", NULL),
                                              mc_json_str(account, "phone", NULL),
                                              mc_json_str(account, "username", NULL), &code);
    json_decref(account);
    if (msg != NULL)
        mc_errors_add(errors, "/new_password", code, msg);
    if (!identity_no_errors(req, errors))
        return;
    if (!identity_password_hash(next, hash)) {
        mc_reply_error(req, MC_ERR_INTERNAL, NULL);
        return;
    }
    rc = store_account_set_password(db, id, hash, throttle_key, &who);
    if (rc != MC_OK) {
        mc_reply_error(req, rc, NULL);
        return;
    }
    mc_reply_no_content(req);
}
