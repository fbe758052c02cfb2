/*
 * The fees of a dossier (DOMAIN.md §6): what a submission must pay first and
 * the fee items of a payment demand. Pure: no I/O.
 */
#ifndef DOSSIER_FEES_H
#define DOSSIER_FEES_H

#include <jansson.h>
#include <stdbool.h>

/* Does submitting a dossier of this case (the catalogue's case object) on
   `channel` wait for its fees to be paid first? True when the channel offer's
   fee_collection is "before_submission" and the fees in force on `today`
   ("YYYY-MM-DD", local date) add up to more than zero; then *amount is the
   total (VND) and *items a new array of {code, name, amount} (the fees above
   zero). False for pay after, exempt, a zero total or an unknown channel. */
bool dossier_pay_first_fee(const json_t *the_case, const char *channel, const char *today,
                           long long *amount, json_t **items);

/* The fee items of a payment demand of `amount` (new reference): a copy of
   `given` when the officer listed them, else one item "LEPHI" (Lệ phí) of the
   whole amount. */
json_t *dossier_fee_items(const json_t *given, long long amount);

/* The sum of the items' amounts; false when an amount is missing or the sum
   overflows. */
bool dossier_fee_items_total(const json_t *items, long long *total);

#endif
