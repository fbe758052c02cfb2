/*
 * JWT verification (and, for tools and tests, minting).
 *
 * Every service verifies bearer tokens through mc_auth_verify(), the single
 * place where the rules of ARCHITECTURE.md §3 live: the algorithm is pinned to
 * RS256 before libjwt sees the token (libjwt 1.10 would otherwise accept an
 * HS256 token "signed" with the RSA public key as an HMAC secret, or alg=none),
 * the key is chosen by `kid` among known public keys, `exp` is required, `nbf`
 * honoured, `iss` and `aud` must match exactly, the token size is bounded and
 * the clock leeway is small.
 */
#ifndef MOTCUA_AUTH_H
#define MOTCUA_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "motcua/error.h"

#define MC_AUTH_MAX_TOKEN_BYTES 8192

enum mc_role {
    MC_ROLE_CITIZEN = 1u << 0,
    MC_ROLE_OFFICER = 1u << 1,
    MC_ROLE_APPROVER = 1u << 2,
    MC_ROLE_AGENCY_ADMIN = 1u << 3,
    MC_ROLE_SYSTEM_ADMIN = 1u << 4,
    MC_ROLE_AUDITOR = 1u << 5,
    MC_ROLE_SERVICE = 1u << 6,
};

typedef struct mc_principal {
    char sub[129];
    unsigned roles;      /* enum mc_role bits; unknown role names are ignored */
    char agency[33];     /* agency code for staff, "" otherwise */
    char scope[513];     /* space-separated scopes of machine clients */
    char name[801];      /* staff display name (`name` claim, up to 200 characters), "" when absent */
    char jti[65];
    int64_t exp;
    int64_t iat;         /* issued at; 0 when the token has no iat */
} mc_principal;

typedef struct mc_auth_verifier mc_auth_verifier;

/* A verifier for tokens from `issuer` to `audience`, allowing `leeway_s`
   seconds of clock skew. Owned by the caller; free with mc_auth_verifier_free. */
mc_auth_verifier *mc_auth_verifier_new(const char *issuer, const char *audience, unsigned leeway_s);
void mc_auth_verifier_free(mc_auth_verifier *v);
/* Add an RSA public key (PEM). kid may be NULL: the key then matches tokens
   without a kid header, and any kid when it is the only key. */
mc_error mc_auth_verifier_add_pem(mc_auth_verifier *v, const char *kid, const char *pem);
/* Add every RSA signing key of a JWKS document ({"keys":[{kty:"RSA",kid,n,e}]}).
   Returns MC_OK if at least one key was added. */
mc_error mc_auth_verifier_add_jwks(mc_auth_verifier *v, const char *jwks_json);
/* Replace the keys that came from a JWKS (keys added with add_pem stay) by
   the RS256 keys of `jwks_json`, atomically for concurrent verifiers: the
   refresh after the issuer rotated its key. MC_OK if at least one key. */
mc_error mc_auth_verifier_replace_jwks(mc_auth_verifier *v, const char *jwks_json);
/* Number of keys loaded. */
size_t mc_auth_verifier_key_count(const mc_auth_verifier *v);

/* The `reason` mc_auth_verify gives when the token names a key (kid) it does
   not hold: the caller may refresh the JWKS once and retry. */
extern const char MC_AUTH_UNKNOWN_KEY[];

/* Revocation across services (docs/services/identity.md, "Revocation
   across services"): the identity service publishes, per subject, a "not
   before"; a token of that subject issued (iat) before it, or without iat,
   is refused with reason
   MC_AUTH_REVOKED. Replace the whole list by the document
   {"revocations": {"<sub>": <not_before NumericDate>, ...}} (len bytes);
   on a malformed document the previous list stays and the answer is
   MC_ERR_INTERNAL. Safe against concurrent verification. */
mc_error mc_auth_verifier_replace_revocations(mc_auth_verifier *v, const char *doc_json,
                                              size_t len);
size_t mc_auth_verifier_revocation_count(const mc_auth_verifier *v);
extern const char MC_AUTH_REVOKED[];

/* Start the background poller that keeps the verifier's revocation list
   fresh: GET <REVOCATIONS_URL> every REVOCATIONS_POLL_SECONDS (default 3)
   with If-None-Match, read from MOTCUA_<SERVICE>_... or MOTCUA_... (service
   may be NULL). Without a URL nothing is started (logged). When the URL
   cannot be read the last list stays in force. The poller is stopped by
   mc_auth_verifier_free. False on invalid settings (logged). */
bool mc_auth_revocations_start(mc_auth_verifier *v, const char *service);

/* Verify `token` (the part after "Bearer ") at time `now`. On MC_OK fills *out.
   On failure returns MC_ERR_UNAUTHENTICATED and sets *reason to a static
   explanation safe to show the client ("token expired", "bad signature", ...). */
mc_error mc_auth_verify(const mc_auth_verifier *v, const char *token, int64_t now,
                        mc_principal *out, const char **reason);

/* Role helpers. */
unsigned mc_role_from_name(const char *name); /* 0 when unknown */
const char *mc_role_name(unsigned single_role_bit);
static inline bool mc_principal_has_any_role(const mc_principal *p, unsigned roles)
{
    return p != NULL && (p->roles & roles) != 0;
}

/* Was the principal granted `scope` (one of the space-separated words of
   its `scope` claim, compared exactly)? */
bool mc_principal_has_scope(const mc_principal *p, const char *scope);

/* Mint an RS256 token (used by motcua-token and the test-suite tooling; the
   identity service will own minting in production). `claims_json` is an
   object of extra claims (roles, agency, scope...). Returns a malloc'd string
   the caller frees, or NULL. */
char *mc_auth_mint(const char *private_pem, const char *kid, const char *issuer,
                   const char *audience, const char *sub, int64_t iat, int64_t exp,
                   const char *claims_json);

#endif
