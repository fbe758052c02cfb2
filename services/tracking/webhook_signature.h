/*
 * Standard Webhooks signatures (https://www.standardwebhooks.com/), pure:
 * a secret is "whsec_" + base64 of its key bytes; a delivery is signed with
 * HMAC-SHA256 over "<webhook-id>.<webhook-timestamp>.<body>" and the header
 * `webhook-signature` carries "v1,<base64 signature>" once per live secret,
 * separated by spaces, so a receiver rotating its secret accepts either.
 */
#ifndef TRACKING_WEBHOOK_SIGNATURE_H
#define TRACKING_WEBHOOK_SIGNATURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WEBHOOK_SECRET_PREFIX "whsec_"
#define WEBHOOK_SECRET_KEY_BYTES 32
#define WEBHOOK_SECRET_MAX 96 /* "whsec_" + base64 of up to 64 key bytes + NUL */
#define WEBHOOK_SIGNATURE_MAX 48 /* "v1," + 44 base64 characters + NUL */
#define WEBHOOK_MAX_LIVE_SECRETS 2

/* A fresh secret from the system's random source into out (of
   WEBHOOK_SECRET_MAX bytes); false when the source fails. */
bool webhook_secret_generate(char out[WEBHOOK_SECRET_MAX]);

/* Is secret "whsec_" + base64 of 24..64 key bytes? */
bool webhook_secret_valid(const char *secret);

/* "v1,<base64 HMAC-SHA256(key, id.timestamp.body)>" into out; false when
   the secret is not valid. */
bool webhook_sign(const char *secret, const char *msg_id, int64_t timestamp, const char *body,
                  size_t body_len, char out[WEBHOOK_SIGNATURE_MAX]);

/* The `webhook-signature` header value for n live secrets (1 or 2) into
   out (of out_len bytes); false when a secret is invalid or out is short. */
bool webhook_signature_header(const char *const *secrets, size_t n, const char *msg_id,
                              int64_t timestamp, const char *body, size_t body_len, char *out,
                              size_t out_len);

#endif
