/*
 * GET /payments/{id}/receipt/document: the e-receipt of a paid payment as a
 * document to download, for the readers of the JSON receipt (404 for anyone
 * else, 409 before it is paid).
 *
 * National platform: its own e-receipt, the PDF of GET_BILL (a signed
 * request; the answer's MaXacThuc, merchant, order and PDF checked), fetched
 * the first time and stored (receipt_documents), so later downloads never
 * call the platform again. VNPay has no bill API: the receipt is rendered
 * here as an HTML page (receipt_rules.c) from the payment's data at each
 * download, so it always shows what was refunded since. HTML rather than
 * PDF: a browser shows and prints it as it is, with Vietnamese text, and
 * no PDF library is needed (docs/services/payment.md, "Receipts").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway.h"
#include "motcua/download.h"
#include "motcua/uuid_text.h"
#include "payment.h"
#include "receipt_rules.h"
#include "store.h"

struct fetch_tx {
    const char *id;
    struct payment_row pay;
    struct merchant_row merchant;
    /* after the platform answered */
    const char *receipt_no, *pdf_base64, *sent, *answer;
};

static mc_error read_order_tx(mc_db_conn *conn, void *arg)
{
    struct fetch_tx *t = arg;
    mc_error rc = store_payment_lock_by_id(conn, t->id, &t->pay);
    if (rc == MC_OK)
        rc = store_merchant_by_code(conn, t->pay.provider, t->pay.merchant_code, &t->merchant);
    return rc == MC_ERR_NOT_FOUND ? MC_ERR_PAYMENT_MERCHANT_NOT_CONFIGURED : rc;
}

static mc_error keep_tx(mc_db_conn *conn, void *arg)
{
    struct fetch_tx *t = arg;
    mc_error rc = store_message_add(conn, t->id, "national_platform", "out", "get_bill",
                                    t->sent != NULL ? t->sent : "", t->answer);
    if (rc == MC_OK && t->pdf_base64 != NULL)
        rc = store_receipt_document_put(conn, t->id, t->receipt_no, "application/pdf",
                                        t->pdf_base64);
    return rc;
}

/* The stored GET_BILL receipt, fetched from the platform the first time. */
static mc_error platform_receipt(mc_request *req, const char *id, struct receipt_document *doc)
{
    mc_db_pool *db = mc_request_db(req);
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(db, &conn);
    if (rc != MC_OK)
        return rc;
    rc = store_receipt_document_get(conn, id, doc);
    mc_db_release(db, conn);
    if (rc != MC_ERR_NOT_FOUND)
        return rc;
    struct fetch_tx t = {.id = id};
    rc = mc_db_transaction(db, NULL, read_order_tx, &t);
    if (rc != MC_OK)
        return rc;
    char receipt_no[65] = "", *sent = NULL, *answer = NULL, *b64 = NULL;
    unsigned char *pdf = NULL;
    size_t pdf_len = 0;
    mc_error asked = gateway_npp_get_bill(payment_ctx(req), &t.merchant, t.pay.txn_ref, receipt_no,
                                          &pdf, &pdf_len, &sent, &answer);
    if (asked == MC_OK && (b64 = pay_base64_encode(pdf, pdf_len)) == NULL)
        asked = MC_ERR_INTERNAL;
    t.receipt_no = receipt_no;
    t.pdf_base64 = b64;
    t.sent = sent;
    t.answer = answer;
    rc = mc_db_transaction(db, NULL, keep_tx, &t);
    free(pdf);
    free(b64);
    free(sent);
    free(answer);
    if (rc == MC_OK)
        rc = asked;
    if (rc == MC_OK && (rc = mc_db_acquire(db, &conn)) == MC_OK) {
        rc = store_receipt_document_get(conn, id, doc); /* the first one stored */
        mc_db_release(db, conn);
    }
    return rc;
}

void handle_payment_receipt_document(mc_request *req)
{
    const char *id = mc_path_param(req, "id");
    if (!mc_is_uuid(id)) {
        mc_reply_error(req, MC_ERR_PAYMENT_NOT_FOUND, NULL);
        return;
    }
    json_t *receipt = NULL;
    char state[16], payer[129], agency[33];
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(mc_request_db(req), &conn);
    if (rc == MC_OK) {
        rc = store_payment_receipt(conn, id, &receipt, state, payer, agency);
        mc_db_release(mc_request_db(req), conn);
    }
    if (rc == MC_OK && !payment_may_see(&req->principal, payer, agency))
        rc = MC_ERR_PAYMENT_NOT_FOUND;
    if (rc == MC_OK && strcmp(state, "paid") != 0) {
        json_decref(receipt);
        mc_reply_error(req, MC_ERR_CONFLICT, "a payment has a receipt once it is paid");
        return;
    }
    if (rc != MC_OK) {
        json_decref(receipt);
        mc_reply_error(req, rc, NULL);
        return;
    }
    mc_set_header(req, "Cache-Control", "private, no-store");
    const char *provider = json_string_value(json_object_get(receipt, "provider"));
    char name[128];
    if (provider != NULL && strcmp(provider, "national_platform") == 0) {
        json_decref(receipt);
        struct receipt_document doc;
        rc = platform_receipt(req, id, &doc);
        if (rc != MC_OK) {
            mc_reply_error(req, rc, rc == MC_ERR_PAYMENT_GATEWAY_UNAVAILABLE
                                        ? "the national platform did not give its receipt; try again later"
                                        : NULL);
            return;
        }
        snprintf(name, sizeof name, "bien-lai-%s.pdf", doc.receipt_no);
        mc_reply_download(req, doc.media_type, name, (char *)doc.body, doc.len);
        return;
    }
    size_t len = 0;
    char *html = receipt_html(receipt, &len);
    snprintf(name, sizeof name, "bien-lai-%s.html",
             json_string_value(json_object_get(receipt, "receipt_no")));
    json_decref(receipt);
    if (html == NULL) {
        mc_reply_error(req, MC_ERR_INTERNAL, "out of memory");
        return;
    }
    mc_reply_download(req, "text/html; charset=utf-8", name, html, len);
}
