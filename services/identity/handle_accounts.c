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

/* POST /accounts body, bound by register_fields. */
struct register_body {
    const char *full_name, *personal_id, *date_of_birth, *phone, *email, *password;
};

static const struct mc_field register_fields[] = {
    {.name = "full_name", .type = MC_F_STRING, .required = true, .min_len = 1, .max_len = 200,
     MC_BIND(struct register_body, full_name)},
    {.name = "personal_id", .type = MC_F_STRING, .required = true, .max_len = 12,
     MC_BIND(struct register_body, personal_id)},
    {.name = "date_of_birth", .type = MC_F_DATE, .required = true,
     MC_BIND(struct register_body, date_of_birth)},
    {.name = "phone", .type = MC_F_STRING, .required = true, .max_len = 32,
     MC_BIND(struct register_body, phone)},
    {.name = "email", .type = MC_F_STRING, .nullable = true, .max_len = 254,
     MC_BIND(struct register_body, email)},
    {.name = "password", .type = MC_F_STRING, .required = true, .max_len = 1024,
     MC_BIND(struct register_body, password)},
    {0}};

/* POST /accounts/me/password body, bound by password_fields. */
struct password_body {
    const char *current_password, *new_password;
};

static const struct mc_field password_fields[] = {
    {.name = "current_password", .type = MC_F_STRING, .required = true, .max_len = 1024,
     MC_BIND(struct password_body, current_password)},
    {.name = "new_password", .type = MC_F_STRING, .required = true, .max_len = 1024,
     MC_BIND(struct password_body, new_password)},
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

/* Registration, its audit event and the answer as sent (personal id
   masked) recorded for the request's Idempotency-Key if it has one, in one
   transaction. */
struct registration {
    mc_request *req;
    const struct store_citizen *citizen;
    const struct store_who *who;
    json_t *out;
};

static mc_error registration_tx(mc_db_conn *conn, void *p)
{
    struct registration *t = p;
    json_decref(t->out); /* a retried transaction starts afresh */
    t->out = NULL;
    mc_error rc = store_citizen_create(conn, t->citizen, t->who, &t->out);
    if (rc != MC_OK)
        return rc;
    mask_account(t->out);
    return mc_idempotency_record(t->req, conn, 201, t->out, ACCOUNT_LOCATION, NULL);
}

void handle_account_register(mc_request *req)
{
    json_t *errors = mc_errors_new();
    struct register_body body = {0};
    mc_json_parse_fields(req->body, register_fields, "", errors, &body);
    const char *full_name = body.full_name;
    const char *pid = body.personal_id;
    const char *dob = body.date_of_birth;
    const char *phone = body.phone;
    const char *email = body.email;
    const char *password = body.password;
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
    struct registration t = {req, &c, &who, NULL};
    mc_error rc = mc_db_transaction(mc_request_db(req), NULL, registration_tx, &t);
    json_t *out = t.out;
    sodium_memzero(hash, sizeof hash);
    if (rc != MC_OK) {
        json_decref(out); /* from an attempt whose commit failed */
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
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(mc_request_db(req), &conn);
    if (rc == MC_OK) {
        rc = store_account_get(conn, id, &account);
        mc_db_release(mc_request_db(req), conn);
    }
    if (rc != MC_OK) {
        mc_reply_error(req, rc, NULL);
        return;
    }
    mask_account(account);
    mc_set_header(req, "Cache-Control", "private, no-store");
    mc_reply_json_etag(req, 200, account, NULL);
}

/* The new password, the revocation of every session and access token, the
   reset of the password-change throttle and the audit event, in one
   transaction. */
struct password_change {
    const char *id, *hash, *throttle_key;
    const struct store_who *who;
};

static mc_error password_change_tx(mc_db_conn *conn, void *p)
{
    const struct password_change *t = p;
    mc_error rc = store_account_set_password(conn, t->id, t->hash, t->who);
    return rc == MC_OK ? store_throttle_reset_conn(conn, t->throttle_key) : rc;
}

/* A wrong current password: counted, audited, and past the limit every
   session revoked, in one transaction. */
struct password_failure {
    const char *id, *throttle_key;
    const struct store_throttle_policy *policy;
    unsigned revoke_after;
    const struct store_who *who;
    bool revoked;
};

static mc_error password_failure_tx(mc_db_conn *conn, void *p)
{
    struct password_failure *t = p;
    return store_password_change_failed(conn, t->id, t->throttle_key, t->policy, t->revoke_after,
                                        t->who, &t->revoked);
}

void handle_account_change_password(mc_request *req)
{
    const char *id = caller_account(req);
    if (id == NULL)
        return;
    json_t *errors = mc_errors_new();
    struct password_body body = {0};
    mc_json_parse_fields(req->body, password_fields, "", errors, &body);
    if (!identity_no_errors(req, errors))
        return;
    const char *current = body.current_password;
    const char *next = body.new_password;

    mc_db_pool *db = mc_request_db(req);
    const struct identity_ctx *ctx = identity_ctx(req);
    char throttle_key[80];
    snprintf(throttle_key, sizeof throttle_key, "p:%.40s", id); /* id: a uuid */
    char address[64], actor[160];
    identity_client_address(req, address, sizeof address);
    identity_actor(req, actor, sizeof actor);
    struct store_who who = {actor, address};
    char hash[crypto_pwhash_STRBYTES];
    json_t *account = NULL;
    unsigned retry_after = 0;
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(db, &conn);
    if (rc == MC_OK) {
        rc = store_throttle_wait(conn, throttle_key, throttle_key, &retry_after);
        if (rc == MC_OK && retry_after == 0)
            rc = store_account_password_hash(conn, id, hash, sizeof hash);
        if (rc == MC_OK && retry_after == 0)
            rc = store_account_get(conn, id, &account);
        mc_db_release(db, conn);
    }
    if (identity_throttle_stopped(req, rc, retry_after)) {
        json_decref(account);
        return;
    }
    errors = mc_errors_new();
    if (!identity_password_verify(hash, current)) {
        struct store_throttle_policy policy = identity_throttle_policy(ctx);
        struct password_failure t = {id,   throttle_key, &policy, ctx->password_change_revoke_after,
                                     &who, false};
        rc = mc_db_transaction(db, &(mc_db_tx_options){.max_attempts = 5}, password_failure_tx,
                               &t);
        bool revoked = rc == MC_OK && t.revoked;
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
    struct password_change t = {id, hash, throttle_key, &who};
    rc = mc_db_transaction(db, NULL, password_change_tx, &t);
    if (rc != MC_OK) {
        mc_reply_error(req, rc, NULL);
        return;
    }
    mc_reply_no_content(req);
}
