/*
 * Applying a gateway's verdict to a payment (settle.c), shared by the IPN
 * endpoints and the sweeper: inside the caller's transaction, on a payment
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

/* The event payment.payment.refunded of a refund that succeeded (`refund`:
   its JSON, borrowed), in the caller's transaction. */
mc_error payment_refund_event(mc_db_conn *conn, const struct payment_row *p, const json_t *refund);

#endif
