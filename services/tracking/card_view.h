/*
 * The answers of GET /api/v1/tracking/dossiers/{code} and of the signed-in
 * timeline, built from the projection's row and its steps (pure, no I/O).
 *
 * The public card (no second factor) is also kept, as the exact bytes and
 * ETag it is answered with, in the dossier's row (`public_card`,
 * `public_etag`; migrations/0004_public_card.sql): the projection writes it
 * in the transaction that changes the card or the steps, and the lookup
 * answers those bytes after one indexed read. card_view_public_text is the
 * one function that makes them, so the stored bytes and a card built on the
 * spot can never differ.
 */
#ifndef TRACKING_CARD_VIEW_H
#define TRACKING_CARD_VIEW_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "motcua/http.h"
#include "store.h"

/* The answer for d: the card, its steps (the public form, or whole when
   `full`), and the applicant's part when `applicant`; short_code may be
   NULL (no lookup key). A new reference. */
json_t *card_view_json(const struct tracked_dossier *d, const json_t *steps, bool full,
                       bool applicant, const char *short_code);

/* The public card's bytes as answered (malloc'd, the caller frees), *len and
   its ETag; NULL when out of memory. */
char *card_view_public_text(const struct tracked_dossier *d, const json_t *steps,
                            const char *short_code, size_t *len, char etag[MC_BODY_ETAG_MAX]);

#endif
