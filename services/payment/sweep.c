/*
 * The sweeper: pending payments past their expiry are settled by asking the
 * gateway (VNPay querydr, the national platform's QUERY). Paid there (an IPN
 * that never came): paid here, with the same effects as the IPN. Failed:
 * failed. Unknown to the gateway or still unfinished: expired (the pay
 * request carried the expiry, so the gateway takes no payment after it).
 * Gateway unreachable: left pending, asked again a minute later.
 *
 * Refunds whose gateway answer was lost or said "in progress" are settled
 * the same way (VNPay: querydr of the payment; the platform: QUERY_REFUND),
 * asked again with back-off (refund_query_delay) while the gateway has not
 * decided, for at most three days: done, the refund succeeds with its event
 * payment.payment.refunded; refused or never received, it fails and its
 * amount goes back to the payment's refund_summary.
 *
 * Instances share the work: payments and refunds are taken FOR UPDATE SKIP
 * LOCKED, and the query and the settlement happen in that transaction (one
 * gateway call of at most GATEWAY_TIMEOUT_SECONDS each, a few per pass). A
 * refund is locked before its payment, in the order the refund request's
 * settlement takes them.
 */
#include <stdlib.h>
#include <string.h>

#include "gateway.h"
#include "motcua/log.h"
#include "payment.h"
#include "payment_rules.h"
#include "settle.h"
#include "store.h"

#define BATCH 8

struct sweep_tx {
    struct payment_ctx *ctx;
    unsigned settled;
};

static mc_error sweep_tx_fn(mc_db_conn *conn, void *arg)
{
    struct sweep_tx *t = arg;
    struct payment_row rows[BATCH];
    size_t n = 0;
    t->settled = 0;
    mc_error rc = store_payments_due_for_query(conn, BATCH, rows, &n);
    for (size_t i = 0; rc == MC_OK && i < n; i++) {
        struct merchant_row m;
        rc = store_merchant_get(conn, rows[i].agency_code, rows[i].provider, &m);
        if (rc == MC_ERR_NOT_FOUND) { /* the account was removed: nothing to ask */
            rc = store_payment_queried(conn, rows[i].id);
            continue;
        }
        struct pay_result r;
        char *sent = NULL, *answer = NULL;
        mc_error q = rc == MC_OK ? gateway_query(t->ctx, &m, &rows[i], &r, &sent, &answer) : rc;
        if (rc == MC_OK)
            rc = store_message_add(conn, rows[i].id, rows[i].provider, "out", "query",
                                   sent != NULL ? sent : "", answer);
        free(sent);
        free(answer);
        if (rc == MC_OK)
            rc = store_payment_queried(conn, rows[i].id);
        if (rc != MC_OK || q != MC_OK)
            continue; /* unreachable or untrustworthy: asked again later */
        rc = payment_settle(conn, &rows[i], &r, r.outcome == PAY_OUTCOME_PENDING ||
                                                    r.outcome == PAY_OUTCOME_NOT_FOUND);
        if (rc == MC_OK)
            t->settled++;
    }
    return rc;
}

/* Ask the gateway about one due refund and settle it when the answer is final. */
static mc_error sweep_refund(mc_db_conn *conn, struct sweep_tx *t, const struct refund_row *refund)
{
    struct payment_row pay;
    struct merchant_row m;
    mc_error rc = store_payment_lock_by_id(conn, refund->payment_id, &pay);
    if (rc == MC_OK)
        rc = store_merchant_get(conn, pay.agency_code, pay.provider, &m);
    if (rc == MC_ERR_NOT_FOUND) /* the account was removed: nothing to ask */
        return store_refund_queried(conn, refund->reference, 0, 0);
    long long refunded_before = 0;
    if (rc == MC_OK)
        rc = store_refunds_succeeded_sum(conn, pay.id, &refunded_before);
    if (rc != MC_OK)
        return rc;
    enum pay_refund_outcome outcome = PAY_REFUND_PENDING;
    char code[16] = "";
    char *sent = NULL, *answer = NULL;
    mc_error q = gateway_refund_status(t->ctx, &m, &pay, refund->reference, refunded_before,
                                       &outcome, code, &sent, &answer);
    rc = store_message_add(conn, pay.id, pay.provider, "out", "refund_query",
                           sent != NULL ? sent : "", answer);
    free(sent);
    free(answer);
    if (rc == MC_OK)
        rc = store_refund_queried(conn, refund->reference,
                                  refund_query_delay(t->ctx->refund_query_s,
                                                     refund->query_attempts + 1),
                                  REFUND_QUERY_GIVE_UP_S);
    if (rc != MC_OK || q != MC_OK || outcome == PAY_REFUND_PENDING)
        return rc; /* unreachable, untrustworthy or undecided: asked again later */
    rc = payment_refund_settle(conn, &pay, refund->reference, refund->amount,
                               outcome == PAY_REFUND_DONE, code, NULL);
    if (rc == MC_OK)
        t->settled++;
    return rc;
}

static mc_error sweep_refunds_tx_fn(mc_db_conn *conn, void *arg)
{
    struct sweep_tx *t = arg;
    struct refund_row rows[BATCH];
    size_t n = 0;
    t->settled = 0;
    mc_error rc = store_refunds_due_for_query(conn, BATCH, rows, &n);
    for (size_t i = 0; rc == MC_OK && i < n; i++)
        rc = sweep_refund(conn, t, &rows[i]);
    return rc;
}

void payment_sweep_run(void *arg)
{
    struct payment_ctx *ctx = arg;
    struct sweep_tx t = {.ctx = ctx};
    mc_error rc = mc_db_transaction(ctx->db, NULL, sweep_tx_fn, &t);
    if (rc != MC_OK)
        mc_log(MC_LOG_WARNING, NULL, "payment.sweep_failed", "sweep pass failed (%d)", (int)rc);
    else if (t.settled > 0)
        mc_log(MC_LOG_INFO, NULL, "payment.swept", "%u pending payments settled", t.settled);
    rc = mc_db_transaction(ctx->db, NULL, sweep_refunds_tx_fn, &t);
    if (rc != MC_OK)
        mc_log(MC_LOG_WARNING, NULL, "payment.refund_sweep_failed", "refund sweep pass failed (%d)",
               (int)rc);
    else if (t.settled > 0)
        mc_log(MC_LOG_INFO, NULL, "payment.refunds_swept", "%u pending refunds settled", t.settled);
}
