/* Applying a transition (transition.h). */
#include "transition.h"

#include <stdio.h>
#include <string.h>

#include "deadlines.h"
#include "motcua/events.h"
#include "motcua/json_spec.h"
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

/* The supplement request is no longer pending: nothing is missing any more
   (the list stays in the request_supplement history row). */
static void clear_missing_items(struct dossier *d)
{
    json_decref(d->missing_items);
    d->missing_items = NULL;
}

/*
 * Change d for the action (the status and everything that goes with it).
 * Problems with the request that only the current dossier reveals (a step
 * out of range, an appointment not later than the current one) go to
 * `errors`. details receives what the history and the event should tell.
 */
static mc_error apply(struct dossier *d, const struct workflow_transition *row, const json_t *body,
                      const struct action_inputs *in, int64_t now, unsigned supplement_days,
                      json_t *details, json_t *errors)
{
    const char *action = row->action;
    int from = d->status;
    int to = workflow_target(row, from, resume_status(d), withdrawal_origin(d));

    if (strcmp(action, "receive") == 0) {
        d->received_at = now;
        if (!deadline_start(d, &in->calendar, now))
            return MC_ERR_CATALOGUE_UNAVAILABLE;
        d->step_index = in->n_steps > 0 ? 0 : -1;
    } else if (strcmp(action, "refuse") == 0) {
        snprintf(d->outcome, sizeof d->outcome, "refused");
        d->finished_at = now;
    } else if (strcmp(action, "request_supplement") == 0) {
        json_decref(d->missing_items);
        d->missing_items = json_deep_copy(json_object_get(body, "missing_items"));
        d->previous_status = from;
        json_object_set(details, "missing_items", d->missing_items);
        unsigned days = (unsigned)mc_json_int(body, "deadline_working_days", supplement_days);
        d->supplement_due_at = deadline_supplement_due(&in->calendar, now, days);
        if (d->supplement_due_at == 0)
            return MC_ERR_CATALOGUE_UNAVAILABLE;
        deadline_pause(d, now);
        json_object_set_new(details, "supplement_due_at", dossier_time_json(d->supplement_due_at));
    } else if (strcmp(action, "supplement") == 0) {
        d->previous_status = -1;
        d->supplement_due_at = 0;
        clear_missing_items(d);
        if (!deadline_resume(d, &in->calendar, now, strcmp(d->supplement_clock, "restart") == 0))
            return MC_ERR_CATALOGUE_UNAVAILABLE;
        json_object_set_new(details, "supplement_clock", json_string(d->supplement_clock));
    } else if (strcmp(action, "assign") == 0) {
        snprintf(d->assignee_sub, sizeof d->assignee_sub, "%s", mc_json_str(body, "assignee", ""));
        json_object_set_new(details, "assignee", json_string(d->assignee_sub));
    } else if (strcmp(action, "forward") == 0 || strcmp(action, "return_step") == 0) {
        bool forward = strcmp(action, "forward") == 0;
        int current = d->step_index < 0 ? 0 : d->step_index;
        int step = (int)mc_json_int(body, "to_step", forward ? current + 1 : current - 1);
        if (forward && from == DS_RECEIVED && json_object_get(body, "to_step") == NULL)
            step = current; /* receiving moves into the first step */
        if (in->n_steps == 0 && step != 0)
            mc_errors_add(errors, "/to_step", "no_steps", "this case has no internal steps");
        else if (step < 0 || (in->n_steps > 0 && step >= in->n_steps))
            mc_errors_add(errors, "/to_step", "out_of_range",
                          forward ? "there is no next step: approve or reject instead"
                                  : "there is no previous step");
        else if (forward ? step < current : step >= current)
            mc_errors_add(errors, "/to_step", forward ? "not_forward" : "not_backward",
                          forward ? "forward moves to a later step" : "return moves to an earlier step");
        d->step_index = step;
        const char *assignee = mc_json_str(body, "assignee", NULL);
        if (assignee != NULL)
            snprintf(d->assignee_sub, sizeof d->assignee_sub, "%s", assignee);
        else
            d->assignee_sub[0] = '\0';
        json_object_set_new(details, "step_index", json_integer(step));
        json_object_set_new(details, "from_step", json_integer(current));
    } else if (strcmp(action, "transfer") == 0) {
        json_array_append_new(d->transfer_chain, json_string(d->handling_agency));
        json_object_set_new(details, "from_agency", json_string(d->handling_agency));
        snprintf(d->handling_agency, sizeof d->handling_agency, "%s",
                 mc_json_str(body, "to_agency", ""));
        json_object_set_new(details, "to_agency", json_string(d->handling_agency));
        d->assignee_sub[0] = '\0';
        d->step_index = in->n_steps > 0 ? 0 : -1;
    } else if (strcmp(action, "request_payment") == 0) {
        d->fee_amount = mc_json_int(body, "amount", 0);
        d->previous_status = from;
        deadline_pause(d, now);
        json_object_set_new(details, "amount", json_integer((json_int_t)d->fee_amount));
    } else if (strcmp(action, "confirm_payment") == 0) {
        d->previous_status = -1;
        if (!deadline_resume(d, &in->calendar, now, false))
            return MC_ERR_CATALOGUE_UNAVAILABLE;
    } else if (strcmp(action, "approve") == 0 || strcmp(action, "reject") == 0) {
        snprintf(d->outcome, sizeof d->outcome, "%s",
                 strcmp(action, "approve") == 0 ? "approved" : "rejected");
        json_decref(d->result);
        d->result = json_deep_copy(json_object_get(body, "result"));
        d->decided_at = now;
        json_object_set_new(details, "outcome", json_string(d->outcome));
        json_object_set_new(details, "on_time", json_boolean(d->due_at == 0 || now <= d->due_at));
    } else if (strcmp(action, "return_result") == 0) {
        d->returned_at = now;
        d->finished_at = now;
    } else if (strcmp(action, "request_withdrawal") == 0) {
        /* previous_status stays: a supplement request may be pending (from 5) */
        d->withdrawal_from_status = from;
    } else if (strcmp(action, "confirm_withdrawal") == 0) {
        snprintf(d->outcome, sizeof d->outcome, "withdrawn");
        d->finished_at = now;
        d->previous_status = -1;
        d->withdrawal_from_status = -1;
        clear_missing_items(d);
    } else if (strcmp(action, "decline_withdrawal") == 0) {
        /* back where it was; from 5 the supplement request (and its clock
           pause, its deadline, its missing items) is pending again */
        d->withdrawal_from_status = -1;
    } else if (strcmp(action, "stop") == 0) {
        snprintf(d->outcome, sizeof d->outcome, "stopped");
        d->finished_at = now;
        d->previous_status = -1;
        clear_missing_items(d);
    } else if (strcmp(action, "apologize") == 0) {
        int64_t when = 0;
        mc_rfc3339_parse(mc_json_str(body, "new_appointment_at", ""), &when);
        int64_t floor = d->appointment_at > now ? d->appointment_at : now;
        if (when <= floor)
            mc_errors_add(errors, "/new_appointment_at", "not_later",
                          "the new appointment must be later than the current one and than now");
        json_object_set_new(details, "previous_appointment_at", dossier_time_json(d->appointment_at));
        d->appointment_at = when;
        json_object_set_new(details, "new_appointment_at", dossier_time_json(when));
        json_object_set_new(details, "late", json_boolean(d->due_at != 0 && now > d->due_at));
    }
    d->status = to;
    return MC_OK;
}

/* v (a new reference), or null when v is NULL. */
static json_t *value_or_null(const json_t *v)
{
    return v != NULL ? json_incref((json_t *)v) : json_null();
}

/* The event payload: what consumers need without calling back; every member present,
   null when it has no value (README, API conventions). */
static json_t *event_data(const struct dossier *d, const char *action, int from, const char *role,
                          const json_t *body, const json_t *details, int64_t now)
{
    json_t *data = json_pack(
        "{ss so ss ss ss si ss ss ss si si ss ss so so so so ss}", "dossier_id", d->id, "code",
        d->code[0] != '\0' ? json_string(d->code) : json_null(), "agency_code", d->agency_code,
        "handling_agency", d->handling_agency, "procedure_code", d->procedure_code,
        "procedure_version", d->procedure_version, "sector_code", d->sector_code, "channel",
        d->channel, "action", action, "from_status", from, "to_status", d->status, "status_name",
        workflow_status_name(d->status), "actor_role", role, "due_at", dossier_time_json(d->due_at),
        "appointment_at", dossier_time_json(d->appointment_at), "submitted_at",
        dossier_time_json(d->submitted_at), "received_at", dossier_time_json(d->received_at),
        "occurred_at", "");
    json_object_set_new(data, "occurred_at", dossier_time_json(now));
    json_object_set_new(data, "transfer_chain", json_incref(d->transfer_chain));
    json_object_set_new(data, "outcome",
                        d->outcome[0] != '\0' ? json_string(d->outcome) : json_null());
    json_object_set_new(data, "reasons", value_or_null(json_object_get(body, "reasons")));
    json_object_set_new(data, "missing_items",
                        value_or_null(d->status == DS_SUPPLEMENT_REQUESTED ? d->missing_items : NULL));
    json_object_set_new(data, "fee_amount",
                        d->fee_amount >= 0 ? json_integer((json_int_t)d->fee_amount) : json_null());
    json_object_set_new(data, "details", value_or_null(json_object_size(details) > 0 ? details : NULL));
    return data;
}

mc_error transition_commit(mc_db_conn *conn, struct dossier *d, const struct workflow_transition *row,
                           const json_t *body, const struct action_inputs *in, int64_t now,
                           const struct transition_settings *settings,
                           const struct transition_actor *actor, json_t *errors)
{
    int from = d->status;
    long long expected = d->revision;
    int64_t appointment_before = d->appointment_at;
    json_t *details = json_object();
    mc_error rc = apply(d, row, body, in, now, settings->supplement_days, details, errors);
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
            .action = row->action,
            .from_status = from,
            .to_status = d->status,
            .reasons = json_object_get(body, "reasons"),
            .note = mc_json_str(body, "note", NULL),
            .documents = json_object_get(body, "documents"),
            .details = json_object_size(details) > 0 ? details : NULL,
        };
        rc = store_history_add(conn, &h);
    }
    if (rc == MC_OK) {
        json_t *data = event_data(d, row->action, from, actor->role, body, details, now);
        char subject[64];
        snprintf(subject, sizeof subject, "dossiers/%s", d->id);
        rc = mc_event_add(conn, row->event, subject, data, NULL);
        json_decref(data);
    }
    json_decref(details);
    return rc;
}

mc_error transition_event(mc_db_conn *conn, const struct dossier *d, const char *type,
                          const char *action, const char *role, const json_t *details, int64_t now)
{
    json_t *data = event_data(d, action, d->status, role, NULL, details, now);
    char subject[64];
    snprintf(subject, sizeof subject, "dossiers/%s", d->id);
    mc_error rc = mc_event_add(conn, type, subject, data, NULL);
    json_decref(data);
    return rc;
}
