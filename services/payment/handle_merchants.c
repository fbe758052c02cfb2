/*
 * /payments/merchants/{agency_code}/{provider}: an agency's merchant account
 * with a provider (each agency collects into its own account).
 *
 *   PUT  system_admin: create or replace {merchant_code, secret, token}; 200
 *        with the account without its secret or token (never returned)
 *   DELETE system_admin: remove it (the agency stops collecting through that
 *        provider; paying then answers 409 payment.merchant_not_configured);
 *        204, 404 when there is none, 409 while one of its payments is pending
 */
#include <ctype.h>
#include <string.h>

#include "motcua/json_spec.h"
#include "payment.h"
#include "provider.h"
#include "store.h"

struct merchant_body {
    const char *merchant_code;
    const char *secret;
    const char *token;
};

static const struct mc_field merchant_fields[] = {
    {.name = "merchant_code", .type = MC_F_STRING, .required = true, .min_len = 1, .max_len = 64,
     .pattern = "^[A-Za-z0-9._-]+$", MC_BIND(struct merchant_body, merchant_code)},
    {.name = "secret", .type = MC_F_STRING, .required = true, .min_len = 8, .max_len = 256,
     .pattern = "^[!-~]+$", MC_BIND(struct merchant_body, secret)},
    {.name = "token", .type = MC_F_STRING, .nullable = true, .min_len = 8, .max_len = 1024,
     .pattern = "^[!-~]+$", MC_BIND(struct merchant_body, token)},
    {0}};

static bool agency_code_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 32)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
            return false;
    return true;
}

struct merchant_tx {
    const char *agency, *provider;
    struct merchant_body body;
    json_t *out;
};

static mc_error merchant_put_tx(mc_db_conn *conn, void *arg)
{
    struct merchant_tx *t = arg;
    json_decref(t->out);
    t->out = NULL;
    return store_merchant_put(conn, t->agency, t->provider, t->body.merchant_code, t->body.secret,
                              t->body.token, &t->out);
}

/* The path's agency and provider; false (answered) when malformed. */
static bool path_ok(mc_request *req, struct merchant_tx *t, enum pay_provider *provider)
{
    t->agency = mc_path_param(req, "agency_code");
    t->provider = mc_path_param(req, "provider");
    json_t *errors = mc_errors_new();
    if (!agency_code_valid(t->agency))
        mc_errors_add_param(errors, "agency_code", "pattern", "an agency code: [A-Za-z0-9._-]{1,32}");
    if (!pay_provider_parse(t->provider, provider))
        mc_errors_add_param(errors, "provider", "enum", "must be one of: vnpay national_platform");
    return mc_no_errors(req, MC_ERR_BAD_QUERY, errors);
}

void handle_merchant_put(mc_request *req)
{
    struct merchant_tx t = {0};
    enum pay_provider provider;
    if (!path_ok(req, &t, &provider))
        return;
    json_t *errors = mc_errors_new();
    mc_json_parse_fields(req->body, merchant_fields, "", errors, &t.body);
    if (provider == PAY_NATIONAL_PLATFORM && t.body.token == NULL)
        mc_errors_add(errors, "/token", "required", "the national platform's bearer token");
    if (!mc_no_errors(req, MC_ERR_VALIDATION, errors))
        return;
    mc_error rc = mc_db_transaction(mc_request_db(req), NULL, merchant_put_tx, &t);
    if (rc == MC_ERR_CONFLICT)
        rc = MC_ERR_CONFLICT; /* the merchant code is another agency's */
    if (rc != MC_OK) {
        json_decref(t.out);
        mc_reply_error(req, rc, rc == MC_ERR_CONFLICT
                                    ? "this merchant code is another agency's account"
                                    : NULL);
        return;
    }
    mc_reply_json(req, 200, t.out);
}

static mc_error merchant_delete_tx(mc_db_conn *conn, void *arg)
{
    struct merchant_tx *t = arg;
    return store_merchant_delete(conn, t->agency, t->provider);
}

void handle_merchant_delete(mc_request *req)
{
    struct merchant_tx t = {0};
    enum pay_provider provider;
    if (!path_ok(req, &t, &provider))
        return;
    mc_error rc = mc_db_transaction(mc_request_db(req), NULL, merchant_delete_tx, &t);
    if (rc != MC_OK) {
        mc_reply_error(req, rc, rc == MC_ERR_CONFLICT ? "a payment through this account is pending"
                                : rc == MC_ERR_NOT_FOUND ? "the agency has no account with this provider"
                                                         : NULL);
        return;
    }
    mc_reply_no_content(req);
}
