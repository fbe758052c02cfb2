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
 */
#include "workflow.h"

#include <string.h>

#define S(x) (1u << (x))
#define STAFF_PROCESSING (ACTOR_OFFICER | ACTOR_APPROVER | ACTOR_AGENCY_ADMIN)
#define EV(x) "dossier.dossier." x

const struct workflow_transition workflow_table[] = {
    {"submit", S(DS_DRAFT), DS_SUBMITTED, ACTOR_OWNER | ACTOR_COUNTER, 0, EV("submitted")},
    {"receive", S(DS_SUBMITTED), DS_RECEIVED, ACTOR_OFFICER | ACTOR_AGENCY_ADMIN, 0, EV("received")},
    {"refuse", S(DS_SUBMITTED), DS_REFUSED, ACTOR_OFFICER | ACTOR_AGENCY_ADMIN, NEED_REASONS,
     EV("refused")},
    {"request_supplement", S(DS_SUBMITTED) | S(DS_RECEIVED) | S(DS_PROCESSING),
     DS_SUPPLEMENT_REQUESTED, STAFF_PROCESSING, NEED_MISSING_ITEMS, EV("supplement_requested")},
    {"supplement", S(DS_SUPPLEMENT_REQUESTED), WF_TO_PREVIOUS, ACTOR_OWNER | ACTOR_COUNTER, 0,
     EV("supplement_provided")},
    {"assign", S(DS_RECEIVED) | S(DS_PROCESSING), DS_PROCESSING, STAFF_PROCESSING, NEED_ASSIGNEE,
     EV("step_changed")},
    {"forward", S(DS_RECEIVED) | S(DS_PROCESSING), DS_PROCESSING, STAFF_PROCESSING, 0,
     EV("step_changed")},
    {"return_step", S(DS_PROCESSING), DS_PROCESSING, STAFF_PROCESSING, NEED_REASONS,
     EV("step_changed")},
    {"transfer", S(DS_RECEIVED) | S(DS_PROCESSING), DS_PROCESSING,
     ACTOR_OFFICER | ACTOR_APPROVER | ACTOR_AGENCY_ADMIN, NEED_AGENCY | NEED_REASONS,
     EV("transferred")},
    {"request_payment", S(DS_RECEIVED) | S(DS_PROCESSING), DS_AWAITING_PAYMENT, STAFF_PROCESSING,
     NEED_AMOUNT, EV("payment_requested")},
    {"confirm_payment", S(DS_AWAITING_PAYMENT), DS_PROCESSING,
     ACTOR_OFFICER | ACTOR_AGENCY_ADMIN | ACTOR_SERVICE, 0, EV("payment_confirmed")},
    {"approve", S(DS_PROCESSING), DS_RESULT_READY, ACTOR_APPROVER, NEED_RESULT, EV("approved")},
    {"reject", S(DS_PROCESSING), DS_RESULT_READY, ACTOR_APPROVER, NEED_REASONS | NEED_RESULT,
     EV("rejected")},
    {"return_result", S(DS_RESULT_READY), DS_RESULT_RETURNED, ACTOR_OFFICER | ACTOR_AGENCY_ADMIN, 0,
     EV("result_returned")},
    {"request_withdrawal",
     S(DS_SUBMITTED) | S(DS_RECEIVED) | S(DS_PROCESSING) | S(DS_SUPPLEMENT_REQUESTED) |
         S(DS_AWAITING_PAYMENT),
     DS_WITHDRAWAL_REQUESTED, ACTOR_OWNER | ACTOR_COUNTER, NEED_REASONS, EV("withdrawal_requested")},
    {"confirm_withdrawal", S(DS_WITHDRAWAL_REQUESTED), DS_STOPPED,
     ACTOR_OFFICER | ACTOR_AGENCY_ADMIN, 0, EV("withdrawn")},
    {"decline_withdrawal", S(DS_WITHDRAWAL_REQUESTED), WF_TO_WITHDRAWAL_ORIGIN,
     ACTOR_OFFICER | ACTOR_AGENCY_ADMIN, NEED_REASONS, EV("withdrawal_declined")},
    {"stop", S(DS_RECEIVED) | S(DS_PROCESSING) | S(DS_SUPPLEMENT_REQUESTED) | S(DS_AWAITING_PAYMENT),
     DS_STOPPED, ACTOR_OFFICER | ACTOR_AGENCY_ADMIN | ACTOR_SYSTEM, NEED_REASONS, EV("stopped")},
    {"apologize", S(DS_RECEIVED) | S(DS_PROCESSING) | S(DS_SUPPLEMENT_REQUESTED) | S(DS_AWAITING_PAYMENT),
     WF_TO_SAME, ACTOR_OFFICER | ACTOR_APPROVER | ACTOR_AGENCY_ADMIN, NEED_REASONS | NEED_APPOINTMENT,
     EV("apology_issued")},
};

const size_t workflow_table_count = sizeof workflow_table / sizeof workflow_table[0];

static const char *const status_names[DS_COUNT] = {
    "draft",      "submitted", "received",             "refused",
    "processing", "supplement_requested", "awaiting_payment", "withdrawal_requested",
    "stopped",    "result_ready", "result_returned",
};

const char *workflow_status_name(int status)
{
    return status >= 0 && status < DS_COUNT ? status_names[status] : NULL;
}

bool workflow_status_is_open(int status)
{
    return status == DS_RECEIVED || status == DS_PROCESSING || status == DS_SUPPLEMENT_REQUESTED ||
           status == DS_AWAITING_PAYMENT || status == DS_WITHDRAWAL_REQUESTED;
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
        if ((workflow_table[i].from & (1u << status)) != 0 && (workflow_table[i].actors & actors) != 0)
            out[n++] = workflow_table[i].action;
    return n;
}
