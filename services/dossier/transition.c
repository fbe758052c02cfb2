/* Applying a transition (transition.h). */
#include "transition.h"

#include <stdio.h>
#include <string.h>

#include "deadlines.h"
#include "dossier_event.h"
#include "motcua/events.h"
#include "store.h"

/* The role that allowed the action, for the history and the event. */
const char *transition_acting_role(unsigned allowed)
{
    static const struct {
        unsigned actor;
        const char *name;
    } roles[] = {{ACTOR_OWNER, "citizen"},       {ACTOR_APPROVER, "approver"},
                 {ACTOR_OFFICER, "officer"},     {ACTOR_AGENCY_ADMIN, "agency_admin"},
                 {ACTOR_COUNTER, "officer"},     {ACTOR_SERVICE, "service"},
                 {ACTOR_SYSTEM, "system"}};
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
        if ((allowed & roles[i].actor) != 0)
            return roles[i].name;
    return "unknown";
}

struct transition_settings transition_settings_of(const struct dossier_ctx *ctx)
{
    struct transition_settings s = {ctx->supplement_working_days,
                                    deadline_due_soon_window(ctx->due_soon_working_hours)};
    return s;
}

/* Where a supplement returns to: where the supplement request came from
   (when a dossier does not know, processing once received, else submitted). */
static int resume_status(const struct dossier *d)
{
    if (d->previous_status >= 0)
        return d->previous_status;
    return d->received_at != 0 ? DS_PROCESSING : DS_SUBMITTED;
}

/* Where a declined withdrawal returns to: where the withdrawal was requested
   (a dossier from before migration 0003 may lack it: as for a supplement). */
static int withdrawal_origin(const struct dossier *d)
{
    if (d->withdrawal_from_status >= 0)
        return d->withdrawal_from_status;
    return resume_status(d);
}

/*
 * Change d for the action: the row's effect (actions.c), then the status.
 * The status it leads to is taken first, from the dossier as it was (an
 * effect may forget where a supplement request came from).
 */
static mc_error apply(struct dossier *d, const struct workflow_transition *row,
                      const struct action_args *args, json_t *details, json_t *errors)
{
    int to = workflow_target(row, d->status, resume_status(d), withdrawal_origin(d));
    mc_error rc = row->effect != NULL ? row->effect(d, args, details, errors) : MC_OK;
    if (rc != MC_OK)
        return rc;
    d->status = to;
    return MC_OK;
}

mc_error transition_commit(mc_db_conn *conn, struct dossier *d,
                           const struct workflow_transition *row, const struct action_body *body,
                           const struct action_inputs *in, int64_t now,
                           const struct transition_settings *settings,
                           const struct transition_actor *actor, json_t *errors)
{
    int from = d->status;
    long long expected = d->revision;
    int64_t appointment_before = d->appointment_at;
    json_t *details = json_object();
    struct action_args args = {body, in, now, settings->supplement_days};
    mc_error rc = apply(d, row, &args, details, errors);
    if (rc == MC_OK && json_array_size(errors) > 0)
        rc = MC_ERR_VALIDATION;
    if (rc == MC_OK) {
        /* the watcher's flags about the old appointment that no longer hold */
        d->clear_flags =
            deadline_flags_to_clear(d, appointment_before, now, now + settings->due_soon_window);
        if ((d->clear_flags & DEADLINE_FLAG_OVERDUE) != 0)
            d->overdue_flagged_at = 0;
        if ((d->clear_flags & DEADLINE_FLAG_DUE_SOON) != 0)
            d->due_soon_flagged_at = 0;
        rc = store_dossier_save(conn, d, expected);
    }
    if (rc == MC_OK) {
        struct history_entry h = {
            .dossier_id = d->id,
            .actor_sub = actor->sub,
            .actor_role = actor->role,
            .actor_agency = actor->agency,
            .actor_name = actor->name,
            .action = row->action,
            .from_status = from,
            .to_status = d->status,
            .reasons = body->reasons,
            .note = body->note,
            .documents = body->documents,
            .details = json_object_size(details) > 0 ? details : NULL,
        };
        rc = store_history_add(conn, &h);
    }
    if (rc == MC_OK) {
        json_t *data =
            dossier_event_data(d, row->action, from, actor->role, body->reasons, details, now);
        struct store_document_counts counts;
        if (dossier_event_tells_documents(row->action)) {
            rc = store_document_counts(conn, d->id, &counts);
            if (rc == MC_OK)
                dossier_event_set_document_counts(data, counts.application, counts.supplement,
                                                  counts.result);
        }
        char subject[64];
        snprintf(subject, sizeof subject, "dossiers/%s", d->id);
        if (rc == MC_OK)
            rc = mc_event_add(conn, row->event, subject, data, NULL);
        json_decref(data);
    }
    json_decref(details);
    return rc;
}

mc_error transition_event(mc_db_conn *conn, const struct dossier *d, const char *type,
                          const char *action, const char *role, const json_t *details, int64_t now)
{
    json_t *data = dossier_event_data(d, action, d->status, role, NULL, details, now);
    char subject[64];
    snprintf(subject, sizeof subject, "dossiers/%s", d->id);
    mc_error rc = mc_event_add(conn, type, subject, data, NULL);
    json_decref(data);
    return rc;
}
