/*
 * The HTTP calls to the gateways (gateway.c): the national platform's INIT,
 * the status queries (VNPay querydr, NPP QUERY and QUERY_REFUND) and
 * refunds. The messages and their checks are provider*.c's; this file sends
 * them. Each call fills *sent and *answer (malloc'd, masked, for the message
 * log; may be NULL on failure).
 */
#ifndef PAYMENT_GATEWAY_H
#define PAYMENT_GATEWAY_H

#include "payment.h"
#include "provider.h"
#include "store.h"

/* The payment page URL (malloc'd) of an INIT, or NULL:
   MC_ERR_PAYMENT_GATEWAY_UNAVAILABLE when the platform cannot be reached or
   refuses it. */
mc_error gateway_npp_init(const struct payment_ctx *ctx, const struct merchant_row *m,
                          const struct pay_order *o, const json_t *receipt, char **url,
                          char **sent, char **answer);

/* What the gateway says of a payment now (*r). MC_ERR_PAYMENT_GATEWAY_UNAVAILABLE
   when it cannot be reached or its answer cannot be trusted. */
mc_error gateway_query(const struct payment_ctx *ctx, const struct merchant_row *m,
                       const struct payment_row *p, struct pay_result *r, char **sent,
                       char **answer);

/* Ask the gateway to refund `amount` of a paid payment (`refund_ref` names
   the refund: vnp_RequestId / MaHoanTien; `by` who asked). *out says what it
   answered. MC_ERR_PAYMENT_GATEWAY_UNAVAILABLE when it cannot be reached or
   its answer cannot be trusted (the refund's fate is then unknown). */
mc_error gateway_refund(const struct payment_ctx *ctx, const struct merchant_row *m,
                        const struct payment_row *p, const char *refund_ref, long long amount,
                        const char *reason, const char *by, enum pay_refund_outcome *out,
                        char code[16], char **sent, char **answer);

/* Where a refund whose answer never came stands now (VNPay: a querydr of the
   payment, read with `refunded_before`, what its earlier refunds that
   succeeded add up to; the platform: QUERY_REFUND of `refund_ref`).
   MC_ERR_PAYMENT_GATEWAY_UNAVAILABLE when the gateway cannot be reached or
   its answer cannot be trusted or decides nothing. */
mc_error gateway_refund_status(const struct payment_ctx *ctx, const struct merchant_row *m,
                               const struct payment_row *p, const char *refund_ref,
                               long long refunded_before, enum pay_refund_outcome *out,
                               char code[16], char **sent, char **answer);
/* The platform's e-receipt of a paid order (GET_BILL): its number and the
   PDF (malloc'd), checked (npp_get_bill_read). MC_ERR_PAYMENT_GATEWAY_UNAVAILABLE
   when it cannot be reached or its answer cannot be trusted. */
mc_error gateway_npp_get_bill(const struct payment_ctx *ctx, const struct merchant_row *m,
                              const char *txn_ref, char receipt_no[65], unsigned char **pdf,
                              size_t *pdf_len, char **sent, char **answer);

#endif
