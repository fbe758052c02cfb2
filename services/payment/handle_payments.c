/*
 * /payments: paying a dossier's fee, and reading payments.
 *
 *   POST /payments          the citizen who owns the dossier: a new attempt
 *                           at its open demand through a provider; 201 with
 *                           the gateway's page in redirect_url
 *   GET  /payments          a citizen's own; staff their agency's; system
 *                           administrators and auditors everyone's
 *   GET  /payments/{id}     the same people; 404 for anyone else
 *   GET  /payments/{id}/receipt   the e-receipt of a paid payment, for them
 *
 * A demand has at most one pending attempt (a second POST while one is
 * pending is 409 payment.attempt_pending) and at most one paid attempt (a
 * unique index): a failed or expired attempt may be retried.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway.h"
#include "motcua/db.h"
#include "motcua/events.h"
#include "motcua/json_spec.h"
#include "motcua/uuid_text.h"
#include "payment.h"
#include "settle.h"
#include "store.h"

#define PAGE_DEFAULT 20
#define PAGE_MAX 100
#define UUID_PATTERN "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"

static const char *const providers[] = {"vnpay", "national_platform", NULL};
static const char *const locales[] = {"vn", "en", NULL};
static const char *const states[] = {"pending", "paid", "failed", "cancelled", "expired", NULL};

struct create_body {
    const char *dossier_id;
    const char *provider;
    const char *locale;
};

static const struct mc_field create_fields[] = {
    {.name = "dossier_id", .type = MC_F_STRING, .required = true, .pattern = UUID_PATTERN,
     MC_BIND(struct create_body, dossier_id)},
    {.name = "provider", .type = MC_F_STRING, .required = true, .enum_values = providers,
     MC_BIND(struct create_body, provider)},
    {.name = "locale", .type = MC_F_STRING, .nullable = true, .enum_values = locales,
     MC_BIND(struct create_body, locale)},
    {0}};

struct create_tx {
    mc_request *req;
    struct payment_ctx *ctx;
    struct create_body body;
    enum pay_provider provider;
    char ip[64];
    struct demand_row demand;
    struct merchant_row merchant;
    struct payment_row pay;
    char pending_id[37];
    /* the second transaction (after the national platform's INIT) */
    char *redirect, *sent, *answer;
    json_t *out;
    long long revision;
};

static void order_of(const struct create_tx *t, struct pay_order *o, char *info, size_t info_len,
                     char *return_url, size_t return_len)
{
    snprintf(info, info_len, "Lệ phí hồ sơ %s",
             t->demand.dossier_code[0] != '\0' ? t->demand.dossier_code : t->demand.dossier_id);
    snprintf(return_url, return_len, "%s/api/v1/payments/return/%s", t->ctx->public_url,
             t->provider == PAY_VNPAY ? "vnpay" : "national-platform");
    *o = (struct pay_order){t->pay.txn_ref, t->pay.amount,    info,
                            return_url,     t->ip,            t->body.locale,
                            t->pay.created_at, t->pay.expires_at};
}

static mc_error read_answer(struct create_tx *t, mc_db_conn *conn)
{
    char payer[129], agency[33];
    json_decref(t->out);
    t->out = NULL;
    mc_error rc = store_payment_get_json(conn, t->pay.id, &t->out, &t->revision, payer, agency);
    if (rc == MC_OK && t->out != NULL)
        json_object_set_new(t->out, "redirect_url", t->redirect != NULL ? json_string(t->redirect)
                                                                         : json_null());
    return rc;
}

static mc_error create_tx_fn(mc_db_conn *conn, void *arg)
{
    struct create_tx *t = arg;
    free(t->redirect);
    t->redirect = NULL;
    t->pending_id[0] = '\0';
    mc_error rc = store_demand_open_lock(conn, t->body.dossier_id, &t->demand);
    /* Another citizen's dossier answers as one without a demand: nothing is told. */
    if (rc == MC_OK && strcmp(t->demand.owner_sub, t->req->principal.sub) != 0)
        rc = MC_ERR_PAYMENT_NO_OPEN_DEMAND;
    if (rc == MC_OK && store_payment_pending_of_demand(conn, t->demand.id, t->pending_id) == MC_OK)
        rc = MC_ERR_PAYMENT_ATTEMPT_PENDING;
    if (rc == MC_OK) {
        rc = store_merchant_get(conn, t->demand.agency_code, t->body.provider, &t->merchant);
        if (rc == MC_ERR_NOT_FOUND)
            rc = MC_ERR_PAYMENT_MERCHANT_NOT_CONFIGURED;
    }
    if (rc == MC_OK)
        rc = store_payment_insert(conn, &t->demand, t->body.provider, t->merchant.merchant_code,
                                  t->req->principal.sub, t->ctx->expiry_seconds, &t->pay);
    if (rc != MC_OK || t->provider != PAY_VNPAY)
        return rc; /* the national platform: INIT after this commits */
    /* VNPay: the signed URL is the whole request. */
    struct pay_order o;
    char info[128], return_url[PAYMENT_URL_MAX + 64];
    order_of(t, &o, info, sizeof info, return_url, sizeof return_url);
    struct pay_merchant m = {t->merchant.merchant_code, t->merchant.secret, NULL};
    t->redirect = vnpay_pay_url(t->ctx->vnpay_pay_url, &m, &o);
    if (t->redirect == NULL)
        return MC_ERR_INTERNAL;
    char *masked = pay_mask_query(strchr(t->redirect, '?') + 1);
    rc = store_payment_set_redirect(conn, t->pay.id, t->redirect);
    if (rc == MC_OK)
        rc = store_message_add(conn, t->pay.id, "vnpay", "out", "pay", masked, NULL);
    free(masked);
    if (rc == MC_OK)
        rc = read_answer(t, conn);
    if (rc == MC_OK)
        rc = mc_idempotency_record(t->req, conn, 201, t->out, NULL, NULL);
    return rc;
}

/* After the national platform's INIT: its page, or the attempt failed. */
static mc_error init_done_tx_fn(mc_db_conn *conn, void *arg)
{
    struct create_tx *t = arg;
    mc_error rc = store_message_add(conn, t->pay.id, "national_platform", "out", "init",
                                    t->sent != NULL ? t->sent : "", t->answer);
    if (rc == MC_OK && t->redirect != NULL)
        rc = store_payment_set_redirect(conn, t->pay.id, t->redirect);
    if (rc == MC_OK && t->redirect == NULL) {
        struct pay_result r = {.outcome = PAY_OUTCOME_FAILED};
        snprintf(r.gateway_code, sizeof r.gateway_code, "init_failed");
        rc = payment_settle(conn, &t->pay, &r, false);
        return rc == MC_OK ? MC_ERR_PAYMENT_GATEWAY_UNAVAILABLE : rc;
    }
    if (rc == MC_OK)
        rc = read_answer(t, conn);
    if (rc == MC_OK)
        rc = mc_idempotency_record(t->req, conn, 201, t->out, NULL, NULL);
    return rc;
}

void handle_payment_create(mc_request *req)
{
    struct create_tx t = {.req = req, .ctx = payment_ctx(req)};
    json_t *errors = mc_errors_new();
    mc_json_parse_fields(req->body, create_fields, "", errors, &t.body);
    if (!mc_no_errors(req, MC_ERR_VALIDATION, errors))
        return;
    pay_provider_parse(t.body.provider, &t.provider);
    mc_client_address(req, t.ip, sizeof t.ip);
    mc_error rc = mc_db_transaction(mc_request_db(req), NULL, create_tx_fn, &t);
    if (rc == MC_OK && t.provider == PAY_NATIONAL_PLATFORM) {
        struct pay_order o;
        char info[128], return_url[PAYMENT_URL_MAX + 64];
        order_of(&t, &o, info, sizeof info, return_url, sizeof return_url);
        json_t *receipt = json_pack("{ss ss* ss}", "MaHoSo", t.demand.dossier_code[0] != '\0'
                                                                 ? t.demand.dossier_code
                                                                 : t.demand.dossier_id,
                                    "MaCoQuan", t.demand.agency_code, "NoiDung", info);
        gateway_npp_init(t.ctx, &t.merchant, &o, receipt, &t.redirect, &t.sent, &t.answer);
        json_decref(receipt);
        rc = mc_db_transaction(mc_request_db(req), NULL, init_done_tx_fn, &t);
    }
    free(t.redirect);
    free(t.sent);
    free(t.answer);
    if (rc == MC_ERR_PAYMENT_ATTEMPT_PENDING) {
        json_decref(t.out);
        mc_reply_problem(req, rc, "finish the payment in progress, or wait until it expires",
                         json_pack("{ss}", "payment_id", t.pending_id));
        return;
    }
    if (rc != MC_OK) {
        json_decref(t.out);
        mc_reply_error(req, rc, NULL);
        return;
    }
    char location[96], etag[32];
    snprintf(location, sizeof location, "/api/v1/payments/%s", t.pay.id);
    mc_etag_for_revision(etag, sizeof etag, "p", t.revision);
    mc_reply_created(req, t.out, location, etag);
}

/* May the caller see a payment of this payer and agency? (payment.h) */
bool payment_may_see(const mc_principal *p, const char *payer_sub, const char *agency)
{
    if ((p->roles & (MC_ROLE_SYSTEM_ADMIN | MC_ROLE_AUDITOR)) != 0)
        return true;
    if ((p->roles & MC_ROLE_CITIZEN) != 0 && strcmp(p->sub, payer_sub) == 0)
        return true;
    return (p->roles & (MC_ROLE_OFFICER | MC_ROLE_APPROVER | MC_ROLE_AGENCY_ADMIN)) != 0 &&
           p->agency[0] != '\0' && strcmp(p->agency, agency) == 0;
}

void handle_payment_get(mc_request *req)
{
    const char *id = mc_path_param(req, "id");
    if (!mc_is_uuid(id)) {
        mc_reply_error(req, MC_ERR_PAYMENT_NOT_FOUND, NULL);
        return;
    }
    json_t *body = NULL;
    long long revision = 0;
    char payer[129], agency[33];
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(mc_request_db(req), &conn);
    if (rc == MC_OK) {
        rc = store_payment_get_json(conn, id, &body, &revision, payer, agency);
        mc_db_release(mc_request_db(req), conn);
    }
    if (rc == MC_OK && !payment_may_see(&req->principal, payer, agency))
        rc = MC_ERR_PAYMENT_NOT_FOUND;
    if (rc != MC_OK) {
        json_decref(body);
        mc_reply_error(req, rc, NULL);
        return;
    }
    char etag[32];
    mc_etag_for_revision(etag, sizeof etag, "p", revision);
    mc_set_header(req, "Cache-Control", "private, no-store");
    mc_reply_json_etag(req, 200, body, etag);
}

/* GET /payments/{id}/receipt: the e-receipt of a paid payment (refunded in
   part or whole included), for the same readers as the payment. */
void handle_payment_receipt(mc_request *req)
{
    const char *id = mc_path_param(req, "id");
    if (!mc_is_uuid(id)) {
        mc_reply_error(req, MC_ERR_PAYMENT_NOT_FOUND, NULL);
        return;
    }
    json_t *body = NULL;
    char state[16], payer[129], agency[33];
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(mc_request_db(req), &conn);
    if (rc == MC_OK) {
        rc = store_payment_receipt(conn, id, &body, state, payer, agency);
        mc_db_release(mc_request_db(req), conn);
    }
    if (rc == MC_OK && !payment_may_see(&req->principal, payer, agency))
        rc = MC_ERR_PAYMENT_NOT_FOUND;
    if (rc == MC_OK && strcmp(state, "paid") != 0) {
        json_decref(body);
        mc_reply_error(req, MC_ERR_CONFLICT, "a payment has a receipt once it is paid");
        return;
    }
    if (rc != MC_OK) {
        json_decref(body);
        mc_reply_error(req, rc, NULL);
        return;
    }
    mc_set_header(req, "Cache-Control", "private, no-store");
    mc_reply_json_etag(req, 200, body, NULL);
}

bool payment_page_parse(const mc_request *req, json_t *errors, unsigned *limit, json_t **cursor,
                        char after_created[24], const char **after_id)
{
    if (!mc_page_parse(req, PAGE_DEFAULT, PAGE_MAX, 2, limit, cursor, errors) || *cursor == NULL)
        return false;
    const json_t *k0 = json_array_get(*cursor, 0), *k1 = json_array_get(*cursor, 1);
    if (!json_is_integer(k0) || !json_is_string(k1) || !mc_is_uuid(json_string_value(k1))) {
        mc_errors_add_param(errors, "cursor", "invalid_cursor", "is not a cursor this server produced");
        return false;
    }
    snprintf(after_created, 24, "%lld", (long long)json_integer_value(k0));
    *after_id = json_string_value(k1);
    return true;
}

static mc_error list_page(mc_db_conn *conn, const void *query, unsigned limit, json_t **items,
                          json_t **next_keys)
{
    return store_payments_list(conn, query, limit, items, next_keys);
}

static bool valid_date(const char *s)
{
    int y, m, d;
    char end;
    return strlen(s) == 10 && sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &end) == 3 && m >= 1 &&
           m <= 12 && d >= 1 && d <= 31;
}

void handle_payments_list(mc_request *req)
{
    const mc_principal *p = &req->principal;
    json_t *errors = mc_errors_new();
    struct payment_filter f = {0};
    char after_created[24] = "";
    f.state = mc_query_str(req, "state", 16, errors);
    f.provider = mc_query_str(req, "provider", 32, errors);
    f.dossier_id = mc_query_str(req, "dossier_id", 36, errors);
    f.from = mc_query_str(req, "from", 10, errors);
    f.to = mc_query_str(req, "to", 10, errors);
    const char *agency = mc_query_str(req, "agency", 32, errors);
    bool known = false;
    for (size_t i = 0; f.state != NULL && states[i] != NULL; i++)
        known = known || strcmp(f.state, states[i]) == 0;
    if (f.state != NULL && !known)
        mc_errors_add_param(errors, "state", "enum",
                            "must be one of: pending paid failed cancelled expired");
    enum pay_provider provider;
    if (f.provider != NULL && !pay_provider_parse(f.provider, &provider))
        mc_errors_add_param(errors, "provider", "enum", "must be one of: vnpay national_platform");
    if (f.dossier_id != NULL && !mc_is_uuid(f.dossier_id))
        mc_errors_add_param(errors, "dossier_id", "format", "must be a UUID");
    if (f.from != NULL && !valid_date(f.from))
        mc_errors_add_param(errors, "from", "format", "must be a date YYYY-MM-DD");
    if (f.to != NULL && !valid_date(f.to))
        mc_errors_add_param(errors, "to", "format", "must be a date YYYY-MM-DD");

    unsigned staff = p->roles & (MC_ROLE_OFFICER | MC_ROLE_APPROVER | MC_ROLE_AGENCY_ADMIN);
    if ((p->roles & (MC_ROLE_SYSTEM_ADMIN | MC_ROLE_AUDITOR)) != 0 && staff == 0)
        f.agency = agency; /* everyone's, or one agency's */
    else if (staff != 0) {
        if (agency != NULL && strcmp(agency, p->agency) != 0)
            mc_errors_add_param(errors, "agency", "not_your_agency",
                                "staff list their own agency's payments");
        f.agency = p->agency;
    } else {
        if (agency != NULL)
            mc_errors_add_param(errors, "agency", "not_allowed", "citizens list their own payments");
        f.payer_sub = p->sub;
    }
    unsigned limit = 0;
    json_t *cursor = NULL;
    if (payment_page_parse(req, errors, &limit, &cursor, after_created, &f.after_id))
        f.after_created = after_created;
    mc_set_header(req, "Cache-Control", "private, no-store");
    mc_reply_list(req, errors, cursor, list_page, &f, limit);
}
