/*
 * What each action of workflow.c's table does to a dossier: one effect
 * function per row (workflow_transition.effect). Pure: an effect changes the
 * struct dossier in memory, from the action's body and from what was gathered
 * before the transaction (the calendar, the case's steps); transition.c then
 * saves the row, the history and the event. A problem only the current
 * dossier reveals (a step out of range, an appointment not later than the
 * current one) goes to `errors`.
 */
#ifndef DOSSIER_ACTIONS_H
#define DOSSIER_ACTIONS_H

#include <jansson.h>
#include <stdint.h>

#include "dossier.h"
#include "motcua/calendar.h"
#include "motcua/catalogue_client.h"
#include "motcua/error.h"
#include "workflow.h"

/* The body of an action, bound by handle_actions.c's field table (strings
   and JSON values borrowed from the request body). ACTION_BODY_INIT gives
   the "not given" value of each member. */
struct action_body {
    const json_t *reasons;           /* a list of sentences, or NULL */
    const char *note;
    const json_t *missing_items;     /* a list of sentences, or NULL */
    long long deadline_working_days; /* 0: the service's default (SUPPLEMENT_WORKING_DAYS) */
    const char *assignee;
    long long to_step;               /* -1: the next (forward) or previous (return_step) step */
    const char *to_agency;
    long long amount;                /* VND; -1: not given */
    const json_t *result;            /* {summary, number?, document_id?}, or NULL */
    const char *result_document_id;  /* result.document_id */
    const char *new_appointment_at;  /* RFC 3339 */
    const json_t *documents;         /* ids of the files the action cites, or NULL */
    const json_t *fee_items;         /* request_payment: [{code, name, amount}], or NULL */
    /* a payment client's confirmation (NEED_PAYMENT) */
    const char *payment_id;          /* uuid of the payment */
    const char *paid_at;             /* RFC 3339 */
    const char *provider;            /* vnpay, national_platform */
};
#define ACTION_BODY_INIT {.to_step = -1, .amount = -1}

/* What an action needs from outside the database, gathered before the
   transaction (the catalogue is a network call). */
struct action_inputs {
    mc_calendar calendar;      /* the handling agency's, when the row has WF_USES_CALENDAR */
    bool has_calendar;
    int n_steps;               /* processing steps of the case (WF_USES_PROCEDURE) */
    const mc_catalogue_doc *procedure; /* the filed version (WF_USES_PROCEDURE), else NULL; a reference */
    long long pay_first_amount;        /* a submission paid first (fees.h): the total, VND */
    json_t *pay_first_items;           /* ... and its fee items (owned), else NULL */
};

/* What an effect works from (workflow_effect_fn). */
struct action_args {
    const struct action_body *body;
    const struct action_inputs *in;
    int64_t now;
    unsigned supplement_days;  /* default time to supplement, working days */
};

/* The effects of the table's rows (workflow_effect_fn), one per action:
   action_receive() ... in the order of the table. */
#define ACTION_EFFECT(name)                                                                        \
    mc_error action_##name(struct dossier *d, const struct action_args *a, json_t *details,        \
                           json_t *errors)
ACTION_EFFECT(submit_pay_first);
ACTION_EFFECT(confirm_submission_payment);
ACTION_EFFECT(back_to_draft);
ACTION_EFFECT(receive);
ACTION_EFFECT(refuse);
ACTION_EFFECT(request_supplement);
ACTION_EFFECT(supplement);
ACTION_EFFECT(assign);
ACTION_EFFECT(forward);
ACTION_EFFECT(return_step);
ACTION_EFFECT(transfer);
ACTION_EFFECT(request_payment);
ACTION_EFFECT(confirm_payment);
ACTION_EFFECT(approve);
ACTION_EFFECT(reject);
ACTION_EFFECT(return_result);
ACTION_EFFECT(request_withdrawal);
ACTION_EFFECT(confirm_withdrawal);
ACTION_EFFECT(decline_withdrawal);
ACTION_EFFECT(stop);
ACTION_EFFECT(apologize);

#endif
