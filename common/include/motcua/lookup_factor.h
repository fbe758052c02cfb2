/*
 * The applicant's second factors of the public dossier lookup (DOMAIN.md
 * §6b): the dossier service puts keyed hashes of them in its events, the
 * tracking service keeps those and compares a citizen's answer with them.
 * Neither the events nor the tracking database hold the raw values, and the
 * hashes are keyed (HMAC-SHA256 with the platform's lookup key, a secret
 * file both services read) so a leaked feed or table cannot be brute-forced
 * back to ID numbers.
 *
 * Configured by MOTCUA_<SVC>_LOOKUP_KEY_FILE or MOTCUA_LOOKUP_KEY_FILE: a
 * file whose first line (16 to 64 bytes) is the key.
 */
#ifndef MOTCUA_LOOKUP_FACTOR_H
#define MOTCUA_LOOKUP_FACTOR_H

#include <stdbool.h>
#include <stddef.h>

#define MC_LOOKUP_KEY_MIN 16
#define MC_LOOKUP_KEY_MAX 64
#define MC_LOOKUP_HASH_LEN 64 /* hex characters, without the NUL */

/* The kinds of second factor. */
typedef enum mc_lookup_factor {
    MC_LOOKUP_ID_NUMBER,   /* the 12-digit personal ID number */
    MC_LOOKUP_PHONE_LAST4, /* the last 4 digits of the phone number */
} mc_lookup_factor;

/* Read the key of `service` into key (at most MC_LOOKUP_KEY_MAX bytes) and
   *len. *configured is false (and false returned) when no file is set;
   false with *configured true when the file is unreadable or the key too
   short or too long (logged as config.invalid, without the key). */
bool mc_lookup_key_load(const char *service, unsigned char *key, size_t *len, bool *configured);

/* Pure: the canonical value of a factor from what a person typed or the
   dossier holds: the ID number's 12 digits, or the phone's last 4 digits
   (every non-digit ignored). False when `raw` does not give one. */
bool mc_lookup_factor_canonical(mc_lookup_factor kind, const char *raw, char *out, size_t out_len);

/* Pure: hex HMAC-SHA256 over "<kind>:<canonical value>" into out
   (MC_LOOKUP_HASH_LEN + 1 bytes). False when `raw` gives no canonical value. */
bool mc_lookup_factor_hash(const unsigned char *key, size_t key_len, mc_lookup_factor kind,
                           const char *raw, char *out);

/* Pure: constant-time equality of two hex hashes (both MC_LOOKUP_HASH_LEN
   long; false otherwise). */
bool mc_lookup_hash_equal(const char *a, const char *b);

/* Pure: a name as the lookup may show it: each word's first character
   followed by "***" ("Nguyễn Văn An" -> "N*** V*** A***"), UTF-8 aware.
   False when it does not fit out_len or name is empty. */
bool mc_lookup_mask_name(const char *name, char *out, size_t out_len);

#endif
