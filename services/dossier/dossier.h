/*
 * The dossier service: filing, documents, the legal workflow, deadlines,
 * the audit trail and events (docs/services/dossier.md).
 *
 * Where things are:
 *   main.c, routes.c      start-up and the route table
 *   request.c             what the handlers share: loading the dossier of a
 *                         request, the procedure chosen, the service context
 *   handle_dossiers.c     POST/GET/PATCH /dossiers, GET /dossiers/{id}
 *   handle_actions.c      POST /dossiers/{id}/submit, /actions/{action}; GET .../actions
 *   handle_history.c      GET /dossiers/{id}/history
 *   handle_documents.c    /dossiers/{id}/documents...
 *   handle_evaluation.c   /dossiers/{id}/evaluation
 *   handle_events.c       GET /events/dossier (who may read the feed)
 *   workflow.c            the transition table and the statuses (pure)
 *   actions.c             what each action of the table does to a dossier (pure)
 *   transition.c          applying a row: effect, save, history and event
 *   dossier_event.c       the events' payload (pure)
 *   deadlines.c           due dates, pauses, supplement deadlines (pure)
 *   dossier_code.c        dossier codes (pure)
 *   document_rules.c      who uploads when, media types and their bytes, file
 *                         names, slots, Content-Disposition (pure)
 *   dossier_view.c        a dossier's JSON and who may see it
 *   storage.c             the document files
 *   (the catalogue, over REST: common's catalogue client, motcua/catalogue_client.h)
 *   store_*.c             every SQL statement
 *   watch.c               the deadline watcher thread
 *   sweep.c               the sweeper: abandoned drafts' files, unnamed stored files
 *   staff_directory.c     assignees checked with identity (the service's own token)
 */
#ifndef DOSSIER_H
#define DOSSIER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "dossier_code.h"
#include "motcua/catalogue_client.h"
#include "motcua/http.h"
#include "motcua/server.h"
#include "workflow.h"

extern const struct mc_route dossier_routes[];
extern const size_t dossier_routes_count;

/* What the handlers share, set up at start (main.c). */
struct dossier_ctx {
    mc_catalogue_client *catalogue;
    char storage_dir[512];          /* DOCUMENT_DIR: the filesystem document store */
    unsigned supplement_working_days; /* SUPPLEMENT_WORKING_DAYS: default deadline to supplement */
    unsigned due_soon_working_hours;  /* DUE_SOON_WORKING_HOURS: when the watcher flags "about to be overdue" */
    unsigned watch_interval_s;        /* WATCH_INTERVAL_SECONDS: 0 disables the watcher */
    unsigned submission_payment_hours; /* SUBMISSION_PAYMENT_HOURS: an unpaid pay-first
                                          submission goes back to draft after this long */
    /* who may be assigned: identity, asked with the service's own token
       (CLIENT_ID, CLIENT_SECRET_FILE, IDENTITY_URL); NULL when not configured,
       then assignments answer 503 */
    struct mc_service_token *service_token;
    struct staff_directory *staff;
    /* storage limits (docs/services/dossier.md, Configuration) */
    unsigned max_drafts_per_citizen;  /* MAX_DRAFTS_PER_CITIZEN */
    unsigned max_files_per_dossier;   /* MAX_FILES_PER_DOSSIER: every stored file, replaced ones too */
    unsigned max_bytes_per_dossier;   /* MAX_BYTES_PER_DOSSIER: their total size */
    unsigned sweep_interval_s;        /* SWEEP_INTERVAL_SECONDS: 0 disables the sweeper */
    unsigned orphan_file_hours;       /* ORPHAN_FILE_HOURS: an unnamed file older than this is removed */
    unsigned abandoned_draft_days;    /* ABANDONED_DRAFT_DAYS: a draft untouched this long loses its files */
};

#define DOSSIER_UTC_OFFSET_MIN 420 /* Asia/Ho_Chi_Minh */
#define DOSSIER_PAGE_DEFAULT 20
#define DOSSIER_PAGE_MAX 100
#define DOSSIER_SUB_MAX 129
#define DOSSIER_AGENCY_MAX 33

/* A dossier as the handlers work on it: loaded from one row, changed in C by
   the workflow, written back whole (store_dossier_save). Times are epoch
   seconds, 0 when not set. The json_t members are owned by the struct. */
struct dossier {
    char id[37];
    char code[DOSSIER_CODE_MAX];     /* "" until submitted */
    int status;
    long long revision;
    char procedure_code[65];
    int procedure_version;
    char procedure_name[512];
    char sector_code[65];
    char case_code[65];
    char channel[16];
    double limit_value;
    char limit_unit[16];
    char supplement_clock[8];
    char agency_code[DOSSIER_AGENCY_MAX];
    char handling_agency[DOSSIER_AGENCY_MAX];
    json_t *transfer_chain;          /* array of agency codes it went through, oldest first */
    char owner_sub[DOSSIER_SUB_MAX]; /* "" when filed at the counter for someone without an account */
    char filed_by_sub[DOSSIER_SUB_MAX];
    char filed_by_role[32];
    json_t *applicant, *representative, *form_data, *delivery;
    int step_index;                  /* -1 when none */
    char assignee_sub[DOSSIER_SUB_MAX];
    int previous_status;             /* where a supplement returns to; -1 when none */
    int withdrawal_from_status;      /* status 7: where a declined withdrawal returns to; -1 when none */
    char outcome[16];
    json_t *result, *missing_items;
    long long fee_amount;            /* -1 when none */
    int64_t created_at, updated_at, submitted_at, received_at, clock_start_at, due_at,
        appointment_at, paused_since, supplement_due_at, decided_at, returned_at, finished_at,
        overdue_flagged_at, due_soon_flagged_at; /* the watcher's flags (watch.c) */
    unsigned clear_flags;            /* DEADLINE_FLAG_* bits the next save clears (deadlines.h) */
    json_t *pauses;                  /* [[from, to], ...] closed pauses, epoch seconds */
    int64_t sort_micros;             /* lists only: the exact keyset sort key */
};
void dossier_clear(struct dossier *d);

/* ---- dossier_view.c ---- */

/* How the caller relates to a dossier: enum workflow_actor bits, 0 when the
   caller may not see it at all. `read_only_agency` is set for staff of an
   agency that transferred the dossier away (they may read, not act). */
unsigned dossier_actors(const mc_request *req, const struct dossier *d, bool *read_only_agency);
/* The public JSON of a dossier (new reference). */
json_t *dossier_to_json(const struct dossier *d);
/* What a payment client sees of a dossier (new reference): code, procedure,
   agencies, status, the fee demand and the applicant's name (for a receipt),
   no documents, form data, identity numbers or contact details. */
json_t *dossier_payment_json(const struct dossier *d);
/* The JSON these actors may see: the payment view for a payment client,
   else the whole dossier (new reference). */
json_t *dossier_view_json(const struct dossier *d, unsigned actors, bool read_only_agency);
/* Do these actors see only the payment view (a payment client)? */
bool dossier_payment_view_only(unsigned actors, bool read_only_agency);
/* For reads beyond the payment view (history, documents, evaluation): answer
   403 and return true when the caller is a payment client. */
bool dossier_refuse_payment_view(mc_request *req, unsigned actors, bool read_only_agency);
/* The name recorded with a history entry: the display name (token claim
   `name`) of staff (officers, approvers, agency and system administrators,
   auditors), NULL for citizens (their own name is in the dossier) and
   machine clients. Borrowed from p. */
const char *dossier_actor_name(const mc_principal *p);
/* A history entry as `actors` may see it: a citizen's view names the agency
   that acted, not the officer (the staff name is removed). */
void dossier_history_for_viewer(json_t *items, unsigned actors, bool read_only_agency);
/* A list item (new reference). */
json_t *dossier_summary_json(const struct dossier *d);
/* "\"r<revision>\"" */
void dossier_etag(const struct dossier *d, char *out, size_t len);

/* ---- handlers ---- */
void handle_dossier_create(mc_request *req);
void handle_dossiers_list(mc_request *req);
void handle_dossier_get(mc_request *req);
void handle_dossier_update(mc_request *req);
void handle_dossier_submit(mc_request *req);
void handle_dossier_action(mc_request *req);
void handle_dossier_actions_list(mc_request *req);
void handle_dossier_history(mc_request *req);
void handle_documents_list(mc_request *req);
void handle_document_upload(mc_request *req);
void handle_document_content(mc_request *req);
void handle_evaluation_put(mc_request *req);
void handle_evaluation_get(mc_request *req);
void handle_dossier_event_feed(mc_request *req);

/* ---- shared request helpers (request.c; the others are in request.h) ---- */

/* Load the dossier of path parameter {id} (a UUID or a dossier code) for the
   caller: answers 404 (also when the caller may not see it, so ids and codes
   cannot be probed) and returns false; else fills *d and *actors. */
bool dossier_load_for_request(mc_request *req, struct dossier *d, unsigned *actors,
                              bool *read_only_agency);

struct dossier_ctx *dossier_ctx(const mc_request *req);

/* ---- watch.c ---- */
int dossier_watch_start(mc_app *app, struct dossier_ctx *ctx);
void dossier_watch_stop(void);

/* ---- sweep.c ---- */
/* Start the sweeper thread (every ctx->sweep_interval_s): -1 on failure. */
int dossier_sweep_start(mc_app *app, struct dossier_ctx *ctx);
void dossier_sweep_stop(void);
/* One pass at time `now`: abandoned drafts' files, then unnamed files. */
void dossier_sweep_once(mc_app *app, struct dossier_ctx *ctx, int64_t now);

#endif
