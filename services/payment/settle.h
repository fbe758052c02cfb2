/*
 * Applying a gateway's verdict to a payment or a refund (settle.c), shared
 * by the IPN endpoints, the refund request and the sweeper: inside the caller's transaction, on a payment
 * row the caller locked. Only a pending payment changes, so a verdict
 * applied twice (a duplicate IPN, an IPN racing the sweeper) has one effect
 * and one event.
 */
#ifndef PAYMENT_SETTLE_H
#define PAYMENT_SETTLE_H

#include "motcua/db.h"
#include "provider.h"
#include "store.h"

/* Paid: the payment, its demand, the event payment.payment.succeeded and the
   dossier confirmation to send. Not paid: failed or cancelled and
   payment.payment.failed. `expired` settles a payment the gateway never saw
   paid as expired (payment.payment.expired). MC_ERR_CONFLICT when it was no
   longer pending. */
mc_error payment_settle(mc_db_conn *conn, const struct payment_row *p, const struct pay_result *r,
                        bool expired);

/* Settle the pending refund `ref` of `amount` on the locked payment p, in
   the caller's transaction, shared by the refund request and the sweeper:
   done, it succeeds with the event payment.payment.refunded; refused, it
   fails and its reserved amount goes back to the payment. *out (new, when
   out is not NULL) the refund's JSON. MC_ERR_CONFLICT when it was no longer
   pending, so a refund settles once, with one event. */
mc_error payment_refund_settle(mc_db_conn *conn, const struct payment_row *p, const char *ref,
                               long long amount, bool done, const char *gateway_code,
                               json_t **out);

#endif
