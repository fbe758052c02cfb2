/*
 * The effect of each action on a dossier (actions.h), in the order of
 * workflow.c's table. Adding an action: a row in the table and its function
 * here (docs/services/dossier.md, "Adding an action").
 */
#include "actions.h"

#include <stdio.h>
#include <string.h>

#include "deadlines.h"
#include "dossier_event.h"
#include "fees.h"
#include "motcua/calendar.h"
#include "motcua/json_spec.h"

/* The supplement request is no longer pending: nothing is missing any more
   (the list stays in the request_supplement history row). */
static void clear_missing_items(struct dossier *d)
{
    json_decref(d->missing_items);
    d->missing_items = NULL;
}

/* The dossier is finished with this outcome. */
static void finish(struct dossier *d, const char *outcome, int64_t now)
{
    snprintf(d->outcome, sizeof d->outcome, "%s", outcome);
    d->finished_at = now;
}

/* The submission of a dossier whose fees are paid first: the demand is the
   channel's fees in force (gathered before the transaction, fees.h); the
   dossier is submitted when they are paid (confirm_submission_payment). */
mc_error action_submit_pay_first(struct dossier *d, const struct action_args *a, json_t *details,
                                 json_t *errors)
{
    d->fee_amount = a->in->pay_first_amount;
    d->submitted_at = 0;
    json_object_set_new(details, "amount", json_integer((json_int_t)d->fee_amount));
    json_object_set_new(details, "fee_items", json_deep_copy(a->in->pay_first_items));
    return MC_OK;
}

/* The payment of a confirmation (payment_id, provider, amount, paid_at) into
   the history's details: what makes a repeated confirmation recognisable. */
static void payment_details(json_t *details, const struct action_body *b)
{
    json_object_set_new(details, "payment_id", json_string(b->payment_id));
    json_object_set_new(details, "provider", json_string(b->provider));
    json_object_set_new(details, "amount", json_integer((json_int_t)b->amount));
    json_object_set_new(details, "paid_at", json_string(b->paid_at));
}

/* A payment must pay the whole demand. */
static bool amount_matches(const struct dossier *d, const struct action_body *b, json_t *errors)
{
    if (b->amount == d->fee_amount)
        return true;
    char message[120];
    snprintf(message, sizeof message, "the dossier's fee demand is %lld VND", d->fee_amount);
    mc_errors_add(errors, "/amount", "mismatch", message);
    return false;
}

/* The fee paid first: the dossier is submitted at the payment time. Also
   from a draft it expired or was cancelled to (a payment that succeeded
   late still submits it); a draft never submitted to pay first has nothing
   to confirm. */
mc_error action_confirm_submission_payment(struct dossier *d, const struct action_args *a,
                                           json_t *details, json_t *errors)
{
    if (d->code[0] == '\0' || d->fee_amount < 0) {
        mc_errors_add(errors, "/payment_id", "not_awaiting",
                      "this dossier was never submitted to pay its fee first");
        return MC_OK;
    }
    if (!amount_matches(d, a->body, errors))
        return MC_OK;
    int64_t paid_at = 0;
    if (mc_rfc3339_parse(a->body->paid_at, &paid_at) != 0)
        return MC_ERR_VALIDATION; /* checked with the body (check_needs) */
    d->submitted_at = paid_at;
    payment_details(details, a->body);
    return MC_OK;
}

/* Pay first given up (by the applicant) or expired (the watcher): a draft
   again, keeping its code and fee demand for a late payment or a resubmission. */
mc_error action_back_to_draft(struct dossier *d, const struct action_args *a, json_t *details,
                              json_t *errors)
{
    json_object_set_new(details, "amount", json_integer((json_int_t)d->fee_amount));
    return MC_OK;
}

mc_error action_receive(struct dossier *d, const struct action_args *a, json_t *details,
                        json_t *errors)
{
    d->received_at = a->now;
    if (!deadline_start(d, &a->in->calendar, a->now))
        return MC_ERR_CATALOGUE_UNAVAILABLE;
    d->step_index = a->in->n_steps > 0 ? 0 : -1;
    return MC_OK;
}

mc_error action_refuse(struct dossier *d, const struct action_args *a, json_t *details,
                       json_t *errors)
{
    finish(d, "refused", a->now);
    return MC_OK;
}

mc_error action_request_supplement(struct dossier *d, const struct action_args *a, json_t *details,
                                   json_t *errors)
{
    json_decref(d->missing_items);
    d->missing_items = json_deep_copy(a->body->missing_items);
    d->previous_status = d->status;
    json_object_set(details, "missing_items", d->missing_items);
    unsigned days = a->body->deadline_working_days > 0 ? (unsigned)a->body->deadline_working_days
                                                       : a->supplement_days;
    d->supplement_due_at = deadline_supplement_due(&a->in->calendar, a->now, days);
    if (d->supplement_due_at == 0)
        return MC_ERR_CATALOGUE_UNAVAILABLE;
    deadline_pause(d, a->now);
    json_object_set_new(details, "supplement_due_at", dossier_time_json(d->supplement_due_at));
    return MC_OK;
}

mc_error action_supplement(struct dossier *d, const struct action_args *a, json_t *details,
                           json_t *errors)
{
    d->previous_status = -1;
    d->supplement_due_at = 0;
    clear_missing_items(d);
    if (!deadline_resume(d, &a->in->calendar, a->now, strcmp(d->supplement_clock, "restart") == 0))
        return MC_ERR_CATALOGUE_UNAVAILABLE;
    json_object_set_new(details, "supplement_clock", json_string(d->supplement_clock));
    return MC_OK;
}

mc_error action_assign(struct dossier *d, const struct action_args *a, json_t *details,
                       json_t *errors)
{
    snprintf(d->assignee_sub, sizeof d->assignee_sub, "%s", a->body->assignee);
    json_object_set_new(details, "assignee", json_string(d->assignee_sub));
    return MC_OK;
}

/* Forward or return to another processing step (to_step, by default the
   next or the previous one), maybe assigning it. */
static mc_error move_step(struct dossier *d, const struct action_args *a, bool forward,
                          json_t *details, json_t *errors)
{
    int current = d->step_index < 0 ? 0 : d->step_index;
    int step = forward ? current + 1 : current - 1;
    if (a->body->to_step >= 0)
        step = (int)a->body->to_step;
    else if (forward && d->status == DS_RECEIVED)
        step = current; /* receiving moves into the first step */
    int n_steps = a->in->n_steps;
    if (n_steps == 0 && step != 0)
        mc_errors_add(errors, "/to_step", "no_steps", "this case has no internal steps");
    else if (step < 0 || (n_steps > 0 && step >= n_steps))
        mc_errors_add(errors, "/to_step", "out_of_range",
                      forward ? "there is no next step: approve or reject instead"
                              : "there is no previous step");
    else if (forward ? step < current : step >= current)
        mc_errors_add(errors, "/to_step", forward ? "not_forward" : "not_backward",
                      forward ? "forward moves to a later step"
                              : "return moves to an earlier step");
    d->step_index = step;
    snprintf(d->assignee_sub, sizeof d->assignee_sub, "%s",
             a->body->assignee != NULL ? a->body->assignee : "");
    json_object_set_new(details, "step_index", json_integer(step));
    json_object_set_new(details, "from_step", json_integer(current));
    return MC_OK;
}

mc_error action_forward(struct dossier *d, const struct action_args *a, json_t *details,
                        json_t *errors)
{
    return move_step(d, a, true, details, errors);
}

mc_error action_return_step(struct dossier *d, const struct action_args *a, json_t *details,
                            json_t *errors)
{
    return move_step(d, a, false, details, errors);
}

mc_error action_transfer(struct dossier *d, const struct action_args *a, json_t *details,
                         json_t *errors)
{
    json_array_append_new(d->transfer_chain, json_string(d->handling_agency));
    json_object_set_new(details, "from_agency", json_string(d->handling_agency));
    snprintf(d->handling_agency, sizeof d->handling_agency, "%s", a->body->to_agency);
    json_object_set_new(details, "to_agency", json_string(d->handling_agency));
    d->assignee_sub[0] = '\0';
    d->step_index = a->in->n_steps > 0 ? 0 : -1;
    return MC_OK;
}

mc_error action_request_payment(struct dossier *d, const struct action_args *a, json_t *details,
                                json_t *errors)
{
    long long total = 0;
    if (a->body->fee_items != NULL &&
        (!dossier_fee_items_total(a->body->fee_items, &total) || total != a->body->amount)) {
        mc_errors_add(errors, "/fee_items", "total", "the items' amounts must add up to amount");
        return MC_OK;
    }
    d->fee_amount = a->body->amount;
    d->previous_status = d->status;
    deadline_pause(d, a->now);
    json_object_set_new(details, "amount", json_integer((json_int_t)d->fee_amount));
    json_object_set_new(details, "fee_items", dossier_fee_items(a->body->fee_items, d->fee_amount));
    return MC_OK;
}

mc_error action_confirm_payment(struct dossier *d, const struct action_args *a, json_t *details,
                                json_t *errors)
{
    /* a payment client's confirmation names its payment (an officer's need not) */
    if (a->body->payment_id != NULL) {
        if (!amount_matches(d, a->body, errors))
            return MC_OK;
        payment_details(details, a->body);
    }
    d->previous_status = -1;
    if (!deadline_resume(d, &a->in->calendar, a->now, false))
        return MC_ERR_CATALOGUE_UNAVAILABLE;
    return MC_OK;
}

/* The approver's decision and the result it gives. */
static mc_error decide(struct dossier *d, const struct action_args *a, const char *outcome,
                       json_t *details)
{
    snprintf(d->outcome, sizeof d->outcome, "%s", outcome);
    json_decref(d->result);
    d->result = json_deep_copy(a->body->result);
    d->decided_at = a->now;
    json_object_set_new(details, "outcome", json_string(d->outcome));
    json_object_set_new(details, "on_time", json_boolean(d->due_at == 0 || a->now <= d->due_at));
    return MC_OK;
}

mc_error action_approve(struct dossier *d, const struct action_args *a, json_t *details,
                        json_t *errors)
{
    return decide(d, a, "approved", details);
}

mc_error action_reject(struct dossier *d, const struct action_args *a, json_t *details,
                       json_t *errors)
{
    return decide(d, a, "rejected", details);
}

mc_error action_return_result(struct dossier *d, const struct action_args *a, json_t *details,
                              json_t *errors)
{
    d->returned_at = a->now;
    d->finished_at = a->now;
    return MC_OK;
}

mc_error action_request_withdrawal(struct dossier *d, const struct action_args *a, json_t *details,
                                   json_t *errors)
{
    /* previous_status stays: a supplement request may be pending (from 5) */
    d->withdrawal_from_status = d->status;
    return MC_OK;
}

mc_error action_confirm_withdrawal(struct dossier *d, const struct action_args *a, json_t *details,
                                   json_t *errors)
{
    finish(d, "withdrawn", a->now);
    d->previous_status = -1;
    d->withdrawal_from_status = -1;
    clear_missing_items(d);
    return MC_OK;
}

mc_error action_decline_withdrawal(struct dossier *d, const struct action_args *a, json_t *details,
                                   json_t *errors)
{
    /* back where it was; from 5 the supplement request (and its clock
       pause, its deadline, its missing items) is pending again */
    d->withdrawal_from_status = -1;
    return MC_OK;
}

mc_error action_stop(struct dossier *d, const struct action_args *a, json_t *details,
                     json_t *errors)
{
    finish(d, "stopped", a->now);
    d->previous_status = -1;
    clear_missing_items(d);
    return MC_OK;
}

mc_error action_apologize(struct dossier *d, const struct action_args *a, json_t *details,
                          json_t *errors)
{
    int64_t when = 0;
    if (a->body->new_appointment_at != NULL)
        mc_rfc3339_parse(a->body->new_appointment_at, &when);
    int64_t floor = d->appointment_at > a->now ? d->appointment_at : a->now;
    if (when <= floor)
        mc_errors_add(errors, "/new_appointment_at", "not_later",
                      "the new appointment must be later than the current one and than now");
    json_object_set_new(details, "previous_appointment_at", dossier_time_json(d->appointment_at));
    d->appointment_at = when;
    json_object_set_new(details, "new_appointment_at", dossier_time_json(when));
    json_object_set_new(details, "late", json_boolean(d->due_at != 0 && a->now > d->due_at));
    return MC_OK;
}
