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
/* The client address for throttling and audit (mc_client_address: X-Real-IP
   only from a trusted proxy, else the connection's address). out >= 64 bytes. */
void identity_client_address(const mc_request *req, char *out, size_t out_len);
/* true when `errors` is empty; else answers 422 with them. Steals errors. */
bool identity_no_errors(mc_request *req, json_t *errors);
/* The actor of an audit event: "account:<sub>" or "client:<id>" (out >= 160). */
void identity_actor(const mc_request *req, char *out, size_t out_len);
/* Who is acting, for the audit trail of an administrator's write: the
   actor (identity_actor) and the client address, kept in the struct. */
struct identity_who {
    char actor[160];
    char address[64];
};
void identity_who_of(const mc_request *req, struct identity_who *who);
/* Problems "<pointer>/<i>" duplicate for every member of the array `items`
   equal to an earlier one. */
void identity_unique_items(const json_t *items, const char *pointer, json_t *errors);
/* Answer a failed If-Match write to a `what` ("client", "account") read at
   `read_path` (for the 428 hint), with the detail each error deserves. */
/* GET of a list filtered by ?agency= and paged by a one-key cursor that
   `valid` accepts: 400 for bad parameters, 403 when `own` (an
   agency_admin's agency, else NULL) is not the agency asked for, else the
   page of list(conn, &(struct store_list_query){agency, after}, ...). */
void identity_reply_agency_list(mc_request *req, const char *own, bool (*valid)(const char *),
                                mc_list_fn list);
/* Run an administrator's write in one transaction: fills *who with the
   caller (identity_who_of) for fn's audit events, frees what an earlier
   attempt left in *out before each attempt (and on failure), so fn only
   calls its store. */
struct store_who;
mc_error identity_run_audited_write(mc_request *req, mc_db_tx_fn fn, void *ctx,
                                    struct store_who *who, json_t **out);
void identity_reply_write_error(mc_request *req, mc_error rc, const char *what,
                                const char *read_path);
/* The context's throttling policy, for the store. */
struct store_throttle_policy;
struct store_throttle_policy identity_throttle_policy(const struct identity_ctx *ctx);
/* After a throttled attempt's reads (store_throttle_wait first, then the
   rest on the same connection): answers the failed read (rc) or 429
   identity.too_many_attempts with Retry-After (retry_after > 0) and returns
   true; false when the attempt goes on. */
bool identity_throttle_stopped(mc_request *req, mc_error rc, unsigned retry_after);
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
