/*
 * The public lookup's rules (pure, no I/O): what a dossier code looks like
 * (checked before any database work), the receipt slip's short code, and
 * which second factor a request gives.
 */
#ifndef TRACKING_LOOKUP_RULES_H
#define TRACKING_LOOKUP_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "motcua/auth.h"
#include "motcua/lookup_factor.h"

/* Longest dossier code accepted (the dossier service's DOSSIER_CODE_MAX - 1). */
#define TRACKING_CODE_MAX 63
/* A short code: Crockford base32 (digits and uppercase letters without I, L,
   O, U: QR alphanumeric mode, no look-alikes), 10 characters = 50 bits of an
   HMAC of the dossier id. */
#define TRACKING_SHORT_LEN 10

/* Is `code` a dossier code as the dossier service makes them: an agency's
   identification code (letters, digits, dots), a dash, YYMMDD, a dash and a
   sequence of at least 4 digits (optionally with letters, the 2025 format)?
   Bounded by TRACKING_CODE_MAX. */
bool lookup_code_valid(const char *code);

/* The short code of a dossier (out: TRACKING_SHORT_LEN + 1 bytes), derived
   with the lookup key so it cannot be guessed from the dossier's id. */
bool lookup_short_code(const unsigned char *key, size_t key_len, const char *dossier_id, char *out);

/* What the stored public cards (card_view.h) depend on besides the row: the
   lookup key, through the short code. A key id names the key without giving
   it away: the first 8 bytes of HMAC-SHA256(key, "motcua.tracking.key-id")
   in hex (out: TRACKING_KEY_ID_LEN + 1 bytes); "" when there is no key. A
   card stored under another key id is rebuilt (public_cards.c). */
#define TRACKING_KEY_ID_LEN 16
void lookup_key_id(const unsigned char *key, size_t key_len, char *out);

/* Is `s` a short code's shape (before any database work)? Lower case is
   accepted and upper-cased in place by lookup_short_normalise. */
bool lookup_short_valid(const char *s);
void lookup_short_normalise(char *s);

/* May this signed-in caller read the dossier's full timeline? The dossier
   service's rules (services/dossier/dossier_view.c), never wider: the
   citizen who owns it; officers, approvers and agency administrators of the
   agency handling it or of one it went through (transfer_chain); auditors
   and system administrators. Machine clients may not. */
bool lookup_may_read_timeline(const mc_principal *p, const char *owner_sub,
                              const char *handling_agency, const json_t *transfer_chain);

#endif
