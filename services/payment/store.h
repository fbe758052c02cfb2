/*
 * The payment service's store: every SQL statement of the service lives in
 * a store_*.c file, behind these functions. Each takes a connection the
 * caller owns (docs/architecture.md, "Stores and transactions"); writes run
 * inside the caller's transaction.
 */
#ifndef PAYMENT_STORE_H
#define PAYMENT_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "motcua/db.h"
#include "payment_rules.h"
#include "reconcile_rules.h"

/* SQL of a timestamptz column as RFC 3339 in Vietnam time (the API's times). */
#define VN_TIME(col)                                                                             \
    "to_char(" col " AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+07:00\"')"

/* ---- store_merchants.c ---- */

struct merchant_row {
    char agency_code[33];
    char provider[24];
    char merchant_code[65];
    char secret[257];
    char token[1025];
};

/* Create or replace an agency's account with a provider; *out (new) is its
   public JSON (no secret, no token). */
mc_error store_merchant_put(mc_db_conn *conn, const char *agency, const char *provider,
                            const char *merchant_code, const char *secret, const char *token,
                            json_t **out);
/* Remove an agency's account with a provider: MC_ERR_NOT_FOUND when none,
   MC_ERR_CONFLICT while one of its payments is pending. */
mc_error store_merchant_delete(mc_db_conn *conn, const char *agency, const char *provider);
/* By (agency, provider) or by (provider, merchant_code). MC_ERR_NOT_FOUND when none. */
mc_error store_merchant_get(mc_db_conn *conn, const char *agency, const char *provider,
                            struct merchant_row *out);
mc_error store_merchant_by_code(mc_db_conn *conn, const char *provider, const char *merchant_code,
                                struct merchant_row *out);

/* ---- store_demands.c ---- */

/* Record a demand (inside a transaction): its dossier's older open demands
   are superseded. A demand whose event was recorded before is skipped. */
mc_error store_demand_add(mc_db_conn *conn, const struct demand *d);

struct demand_row {
    char id[37];
    char dossier_id[37];
    char kind[24];
    char agency_code[33];
    char owner_sub[129];
    char dossier_code[64];
    long long amount;
};
/* The open demand of a dossier, locked until the transaction ends.
   MC_ERR_PAYMENT_NO_OPEN_DEMAND when there is none. */
mc_error store_demand_open_lock(mc_db_conn *conn, const char *dossier_id, struct demand_row *out);
/* Mark a demand paid. */
mc_error store_demand_paid(mc_db_conn *conn, const char *demand_id);

/* ---- store_payments.c ---- */

struct payment_row {
    char id[37];
    char demand_id[37];
    char dossier_id[37];
    char kind[24];
    char txn_ref[65];
    char provider[24];
    char agency_code[33];
    char merchant_code[65];
    char state[16];
    char payer_sub[129];
    long long amount;
    long long amount_refunded;
    int64_t created_at;
    int64_t expires_at;
    char transaction_no[65];
    long long revision;
};

/* A new pending attempt of a demand, expiring in expiry_seconds; fills
   *out. MC_ERR_PAYMENT_ATTEMPT_PENDING when the demand has one already. */
mc_error store_payment_insert(mc_db_conn *conn, const struct demand_row *demand,
                              const char *provider, const char *merchant_code,
                              const char *payer_sub, unsigned expiry_seconds,
                              struct payment_row *out);
/* The id of a demand's pending attempt into id (37 bytes), or MC_ERR_NOT_FOUND. */
mc_error store_payment_pending_of_demand(mc_db_conn *conn, const char *demand_id, char id[37]);
mc_error store_payment_set_redirect(mc_db_conn *conn, const char *id, const char *url);
/* By txn_ref, locked until the transaction ends. MC_ERR_PAYMENT_NOT_FOUND when none. */
mc_error store_payment_lock_by_ref(mc_db_conn *conn, const char *txn_ref, struct payment_row *out);
/* By id, locked until the transaction ends. MC_ERR_PAYMENT_NOT_FOUND when none. */
mc_error store_payment_lock_by_id(mc_db_conn *conn, const char *id, struct payment_row *out);
/* amount_refunded += delta (a reservation, or a refused refund given back). */
mc_error store_payment_refunded(mc_db_conn *conn, const char *id, long long delta);
/* The same without a lock, for reads. */
mc_error store_payment_by_ref(mc_db_conn *conn, const char *txn_ref, struct payment_row *out);
/* Settle a pending payment: state paid (paid_at from the gateway's time,
   else now), failed, cancelled or expired, with the gateway's codes.
   MC_ERR_CONFLICT when it was not pending any more. */
mc_error store_payment_settle(mc_db_conn *conn, const char *id, const char *state,
                              const char *gateway_code, const char *transaction_no,
                              const char *bank_code, int64_t paid_at);
/* Pending payments past their expiry (or last queried long enough ago),
   locked with SKIP LOCKED so instances share the work; at most `limit`. */
mc_error store_payments_due_for_query(mc_db_conn *conn, unsigned limit, struct payment_row *out,
                                      size_t *n);
mc_error store_payment_queried(mc_db_conn *conn, const char *id);

/* A payment's public JSON (*out new) and revision. MC_ERR_PAYMENT_NOT_FOUND. */
mc_error store_payment_get_json(mc_db_conn *conn, const char *id, json_t **out,
                                long long *revision, char payer_sub[129], char agency[33]);

/* A payment's e-receipt JSON (*out new), with its state, payer and agency
   (for who may read it). MC_ERR_PAYMENT_NOT_FOUND. */
mc_error store_payment_receipt(mc_db_conn *conn, const char *id, json_t **out, char state[16],
                               char payer_sub[129], char agency[33]);

struct payment_filter {
    const char *payer_sub;  /* a citizen's own */
    const char *agency;     /* staff: their agency's */
    const char *state, *provider, *dossier_id;
    const char *from, *to;  /* created_at range, RFC 3339 dates or times */
    const char *after_created, *after_id; /* keyset */
};
mc_error store_payments_list(mc_db_conn *conn, const struct payment_filter *f, unsigned limit,
                             json_t **items, json_t **next_keys);

/* ---- store_refunds.c ---- */

/* A pending refund of a payment (*out new: its JSON, reference in ref[33]),
   due for a status query after query_after_s should its gateway call never
   end (a crash). */
mc_error store_refund_insert(mc_db_conn *conn, const char *payment_id, long long amount,
                             const char *reason, const char *requested_by, unsigned query_after_s,
                             json_t **out, char ref[33]);
/* Settle a pending refund: "succeeded" or "failed", with the gateway's code;
   *out (new) its JSON. MC_ERR_CONFLICT when it was no longer pending. */
mc_error store_refund_settle(mc_db_conn *conn, const char *ref, const char *state,
                             const char *gateway_code, json_t **out);
/* The gateway's answer was lost or not final: ask again after delay_s. */
mc_error store_refund_await(mc_db_conn *conn, const char *ref, unsigned delay_s);

struct refund_row {
    char reference[33];
    char payment_id[37];
    long long amount;
    unsigned query_attempts; /* status queries made so far */
};
/* Pending refunds due for a status query, locked with SKIP LOCKED so
   instances share the work; at most `limit`. */
mc_error store_refunds_due_for_query(mc_db_conn *conn, unsigned limit, struct refund_row *out,
                                     size_t *n);
/* One more query made: the next after next_after_s, none once the refund
   is give_up_after_s old. */
mc_error store_refund_queried(mc_db_conn *conn, const char *ref, unsigned next_after_s,
                              unsigned give_up_after_s);
/* What a payment's succeeded refunds add up to (VND). */
mc_error store_refunds_succeeded_sum(mc_db_conn *conn, const char *payment_id, long long *sum);

/* ---- store_messages.c ---- */

/* Record a gateway message (masked by the caller); payment_id may be NULL. */
mc_error store_message_add(mc_db_conn *conn, const char *payment_id, const char *provider,
                           const char *direction, const char *kind, const char *body,
                           const char *answer);

/* ---- store_confirmations.c ---- */

mc_error store_confirmation_add(mc_db_conn *conn, const char *payment_id, const char *dossier_id,
                                const char *action, const json_t *body);
struct confirmation_row {
    char payment_id[37];
    char dossier_id[37];
    char action[32];
    unsigned attempts; /* this one included */
    json_t *body;      /* owned */
};
/* Claim up to `limit` due confirmations for `lease_s` seconds (SKIP LOCKED). */
mc_error store_confirmations_claim(mc_db_conn *conn, unsigned limit, unsigned lease_s,
                                   struct confirmation_row *out, size_t *n);
/* Done (status answered), or retried after `delay_s`. */
mc_error store_confirmation_done(mc_db_conn *conn, const char *payment_id, int status);
mc_error store_confirmation_retry(mc_db_conn *conn, const char *payment_id, int status,
                                  unsigned delay_s);

/* ---- store_reconciliations.c ---- */

/* A merchant account to reconcile. */
struct recon_target {
    char agency_code[33];
    char provider[24];
    char merchant_code[65];
};
/* The accounts to reconcile for `day` (YYYY-MM-DD), of `agency` when not
   NULL, at most `max`. due_only: those with no current run of the day, or
   whose current run failed over an hour ago (the scheduled job's). */
mc_error store_recon_targets(mc_db_conn *conn, const char *day, const char *agency, bool due_only,
                             struct recon_target *out, size_t max, size_t *n);
/* The lock of (day, agency, provider) until the transaction ends; wait for
   it, or (!wait) MC_ERR_CONFLICT at once when another run holds it. */
mc_error store_recon_lock(mc_db_conn *conn, const char *day, const struct recon_target *t,
                          bool wait);
/* Is a scheduled run of (day, agency, provider) still due (as in targets)? */
mc_error store_recon_due(mc_db_conn *conn, const char *day, const struct recon_target *t,
                         bool *due);
/* The merchant's payments paid and refunds succeeded in the day, and those
   of the references in `refs` (a JSON array of the statement's txn_ref),
   into *out (malloc'd, free()). */
mc_error store_recon_records(mc_db_conn *conn, const char *day, const struct recon_target *t,
                             const json_t *refs, struct recon_record **out, size_t *n);
/* A run to record: the current one of its day from now on. */
struct recon_run {
    const char *day;
    const struct recon_target *target;
    const char *trigger;      /* "schedule" | "request" */
    const char *requested_by; /* NULL for the schedule */
    const char *failure;      /* NULL when it compared */
    const struct recon_result *result;
};
/* Record it (superseding the day's current run) with its mismatches; its id into id. */
mc_error store_recon_insert(mc_db_conn *conn, const struct recon_run *run, char id[37]);
/* A run's JSON with its mismatches (*out new) and agency. MC_ERR_NOT_FOUND. */
mc_error store_recon_get_json(mc_db_conn *conn, const char *id, json_t **out, char agency[33]);

struct recon_filter {
    const char *agency, *day, *provider, *state;
    const char *after_created, *after_id; /* keyset */
};
mc_error store_recon_list(mc_db_conn *conn, const struct recon_filter *f, unsigned limit,
                          json_t **items, json_t **next_keys);

/* ---- store_receipts.c ---- */

/* A stored e-receipt document (the national platform's GET_BILL PDF). */
struct receipt_document {
    char receipt_no[65];
    char media_type[64];
    unsigned char *body; /* malloc'd, the caller frees */
    size_t len;
};
/* MC_ERR_NOT_FOUND when none was stored yet. */
mc_error store_receipt_document_get(mc_db_conn *conn, const char *payment_id,
                                    struct receipt_document *out);
/* Store it unless one is stored already (the first one stays). */
mc_error store_receipt_document_put(mc_db_conn *conn, const char *payment_id,
                                    const char *receipt_no, const char *media_type,
                                    const char *body_base64);

#endif
