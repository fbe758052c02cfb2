/*
 * A service's own access token, for calling another service
 * (ARCHITECTURE.md §3: a service calling another uses its own token, never
 * the caller's).
 *
 * The service is a machine client of identity: it obtains a token with the
 * client credentials grant (POST <IDENTITY_URL>/api/v1/auth/token), keeps it,
 * and fetches a new one before it expires (when less than a fifth of its
 * lifetime, and at least 30 s, is left). One fetch at a time: concurrent
 * callers wait for it and share its result. Thread-safe.
 *
 * Configured per service by
 *   MOTCUA_<SVC>_CLIENT_ID            the client id (cl_...)
 *   MOTCUA_<SVC>_CLIENT_SECRET_FILE   a file whose first line is the secret
 *                                     (read at every fetch: a rotated secret
 *                                     is picked up without a restart)
 *   MOTCUA_<SVC>_IDENTITY_URL         identity's base URL (or MOTCUA_IDENTITY_URL)
 * The secret never goes through the environment, the command line or a log.
 */
#ifndef MOTCUA_SERVICE_TOKEN_H
#define MOTCUA_SERVICE_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "motcua/auth.h"
#include "motcua/error.h"

typedef struct mc_service_token mc_service_token;

/* How a token is obtained: fill token (token_len bytes) and *expires_in
   (seconds). MC_ERR_NOT_READY when identity cannot be reached or refuses
   the client. The default is the client credentials grant over HTTP; tests
   pass their own. */
typedef mc_error (*mc_service_token_fetch_fn)(void *arg, char *token, size_t token_len,
                                              int64_t *expires_in);

/* From the service's configuration (above). *configured is false (and NULL
   returned) when CLIENT_ID is not set; NULL with *configured true when the
   configuration is incomplete (logged as config.invalid). Owned by the
   caller (mc_service_token_free). */
mc_service_token *mc_service_token_from_config(const char *service, bool *configured);

/* A token source calling fetch(arg) (arg is borrowed). */
mc_service_token *mc_service_token_new(mc_service_token_fetch_fn fetch, void *arg);
void mc_service_token_free(mc_service_token *t);

/* A valid token into out (out_len bytes, MC_AUTH_MAX_TOKEN_BYTES + 1 is
   enough) at time `now` (epoch seconds): the cached one, or a fresh one when
   none is cached or it is about to expire. MC_ERR_NOT_READY when a token
   cannot be had. */
mc_error mc_service_token_get(mc_service_token *t, int64_t now, char *out, size_t out_len);

/* Forget the cached token (the callee answered 401: e.g. the signing key
   was rotated); the next get fetches one. */
void mc_service_token_invalidate(mc_service_token *t);

/* Pure: is a token that expires at expires_at, obtained for `lifetime`
   seconds, due for renewal at `now`? */
bool mc_service_token_needs_refresh(int64_t now, int64_t expires_at, int64_t lifetime);

/* Pure: read a token endpoint answer ({access_token, expires_in, ...}) into
   token (token_len bytes) and *expires_in. False when it is not one. */
bool mc_service_token_parse(const char *body, char *token, size_t token_len, int64_t *expires_in);

#endif
