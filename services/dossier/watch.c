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
 * Every instance may run it: each dossier is handled in its own transaction
 * under its row lock, and a dossier another instance already handled no
 * longer matches.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "deadlines.h"
#include "dossier.h"
#include "store.h"
#include "transition.h"
#include "motcua/log.h"
#include "motcua/periodic.h"

#define WATCH_BATCH 200

static struct {
    mc_periodic *job; /* NULL when not running */
    mc_app *app;
    struct dossier_ctx *ctx;
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

static void handle_ids(const json_t *ids, const char *kind, int64_t now, int64_t soon)
{
    struct action_inputs in;
    memset(&in, 0, sizeof in);
    struct transition_settings settings = transition_settings_of(watcher.ctx);
    size_t i;
    const json_t *id;
    json_array_foreach(ids, i, id)
    {
        struct watch_tx t = {json_string_value(id), kind, now, soon, &in, &settings};
        mc_error rc = mc_db_transaction(mc_app_db(watcher.app), NULL, watch_tx_fn, &t);
        if (rc != MC_OK)
            mc_log(MC_LOG_WARNING, NULL, "watch.failed", "%s: dossier %s not handled (%d)", kind,
                   json_string_value(id), (int)rc);
    }
}

enum watch_scan { SCAN_SUPPLEMENT_EXPIRED, SCAN_SUBMISSION_PAYMENT_EXPIRED, SCAN_OVERDUE, SCAN_DUE_SOON };

/* One scan's ids, on a connection borrowed for the scan alone: it is given
   back before the ids are handled, each in a transaction of its own, so the
   watcher never holds one connection while waiting for another. */
static mc_error watch_scan(enum watch_scan scan, int64_t now, int64_t soon, json_t **ids)
{
    mc_db_pool *db = mc_app_db(watcher.app);
    mc_db_conn *conn = NULL;
    mc_error rc = mc_db_acquire(db, &conn);
    if (rc != MC_OK)
        return rc;
    switch (scan) {
    case SCAN_SUPPLEMENT_EXPIRED:
        rc = store_watch_supplement_expired(conn, now, WATCH_BATCH, ids);
        break;
    case SCAN_SUBMISSION_PAYMENT_EXPIRED:
        rc = store_watch_submission_payment_expired(
            conn, now - (int64_t)watcher.ctx->submission_payment_hours * 3600, WATCH_BATCH, ids);
        break;
    case SCAN_OVERDUE:
        rc = store_watch_overdue(conn, now, WATCH_BATCH, ids);
        break;
    case SCAN_DUE_SOON:
        rc = store_watch_due_soon(conn, now, soon, WATCH_BATCH, ids);
        break;
    }
    mc_db_release(db, conn);
    return rc;
}

/* One pass. Due soon is measured in calendar time (working hours x 3): the
   flag is an early warning, not a legal deadline. */
static void watch_once(void)
{
    int64_t now = (int64_t)time(NULL);
    int64_t soon = now + deadline_due_soon_window(watcher.ctx->due_soon_working_hours);
    json_t *ids = NULL;
    if (watch_scan(SCAN_SUPPLEMENT_EXPIRED, now, soon, &ids) == MC_OK)
        handle_ids(ids, "supplement_expired", now, soon);
    json_decref(ids);
    ids = NULL;
    if (watch_scan(SCAN_SUBMISSION_PAYMENT_EXPIRED, now, soon, &ids) == MC_OK)
        handle_ids(ids, "submission_payment_expired", now, soon);
    json_decref(ids);
    ids = NULL;
    if (watch_scan(SCAN_OVERDUE, now, soon, &ids) == MC_OK)
        handle_ids(ids, "overdue", now, soon);
    json_decref(ids);
    ids = NULL;
    if (watch_scan(SCAN_DUE_SOON, now, soon, &ids) == MC_OK)
        handle_ids(ids, "due_soon", now, soon);
    json_decref(ids);
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
    watcher.job = mc_periodic_start(ctx->watch_interval_s, watch_run, NULL);
    return watcher.job != NULL ? 0 : -1;
}

void dossier_watch_stop(void)
{
    mc_periodic_stop(watcher.job);
    watcher.job = NULL;
}
