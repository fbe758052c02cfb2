/*
 * POST /payments/{id}/refunds: an officer or agency administrator of the
 * collecting agency refunds all or part of a paid payment (a dossier refused
 * or withdrawn after payment), with If-Match of the payment's ETag.
 *
 * The amount is reserved on the payment under its row lock, in the
 * transaction that records the refund, so a second refund racing the first
 * sees what is left and can never exceed it (409
 * payment.refund_exceeds_available). The gateway is then asked; the
 * refund ends succeeded (event payment.payment.refunded) or failed (the
 * reservation given back), or stays pending when the gateway's answer is
 * not final or did not come: the sweeper then settles it by a status query
 * (sweep.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway.h"
#include "motcua/json_spec.h"
#include "motcua/uuid_text.h"
#include "payment.h"
#include "settle.h"
#include "store.h"

struct refund_body {
    long long amount;
    const char *reason;
};

static const struct mc_field refund_fields[] = {
    {.name = "amount", .type = MC_F_INTEGER, .required = true, .has_range = true, .min = 1,
     .max = 1e15, MC_BIND(struct refund_body, amount)},
    {.name = "reason", .type = MC_F_STRING, .required = true, .min_len = 1, .max_len = 500,
     MC_BIND(struct refund_body, reason)},
    {0}};

struct refund_tx {
    mc_request *req;
    const char *id;
    struct refund_body body;
    long long if_match;
    struct payment_row pay;
    struct merchant_row merchant;
    char ref[33];
    json_t *refund;
    long long available;
    /* after the gateway */
    mc_error asked;
    enum pay_refund_outcome outcome;
    char code[16];
    char *sent, *answer;
};

static mc_error reserve_tx(mc_db_conn *conn, void *arg)
{
    struct refund_tx *t = arg;
    json_decref(t->refund);
    t->refund = NULL;
    mc_error rc = store_payment_lock_by_id(conn, t->id, &t->pay);
    if (rc != MC_OK)
        return rc;
    if (strcmp(t->req->principal.agency, t->pay.agency_code) != 0)
        return MC_ERR_PAYMENT_NOT_FOUND; /* another agency's: not told */
    rc = mc_revision_precondition(t->if_match, t->pay.revision);
    if (rc != MC_OK)
        return rc;
    if (strcmp(t->pay.state, "paid") != 0)
        return MC_ERR_PAYMENT_NOT_REFUNDABLE;
    t->available = t->pay.amount - t->pay.amount_refunded;
    if (t->body.amount > t->available)
        return MC_ERR_PAYMENT_REFUND_EXCEEDS_AVAILABLE;
    rc = store_merchant_get(conn, t->pay.agency_code, t->pay.provider, &t->merchant);
    if (rc == MC_ERR_NOT_FOUND)
        rc = MC_ERR_PAYMENT_MERCHANT_NOT_CONFIGURED;
    /* Due for a status query only once this request has surely given up on
       the gateway: should it never get back (a crash), the sweeper settles it. */
    const struct payment_ctx *ctx = payment_ctx(t->req);
    if (rc == MC_OK)
        rc = store_refund_insert(conn, t->pay.id, t->body.amount, t->body.reason,
                                 t->req->principal.sub,
                                 2 * ctx->gateway_timeout_s + ctx->refund_query_s, &t->refund,
                                 t->ref);
    if (rc == MC_OK)
        rc = store_payment_refunded(conn, t->pay.id, t->body.amount);
    return rc;
}

static mc_error settle_tx(mc_db_conn *conn, void *arg)
{
    struct refund_tx *t = arg;
    mc_error rc = store_message_add(conn, t->pay.id, t->pay.provider, "out", "refund",
                                    t->sent != NULL ? t->sent : "", t->answer);
    if (rc != MC_OK)
        return rc;
    if (t->asked != MC_OK || t->outcome == PAY_REFUND_PENDING) /* not final: the sweeper asks */
        return store_refund_await(conn, t->ref, payment_ctx(t->req)->refund_query_s);
    json_t *settled = NULL;
    rc = payment_refund_settle(conn, &t->pay, t->ref, t->body.amount,
                               t->outcome == PAY_REFUND_DONE, t->code, &settled);
    if (rc == MC_OK) {
        json_decref(t->refund);
        t->refund = settled;
    }
    return rc;
}

void handle_refund_create(mc_request *req)
{
    struct refund_tx t = {.req = req, .id = mc_path_param(req, "id")};
    if (!mc_is_uuid(t.id)) {
        mc_reply_error(req, MC_ERR_PAYMENT_NOT_FOUND, NULL);
        return;
    }
    json_t *errors = mc_errors_new();
    mc_json_parse_fields(req->body, refund_fields, "", errors, &t.body);
    if (!mc_no_errors(req, MC_ERR_VALIDATION, errors))
        return;
    t.if_match = mc_if_match_revision(req, "p");
    mc_error rc = mc_db_transaction(mc_request_db(req), NULL, reserve_tx, &t);
    if (rc == MC_ERR_PAYMENT_REFUND_EXCEEDS_AVAILABLE) {
        mc_reply_problem(req, rc, NULL, json_pack("{sI}", "amount_available", (json_int_t)t.available));
        json_decref(t.refund);
        return;
    }
    if (rc != MC_OK) {
        json_decref(t.refund);
        mc_reply_error(req, rc, NULL);
        return;
    }
    t.asked = gateway_refund(payment_ctx(req), &t.merchant, &t.pay, t.ref, t.body.amount,
                             t.body.reason, req->principal.sub, &t.outcome, t.code, &t.sent,
                             &t.answer);
    rc = mc_db_transaction(mc_request_db(req), NULL, settle_tx, &t);
    free(t.sent);
    free(t.answer);
    if (rc != MC_OK) {
        json_decref(t.refund);
        mc_reply_error(req, rc, NULL);
        return;
    }
    /* what is left, as the payment says it now */
    long long refunded = t.pay.amount_refunded + (t.outcome == PAY_REFUND_REFUSED && t.asked == MC_OK
                                                      ? 0
                                                      : t.body.amount);
    json_object_set_new(t.refund, "refund_summary",
                        json_pack("{sI sI}", "amount_available", (json_int_t)(t.pay.amount - refunded),
                                  "amount_refunded", (json_int_t)refunded));
    mc_reply_json(req, 201, t.refund);
}
