/*
 * Applying one transition of workflow.c's table to a locked dossier: the
 * status it leads to (a fixed one, the same, or back where a supplement or a
 * withdrawal request came from: WF_TO_PREVIOUS, WF_TO_WITHDRAWAL_ORIGIN),
 * the row's effect (actions.c: clock, step, agency, outcome ...), then the
 * row, its history entry and its event, all on the caller's transaction. Used by
 * the action endpoints (handle_actions.c) and by the deadline watcher
 * (watch.c), so a change made by the system is recorded exactly like one
 * made by a person.
 */
#ifndef DOSSIER_TRANSITION_H
#define DOSSIER_TRANSITION_H

#include <jansson.h>
#include <stdint.h>

#include "actions.h"
#include "dossier.h"
#include "dossier_event.h"
#include "motcua/calendar.h"
#include "motcua/catalogue_client.h"
#include "motcua/db.h"
#include "workflow.h"

/* Who acts: recorded in the history and the event. */
struct transition_actor {
    const char *sub;     /* account id, client id, or "system" */
    const char *role;    /* citizen, officer, approver, agency_admin, service, system */
    const char *agency;  /* NULL for citizens and the system */
    const char *name;    /* staff's display name (dossier_actor_name), NULL otherwise */
};

/* The service's settings a transition uses (from struct dossier_ctx). */
struct transition_settings {
    unsigned supplement_days;   /* SUPPLEMENT_WORKING_DAYS: default time to supplement */
    int64_t due_soon_window;    /* the watcher's warning window, seconds (deadline_due_soon_window) */
};

/* The settings of the service's context. */
struct transition_settings transition_settings_of(const struct dossier_ctx *ctx);

/* The role that allowed an action (row->actors & caller's actors). */
const char *transition_acting_role(unsigned allowed);

/*
 * Apply `row` to d (locked by the caller, revision as read) with the
 * action's body (its effect, actions.h), save it, append the history row and the event. Problems
 * that only the current dossier reveals go to `errors` and the result is
 * MC_ERR_VALIDATION (nothing written). MC_ERR_PRECONDITION_FAILED when the
 * row changed meanwhile. When the appointment moves, the watcher's flags
 * that no longer hold are cleared in the same save (deadlines.h).
 */
mc_error transition_commit(mc_db_conn *conn, struct dossier *d, const struct workflow_transition *row,
                           const struct action_body *body, const struct action_inputs *in,
                           int64_t now, const struct transition_settings *settings,
                           const struct transition_actor *actor, json_t *errors);

/* Record an event about d that is not a transition (overdue, due soon,
   evaluated), with the same payload shape. */
mc_error transition_event(mc_db_conn *conn, const struct dossier *d, const char *type,
                          const char *action, const char *role, const json_t *details, int64_t now);

#endif
