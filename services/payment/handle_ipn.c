/*
 * The gateways' server-to-server callbacks, and the browser's return URL.
 *
 *   GET  /payments/ipn/vnpay                VNPay's IPN: 200 {RspCode, Message}
 *   POST /payments/ipn/national-platform    the national platform's confirm:
 *                                           200 {MaLoi, MoTaLoi, ..., MaXacThuc}
 *   GET  /payments/return/{vnpay,national-platform}  where the payer's browser comes
 *                                           back: shows the state, changes nothing
 *
 * The checks run in the protocol's order (DOMAIN.md §6): the signature with
 * the secret of the merchant the message names (97), the order by its
 * reference, among that merchant's (01), the amount (04), still pending (02),
 * then the effect, once (00); 99 for anything else. The payment row is
 * locked (FOR UPDATE) from the order check to the commit, so of concurrent
 * duplicates one applies the effect and the others answer 02. A forged or
 * replayed callback is refused before anything changes, and nothing is
 * cached from it. Every callback is stored raw (signatures masked) with the
 * answer it got.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "motcua/json_spec.h"
#include "motcua/log.h"
#include "payment.h"
#include "payment_rules.h"
#include "settle.h"
#include "store.h"

struct ipn_tx {
    enum pay_provider provider;
    const json_t *fields;  /* the callback's fields (decoded query, or the JSON body) */
    const char *raw;       /* masked raw message, for the log */
    const char *code;      /* the answer */
    struct merchant_row merchant;
    bool have_merchant;
    struct pay_result r;
};

/* The checks and the effect, in one transaction. Always MC_OK (the answer is
   t->code) unless the database fails. */
static mc_error ipn_tx_fn(mc_db_conn *conn, void *arg)
{
    struct ipn_tx *t = arg;
    const char *provider = pay_provider_name(t->provider);
    const char *merchant_code = json_string_value(json_object_get(
        t->fields, t->provider == PAY_VNPAY ? "vnp_TmnCode" : "MaDoiTac"));
    t->have_merchant = false;
    t->code = IPN_INVALID_SIGNATURE;
    struct payment_row p = {0};
    mc_error rc = MC_OK;
    if (merchant_code != NULL) {
        rc = store_merchant_by_code(conn, provider, merchant_code, &t->merchant);
        t->have_merchant = rc == MC_OK;
        if (rc == MC_ERR_NOT_FOUND)
            rc = MC_OK;
    }
    if (rc != MC_OK)
        return rc;
    bool signed_ok = t->have_merchant &&
                     (t->provider == PAY_VNPAY ? vnpay_verify(t->fields, t->merchant.secret)
                                               : npp_confirm_verify(t->fields, t->merchant.secret));
    bool read_ok = signed_ok && (t->provider == PAY_VNPAY ? vnpay_callback_read(t->fields, &t->r)
                                                          : npp_confirm_read(t->fields, &t->r));
    bool found = false;
    if (!signed_ok) {
        t->code = IPN_INVALID_SIGNATURE;
    } else if (!read_ok) {
        t->code = IPN_OTHER;
    } else {
        rc = store_payment_lock_by_ref(conn, t->r.txn_ref, &p);
        found = rc == MC_OK && strcmp(p.provider, provider) == 0 &&
                strcmp(p.merchant_code, t->merchant.merchant_code) == 0;
        if (rc == MC_ERR_PAYMENT_NOT_FOUND)
            rc = MC_OK;
        if (rc != MC_OK)
            return rc;
        if (!found)
            t->code = IPN_ORDER_NOT_FOUND; /* unknown, or another agency's merchant's */
        else if (t->r.amount != p.amount)
            t->code = IPN_INVALID_AMOUNT;
        else if (strcmp(p.state, "pending") != 0)
            t->code = IPN_ALREADY_CONFIRMED;
        else {
            rc = payment_settle(conn, &p, &t->r, false);
            if (rc == MC_ERR_CONFLICT) { /* settled since we looked: cannot happen under the lock */
                t->code = IPN_ALREADY_CONFIRMED;
                rc = MC_OK;
            } else if (rc != MC_OK) {
                return rc;
            }
            if (strcmp(t->code, IPN_ALREADY_CONFIRMED) != 0)
                t->code = IPN_OK;
        }
    }
    return store_message_add(conn, found ? p.id : NULL, provider, "in",
                             t->provider == PAY_VNPAY ? "ipn" : "confirm", t->raw, t->code);
}

static void ipn_log(const char *provider, const char *code)
{
    if (strcmp(code, IPN_OK) != 0 && strcmp(code, IPN_ALREADY_CONFIRMED) != 0)
        mc_log(MC_LOG_WARNING, NULL, "payment.callback_refused", "%s callback answered %s", provider,
               code);
}

void handle_ipn_vnpay(mc_request *req)
{
    const char *query = mc_query_string(req);
    json_t *fields = vnpay_query_decode(query);
    char *masked = pay_mask_query(query);
    struct ipn_tx t = {.provider = PAY_VNPAY, .fields = fields, .raw = masked, .code = IPN_OTHER};
    mc_error rc = MC_OK;
    if (fields != NULL)
        rc = mc_db_transaction(mc_request_db(req), NULL, ipn_tx_fn, &t);
    /* A database failure is a 99 too: the gateway calls again. */
    const char *code = rc == MC_OK ? t.code : IPN_OTHER;
    ipn_log("vnpay", code);
    free(masked);
    json_decref(fields);
    mc_set_header(req, "Cache-Control", "no-store");
    mc_reply_json(req, 200, json_pack("{ss ss}", "RspCode", code, "Message", ipn_message(code)));
}

void handle_ipn_national_platform(mc_request *req)
{
    json_t *masked_json = pay_mask_json(req->body);
    char *masked = json_dumps(masked_json, JSON_COMPACT);
    json_decref(masked_json);
    struct ipn_tx t = {.provider = PAY_NATIONAL_PLATFORM, .fields = req->body, .raw = masked,
                       .code = IPN_OTHER};
    mc_error rc = json_is_object(req->body) && masked != NULL
                      ? mc_db_transaction(mc_request_db(req), NULL, ipn_tx_fn, &t)
                      : MC_OK;
    const char *code = rc == MC_OK ? t.code : IPN_OTHER;
    ipn_log("national_platform", code);
    free(masked);
    const char *merchant = json_string_value(json_object_get(req->body, "MaDoiTac"));
    const char *ref = json_string_value(json_object_get(req->body, "MaThamChieu"));
    /* Signed only with the secret of a merchant we know (never one the sender named falsely
       to learn a signature: a 97 carries an empty MaXacThuc). */
    const char *secret = t.have_merchant && strcmp(code, IPN_INVALID_SIGNATURE) != 0
                             ? t.merchant.secret
                             : NULL;
    const char *when = json_string_value(json_object_get(req->body, "ThoiGianGD"));
    json_t *answer = npp_confirm_answer(code, ipn_message(code), merchant != NULL ? merchant : "",
                                        ref != NULL ? ref : "", when, secret);
    mc_set_header(req, "Cache-Control", "no-store");
    mc_reply_json(req, 200, answer);
}

/* ------------------------------------------------------------------ */
/* return URL                                                          */

/* One path per provider (like the IPNs): a `{provider}` template there would
   make /payments/return/x and /payments/{id}/receipt ambiguous. */
static void payment_return(mc_request *req, bool vnpay)
{
    /* The reference only selects what to show; the state shown is ours, never the URL's. */
    json_t *fields = vnpay_query_decode(mc_query_string(req));
    const char *ref = json_string_value(json_object_get(fields, vnpay ? "vnp_TxnRef" : "MaThamChieu"));
    if (ref == NULL || strlen(ref) > 64) {
        json_decref(fields);
        json_t *errors = mc_errors_new();
        mc_errors_add_param(errors, vnpay ? "vnp_TxnRef" : "MaThamChieu", "required",
                            "the gateway's reference of the payment");
        mc_reply_errors(req, MC_ERR_BAD_QUERY, errors);
        return;
    }
    struct payment_row p;
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(mc_request_db(req), &conn);
    if (rc == MC_OK) {
        rc = store_payment_by_ref(conn, ref, &p);
        mc_db_release(mc_request_db(req), conn);
    }
    json_decref(fields);
    if (rc != MC_OK) {
        mc_reply_error(req, rc, NULL);
        return;
    }
    mc_set_header(req, "Cache-Control", "no-store");
    mc_reply_json(req, 200,
                  json_pack("{ss ss ss sI}", "payment_id", p.id, "dossier_id", p.dossier_id, "state",
                            p.state, "amount", (json_int_t)p.amount));
}

void handle_payment_return_vnpay(mc_request *req)
{
    payment_return(req, true);
}

void handle_payment_return_national_platform(mc_request *req)
{
    payment_return(req, false);
}
