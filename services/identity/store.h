/*
 * The identity service's store layer: one function per SQL operation, the
 * only place with SQL (each statement a static mc_db_statement named
 * "identity_<op>", executed with parameters through mc_db_exec).
 *
 * Conventions (docs/architecture.md, "Stores and transactions"): a function
 * takes a connection and runs one statement or one logical read or write on
 * it; the handler borrows the connection, or opens the transaction
 * (mc_db_transaction with a callback) for a write, and the write's function
 * runs inside it (and may be called again on a retry). Returns MC_OK or an
 * mc_error the handler answers as is; json_t results are new references
 * owned by the caller (NULL on error). Every change is audited
 * (audit_events) in the same transaction as the change itself.

 */
#ifndef IDENTITY_STORE_H
#define IDENTITY_STORE_H

#include <jansson.h>
#include <stdbool.h>

#include "identity_rules.h"
#include "motcua/db.h"
#include "motcua/error.h"

/* Who did it and from where, for the audit trail. */
struct store_who {
    const char *actor;   /* "account:<id>", "client:<id>", "anonymous" */
    const char *address; /* client address or "unknown" */
};

/* ---- audit (store_audit.c), inside a store transaction ---- */
mc_error store_audit_conn(mc_db_conn *conn, const struct store_who *who, const char *action,
                          const char *subject, const char *detail_json);
/* The same with the detail as JSON (borrowed). */
mc_error store_audit_json(mc_db_conn *conn, const struct store_who *who, const char *action,
                          const char *subject, const json_t *detail);

/* ---- the If-Match update staff and clients share (store_locked_update.c) ---- */

struct store_locked_update {
    const mc_db_statement *lock; /* SELECT <state as JSON>, revision ... FOR UPDATE */
    const mc_db_params *key;     /* its parameters */
    mc_error not_found;          /* when lock finds no row */
    const char *scope_agency;    /* if not NULL, the state's "agency" must equal it (else 403) */
    long long if_match;          /* mc_if_match_revision: checked by mc_revision_precondition */
    const mc_db_statement *update; /* UPDATE ... RETURNING <read shape as JSON>, revision */
    const mc_db_params *update_params;
    /* Audits what changed between the locked state and the updated row. */
    mc_error (*audit)(mc_db_conn *conn, const json_t *before, const json_t *after,
                      const void *arg);
    const void *audit_arg;
};
/* Inside a transaction: lock, answer 404, 403, 428 and 412 in that order,
   update, audit. *after (the read shape, new; NULL on failure) and
   *revision the new revision. */
mc_error store_locked_update(mc_db_conn *conn, const struct store_locked_update *u, json_t **after,
                             long long *revision);

/* ---- revocation across services (store_revocations.c) ---- */

/* Inside a store transaction: every access token of `subject` (account id
   or client id) issued until now is revoked everywhere; new tokens must be
   minted with iat >= the returned not_before (store_login.not_before). */
mc_error store_revoke_subject_conn(mc_db_conn *conn, const char *subject);
/* The document of GET /.well-known/revocations (new reference). */
mc_error store_revocations_document(mc_db_conn *conn, json_t **out);

/* ---- accounts (store_accounts.c) ---- */

struct store_citizen {
    const char *personal_id, *phone, *full_name, *date_of_birth, *email, *password_hash;
};
/* Insert a citizen (roles ["citizen"]) and audit "registered". *out is the
   account (read shape, personal_id unmasked). MC_ERR_IDENTITY_ACCOUNT_EXISTS
   when the personal id or phone is taken (found without a unique violation,
   so the database server logs neither). Inside a transaction. */
mc_error store_citizen_create(mc_db_conn *conn, const struct store_citizen *c,
                              const struct store_who *who, json_t **out);

/* Reclaim personal_id (docs/services/identity.md, "Reclaiming a personal
   id"): the citizen account holding it loses it, is disabled, flagged
   (reclaimed_at, reclaimed_by = who->actor, reclaim_reason) and its tokens
   are revoked; audited "personal_id_reclaimed" (detail: reason, the masked
   number, the staff member's agency) and "revoked". *out (new, also on a
   later failure: the caller frees it): {account_id, personal_id (masked),
   reclaimed_at, reclaimed_by}. MC_ERR_IDENTITY_ACCOUNT_NOT_FOUND when no
   account holds the number. Inside a transaction. */
mc_error store_personal_id_reclaim(mc_db_conn *conn, const char *personal_id,
                                   const char *masked_id, const char *reason,
                                   const char *staff_agency, const struct store_who *who,
                                   json_t **out);
/* The account `id` (read shape: id, kind, full_name, personal_id, phone,
   date_of_birth, email, username, agency, roles, disabled, created_at; absent
   members omitted). MC_ERR_IDENTITY_ACCOUNT_NOT_FOUND. */
mc_error store_account_get(mc_db_conn *conn, const char *id, json_t **out);
/* The password hash of a usable (not disabled) account, into hash
   (crypto_pwhash_STRBYTES); MC_ERR_IDENTITY_ACCOUNT_NOT_FOUND. */
mc_error store_account_password_hash(mc_db_conn *conn, const char *id, char *hash, size_t len);
/* Replace the password hash, revoke every refresh token of the account
   and its access tokens (other sessions end) and audit "password_changed".
   Inside a transaction. */
mc_error store_account_set_password(mc_db_conn *conn, const char *id, const char *hash,
                                    const struct store_who *who);

/* Inside a transaction: revoke every refresh token of the account and
   every access token issued until now (store_revoke_subject_conn). */
mc_error store_account_revoke_all_conn(mc_db_conn *conn, const char *account_id);

/* A sign-in candidate. found=false when no usable account matches. */
struct store_login {
    bool found;
    char id[40];
    char hash[160];
    char roles_json[256];
    char agency[40];
    char name[804];       /* staff: full name (the `name` claim); "" for citizens */
    long long not_before; /* the subject's revocation, 0 when none */
};
mc_error store_login_lookup(mc_db_conn *conn, enum identity_login_kind kind, const char *login,
                            struct store_login *out);

/* ---- sign-in throttling (store_throttle.c) ---- */

/* Inside a store transaction: forget the failures of `key`. */
mc_error store_throttle_reset_conn(mc_db_conn *conn, const char *key);

/* Seconds until both keys may try again (0: now). */
mc_error store_throttle_wait(mc_db_conn *conn, const char *account_key, const char *address_key,
                             unsigned *retry_after);

/* account_failures: consecutive failures of one login name before its
   back-off; address_failures: failures from one address, whatever the
   account, within address_window_s before the address's back-off (not reset
   by a success: password spraying). */
struct store_throttle_policy {
    unsigned account_failures, address_failures, address_window_s, max_backoff_s;
};
/* A failed sign-in: count it against both keys (blocking them per the
   policy's back-off) and audit "sign_in_failed" (subject may be NULL), in
   one transaction. */
mc_error store_sign_in_failed(mc_db_conn *conn, const char *account_key, const char *address_key,
                              const struct store_throttle_policy *policy, const char *subject,
                              const struct store_who *who, const char *reason);

/* A wrong current password on POST /accounts/me/password: count it against
   throttle_key (the account's, back-off per account_failures), audit
   "password_change_failed", and at revoke_after failures revoke every
   refresh token and access token of the account (audited "revoked", reason
   "password_change_failures") and reset the key: the caller's token may be
   stolen. *revoked says whether that happened. Inside a transaction. */
mc_error store_password_change_failed(mc_db_conn *conn, const char *account_id,
                                      const char *throttle_key,
                                      const struct store_throttle_policy *policy,
                                      unsigned revoke_after, const struct store_who *who,
                                      bool *revoked);

/* ---- refresh tokens (store_tokens.c) ---- */

/* A successful password sign-in: reset the login name's throttle key (not
   the address's: a success from an address says nothing of its other
   attempts), store the first
   refresh token of a new family (refresh_hash: hex SHA-256) for account_id
   (NULL for clients: no refresh token), replace the account's password hash
   by new_password_hash when not NULL (a rehash to today's limits), and
   audit "sign_in", all in one transaction. */
mc_error store_sign_in_succeeded(mc_db_conn *conn, const char *account_key,
                                 const char *account_id,
                                 const char *refresh_hash, const char *new_password_hash,
                                 const struct store_who *who);

enum store_refresh_outcome {
    STORE_REFRESH_OK,
    STORE_REFRESH_INVALID, /* unknown, expired, revoked, or account disabled */
    STORE_REFRESH_REUSED,  /* already rotated: the family was revoked */
};
struct store_refreshed {
    enum store_refresh_outcome outcome;
    char account_id[40];
    char roles_json[256];
    char agency[40];
    char name[804];       /* as store_login */
    long long not_before; /* as store_login */
};
/* Rotate refresh token old_hash into new_hash (same family, 30 days), or
   detect reuse and revoke the family and the account's access tokens
   (committed, audited "revoked"). */
mc_error store_refresh_rotate(mc_db_conn *conn, const char *old_hash, const char *new_hash,
                              const struct store_who *who, struct store_refreshed *out);
/* Revoke the family of refresh token `hash` (logout: this session's
   refresh tokens) and every access token of its account issued until now
   (other sessions refresh theirs); unknown tokens are ignored. Audited
   "revoked". */
mc_error store_refresh_revoke_family(mc_db_conn *conn, const char *hash,
                                     const struct store_who *who);

/* ---- staff (store_staff.c) ---- */

struct store_staff {
    const char *username, *full_name, *agency, *roles_json, *email, *password_hash;
};
/* Insert a staff account and audit "staff_created". *out is the account.
   MC_ERR_IDENTITY_USERNAME_TAKEN. */
mc_error store_staff_create(mc_db_conn *conn, const struct store_staff *s,
                            const struct store_who *who, json_t **out);
/* Change roles (JSON array text, or NULL) and/or disabled (-1: unchanged)
   of staff account `id`. admin_agency: the agency an agency_admin may act
   on (MC_ERR_FORBIDDEN for staff of another agency), NULL for a
   system_admin. Audits "role_changed", "disabled", "enabled"; disabling
   revokes every refresh token (audited "revoked"); disabling or a change of
   roles revokes the access tokens issued before it (the token's roles are
   stale). MC_ERR_IDENTITY_STAFF_NOT_FOUND. */
mc_error store_staff_update(mc_db_conn *conn, const char *id, const char *admin_agency,
                            long long if_match, const char *roles_json, int disabled,
                            const struct store_who *who, json_t **out, long long *revision);
/* if_match: what mc_if_match_revision says of the caller's If-Match,
   checked after scope and existence (store_locked_update). A write: run it
   inside a transaction. *revision: the new one. */
/* One staff account, scoped like store_staff_update; *out is new (caller
   frees), *revision its revision for the ETag. */
mc_error store_staff_get(mc_db_conn *conn, const char *id, const char *admin_agency, json_t **out,
                         long long *revision);
/* What the staff and client lists take: one agency or all (agency NULL),
   after the cursor's key (NULL: from the start). */
struct store_list_query {
    const char *agency;
    const char *after;
};
/* Staff ordered by username. */
mc_error store_staff_list(mc_db_conn *conn, const struct store_list_query *q, unsigned limit,
                          json_t **items, json_t **next_keys);

/* The active (not disabled) staff of `agency` ordered by full name and id,
   after (after_name, after_id) when not NULL, in the colleague projection
   {id, full_name, roles}. *items and *next_keys ([full_name, id], NULL on
   the last page) are new references the caller owns. */
mc_error store_colleague_list(mc_db_conn *conn, const char *agency, const char *after_name,
                              const char *after_id, unsigned limit, json_t **items,
                              json_t **next_keys);

/* ---- machine clients (store_clients.c) ---- */

struct store_client_login {
    bool found;
    char hash[160];
    char scopes[520];  /* space-separated */
    char agency[40];
};
/* A usable (not disabled) client's secret hash, scopes and agency. */
mc_error store_client_lookup(mc_db_conn *conn, const char *client_id, struct store_client_login *out);
/* Insert a client (scopes: JSON array text, agency may be NULL) and audit
   "client_created". *out (new, caller frees): the read shape {client_id,
   name, scopes, agency?, disabled, created_at, updated_at, revision}, never
   the secret hash; *revision for the ETag. */
mc_error store_client_create(mc_db_conn *conn, const char *client_id, const char *name,
                             const char *scopes_json, const char *agency, const char *secret_hash,
                             const struct store_who *who, json_t **out, long long *revision);
/* One client in the read shape (also secret_rotated_at once rotated); *out
   new (caller frees), *revision for the ETag. MC_ERR_IDENTITY_CLIENT_NOT_FOUND. */
mc_error store_client_get(mc_db_conn *conn, const char *client_id, json_t **out,
                          long long *revision);
/* Clients ordered by client_id. *items and *next_keys (a [client_id]
   array, NULL on the last page) are new references the caller owns. */
mc_error store_client_list(mc_db_conn *conn, const struct store_list_query *q, unsigned limit,
                           json_t **items, json_t **next_keys);

/* A change to a client; NULL / -1 members are left as they are. */
struct store_client_change {
    const char *name;
    const char *scopes_json; /* JSON array text */
    int disabled;            /* -1 unchanged, 0 enable, 1 disable */
    const char *secret_hash; /* a rotated secret's argon2id string */
};
/* Apply `change` to client_id and audit it in the same transaction:
   "client_scopes_changed" (detail from, to), "client_renamed",
   "client_disabled", "client_enabled", "client_secret_rotated" (every
   detail names the client_id). if_match as for store_staff_update (a
   write, inside a transaction).
   *out (new, caller frees) the client after the change, *revision the new
   revision. MC_ERR_IDENTITY_CLIENT_NOT_FOUND. A disabled client fails the
   client-credentials grant exactly like an unknown one (store_client_lookup). */
mc_error store_client_update(mc_db_conn *conn, const char *client_id, long long if_match,
                             const struct store_client_change *change,
                             const struct store_who *who, json_t **out, long long *revision);

/* ---- the bootstrap administrator (store_staff.c) ---- */

enum store_bootstrap_outcome {
    STORE_BOOTSTRAP_CREATED,         /* inserted now, audited */
    STORE_BOOTSTRAP_EXISTS,          /* an enabled system_admin of that username exists */
    STORE_BOOTSTRAP_EXISTS_UNUSABLE, /* the username exists but is disabled or no system_admin */
};
/* Create the staff account `username` (roles ["system_admin"], no agency,
   password_hash an argon2id string) unless an account of that username
   exists, which is then left exactly as it is (never a password reset).
   Creating audits "staff_created" (actor "system:bootstrap", detail reason
   "bootstrap") in the same transaction. Nothing is returned to free. */
mc_error store_bootstrap_admin(mc_db_conn *conn, const char *username, const char *full_name,
                               const char *password_hash, enum store_bootstrap_outcome *outcome);

#endif
