/*
 * The dossier service's store: every SQL statement of the service lives in a
 * store_*.c file, behind these functions. Each takes a connection the caller
 * owns (docs/architecture.md, "Stores and transactions"): a read runs on a
 * connection the handler borrows (mc_db_acquire), a write inside the
 * caller's transaction (mc_db_transaction in the handler), so a transition,
 * its history row and its event commit together.
 */
#ifndef DOSSIER_STORE_H
#define DOSSIER_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "dossier.h"
#include "motcua/db.h"

/* ---- store_dossiers.c ---- */

/* Insert a new draft from d (id, code, revision and timestamps are set by the
   database and written back into d). */
mc_error store_dossier_insert(mc_db_conn *conn, struct dossier *d);

/* Load by id (a UUID) or by code into *d (owned by the caller; dossier_clear).
   for_update locks the row until the transaction ends.
   MC_ERR_DOSSIER_NOT_FOUND when there is none. */
mc_error store_dossier_load(mc_db_conn *conn, const char *id_or_code, bool for_update,
                            struct dossier *d);

/* Write every mutable column of d back, with revision + 1 and updated_at =
   now (written back into d). Only when the row still has `expected_revision`:
   else MC_ERR_PRECONDITION_FAILED. The watcher's flags are not written from
   d: they are kept, except those named in d->clear_flags, which are cleared
   (then d->clear_flags is reset). */
mc_error store_dossier_save(mc_db_conn *conn, struct dossier *d, long long expected_revision);

/* The next sequence number of agency's dossier codes on local day `day`
   (YYYY-MM-DD). Unique under concurrency: the counter row is locked until
   the transaction ends. */
mc_error store_next_code_sequence(mc_db_conn *conn, const char *agency, const char *day,
                                  long *sequence);

/* The list filters of GET /dossiers (NULL / -1 = not filtered). */
struct dossier_filter {
    const char *owner_sub;       /* a citizen's own dossiers; else the agency inbox below */
    const char *agency;          /* handling agency */
    int status;
    const char *procedure_code;
    int step_index;
    const char *assignee_sub;
    const char *channel;
    int64_t due_before;          /* 0 = none */
    bool overdue_only;
    /* The deadline queue (?sort=due_at): the agency's open dossiers (2, 4, 5,
       6, 7), earliest due date first; the keyset is then (due_at, id). */
    bool by_due;
    int64_t now;
    /* keyset: (sort key, id) of the last item of the previous page; the sort
       key is struct dossier's sort_micros */
    int64_t after_time;          /* 0 = first page */
    const char *after_id;
    unsigned limit;
};

/* Up to f->limit + 1 dossiers (one more than a page tells whether there is a
   next page), newest first, as an array of struct dossier (malloc'd, *n of
   them; the caller clears each and frees the array). */
mc_error store_dossier_list(mc_db_conn *conn, const struct dossier_filter *f, struct dossier **out,
                            size_t *n);

/* ---- store_history.c ---- */

/* One history row: who did what, from which status to which, and why. */
struct history_entry {
    const char *dossier_id;
    const char *actor_sub;
    const char *actor_role;
    const char *actor_agency;    /* NULL for citizens and the system */
    const char *actor_name;      /* staff's display name at the time (dossier_actor_name), else NULL */
    const char *action;
    int from_status, to_status;
    const json_t *reasons;       /* NULL or an array of strings */
    const char *note;
    const json_t *documents;     /* NULL or an array of document ids */
    const json_t *details;       /* NULL or an object (due dates, assignee, agency ...) */
};
mc_error store_history_add(mc_db_conn *conn, const struct history_entry *e);

/* The whole trail of a dossier, oldest first (new reference, an array). */
mc_error store_history_list(mc_db_conn *conn, const char *dossier_id, json_t **out);
/* Was `action` taken on the dossier for the payment `payment_id` (its
   history details name it)? What makes a payment's confirmation idempotent. */
mc_error store_history_payment_applied(mc_db_conn *conn, const char *dossier_id, const char *action,
                                       const char *payment_id, bool *applied);

/* ---- store_documents.c ---- */

/* The slots (required-document codes, extra-N) that have a current file,
   as an array of strings (new reference). */
mc_error store_document_slots(mc_db_conn *conn, const char *dossier_id, json_t **slots);

/* How many current files of each kind the dossier has. */
struct store_document_counts {
    long long application, supplement, result;
};
mc_error store_document_counts(mc_db_conn *conn, const char *dossier_id,
                               struct store_document_counts *counts);

/* One row of dossier_documents. Times are epoch seconds (replaced_at 0 for
   the current file of its slot). */
struct store_document {
    char dossier_id[37];
    char id[37];
    char slot[65];
    char kind[16];             /* application, supplement, result */
    char file_name[1024];      /* up to 255 code points of UTF-8 */
    char media_type[32];
    long long size_bytes;
    char sha256[65];           /* lowercase hex */
    char storage_key[64];      /* storage.h's key; never shown to clients */
    char uploaded_by[DOSSIER_SUB_MAX];
    int64_t uploaded_at, replaced_at;
};

/* Make doc (dossier_id, slot, kind, file_name, media_type, size_bytes,
   sha256, storage_key, uploaded_by filled in) the current file of its slot:
   the previous current row, if any, gets replaced_at = now and its id is
   written to replaced_id ("" when the slot was empty); the new row's id and
   uploaded_at are written back into doc. When the slot's current file is
   the same one (sha256, kind, file_name and media type: a retried PUT),
   nothing is written, *unchanged is set and doc becomes that row. Else,
   when the dossier's stored files (replaced ones included) would then be
   more than limits->max_files or weigh more than limits->max_bytes, nothing
   is written and MC_ERR_DOSSIER_STORAGE_LIMIT returned with
   limits->exceeded set. The caller holds the dossier's row lock, so two
   uploads to one slot (or one dossier's limits) cannot race. */
struct store_document_limits {
    long long max_files, max_bytes;
    enum { STORE_LIMIT_NONE, STORE_LIMIT_FILES, STORE_LIMIT_BYTES } exceeded;
};
mc_error store_document_put(mc_db_conn *conn, struct store_document *doc, char *replaced_id,
                            size_t replaced_id_len, bool *unchanged,
                            struct store_document_limits *limits);

/* The documents of a dossier, current ones only or (include_replaced) every
   row, by slot then newest first: *out is a malloc'd array of *n rows owned
   by the caller (free). */
mc_error store_document_list(mc_db_conn *conn, const char *dossier_id, bool include_replaced,
                             struct store_document **out, size_t *n);

/* The current file of a slot into *doc (caller's storage);
   MC_ERR_DOSSIER_DOCUMENT_NOT_FOUND when the slot has none. */
mc_error store_document_current(mc_db_conn *conn, const char *dossier_id, const char *slot,
                                struct store_document *doc);

/* The document `document_id` of dossier `dossier_id` (current or replaced)
   into *doc (caller's storage), on the caller's transaction;
   MC_ERR_DOSSIER_DOCUMENT_NOT_FOUND when this dossier has no document with
   this id (also when another dossier has). */
mc_error store_document_of_dossier(mc_db_conn *conn, const char *dossier_id,
                                   const char *document_id, struct store_document *doc);

/* ---- store_sweep.c (storage limits and the sweeper) ---- */

/* How many drafts citizen owner_sub is writing (filed online, status 0,
   edited since active_since), and when the oldest of them was last edited
   (*oldest, epoch seconds). Takes a transaction-scoped lock on the citizen
   first, so two concurrent filings of one citizen count one after the
   other. */
mc_error store_citizen_drafts(mc_db_conn *conn, const char *owner_sub, int64_t active_since,
                              long long *count, int64_t *oldest);
/* Ids of up to `limit` drafts untouched (no edit, no upload) since
   untouched_since that still have files, oldest first, locked (rows another
   transaction holds are skipped): *ids is a new array. */
mc_error store_sweep_abandoned_drafts(mc_db_conn *conn, int64_t untouched_since, unsigned limit,
                                      json_t **ids);
/* Delete every document row of a dossier: their storage keys are appended
   to `keys` (an array) and their total size written to *bytes. */
mc_error store_documents_delete_all(mc_db_conn *conn, const char *dossier_id, json_t *keys,
                                    long long *bytes);
/* The keys of `keys` (an array of storage keys) that no document row names:
   *unnamed is a new array. */
mc_error store_keys_unnamed(mc_db_conn *conn, const json_t *keys, json_t **unnamed);
/* Take (try: *got) or release the session lock that lets one instance at a
   time walk the stored files. */
mc_error store_orphan_sweep_lock(mc_db_conn *conn, bool take, bool *got);

/* ---- store_evaluation.c ---- */

struct store_evaluation {
    const char *dossier_id;
    int scores[9];          /* DOMAIN.md §7's order, 0..2 each */
    int total;              /* set by store_evaluation_insert */
    const char *satisfaction;
    const char *comment;
    const char *agency_code;
    const char *procedure_code;
    const char *evaluated_by;
};
/* Insert the dossier's one evaluation; MC_ERR_DOSSIER_ALREADY_EVALUATED when
   it has one. *out: the stored evaluation (new reference). */
mc_error store_evaluation_insert(mc_db_conn *conn, struct store_evaluation *e, json_t **out);
/* The evaluation of a dossier (new reference); MC_ERR_NOT_FOUND when none. */
mc_error store_evaluation_get(mc_db_conn *conn, const char *dossier_id, json_t **out);

/* ---- store_watch.c (the deadline watcher) ---- */

/* What the watcher looks for: dossiers whose supplement deadline passed
   (status 5); open dossiers past their appointment not yet flagged overdue;
   open dossiers whose appointment is between now and `soon`, flagged
   neither overdue nor due soon; pay-first dossiers waiting for their fee
   (status 11) unchanged since before `now` (the caller passes the cut-off). */
enum store_watch_kind {
    STORE_WATCH_SUPPLEMENT_EXPIRED,
    STORE_WATCH_OVERDUE,
    STORE_WATCH_DUE_SOON,
    STORE_WATCH_SUBMISSION_PAYMENT_EXPIRED,
    STORE_WATCH__COUNT
};
/* Claim (lock FOR UPDATE SKIP LOCKED, in the caller's transaction) up to
   `limit` dossiers of `kind`, earliest first, leaving out the ids of the JSON
   array `skip`; their ids in *ids (a new array). */
mc_error store_watch_claim(mc_db_conn *conn, enum store_watch_kind kind, int64_t now, int64_t soon,
                           unsigned limit, const json_t *skip, json_t **ids);
/* How many open dossiers are flagged overdue. */
mc_error store_watch_overdue_open(mc_db_conn *conn, long long *count);
/* Mark a dossier flagged (overdue or due soon), without touching its revision. */
mc_error store_watch_flag(mc_db_conn *conn, const char *id, bool overdue);

#endif
