/*
 * The payment service's pure rules (payment_rules.c): which dossier events
 * are fee demands, the answers to a gateway's callback, the state a failed
 * payment ends in. No I/O; tested in tests/unit/test_payment_rules.c.
 */
#ifndef PAYMENT_RULES_H
#define PAYMENT_RULES_H

#include <jansson.h>
#include <stdbool.h>

#include "provider.h"

#define DEMAND_AFTER "after"
#define DEMAND_BEFORE_SUBMISSION "before_submission"

/* A fee demand read from a dossier event. Strings are borrowed from the
   event; fee_items is a new reference (demand_clear). */
struct demand {
    const char *event_id;
    const char *dossier_id;
    const char *dossier_code;   /* NULL before submission */
    const char *kind;           /* DEMAND_AFTER | DEMAND_BEFORE_SUBMISSION */
    const char *agency_code;    /* the agency that collects (the handling agency) */
    const char *procedure_code;
    const char *owner_sub;      /* NULL when filed at the counter for someone without an account */
    long long amount;           /* VND, > 0 */
    json_t *fee_items;          /* [{code, name, amount}], summing to amount */
};

enum demand_read {
    DEMAND_NONE = 0,  /* not a demand: another event type */
    DEMAND_OK,        /* *out filled */
    DEMAND_INVALID,   /* a demand event whose data cannot be used (recorded, skipped) */
};

/* Read a CloudEvent of the dossier feed (borrowed). */
enum demand_read demand_from_event(const json_t *event, struct demand *out);
void demand_clear(struct demand *d);

/* The answers to a gateway's callback, in the order they are checked
   (DOMAIN.md §6): 97 bad signature, 01 unknown order, 04 wrong amount, 02
   already settled, 00 applied, 99 anything else. */
#define IPN_OK "00"
#define IPN_ORDER_NOT_FOUND "01"
#define IPN_ALREADY_CONFIRMED "02"
#define IPN_INVALID_AMOUNT "04"
#define IPN_INVALID_SIGNATURE "97"
#define IPN_OTHER "99"
/* The message sent with an answer code ("Confirm Success", ...). */
const char *ipn_message(const char *code);

/* The state a payment ends in when the gateway says it was not paid:
   "cancelled" when the payer cancelled (24, VNPay's vnp_ResponseCode and
   the platform's MaLoi alike), else "failed". */
const char *payment_unpaid_state(enum pay_provider provider, const char *gateway_code);

/* Refunds whose answer never came are asked about again with back-off: the
   delay before query number `attempts` + 1 is base_s doubled per earlier
   query, at most a day; after three days of asking (REFUND_QUERY_GIVE_UP_S)
   the reconciliation decides. */
#define REFUND_QUERY_MAX_DELAY_S 86400u
#define REFUND_QUERY_GIVE_UP_S (3u * 86400u)
unsigned refund_query_delay(unsigned base_s, unsigned attempts);

#endif
