/*
 * The sweeper: pending payments past their expiry are settled by asking the
 * gateway (VNPay querydr, the national platform's QUERY). Paid there (an IPN
 * that never came): paid here, with the same effects as the IPN. Failed:
 * failed. Unknown to the gateway or still unfinished: expired (the pay
 * request carried the expiry, so the gateway takes no payment after it).
 * Gateway unreachable: left pending, asked again a minute later.
 *
 * Instances share the work: payments are taken FOR UPDATE SKIP LOCKED, and
 * the query and the settlement happen in that transaction (one gateway call
 * of at most GATEWAY_TIMEOUT_SECONDS per payment, a few per pass).
 */
#include <stdlib.h>
#include <string.h>

#include "gateway.h"
#include "motcua/log.h"
#include "payment.h"
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

void payment_sweep_run(void *arg)
{
    struct payment_ctx *ctx = arg;
    struct sweep_tx t = {.ctx = ctx};
    mc_error rc = mc_db_transaction(ctx->db, NULL, sweep_tx_fn, &t);
    if (rc != MC_OK)
        mc_log(MC_LOG_WARNING, NULL, "payment.sweep_failed", "sweep pass failed (%d)", (int)rc);
    else if (t.settled > 0)
        mc_log(MC_LOG_INFO, NULL, "payment.swept", "%u pending payments settled", t.settled);
}
