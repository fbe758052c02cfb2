/*
 * Password and client-secret hashing: libsodium's crypto_pwhash_str
 * (argon2id) with the INTERACTIVE limits (2 passes over 64 MiB).
 *
 * Why INTERACTIVE and not MODERATE/SENSITIVE: every sign-in and every
 * client-credentials grant pays one hash on the request path, and the
 * deployment target is a 2-core machine whose HTTP pool runs several threads
 * per core. INTERACTIVE costs about 50-100 ms of one core and 64 MiB while it
 * runs, so 8 concurrent sign-ins peak at 512 MiB and a 2-core instance serves
 * about 20 sign-ins per second (measured: 19 per second at 4 and 8 concurrent
 * clients, 89 ms for one sign-in alone); MODERATE (256 MiB, ~0.5 s) would cap it
 * at a handful and let a burst of sign-ins exhaust memory. The limits are
 * stored in each hash string, so raising them later only needs a rehash on
 * the next successful sign-in.
 */
#include <string.h>

#include "identity.h"

bool identity_password_hash(const char *password, char *out)
{
    return crypto_pwhash_str(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                             crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0;
}

bool identity_password_verify(const char *hash, const char *password)
{
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

/* True when `hash` was made with other argon2id limits than today's (older,
   weaker settings, or a migrated account): the sign-in that just proved the
   password stores a fresh hash, so raising the limits upgrades every
   active account without a password reset. */
bool identity_password_needs_rehash(const char *hash)
{
    return crypto_pwhash_str_needs_rehash(hash, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0;
}
