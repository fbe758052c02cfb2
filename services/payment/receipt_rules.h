/*
 * The e-receipt as a document we render ourselves (receipt_rules.c; pure):
 * for VNPay, which has no bill API. tests/unit/test_payment_reconcile.c.
 */
#ifndef PAYMENT_RECEIPT_RULES_H
#define PAYMENT_RECEIPT_RULES_H

#include <jansson.h>
#include <stddef.h>

/* A self-contained HTML page (UTF-8, printable, no script, no outside
   resource) of a receipt's JSON (as GET /payments/{id}/receipt answers it):
   receipt number, payer account, fee items and amounts, total, agency,
   dossier code, provider and transaction number, payment time. Every value
   is HTML-escaped. malloc'd, NULL when out of memory. */
char *receipt_html(const json_t *receipt, size_t *len);

#endif
