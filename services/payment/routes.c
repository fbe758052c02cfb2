/*
 * The payment service's route table. The gateways' callbacks and the return
 * URL carry no token: they are checked by their signatures (handle_ipn.c).
 */
#include "payment.h"

#define API "/api/v1"
#define ANY MC_AUTH_REQUIRED, 0
#define PAYERS MC_AUTH_REQUIRED, MC_ROLE_CITIZEN
#define READERS                                                                                   \
    MC_AUTH_REQUIRED, MC_ROLE_CITIZEN | MC_ROLE_OFFICER | MC_ROLE_APPROVER | MC_ROLE_AGENCY_ADMIN | \
                          MC_ROLE_AUDITOR | MC_ROLE_SYSTEM_ADMIN
#define GATEWAY MC_AUTH_NONE, 0
#define FEED_READERS MC_AUTH_REQUIRED, MC_ROLE_SYSTEM_ADMIN | MC_ROLE_AUDITOR | MC_ROLE_SERVICE
#define ADMIN MC_AUTH_REQUIRED, MC_ROLE_SYSTEM_ADMIN
#define REFUNDERS MC_AUTH_REQUIRED, MC_ROLE_OFFICER | MC_ROLE_AGENCY_ADMIN
/* Reconciliation: run by an agency's officers (its accountants) and administrators, or
   system_admin; read by the agency's staff, auditors and system_admin. */
#define RECONCILERS MC_AUTH_REQUIRED, MC_ROLE_OFFICER | MC_ROLE_AGENCY_ADMIN | MC_ROLE_SYSTEM_ADMIN
#define RECON_READERS                                                                             \
    MC_AUTH_REQUIRED, MC_ROLE_OFFICER | MC_ROLE_APPROVER | MC_ROLE_AGENCY_ADMIN | MC_ROLE_AUDITOR | \
                          MC_ROLE_SYSTEM_ADMIN
#define BODY MC_ROUTE_JSON_BODY
#define IDEMPOTENT MC_ROUTE_IDEMPOTENT

const struct mc_route payment_routes[] = {
    {"POST", API "/payments", handle_payment_create, PAYERS, BODY | IDEMPOTENT},
    {"GET", API "/payments", handle_payments_list, READERS, 0},
    {"GET", API "/payments/ipn/vnpay", handle_ipn_vnpay, GATEWAY, 0},
    {"POST", API "/payments/ipn/national-platform", handle_ipn_national_platform, GATEWAY, BODY},
    {"GET", API "/payments/return/vnpay", handle_payment_return_vnpay, GATEWAY, 0},
    {"GET", API "/payments/return/national-platform", handle_payment_return_national_platform, GATEWAY,
     0},
    {"PUT", API "/payments/merchants/{agency_code}/{provider}", handle_merchant_put, ADMIN, BODY},
    {"DELETE", API "/payments/merchants/{agency_code}/{provider}", handle_merchant_delete, ADMIN, 0},
    {"POST", API "/payments/reconciliations", handle_reconciliations_create, RECONCILERS,
     BODY | IDEMPOTENT},
    {"GET", API "/payments/reconciliations", handle_reconciliations_list, RECON_READERS, 0},
    {"GET", API "/payments/reconciliations/runs/{id}", handle_reconciliation_get, RECON_READERS, 0},
    {"GET", API "/payments/{id}", handle_payment_get, READERS, 0},
    {"GET", API "/payments/{id}/receipt", handle_payment_receipt, READERS, 0},
    {"GET", API "/payments/{id}/receipt/document", handle_payment_receipt_document, READERS, 0},
    {"POST", API "/payments/{id}/refunds", handle_refund_create, REFUNDERS, BODY | IDEMPOTENT},
    {"GET", API "/events/payment", handle_payment_event_feed, FEED_READERS, 0},
};

const size_t payment_routes_count = sizeof payment_routes / sizeof payment_routes[0];
