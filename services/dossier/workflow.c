/*
 * The transition table (workflow.h). Reading it top to bottom is reading the
 * lifecycle of DOMAIN.md §3:
 *
 *   draft -submit-> 1 -receive-> 2 -assign/forward-> 4 -approve/reject-> 9 -return_result-> 10
 *                   1 -refuse-> 3
 *       1,2,4 -request_supplement-> 5 -supplement-> (back)     (5 past its deadline -stop-> 8)
 *         2,4 -request_payment-> 6 -confirm_payment-> 4
 *   1,2,4,5,6 -request_withdrawal-> 7 -confirm_withdrawal-> 8 | -decline_withdrawal-> (back)
 *     2,4,5,6 -stop-> 8;  2,4,5,6 -apologize-> (same, new appointment)
 *
 * Pay first (the channel's fees collected before submission):
 *   draft -submit-> 11 -confirm_submission_payment-> 1     (also from a draft it expired to)
 *            11 -cancel_submission_payment | expire_submission_payment-> draft
 */
#include "workflow.h"

#include "actions.h"

#include <string.h>

#define S(x) (1u << (x))
#define STAFF_PROCESSING (ACTOR_OFFICER | ACTOR_APPROVER | ACTOR_AGENCY_ADMIN)
#define EV(x) "dossier.dossier." x

/* clang-format off */
const struct workflow_transition workflow_table[] = {
    {"submit", S(DS_DRAFT), DS_SUBMITTED, ACTOR_OWNER | ACTOR_COUNTER, 0, EV("submitted"),
     NULL, WF_SUBMISSION | WF_USES_PROCEDURE},
    {"submit_pay_first", S(DS_DRAFT), DS_AWAITING_SUBMISSION_PAYMENT, ACTOR_OWNER | ACTOR_COUNTER,
     0, EV("submission_payment_required"), action_submit_pay_first,
     WF_SUBMISSION | WF_USES_PROCEDURE | WF_PAY_FIRST},
    {"confirm_submission_payment", S(DS_AWAITING_SUBMISSION_PAYMENT) | S(DS_DRAFT), DS_SUBMITTED,
     ACTOR_SERVICE, NEED_PAYMENT, EV("submitted"), action_confirm_submission_payment,
     WF_PAYMENT_CONFIRMATION},
    {"cancel_submission_payment", S(DS_AWAITING_SUBMISSION_PAYMENT), DS_DRAFT,
     ACTOR_OWNER | ACTOR_COUNTER, 0, EV("submission_payment_cancelled"),
     action_back_to_draft, 0},
    {"expire_submission_payment", S(DS_AWAITING_SUBMISSION_PAYMENT), DS_DRAFT, ACTOR_SYSTEM, 0,
     EV("submission_payment_expired"), action_back_to_draft, 0},
    {"receive", S(DS_SUBMITTED), DS_RECEIVED, ACTOR_OFFICER | ACTOR_AGENCY_ADMIN, 0, EV("received"),
     action_receive, WF_USES_CALENDAR | WF_USES_PROCEDURE},
    {"refuse", S(DS_SUBMITTED), DS_REFUSED, ACTOR_OFFICER | ACTOR_AGENCY_ADMIN, NEED_REASONS,
     EV("refused"), action_refuse, 0},
    {"request_supplement", S(DS_SUBMITTED) | S(DS_RECEIVED) | S(DS_PROCESSING),
     DS_SUPPLEMENT_REQUESTED, STAFF_PROCESSING, NEED_MISSING_ITEMS, EV("supplement_requested"),
     action_request_supplement, WF_USES_CALENDAR},
    {"supplement", S(DS_SUPPLEMENT_REQUESTED), WF_TO_PREVIOUS, ACTOR_OWNER | ACTOR_COUNTER, 0,
     EV("supplement_provided"), action_supplement, WF_USES_CALENDAR},
    {"assign", S(DS_RECEIVED) | S(DS_PROCESSING), DS_PROCESSING, STAFF_PROCESSING, NEED_ASSIGNEE,
     EV("step_changed"), action_assign, 0},
    {"forward", S(DS_RECEIVED) | S(DS_PROCESSING), DS_PROCESSING, STAFF_PROCESSING, 0,
     EV("step_changed"), action_forward, WF_USES_PROCEDURE},
    {"return_step", S(DS_PROCESSING), DS_PROCESSING, STAFF_PROCESSING, NEED_REASONS,
     EV("step_changed"), action_return_step, WF_USES_PROCEDURE},
    {"transfer", S(DS_RECEIVED) | S(DS_PROCESSING), DS_PROCESSING,
     ACTOR_OFFICER | ACTOR_APPROVER | ACTOR_AGENCY_ADMIN, NEED_AGENCY | NEED_REASONS,
     EV("transferred"), action_transfer, WF_CHECKS_TRANSFER_TARGET | WF_USES_PROCEDURE},
    {"request_payment", S(DS_RECEIVED) | S(DS_PROCESSING), DS_AWAITING_PAYMENT, STAFF_PROCESSING,
     NEED_AMOUNT, EV("payment_requested"), action_request_payment, 0},
    {"confirm_payment", S(DS_AWAITING_PAYMENT), DS_PROCESSING,
     ACTOR_OFFICER | ACTOR_AGENCY_ADMIN | ACTOR_SERVICE, 0, EV("payment_confirmed"),
     action_confirm_payment, WF_USES_CALENDAR | WF_PAYMENT_CONFIRMATION},
    {"approve", S(DS_PROCESSING), DS_RESULT_READY, ACTOR_APPROVER, NEED_RESULT, EV("approved"),
     action_approve, 0},
    {"reject", S(DS_PROCESSING), DS_RESULT_READY, ACTOR_APPROVER, NEED_REASONS | NEED_RESULT,
     EV("rejected"), action_reject, 0},
    {"return_result", S(DS_RESULT_READY), DS_RESULT_RETURNED, ACTOR_OFFICER | ACTOR_AGENCY_ADMIN, 0,
     EV("result_returned"), action_return_result, 0},
    {"request_withdrawal",
     S(DS_SUBMITTED) | S(DS_RECEIVED) | S(DS_PROCESSING) | S(DS_SUPPLEMENT_REQUESTED) |
         S(DS_AWAITING_PAYMENT),
     DS_WITHDRAWAL_REQUESTED, ACTOR_OWNER | ACTOR_COUNTER, NEED_REASONS, EV("withdrawal_requested"),
     action_request_withdrawal, 0},
    {"confirm_withdrawal", S(DS_WITHDRAWAL_REQUESTED), DS_STOPPED,
     ACTOR_OFFICER | ACTOR_AGENCY_ADMIN, 0, EV("withdrawn"), action_confirm_withdrawal, 0},
    {"decline_withdrawal", S(DS_WITHDRAWAL_REQUESTED), WF_TO_WITHDRAWAL_ORIGIN,
     ACTOR_OFFICER | ACTOR_AGENCY_ADMIN, NEED_REASONS, EV("withdrawal_declined"),
     action_decline_withdrawal, 0},
    {"stop", S(DS_RECEIVED) | S(DS_PROCESSING) | S(DS_SUPPLEMENT_REQUESTED) | S(DS_AWAITING_PAYMENT),
     DS_STOPPED, ACTOR_OFFICER | ACTOR_AGENCY_ADMIN | ACTOR_SYSTEM, NEED_REASONS, EV("stopped"),
     action_stop, 0},
    {"apologize", S(DS_RECEIVED) | S(DS_PROCESSING) | S(DS_SUPPLEMENT_REQUESTED) | S(DS_AWAITING_PAYMENT),
     WF_TO_SAME, ACTOR_OFFICER | ACTOR_APPROVER | ACTOR_AGENCY_ADMIN, NEED_REASONS | NEED_APPOINTMENT,
     EV("apology_issued"), action_apologize, 0},
};
/* clang-format on */

const size_t workflow_table_count = sizeof workflow_table / sizeof workflow_table[0];

/* Each status: its name, whether it is open (received, not finished: the
   legal clock runs or is paused) and whether the watcher watches its
   appointment (open with the clock running). WF_OPEN_STATUSES_SQL and
   WF_WATCHED_STATUSES_SQL (workflow.h) must list the same sets: a unit test
   checks they do. */
static const struct {
    const char *name;
    bool open, watched;
} statuses[DS_COUNT] = {
    [DS_DRAFT] = {"draft", false, false},
    [DS_SUBMITTED] = {"submitted", false, false},
    [DS_RECEIVED] = {"received", true, true},
    [DS_REFUSED] = {"refused", false, false},
    [DS_PROCESSING] = {"processing", true, true},
    [DS_SUPPLEMENT_REQUESTED] = {"supplement_requested", true, false},
    [DS_AWAITING_PAYMENT] = {"awaiting_payment", true, true},
    [DS_WITHDRAWAL_REQUESTED] = {"withdrawal_requested", true, false},
    [DS_STOPPED] = {"stopped", false, false},
    [DS_RESULT_READY] = {"result_ready", false, false},
    [DS_RESULT_RETURNED] = {"result_returned", false, false},
    [DS_AWAITING_SUBMISSION_PAYMENT] = {"awaiting_submission_payment", false, false},
};

const char *workflow_status_name(int status)
{
    return status >= 0 && status < DS_COUNT ? statuses[status].name : NULL;
}

bool workflow_status_is_open(int status)
{
    return status >= 0 && status < DS_COUNT && statuses[status].open;
}

bool workflow_status_is_watched(int status)
{
    return status >= 0 && status < DS_COUNT && statuses[status].watched;
}

const struct workflow_transition *workflow_find(const char *action)
{
    if (action == NULL)
        return NULL;
    for (size_t i = 0; i < workflow_table_count; i++)
        if (strcmp(workflow_table[i].action, action) == 0)
            return &workflow_table[i];
    return NULL;
}

enum workflow_verdict workflow_check(const char *action, int status, unsigned actors,
                                     const struct workflow_transition **row)
{
    const struct workflow_transition *t = workflow_find(action);
    if (row != NULL)
        *row = t;
    if (t == NULL)
        return WF_UNKNOWN_ACTION;
    if ((t->actors & actors) == 0)
        return WF_ACTOR_FORBIDDEN;
    if (status < 0 || status >= DS_COUNT || (t->from & (1u << status)) == 0)
        return WF_NOT_FROM_STATUS;
    return WF_OK;
}

int workflow_target(const struct workflow_transition *row, int status, int previous_status,
                    int withdrawal_from_status)
{
    if (row->to == WF_TO_SAME)
        return status;
    if (row->to == WF_TO_PREVIOUS)
        return previous_status;
    if (row->to == WF_TO_WITHDRAWAL_ORIGIN)
        return withdrawal_from_status;
    return row->to;
}

size_t workflow_allowed(int status, unsigned actors, const char **out, size_t cap)
{
    size_t n = 0;
    if (status < 0 || status >= DS_COUNT)
        return 0;
    for (size_t i = 0; i < workflow_table_count && n < cap; i++)
        if ((workflow_table[i].from & (1u << status)) != 0 && (workflow_table[i].actors & actors) != 0 &&
            (workflow_table[i].uses & WF_PAY_FIRST) == 0)
            out[n++] = workflow_table[i].action;
    return n;
}
