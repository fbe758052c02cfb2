/*
 * The identity service's handlers (one file per resource) and the helpers
 * they share (request.c, passwords.c, tokens.c).
 *
 *   /.well-known/jwks.json                  handle_jwks.c
 *   /.well-known/revocations                handle_revocations.c
 *   /api/v1/accounts, /accounts/me...       handle_accounts.c
 *   /api/v1/auth/token, /auth/logout        handle_auth.c
 *   /api/v1/staff...                        handle_staff.c
 *   /api/v1/clients...                      handle_clients.c
 *   /api/v1/colleagues                      handle_colleagues.c
 *   /api/v1/personal-id-reclaims            handle_reclaims.c
 *
 * The route table is routes.c; the service definition and its start hook
 * (keys, limits) main.c. Pure rules are identity_rules.c; all SQL store_*.c.
 */
#ifndef IDENTITY_H
#define IDENTITY_H

#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>

#include "keys.h"
#include "motcua/http.h"
#include "motcua/json_spec.h"
#include "motcua/server.h"

extern const struct mc_route identity_routes[];
extern const size_t identity_routes_count;

#define IDENTITY_ACCESS_TTL_SECONDS 900            /* 15 minutes */
#define IDENTITY_REFRESH_TTL_SECONDS (30 * 86400)  /* 30 days */
#define IDENTITY_PAGE_DEFAULT 20
#define IDENTITY_PAGE_MAX 100

/* The service context (mc_app_set_ctx), read-only after start. */
struct identity_ctx {
    struct identity_keys keys;
    char issuer[256];
    char audience[256];
    /* argon2id string of a random password: verified against when the
       account does not exist, so that costs the same as a wrong password. */
    char dummy_hash[crypto_pwhash_STRBYTES];
    unsigned account_failures; /* failures before back-off, per login name */
    unsigned address_failures; /* failures in a window before back-off, per address */
    unsigned address_window_s; /* that window */
    unsigned max_backoff_s;
    /* wrong current passwords on POST /accounts/me/password that revoke
       the account's sessions and tokens */
    unsigned password_change_revoke_after;
};

/* handle_jwks.c */
void handle_jwks(mc_request *req);

/* handle_revocations.c */
void handle_revocations(mc_request *req);

/* handle_colleagues.c */
void handle_colleague_list(mc_request *req);

/* handle_reclaims.c */
void handle_personal_id_reclaim(mc_request *req);

/* handle_accounts.c */
void handle_account_register(mc_request *req);
void handle_account_me(mc_request *req);
void handle_account_change_password(mc_request *req);

/* handle_auth.c */
void handle_auth_token(mc_request *req);
void handle_auth_logout(mc_request *req);

/* handle_staff.c */
void handle_staff_create(mc_request *req);
void handle_staff_get(mc_request *req);
void handle_staff_update(mc_request *req);
void handle_staff_list(mc_request *req);

/* handle_clients.c */
void handle_client_create(mc_request *req);
void handle_client_list(mc_request *req);
void handle_client_get(mc_request *req);
void handle_client_update(mc_request *req);
void handle_client_rotate_secret(mc_request *req);

/* ---- passwords.c ---- */

/* argon2id hash string of `password` into out (crypto_pwhash_STRBYTES).
   False when out of memory. */
bool identity_password_hash(const char *password, char *out);
/* Constant-time verification (libsodium). Never short-circuits on a missing
   hash: pass the context's dummy hash instead and ignore the answer. */
bool identity_password_verify(const char *hash, const char *password);
bool identity_password_needs_rehash(const char *hash);

/* ---- request.c ---- */

const struct identity_ctx *identity_ctx(const mc_request *req);
/* The client address for throttling and audit: X-Real-IP set by the
   gateway when it is a plausible address, else "unknown". out >= 64 bytes. */
void identity_client_address(const mc_request *req, char *out, size_t out_len);
/* true when `errors` is empty; else answers 422 with them. Steals errors. */
bool identity_no_errors(mc_request *req, json_t *errors);
/* The actor of an audit event: "account:<sub>" or "client:<id>" (out >= 160). */
void identity_actor(const mc_request *req, char *out, size_t out_len);
/* The context's throttling policy, for the store. */
struct store_throttle_policy;
struct store_throttle_policy identity_throttle_policy(const struct identity_ctx *ctx);
/* May an attempt counted against throttle keys key1 and key2 (may be the
   same) go ahead? False after answering 429 identity.too_many_attempts with
   Retry-After (a key is blocked) or the database error. */
bool identity_throttle_allows(mc_request *req, const char *key1, const char *key2);
/* n random bytes as base64url (out >= 4n/3 + 4); for tokens and secrets. */
void identity_random_token(size_t n, char *out);
/* Lowercase hex SHA-256 of text into out (65 bytes). */
void identity_sha256_hex(const char *text, char *out);

/* ---- tokens.c ---- */

/* Mint an access token for sub with roles (JSON array text), agency (may be
   NULL or ""), scope (may be NULL or "") and, for staff, name (the display
   name; NULL or "" for none). iat is now, or the subject's revocation
   not_before when that is later (it is at most a second ahead), so that a
   token issued after a revocation is never cut by it. malloc'd; NULL on
   failure. */
char *identity_mint_access(const struct identity_ctx *ctx, const char *sub,
                           const char *roles_json, const char *agency, const char *scope,
                           const char *name, long long not_before);
/* Answer 200 with the OAuth2 token response (Cache-Control: no-store). */
void identity_reply_tokens(mc_request *req, const char *access, const char *refresh,
                           const char *scope);

#endif
