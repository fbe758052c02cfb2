/*
 * The payment service: online fees through VNPay and the national payment
 * platform, exactly once (docs/services/payment.md).
 *
 * Where things are:
 *   main.c, routes.c       start-up and the route table
 *   provider*.c            the gateways' messages and signatures (pure, provider.h)
 *   payment_rules.c        demands from dossier events, states, IPN answers (pure)
 *   demands.c              the dossier feed consumer turning events into demands
 *   gateway.c              the HTTP calls to the gateways (INIT, querydr, QUERY)
 *   settle.c               applying a gateway's verdict to a payment, once
 *   confirm.c              the dossier confirmations sent from this service's outbox
 *   sweep.c                pending payments past their expiry, and refunds whose
 *                          answer never came, settled by a status query
 *   reconcile.c            the daily reconciliation against the gateways' statements
 *   reconcile_rules.c      reading a statement, comparing, the accountant's CSV (pure)
 *   handle_payments.c      POST/GET /payments, GET /payments/{id}
 *   handle_ipn.c           the gateways' callbacks and the browser's return URL
 *   handle_refunds.c       POST /payments/{id}/refunds
 *   handle_merchants.c     PUT, DELETE /payments/merchants/{agency_code}/{provider}
 *   handle_events.c        GET /events/payment
 *   handle_reconciliations.c  /payments/reconciliations
 *   handle_receipt_document.c GET /payments/{id}/receipt/document
 *   receipt_rules.c        the e-receipt rendered as HTML (pure)
 *   store_*.c              every SQL statement
 */
#ifndef PAYMENT_H
#define PAYMENT_H

#include <stdbool.h>
#include <stdint.h>

#include "motcua/feed_consumer.h"
#include "motcua/http.h"
#include "motcua/periodic.h"
#include "motcua/server.h"
#include "motcua/service_token.h"

extern const struct mc_route payment_routes[];
extern const size_t payment_routes_count;

#define PAYMENT_URL_MAX 512
#define PAYMENT_UTC_OFFSET_MIN 420 /* Asia/Ho_Chi_Minh */

/* What the handlers and threads share, set up at start (main.c). */
struct payment_ctx {
    mc_db_pool *db;
    char vnpay_pay_url[PAYMENT_URL_MAX]; /* VNPAY_PAY_URL: .../paymentv2/vpcpay.html */
    char vnpay_api_url[PAYMENT_URL_MAX]; /* VNPAY_API_URL: .../merchant_webapi/api/transaction */
    char npp_url[PAYMENT_URL_MAX];       /* NPP_URL: .../api/v1/thanhtoan */
    char public_url[PAYMENT_URL_MAX];    /* PUBLIC_URL: the gateway's base, for IPN and return URLs */
    char dossier_url[PAYMENT_URL_MAX];   /* DOSSIER_URL: the dossier service (feed, confirmations) */
    unsigned expiry_seconds;             /* EXPIRY_SECONDS: a pending payment's life (900) */
    unsigned confirm_interval_s;         /* CONFIRM_INTERVAL_SECONDS: the confirmation sender (2) */
    unsigned sweep_interval_s;           /* SWEEP_INTERVAL_SECONDS: the sweeper (60; 0 off) */
    unsigned gateway_timeout_s;          /* GATEWAY_TIMEOUT_SECONDS: each call to a gateway (10) */
    unsigned refund_query_s;             /* REFUND_QUERY_SECONDS: first status query of an unsettled refund (60) */
    char vnpay_statement_url[PAYMENT_URL_MAX]; /* VNPAY_STATEMENT_URL: the daily file ("" none) */
    char npp_statement_url[PAYMENT_URL_MAX];   /* NPP_STATEMENT_URL: the daily file ("" none) */
    unsigned reconcile_hour;             /* RECONCILE_HOUR: yesterday reconciled from this hour (6) */
    unsigned reconcile_interval_s;       /* RECONCILE_INTERVAL_SECONDS: the schedule's check (600; 0 off) */
    mc_periodic *reconciler;
    mc_service_token *token;             /* the service's own token (CLIENT_ID ...), NULL if none */
    mc_feed_consumer *consumer;          /* the dossier feed */
    mc_periodic *confirmer, *sweeper;
};

struct payment_ctx *payment_ctx(const mc_request *req);
/* May this caller see a payment of this payer and agency (its receipt too)?
   The payer, staff of the agency, system_admin and auditors. */
bool payment_may_see(const mc_principal *p, const char *payer_sub, const char *agency);
/* The page of a list keyed by (created_at in microseconds, id): limit and
   cursor as mc_page_parse (20 by default, at most 100); true when a valid
   cursor gave the keys after_created and after_id (borrowed from *cursor);
   a malformed one is added to errors. */
bool payment_page_parse(const mc_request *req, json_t *errors, unsigned *limit, json_t **cursor,
                        char after_created[24], const char **after_id);

/* ---- handlers ---- */
void handle_payment_create(mc_request *req);
void handle_payments_list(mc_request *req);
void handle_payment_get(mc_request *req);
void handle_payment_receipt(mc_request *req);
void handle_payment_receipt_document(mc_request *req);
void handle_ipn_vnpay(mc_request *req);
void handle_ipn_national_platform(mc_request *req);
void handle_payment_return_vnpay(mc_request *req);
void handle_payment_return_national_platform(mc_request *req);
void handle_merchant_put(mc_request *req);
void handle_merchant_delete(mc_request *req);
void handle_refund_create(mc_request *req);
void handle_payment_event_feed(mc_request *req);
void handle_reconciliations_create(mc_request *req);
void handle_reconciliations_list(mc_request *req);
void handle_reconciliation_get(mc_request *req);

/* ---- demands.c: the dossier feed ---- */
mc_feed_consumer *payment_demands_start(struct payment_ctx *ctx, const char *conninfo);

/* ---- confirm.c: one pass of the confirmation sender (also the periodic job) ---- */
void payment_confirm_run(void *ctx);

/* ---- sweep.c: one pass of the sweeper (also the periodic job) ---- */
void payment_sweep_run(void *ctx);

/* ---- reconcile.c ---- */
/* Reconcile `day` (YYYY-MM-DD, Vietnam time) now for every merchant account
   of `agency` (NULL: all), superseding the day's current runs; the new runs'
   ids are appended to ids. MC_ERR_PAYMENT_MERCHANT_NOT_CONFIGURED when there
   is no account. */
mc_error payment_reconcile(struct payment_ctx *ctx, const char *day, const char *agency,
                           const char *requested_by, json_t *ids);
/* One pass of the schedule (the periodic job): yesterday's due runs. */
void payment_reconcile_run(void *ctx);

#endif
