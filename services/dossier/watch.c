/*
 * The deadline watcher: a thread that, every WATCH_INTERVAL_SECONDS,
 *   - stops the dossiers whose supplement deadline passed (status 5 -> 8,
 *     through the same transition as an officer's stop, by actor "system");
 *   - returns to draft the pay-first submissions unpaid for
 *     SUBMISSION_PAYMENT_HOURS (11 -> 0, expire_submission_payment);
 *   - flags open dossiers whose appointment is near (within the warning
 *     window of DUE_SOON_WORKING_HOURS: the agency should finish, or issue an
 *     apology with a new appointment) and those whose appointment has passed,
 *     each once per appointment, with an event (deadlines.h: the flags are
 *     cleared when the appointment moves out of reach).
 * Every instance runs it, and a pass drains everything due, not a fixed
 * number: it claims WATCH_BATCH dossiers at a time FOR UPDATE SKIP LOCKED and
 * handles them in the claiming transaction, so instances split the backlog
 * between them (each skips the rows another holds) and a handled dossier no
 * longer matches: each effect happens once. A batch that fails is rolled
 * back and its dossiers handled one per transaction, so one bad dossier
 * cannot hold back the others; those that still fail are left out for the
 * rest of the pass (logged, retried on the next). What each instance handled
 * is on its /metrics (motcua_dossier_watch_handled_total), with the overdue
 * backlog (motcua_dossier_overdue_open).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "deadlines.h"
#include "dossier.h"
#include "store.h"
#include "transition.h"
#include "motcua/log.h"
#include "motcua/metrics.h"
#include "motcua/periodic.h"

/* Dossiers claimed and handled per transaction: large enough that the
   commit is shared by many, small enough that a rolled-back batch costs
   little and row locks are held briefly. */
#define WATCH_BATCH 100
/* Dossiers a pass gives up on before it stops draining a kind. */
#define WATCH_MAX_FAILURES 100

static const char *const kind_names[STORE_WATCH__COUNT] = {
    [STORE_WATCH_SUPPLEMENT_EXPIRED] = "supplement_expired",
    [STORE_WATCH_OVERDUE] = "overdue",
    [STORE_WATCH_DUE_SOON] = "due_soon",
    [STORE_WATCH_SUBMISSION_PAYMENT_EXPIRED] = "submission_payment_expired",
};

static struct {
    mc_periodic *job; /* NULL when not running */
    mc_app *app;
    struct dossier_ctx *ctx;
    atomic_bool stopping; /* a pass in progress ends after its batch */
    mc_metric *handled[STORE_WATCH__COUNT]; /* by enum store_watch_kind */
    mc_metric *failed;
    mc_metric *overdue_open;
    mc_metric *last_pass;
} watcher;

struct watch_tx {
    const char *id;
    const char *kind; /* "supplement_expired", "submission_payment_expired", "overdue", "due_soon" */
    int64_t now;
    int64_t soon;
    struct action_inputs *in;
    const struct transition_settings *settings;
};

static mc_error watch_tx_fn(mc_db_conn *conn, void *arg)
{
    struct watch_tx *t = arg;
    struct dossier d;
    mc_error rc = store_dossier_load(conn, t->id, true, &d);
    if (rc != MC_OK)
        return rc;
    if (strcmp(t->kind, "supplement_expired") == 0) {
        if (d.status != DS_SUPPLEMENT_REQUESTED || d.supplement_due_at == 0 ||
            d.supplement_due_at >= t->now) {
            dossier_clear(&d);
            return MC_OK; /* supplemented meanwhile */
        }
        json_t *reasons = json_pack("[s]", "the deadline to supplement the dossier passed");
        struct action_body body = ACTION_BODY_INIT;
        body.reasons = reasons;
        json_t *errors = json_array();
        struct transition_actor system = {"system", "system", NULL, NULL};
        rc = transition_commit(conn, &d, workflow_find("stop"), &body, t->in, t->now, t->settings,
                               &system, errors);
        json_decref(reasons);
        json_decref(errors);
    } else if (strcmp(t->kind, "submission_payment_expired") == 0) {
        if (d.status != DS_AWAITING_SUBMISSION_PAYMENT ||
            d.updated_at >= t->now - (int64_t)watcher.ctx->submission_payment_hours * 3600) {
            dossier_clear(&d);
            return MC_OK; /* paid or cancelled meanwhile */
        }
        struct action_body body = ACTION_BODY_INIT;
        json_t *errors = json_array();
        struct transition_actor system = {"system", "system", NULL, NULL};
        rc = transition_commit(conn, &d, workflow_find("expire_submission_payment"), &body, t->in,
                               t->now, t->settings, &system, errors);
        json_decref(errors);
    } else {
        /* again under the row lock: the appointment may have moved meanwhile */
        bool overdue = strcmp(t->kind, "overdue") == 0;
        int64_t at = d.appointment_at;
        bool still = workflow_status_is_watched(d.status) && at != 0 &&
                     (overdue ? at < t->now && d.overdue_flagged_at == 0
                              : at >= t->now && at < t->soon && d.overdue_flagged_at == 0 &&
                                    d.due_soon_flagged_at == 0);
        if (still) {
            rc = store_watch_flag(conn, d.id, overdue);
            if (rc == MC_OK) {
                json_t *details = json_pack("{so so}", "due_at", dossier_time_json(d.due_at),
                                            "appointment_at", dossier_time_json(at));
                rc = transition_event(conn, &d, overdue ? "dossier.dossier.overdue"
                                                        : "dossier.dossier.due_soon",
                                      t->kind, "system", details, t->now);
                json_decref(details);
            }
        }
    }
    dossier_clear(&d);
    return rc;
}

struct watch_batch {
    enum store_watch_kind kind;
    int64_t now;
    int64_t soon;
    const json_t *skip; /* ids this pass gave up on */
    struct action_inputs *in;
    const struct transition_settings *settings;
    json_t *ids; /* claimed by the last attempt (NULL: the claim failed) */
};

/* Claim a batch and handle it in the same transaction (the row locks of the
   claim are held until the commit). Starts afresh on each attempt. */
static mc_error watch_batch_fn(mc_db_conn *conn, void *arg)
{
    struct watch_batch *b = arg;
    json_decref(b->ids);
    b->ids = NULL;
    /* pay-first submissions are claimed by their cut-off, not by now */
    int64_t since = b->kind == STORE_WATCH_SUBMISSION_PAYMENT_EXPIRED
                        ? b->now - (int64_t)watcher.ctx->submission_payment_hours * 3600
                        : b->now;
    mc_error rc = store_watch_claim(conn, b->kind, since, b->soon, WATCH_BATCH, b->skip, &b->ids);
    size_t i;
    const json_t *id;
    json_array_foreach(b->ids, i, id)
    {
        if (rc != MC_OK)
            break;
        struct watch_tx t = {json_string_value(id), kind_names[b->kind], b->now, b->soon, b->in,
                             b->settings};
        rc = watch_tx_fn(conn, &t);
    }
    return rc;
}

/* Handle one dossier in a transaction of its own (after its batch failed). */
static bool watch_one(const char *id, const struct watch_batch *b)
{
    struct watch_tx t = {id, kind_names[b->kind], b->now, b->soon, b->in, b->settings};
    mc_error rc = mc_db_transaction(mc_app_db(watcher.app), NULL, watch_tx_fn, &t);
    if (rc != MC_OK) {
        mc_log(MC_LOG_WARNING, NULL, "watch.failed", "%s: dossier %s not handled (%d)",
               kind_names[b->kind], id, (int)rc);
        return false;
    }
    return true;
}

/* Drain what is due of one kind (what other instances have not claimed). */
static void watch_drain(enum store_watch_kind kind, int64_t now, int64_t soon)
{
    struct action_inputs in;
    memset(&in, 0, sizeof in);
    struct transition_settings settings = transition_settings_of(watcher.ctx);
    json_t *skip = json_array();
    struct watch_batch b = {kind, now, soon, skip, &in, &settings, NULL};
    while (!atomic_load(&watcher.stopping) && json_array_size(skip) < WATCH_MAX_FAILURES) {
        mc_error rc = mc_db_transaction(mc_app_db(watcher.app), NULL, watch_batch_fn, &b);
        if (rc == MC_OK) {
            if (json_array_size(b.ids) == 0)
                break; /* nothing left that another instance does not hold */
            mc_metric_add(watcher.handled[kind], json_array_size(b.ids));
            continue;
        }
        if (json_array_size(b.ids) == 0) {
            mc_log(MC_LOG_WARNING, NULL, "watch.failed", "%s: the claim failed (%d)",
                   kind_names[kind], (int)rc);
            break; /* the database is away: the next pass tries again */
        }
        /* the batch rolled back: its dossiers one at a time */
        size_t i;
        const json_t *id;
        json_array_foreach(b.ids, i, id)
        {
            if (watch_one(json_string_value(id), &b)) {
                mc_metric_add(watcher.handled[kind], 1);
            } else {
                mc_metric_add(watcher.failed, 1);
                json_array_append_new(skip, json_string(json_string_value(id)));
            }
        }
    }
    json_decref(b.ids);
    json_decref(skip);
}

static mc_error overdue_open_fn(mc_db_conn *conn, void *arg)
{
    return store_watch_overdue_open(conn, arg);
}

/* One pass. Due soon is measured in calendar time (working hours x 3): the
   flag is an early warning, not a legal deadline. */
static void watch_once(void)
{
    int64_t now = (int64_t)time(NULL);
    int64_t soon = now + deadline_due_soon_window(watcher.ctx->due_soon_working_hours);
    watch_drain(STORE_WATCH_SUPPLEMENT_EXPIRED, now, soon);
    watch_drain(STORE_WATCH_SUBMISSION_PAYMENT_EXPIRED, now, soon);
    watch_drain(STORE_WATCH_OVERDUE, now, soon);
    watch_drain(STORE_WATCH_DUE_SOON, now, soon);
    long long backlog = 0;
    if (mc_db_with_conn(mc_app_db(watcher.app), overdue_open_fn, &backlog) == MC_OK)
        mc_metric_set(watcher.overdue_open, backlog);
    mc_metric_set(watcher.last_pass, (long long)time(NULL));
}

static void watch_run(void *arg)
{
    (void)arg;
    watch_once();
}

int dossier_watch_start(mc_app *app, struct dossier_ctx *ctx)
{
    watcher.app = app;
    watcher.ctx = ctx;
    atomic_store(&watcher.stopping, false);
    for (size_t k = 0; k < STORE_WATCH__COUNT; k++) {
        char labels[48];
        snprintf(labels, sizeof labels, "kind=\"%s\"", kind_names[k]);
        watcher.handled[k] = mc_metric_counter(
            "motcua_dossier_watch_handled_total",
            "Dossiers the deadline watcher of this instance handled, by kind.", labels);
    }
    watcher.failed = mc_metric_counter("motcua_dossier_watch_failed_total",
                                       "Dossiers a watcher pass could not handle (retried).", NULL);
    watcher.overdue_open = mc_metric_gauge("motcua_dossier_overdue_open",
                                           "Open dossiers past their appointment (flagged overdue).",
                                           NULL);
    watcher.last_pass = mc_metric_gauge(
        "motcua_dossier_watch_last_pass_timestamp_seconds",
        "When the deadline watcher of this instance last finished a pass.", NULL);
    watcher.job = mc_periodic_start(ctx->watch_interval_s, watch_run, NULL);
    return watcher.job != NULL ? 0 : -1;
}

void dossier_watch_stop(void)
{
    atomic_store(&watcher.stopping, true);
    mc_periodic_stop(watcher.job);
    watcher.job = NULL;
}
