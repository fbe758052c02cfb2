/*
 * Signing keys of the identity service: the current RSA private key (signs
 * every access token, with its kid in the header) and, during a rotation,
 * the previous key's public half, still published in the JWKS so tokens it
 * signed stay valid until they expire.
 */
#ifndef IDENTITY_KEYS_H
#define IDENTITY_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "motcua/error.h"

struct identity_keys {
    char *private_pem;   /* current signing key (PEM text) */
    char kid[65];
    char *jwks_json;     /* {"keys":[current, previous?]} as text */
};

/* Read the current private key file (and the optional previous public key
   file); both must be RSA keys of at least 2048 bits. Logs what is wrong and
   returns MC_ERR_INTERNAL on failure. */
mc_error identity_keys_load(struct identity_keys *keys, const char *private_file,
                            const char *kid, const char *previous_public_file,
                            const char *previous_kid);
void identity_keys_free(struct identity_keys *keys);

/* base64url without padding of data[0..len) into out (>= 4*len/3 + 4 bytes). */
void identity_b64url(const unsigned char *data, size_t len, char *out);

#endif
