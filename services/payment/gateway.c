/* The HTTP calls to the gateways (gateway.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "gateway.h"
#include "motcua/http_client.h"
#include "motcua/log.h"

#define ANSWER_MAX (64 * 1024)

/* POST body to url (with a bearer token or not); the answer parsed into
   *answer_json. Fills the masked copies for the message log. */
static mc_error post(const struct payment_ctx *ctx, const char *url, const json_t *body,
                     const char *bearer, json_t **answer_json, char **sent, char **answer)
{
    *answer_json = NULL;
    json_t *masked = pay_mask_json(body);
    *sent = json_dumps(masked, JSON_COMPACT);
    json_decref(masked);
    char *text = json_dumps(body, JSON_COMPACT);
    struct mc_http_result res = {0};
    mc_error rc = text != NULL ? mc_http_post_json(url, text, bearer, ctx->gateway_timeout_s,
                                                   ANSWER_MAX, &res)
                               : MC_ERR_INTERNAL;
    free(text);
    if (rc == MC_OK && res.status == 200 && res.body != NULL) {
        *answer_json = json_loads(res.body, JSON_REJECT_DUPLICATES, NULL);
        if (*answer_json != NULL) {
            json_t *m = pay_mask_json(*answer_json);
            *answer = json_dumps(m, JSON_COMPACT);
            json_decref(m);
        }
    }
    if (*answer_json == NULL) {
        mc_log(MC_LOG_WARNING, NULL, "payment.gateway_failed", "%s answered %ld", url, res.status);
        rc = MC_ERR_PAYMENT_GATEWAY_UNAVAILABLE;
    }
    mc_http_result_free(&res);
    return rc;
}

mc_error gateway_npp_init(const struct payment_ctx *ctx, const struct merchant_row *m,
                          const struct pay_order *o, const json_t *receipt, char **url,
                          char **sent, char **answer)
{
    *url = NULL;
    *sent = *answer = NULL;
    struct pay_merchant pm = {m->merchant_code, m->secret, m->token};
    json_t *body = npp_init_request(&pm, o, receipt);
    if (body == NULL)
        return MC_ERR_INTERNAL;
    json_t *reply = NULL;
    mc_error rc = post(ctx, ctx->npp_url, body, m->token, &reply, sent, answer);
    json_decref(body);
    if (rc == MC_OK) {
        *url = npp_init_read(reply, &pm, o->txn_ref);
        if (*url == NULL)
            rc = MC_ERR_PAYMENT_GATEWAY_UNAVAILABLE;
    }
    json_decref(reply);
    return rc;
}

/* A fresh vnp_RequestId: 32 hex digits (unique per day, as VNPay requires). */
static bool vnpay_request_id(char out[33])
{
    unsigned char raw[16];
    if (RAND_bytes(raw, sizeof raw) != 1)
        return false;
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
    return true;
}

mc_error gateway_query(const struct payment_ctx *ctx, const struct merchant_row *m,
                       const struct payment_row *p, struct pay_result *r, char **sent,
                       char **answer)
{
    *sent = *answer = NULL;
    struct pay_merchant pm = {m->merchant_code, m->secret, m->token};
    int64_t now = (int64_t)time(NULL);
    enum pay_provider provider = PAY_VNPAY;
    pay_provider_parse(p->provider, &provider);
    json_t *body;
    const char *url;
    if (provider == PAY_VNPAY) {
        char request_id[33];
        if (!vnpay_request_id(request_id))
            return MC_ERR_INTERNAL;
        body = vnpay_querydr_request(&pm, request_id, p->txn_ref, p->created_at, now, "127.0.0.1");
        url = ctx->vnpay_api_url;
    } else {
        body = npp_query_request(&pm, p->txn_ref, now);
        url = ctx->npp_url;
    }
    if (body == NULL)
        return MC_ERR_INTERNAL;
    json_t *reply = NULL;
    mc_error rc = post(ctx, url, body, provider == PAY_VNPAY ? NULL : m->token, &reply, sent, answer);
    json_decref(body);
    if (rc == MC_OK) {
        bool ok = provider == PAY_VNPAY ? vnpay_querydr_read(reply, m->secret, r)
                                        : npp_query_read(reply, &pm, p->txn_ref, r);
        /* An answer about another order, or another amount, is no answer. */
        if (!ok || (r->outcome == PAY_OUTCOME_PAID &&
                    (strcmp(r->txn_ref, p->txn_ref) != 0 || r->amount != p->amount)))
            rc = MC_ERR_PAYMENT_GATEWAY_UNAVAILABLE;
    }
    json_decref(reply);
    return rc;
}

/* POST a request (consumed; NULL when it could not be made) to the merchant
   API of VNPay, or of the platform with the merchant's bearer token. */
static mc_error post_api(const struct payment_ctx *ctx, const struct merchant_row *m, bool vnpay,
                         json_t *body, json_t **reply, char **sent, char **answer)
{
    if (body == NULL)
        return MC_ERR_INTERNAL;
    mc_error rc = post(ctx, vnpay ? ctx->vnpay_api_url : ctx->npp_url, body,
                       vnpay ? NULL : m->token, reply, sent, answer);
    json_decref(body);
    return rc;
}

mc_error gateway_refund(const struct payment_ctx *ctx, const struct merchant_row *m,
                        const struct payment_row *p, const char *refund_ref, long long amount,
                        const char *reason, const char *by, enum pay_refund_outcome *out,
                        char code[16], char **sent, char **answer)
{
    *sent = *answer = NULL;
    struct pay_merchant pm = {m->merchant_code, m->secret, m->token};
    int64_t now = (int64_t)time(NULL);
    bool vnpay = strcmp(p->provider, "vnpay") == 0;
    /* VNPay's CreateBy is a user name: the staff account id, never a person's name. */
    json_t *body = vnpay ? vnpay_refund_request(&pm, refund_ref, p->txn_ref, amount,
                                                amount == p->amount, /* 02 full, else 03 */
                                                p->transaction_no, p->created_at, by, now,
                                                "127.0.0.1")
                         : npp_refund_request(&pm, p->txn_ref, p->transaction_no, refund_ref,
                                              amount, reason, now);
    json_t *reply = NULL;
    mc_error rc = post_api(ctx, m, vnpay, body, &reply, sent, answer);
    if (rc == MC_OK && !(vnpay ? vnpay_refund_read(reply, m->secret, out, code)
                               : npp_refund_read(reply, &pm, p->txn_ref, out, code)))
        rc = MC_ERR_PAYMENT_GATEWAY_UNAVAILABLE;
    json_decref(reply);
    return rc;
}

mc_error gateway_refund_status(const struct payment_ctx *ctx, const struct merchant_row *m,
                               const struct payment_row *p, const char *refund_ref,
                               long long refunded_before, enum pay_refund_outcome *out,
                               char code[16], char **sent, char **answer)
{
    *sent = *answer = NULL;
    struct pay_merchant pm = {m->merchant_code, m->secret, m->token};
    int64_t now = (int64_t)time(NULL);
    bool vnpay = strcmp(p->provider, "vnpay") == 0;
    char request_id[33];
    if (vnpay && !vnpay_request_id(request_id))
        return MC_ERR_INTERNAL;
    json_t *body = vnpay ? vnpay_querydr_request(&pm, request_id, p->txn_ref, p->created_at, now,
                                                 "127.0.0.1")
                         : npp_refund_query_request(&pm, p->txn_ref, refund_ref, now);
    json_t *reply = NULL;
    mc_error rc = post_api(ctx, m, vnpay, body, &reply, sent, answer);
    if (rc == MC_OK &&
        !(vnpay ? vnpay_refund_status_read(reply, m->secret, p->txn_ref, refunded_before, out, code)
                : npp_refund_query_read(reply, &pm, p->txn_ref, refund_ref, out, code)))
        rc = MC_ERR_PAYMENT_GATEWAY_UNAVAILABLE;
    json_decref(reply);
    return rc;
}

mc_error gateway_npp_get_bill(const struct payment_ctx *ctx, const struct merchant_row *m,
                              const char *txn_ref, char receipt_no[65], unsigned char **pdf,
                              size_t *pdf_len, char **sent, char **answer)
{
    *sent = *answer = NULL;
    *pdf = NULL;
    struct pay_merchant pm = {m->merchant_code, m->secret, m->token};
    json_t *reply = NULL;
    mc_error rc = post_api(ctx, m, false, npp_get_bill_request(&pm, txn_ref, (int64_t)time(NULL)),
                           &reply, sent, answer);
    if (rc == MC_OK && !npp_get_bill_read(reply, &pm, txn_ref, receipt_no, pdf, pdf_len))
        rc = MC_ERR_PAYMENT_GATEWAY_UNAVAILABLE;
    json_decref(reply);
    return rc;
}
