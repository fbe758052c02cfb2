/*
 * Unit tests of the dossier service's pure logic: the transition table
 * (services/dossier/workflow.c), dossier codes (dossier_code.c) and the
 * clock of a dossier (deadlines.c).
 *
 * The transition table is checked exhaustively against an expected table
 * written out here from DOMAIN.md §3: every action x every status x every
 * actor kind is allowed exactly when the expected table says so. Deadlines
 * are checked against dates computed by hand on a calendar with the
 * 30 April / 1 May 2025 holidays.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "actions.h"
#include "deadlines.h"
#include "dossier.h"
#include "dossier_code.h"
#include "dossier_event.h"
#include "fees.h"
#include "motcua/calendar.h"
#include "workflow.h"

/* ---- the expected transition table ---- */

#define BIT(s) (1u << (s))
#define ALL_ACTORS                                                                                 \
    (ACTOR_OWNER | ACTOR_COUNTER | ACTOR_OFFICER | ACTOR_APPROVER | ACTOR_AGENCY_ADMIN |           \
     ACTOR_SYSTEM | ACTOR_SERVICE)
#define N_ACTOR_KINDS 7
#define STAFF (ACTOR_OFFICER | ACTOR_APPROVER | ACTOR_AGENCY_ADMIN)
#define CITIZEN (ACTOR_OWNER | ACTOR_COUNTER)
#define INTAKE (ACTOR_OFFICER | ACTOR_AGENCY_ADMIN)

struct expected_row {
    const char *action;
    unsigned from; /* status bits */
    int to;
    unsigned actors;
    const char *event;
};

static const struct expected_row expected[] = {
    {"submit", BIT(DS_DRAFT), DS_SUBMITTED, CITIZEN, "dossier.dossier.submitted"},
    {"submit_pay_first", BIT(DS_DRAFT), DS_AWAITING_SUBMISSION_PAYMENT, CITIZEN,
     "dossier.dossier.submission_payment_required"},
    {"confirm_submission_payment", BIT(DS_AWAITING_SUBMISSION_PAYMENT) | BIT(DS_DRAFT),
     DS_SUBMITTED, ACTOR_SERVICE, "dossier.dossier.submitted"},
    {"cancel_submission_payment", BIT(DS_AWAITING_SUBMISSION_PAYMENT), DS_DRAFT, CITIZEN,
     "dossier.dossier.submission_payment_cancelled"},
    {"expire_submission_payment", BIT(DS_AWAITING_SUBMISSION_PAYMENT), DS_DRAFT, ACTOR_SYSTEM,
     "dossier.dossier.submission_payment_expired"},
    {"receive", BIT(DS_SUBMITTED), DS_RECEIVED, INTAKE, "dossier.dossier.received"},
    {"refuse", BIT(DS_SUBMITTED), DS_REFUSED, INTAKE, "dossier.dossier.refused"},
    {"request_supplement", BIT(DS_SUBMITTED) | BIT(DS_RECEIVED) | BIT(DS_PROCESSING),
     DS_SUPPLEMENT_REQUESTED, STAFF, "dossier.dossier.supplement_requested"},
    {"supplement", BIT(DS_SUPPLEMENT_REQUESTED), WF_TO_PREVIOUS, CITIZEN,
     "dossier.dossier.supplement_provided"},
    {"assign", BIT(DS_RECEIVED) | BIT(DS_PROCESSING), DS_PROCESSING, STAFF,
     "dossier.dossier.step_changed"},
    {"forward", BIT(DS_RECEIVED) | BIT(DS_PROCESSING), DS_PROCESSING, STAFF,
     "dossier.dossier.step_changed"},
    {"return_step", BIT(DS_PROCESSING), DS_PROCESSING, STAFF, "dossier.dossier.step_changed"},
    {"transfer", BIT(DS_RECEIVED) | BIT(DS_PROCESSING), DS_PROCESSING, STAFF,
     "dossier.dossier.transferred"},
    {"request_payment", BIT(DS_RECEIVED) | BIT(DS_PROCESSING), DS_AWAITING_PAYMENT, STAFF,
     "dossier.dossier.payment_requested"},
    {"confirm_payment", BIT(DS_AWAITING_PAYMENT), DS_PROCESSING, INTAKE | ACTOR_SERVICE,
     "dossier.dossier.payment_confirmed"},
    {"approve", BIT(DS_PROCESSING), DS_RESULT_READY, ACTOR_APPROVER, "dossier.dossier.approved"},
    {"reject", BIT(DS_PROCESSING), DS_RESULT_READY, ACTOR_APPROVER, "dossier.dossier.rejected"},
    {"return_result", BIT(DS_RESULT_READY), DS_RESULT_RETURNED, INTAKE,
     "dossier.dossier.result_returned"},
    {"request_withdrawal",
     BIT(DS_SUBMITTED) | BIT(DS_RECEIVED) | BIT(DS_PROCESSING) | BIT(DS_SUPPLEMENT_REQUESTED) |
         BIT(DS_AWAITING_PAYMENT),
     DS_WITHDRAWAL_REQUESTED, CITIZEN, "dossier.dossier.withdrawal_requested"},
    {"confirm_withdrawal", BIT(DS_WITHDRAWAL_REQUESTED), DS_STOPPED, INTAKE,
     "dossier.dossier.withdrawn"},
    {"decline_withdrawal", BIT(DS_WITHDRAWAL_REQUESTED), WF_TO_WITHDRAWAL_ORIGIN, INTAKE,
     "dossier.dossier.withdrawal_declined"},
    {"stop",
     BIT(DS_RECEIVED) | BIT(DS_PROCESSING) | BIT(DS_SUPPLEMENT_REQUESTED) |
         BIT(DS_AWAITING_PAYMENT),
     DS_STOPPED, INTAKE | ACTOR_SYSTEM, "dossier.dossier.stopped"},
    {"apologize",
     BIT(DS_RECEIVED) | BIT(DS_PROCESSING) | BIT(DS_SUPPLEMENT_REQUESTED) |
         BIT(DS_AWAITING_PAYMENT),
     WF_TO_SAME, STAFF, "dossier.dossier.apology_issued"},
};
#define N_EXPECTED (sizeof expected / sizeof expected[0])

static const struct expected_row *expected_find(const char *action)
{
    for (size_t i = 0; i < N_EXPECTED; i++)
        if (strcmp(expected[i].action, action) == 0)
            return &expected[i];
    return NULL;
}

static bool expected_allows(const struct expected_row *e, int status, unsigned actors)
{
    return (e->from & BIT(status)) != 0 && (e->actors & actors) != 0;
}

/* ---- the transition table ---- */

static void test_table_matches_expected(void **state)
{
    (void)state;
    assert_int_equal(workflow_table_count, N_EXPECTED);
    for (size_t i = 0; i < workflow_table_count; i++) {
        const struct workflow_transition *t = &workflow_table[i];
        const struct expected_row *e = expected_find(t->action);
        if (e == NULL)
            fail_msg("unexpected action in the table: %s", t->action);
        assert_int_equal(t->from, e->from);
        assert_int_equal(t->to, e->to);
        assert_int_equal(t->actors, e->actors);
        assert_string_equal(t->event, e->event);
        assert_ptr_equal(workflow_find(t->action), t);
        /* each action appears once */
        for (size_t j = i + 1; j < workflow_table_count; j++)
            assert_string_not_equal(t->action, workflow_table[j].action);
        /* nothing leads to draft but giving up paying first, and nothing
           starts from a final status */
        if (t->from != BIT(DS_AWAITING_SUBMISSION_PAYMENT))
            assert_int_not_equal(t->to, DS_DRAFT);
        assert_int_equal(t->from & (BIT(DS_REFUSED) | BIT(DS_STOPPED) | BIT(DS_RESULT_RETURNED)),
                         0);
    }
}

/* Every action x status x single actor kind, plus every combination of kinds. */
static void test_check_exhaustive(void **state)
{
    (void)state;
    size_t checked = 0;
    for (size_t i = 0; i < N_EXPECTED; i++) {
        const struct expected_row *e = &expected[i];
        for (int status = -1; status <= DS_COUNT; status++) {
            for (unsigned actors = 0; actors <= ALL_ACTORS; actors++) {
                const struct workflow_transition *row = (const void *)&row;
                enum workflow_verdict v = workflow_check(e->action, status, actors, &row);
                assert_non_null(row);
                assert_string_equal(row->action, e->action);
                bool in_range = status >= 0 && status < DS_COUNT;
                enum workflow_verdict want;
                if ((e->actors & actors) == 0)
                    want = WF_ACTOR_FORBIDDEN;
                else if (!in_range || (e->from & BIT(status)) == 0)
                    want = WF_NOT_FROM_STATUS;
                else
                    want = WF_OK;
                if (v != want)
                    fail_msg("%s from %d by actors 0x%x: verdict %d, expected %d", e->action,
                             status, actors, (int)v, (int)want);
                if (in_range)
                    assert_int_equal(v == WF_OK, expected_allows(e, status, actors));
                checked++;
            }
        }
    }
    assert_int_equal(checked, N_EXPECTED * (DS_COUNT + 2) * (ALL_ACTORS + 1));
}

static void test_check_unknown_action(void **state)
{
    (void)state;
    const char *unknown[] = {"",       "Receive",  "receive ",  "delete", "create",
                             "update", "approve2", "submitted", "overdue"};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const struct workflow_transition *row = (const void *)&row;
        assert_int_equal(workflow_check(unknown[i], DS_SUBMITTED, ALL_ACTORS, &row),
                         WF_UNKNOWN_ACTION);
        assert_null(row);
        assert_null(workflow_find(unknown[i]));
    }
    assert_null(workflow_find(NULL));
    assert_int_equal(workflow_check(NULL, DS_SUBMITTED, ALL_ACTORS, NULL), WF_UNKNOWN_ACTION);
    /* row may be NULL */
    assert_int_equal(workflow_check("receive", DS_SUBMITTED, ACTOR_OFFICER, NULL), WF_OK);
}

/* An actor kind that may never take an action is forbidden whatever the status
   (403), even from a status the action does not leave (not 409). */
static void test_check_forbidden_before_status(void **state)
{
    (void)state;
    assert_int_equal(workflow_check("approve", DS_DRAFT, ACTOR_OFFICER, NULL), WF_ACTOR_FORBIDDEN);
    assert_int_equal(workflow_check("approve", DS_DRAFT, ACTOR_APPROVER, NULL), WF_NOT_FROM_STATUS);
    assert_int_equal(workflow_check("receive", DS_SUBMITTED, ACTOR_OWNER, NULL),
                     WF_ACTOR_FORBIDDEN);
    assert_int_equal(workflow_check("receive", DS_SUBMITTED, 0, NULL), WF_ACTOR_FORBIDDEN);
    assert_int_equal(workflow_check("submit", DS_SUBMITTED, ACTOR_OWNER, NULL), WF_NOT_FROM_STATUS);
    assert_int_equal(workflow_check("stop", DS_SUPPLEMENT_REQUESTED, ACTOR_SYSTEM, NULL), WF_OK);
    assert_int_equal(workflow_check("stop", DS_SUBMITTED, ACTOR_SYSTEM, NULL), WF_NOT_FROM_STATUS);
    assert_int_equal(workflow_check("confirm_payment", DS_AWAITING_PAYMENT, ACTOR_SERVICE, NULL),
                     WF_OK);
    assert_int_equal(workflow_check("confirm_payment", DS_PROCESSING, ACTOR_SERVICE, NULL),
                     WF_NOT_FROM_STATUS);
    assert_int_equal(workflow_check("confirm_submission_payment", DS_AWAITING_SUBMISSION_PAYMENT,
                                    ACTOR_SERVICE, NULL),
                     WF_OK);
    assert_int_equal(workflow_check("confirm_submission_payment", DS_DRAFT, ACTOR_SERVICE, NULL),
                     WF_OK);
    assert_int_equal(workflow_check("confirm_submission_payment", DS_SUBMITTED, ACTOR_SERVICE, NULL),
                     WF_NOT_FROM_STATUS);
    assert_int_equal(workflow_check("confirm_submission_payment", DS_AWAITING_SUBMISSION_PAYMENT,
                                    ACTOR_OWNER | STAFF, NULL),
                     WF_ACTOR_FORBIDDEN);
    /* the payment service can do nothing else */
    for (size_t i = 0; i < workflow_table_count; i++)
        if (strcmp(workflow_table[i].action, "confirm_payment") != 0 &&
            strcmp(workflow_table[i].action, "confirm_submission_payment") != 0)
            assert_int_equal(
                workflow_check(workflow_table[i].action, DS_PROCESSING, ACTOR_SERVICE, NULL),
                WF_ACTOR_FORBIDDEN);
}

static void test_target(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_EXPECTED; i++) {
        const struct workflow_transition *row = workflow_find(expected[i].action);
        assert_non_null(row);
        for (int status = 0; status < DS_COUNT; status++) {
            if ((row->from & BIT(status)) == 0)
                continue;
            for (int prev = -1; prev < DS_COUNT; prev++) {
                for (int origin = -1; origin < DS_COUNT; origin++) {
                    int want = expected[i].to == WF_TO_SAME                ? status
                               : expected[i].to == WF_TO_PREVIOUS          ? prev
                               : expected[i].to == WF_TO_WITHDRAWAL_ORIGIN ? origin
                                                                           : expected[i].to;
                    assert_int_equal(workflow_target(row, status, prev, origin), want);
                }
            }
        }
    }
    /* the cases that matter in the lifecycle */
    const struct workflow_transition *supplement = workflow_find("supplement");
    assert_int_equal(workflow_target(supplement, DS_SUPPLEMENT_REQUESTED, DS_SUBMITTED, -1),
                     DS_SUBMITTED);
    assert_int_equal(workflow_target(supplement, DS_SUPPLEMENT_REQUESTED, DS_PROCESSING, -1),
                     DS_PROCESSING);
    const struct workflow_transition *decline = workflow_find("decline_withdrawal");
    assert_int_equal(workflow_target(decline, DS_WITHDRAWAL_REQUESTED, -1, DS_AWAITING_PAYMENT),
                     DS_AWAITING_PAYMENT);
    /* a withdrawal requested during a supplement request (received -> 5 -> 7):
       declined, back to the supplement request; the supplement then goes back
       to where the supplement request came from, not to where the withdrawal
       came from */
    assert_int_equal(workflow_target(decline, DS_WITHDRAWAL_REQUESTED, DS_RECEIVED,
                                     DS_SUPPLEMENT_REQUESTED),
                     DS_SUPPLEMENT_REQUESTED);
    assert_int_equal(workflow_target(supplement, DS_SUPPLEMENT_REQUESTED, DS_RECEIVED, -1),
                     DS_RECEIVED);
    const struct workflow_transition *apologize = workflow_find("apologize");
    assert_int_equal(workflow_target(apologize, DS_SUPPLEMENT_REQUESTED, DS_PROCESSING, -1),
                     DS_SUPPLEMENT_REQUESTED);
    assert_int_equal(workflow_target(workflow_find("receive"), DS_SUBMITTED, -1, -1), DS_RECEIVED);
}

static void test_allowed_lists(void **state)
{
    (void)state;
    const char *out[64];
    for (int status = -2; status <= DS_COUNT + 1; status++) {
        for (unsigned actors = 0; actors <= ALL_ACTORS; actors++) {
            size_t n = workflow_allowed(status, actors, out, 64);
            size_t want = 0;
            for (size_t i = 0; i < workflow_table_count; i++) {
                const struct expected_row *e = expected_find(workflow_table[i].action);
                /* the pay-first submission is taken through submit, never listed */
                bool listed = (workflow_table[i].uses & WF_PAY_FIRST) == 0;
                if (listed && status >= 0 && status < DS_COUNT && expected_allows(e, status, actors)) {
                    /* in table order */
                    assert_true(want < n);
                    assert_string_equal(out[want], e->action);
                    want++;
                }
            }
            assert_int_equal(n, want);
        }
    }
    /* the cap is respected */
    const char *small[2] = {NULL, NULL};
    size_t n = workflow_allowed(DS_PROCESSING, STAFF, small, 1);
    assert_int_equal(n, 1);
    assert_null(small[1]);
    assert_int_equal(workflow_allowed(DS_PROCESSING, STAFF, small, 0), 0);

    /* spot checks a reader can follow */
    n = workflow_allowed(DS_DRAFT, ACTOR_OWNER, out, 64);
    assert_int_equal(n, 1);
    assert_string_equal(out[0], "submit");
    n = workflow_allowed(DS_AWAITING_SUBMISSION_PAYMENT, ACTOR_OWNER, out, 64);
    assert_int_equal(n, 1);
    assert_string_equal(out[0], "cancel_submission_payment");
    n = workflow_allowed(DS_AWAITING_SUBMISSION_PAYMENT, ACTOR_SERVICE, out, 64);
    assert_int_equal(n, 1);
    assert_string_equal(out[0], "confirm_submission_payment");
    n = workflow_allowed(DS_SUBMITTED, ACTOR_OFFICER, out, 64);
    assert_int_equal(n, 3);
    assert_string_equal(out[0], "receive");
    assert_string_equal(out[1], "refuse");
    assert_string_equal(out[2], "request_supplement");
    n = workflow_allowed(DS_PROCESSING, ACTOR_APPROVER, out, 64);
    /* request_supplement assign forward return_step transfer request_payment approve reject
     * apologize */
    assert_int_equal(n, 9);
    assert_int_equal(workflow_allowed(DS_RESULT_RETURNED, ALL_ACTORS, out, 64), 0);
    assert_int_equal(workflow_allowed(DS_REFUSED, ALL_ACTORS, out, 64), 0);
    assert_int_equal(workflow_allowed(DS_STOPPED, ALL_ACTORS, out, 64), 0);
}

static void test_status_names(void **state)
{
    (void)state;
    const char *names[DS_COUNT] = {"draft",
                                   "submitted",
                                   "received",
                                   "refused",
                                   "processing",
                                   "supplement_requested",
                                   "awaiting_payment",
                                   "withdrawal_requested",
                                   "stopped",
                                   "result_ready",
                                   "result_returned",
                                   "awaiting_submission_payment"};
    for (int s = 0; s < DS_COUNT; s++)
        assert_string_equal(workflow_status_name(s), names[s]);
    assert_null(workflow_status_name(-1));
    assert_null(workflow_status_name(DS_COUNT));
    for (int s = -1; s <= DS_COUNT; s++) {
        bool open = s == DS_RECEIVED || s == DS_PROCESSING || s == DS_SUPPLEMENT_REQUESTED ||
                    s == DS_AWAITING_PAYMENT || s == DS_WITHDRAWAL_REQUESTED;
        assert_int_equal(workflow_status_is_open(s), open);
    }
}

/* Each row's effect and what it uses: the calendar exactly for the actions
   that move the clock, the filed procedure for those that read its form,
   documents or steps, the transfer check for transfer, the submission's own
   handling for submit (which has no effect of its own: the code and the
   submission time are given under the lock by the handler). */
static void test_rows_carry_effects_and_uses(void **state)
{
    (void)state;
    static const struct {
        const char *action;
        workflow_effect_fn effect;
        unsigned uses;
    } want[] = {
        {"submit", NULL, WF_SUBMISSION | WF_USES_PROCEDURE},
        {"submit_pay_first", action_submit_pay_first,
         WF_SUBMISSION | WF_USES_PROCEDURE | WF_PAY_FIRST},
        {"confirm_submission_payment", action_confirm_submission_payment, WF_PAYMENT_CONFIRMATION},
        {"cancel_submission_payment", action_back_to_draft, 0},
        {"expire_submission_payment", action_back_to_draft, 0},
        {"receive", action_receive, WF_USES_CALENDAR | WF_USES_PROCEDURE},
        {"refuse", action_refuse, 0},
        {"request_supplement", action_request_supplement, WF_USES_CALENDAR},
        {"supplement", action_supplement, WF_USES_CALENDAR},
        {"assign", action_assign, 0},
        {"forward", action_forward, WF_USES_PROCEDURE},
        {"return_step", action_return_step, WF_USES_PROCEDURE},
        {"transfer", action_transfer, WF_CHECKS_TRANSFER_TARGET | WF_USES_PROCEDURE},
        {"request_payment", action_request_payment, 0},
        {"confirm_payment", action_confirm_payment, WF_USES_CALENDAR | WF_PAYMENT_CONFIRMATION},
        {"approve", action_approve, 0},
        {"reject", action_reject, 0},
        {"return_result", action_return_result, 0},
        {"request_withdrawal", action_request_withdrawal, 0},
        {"confirm_withdrawal", action_confirm_withdrawal, 0},
        {"decline_withdrawal", action_decline_withdrawal, 0},
        {"stop", action_stop, 0},
        {"apologize", action_apologize, 0},
    };
    assert_int_equal(sizeof want / sizeof want[0], workflow_table_count);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const struct workflow_transition *row = workflow_find(want[i].action);
        assert_non_null(row);
        assert_ptr_equal(row->effect, want[i].effect);
        assert_int_equal(row->uses, want[i].uses);
    }
}

/* The statuses as a set of bits, from an SQL list "2, 4, 6". */
static unsigned sql_status_set(const char *list)
{
    unsigned set = 0;
    const char *p = list;
    while (*p != '\0') {
        char *end;
        long v = strtol(p, &end, 10);
        assert_true(end != p);
        assert_true(v >= 0 && v < DS_COUNT);
        assert_int_equal(set & BIT(v), 0); /* each once */
        set |= BIT(v);
        p = end;
        if (*p == ',')
            p++;
        while (*p == ' ')
            p++;
    }
    return set;
}

/* The literal lists the store's SQL uses (to match the partial indexes) are
   exactly the workflow's sets. */
static void test_status_sql_lists_match_the_workflow(void **state)
{
    (void)state;
    unsigned open = 0, watched = 0;
    for (int s = 0; s < DS_COUNT; s++) {
        if (workflow_status_is_open(s))
            open |= BIT(s);
        if (workflow_status_is_watched(s))
            watched |= BIT(s);
    }
    assert_int_equal(sql_status_set(WF_OPEN_STATUSES_SQL), open);
    assert_int_equal(sql_status_set(WF_WATCHED_STATUSES_SQL), watched);
    assert_int_equal(watched & ~open, 0); /* watched statuses are open */
    assert_int_equal(watched, BIT(DS_RECEIVED) | BIT(DS_PROCESSING) | BIT(DS_AWAITING_PAYMENT));
    assert_false(workflow_status_is_watched(-1));
    assert_false(workflow_status_is_watched(DS_COUNT));
    /* an agency's inbox: the national codes, not draft nor awaiting submission payment */
    assert_int_equal(DS_RESULT_RETURNED, 10);
    assert_int_equal(DS_AWAITING_SUBMISSION_PAYMENT, 11);
    assert_string_equal(WF_FILED_STATUSES_SQL, "status BETWEEN 1 AND 10");
}

/* ---- dossier codes ---- */

static void test_code_format(void **state)
{
    (void)state;
    char out[DOSSIER_CODE_MAX];
    assert_true(
        dossier_code_format(out, sizeof out, "000.00.06.H56", (mc_date){2023, 10, 27}, 361));
    assert_string_equal(out, "000.00.06.H56-231027-0361");
    assert_true(dossier_code_is_valid(out));
    assert_true(dossier_code_format(out, sizeof out, "000.00.06.H56", (mc_date){2025, 1, 5}, 1));
    assert_string_equal(out, "000.00.06.H56-250105-0001");
    assert_true(dossier_code_format(out, sizeof out, "000.00.06.H56", (mc_date){2025, 1, 5}, 9999));
    assert_string_equal(out, "000.00.06.H56-250105-9999");
    assert_true(
        dossier_code_format(out, sizeof out, "000.00.06.H56", (mc_date){2025, 1, 5}, 10000));
    assert_string_equal(out, "000.00.06.H56-250105-10000");
    assert_true(dossier_code_is_valid(out));
    assert_true(
        dossier_code_format(out, sizeof out, "000.00.06.H56", (mc_date){2000, 12, 31}, 99999999L));
    assert_string_equal(out, "000.00.06.H56-001231-99999999");
    assert_true(dossier_code_is_valid(out));

    /* bad inputs */
    mc_date ok = {2025, 4, 25};
    assert_false(dossier_code_format(out, sizeof out, "", ok, 1));
    assert_false(dossier_code_format(out, sizeof out, NULL, ok, 1));
    assert_false(dossier_code_format(NULL, sizeof out, "A", ok, 1));
    assert_false(dossier_code_format(out, sizeof out, "000.00.06 H56", ok, 1));
    assert_false(dossier_code_format(out, sizeof out, "A", (mc_date){2025, 2, 29}, 1));
    assert_false(dossier_code_format(out, sizeof out, "A", (mc_date){2025, 13, 1}, 1));
    assert_false(dossier_code_format(out, sizeof out, "A", (mc_date){0, 1, 1}, 1));
    assert_false(dossier_code_format(out, sizeof out, "A", ok, 0));
    assert_false(dossier_code_format(out, sizeof out, "A", ok, -1));
    assert_false(dossier_code_format(out, sizeof out, "A", ok, 100000000L));
    /* too small a buffer: "000.00.06.H56-250425-0001" is 25 characters */
    assert_false(dossier_code_format(out, 25, "000.00.06.H56", ok, 1));
    assert_true(dossier_code_format(out, 26, "000.00.06.H56", ok, 1));
    assert_string_equal(out, "000.00.06.H56-250425-0001");
}

static void test_code_is_valid(void **state)
{
    (void)state;
    const char *good[] = {
        "000.00.06.H56-231027-0361", "000.00.06.H56-250425-10000", "A-250101-0001",
        "H56_x.1-991231-12345678",   "000.00.06.H56-240229-0001",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (!dossier_code_is_valid(good[i]))
            fail_msg("should be valid: %s", good[i]);
    const char *bad[] = {
        NULL,
        "",
        "000.00.06.H56",
        "000.00.06.H56-231027",
        "000.00.06.H56-231027-",
        "000.00.06.H56-231027-036",       /* 3 digits */
        "000.00.06.H56-231027-123456789", /* 9 digits */
        "000.00.06.H56-231027-03a1",
        "000.00.06.H56-231027-+361",
        "000.00.06.H56-231327-0361", /* month 13 */
        "000.00.06.H56-231000-0361", /* day 0 */
        "000.00.06.H56-231032-0361", /* day 32 */
        "000.00.06.H56-2310270-0361",
        "000.00.06.H56-23102-0361",
        "000.00.06.H56 231027-0361",
        "-231027-0361",
        "000/00.06.H56-231027-0361",
        "000.00.06.H56--231027-0361",
        "a b-231027-0361",
        "Hà-231027-0361",
        "123e4567-e89b-12d3-a456-426614174000", /* a UUID */
        "12345678-1234-1234-1234-123456789012", /* a UUID of digits */
        "000.00.06.H56-231027-0361\n",
        "000.00.06.H56.000.00.06.H56.000.00.06.H56.000.00.06.H56-231027-0361", /* too long */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (dossier_code_is_valid(bad[i]))
            fail_msg("should be invalid: %s", bad[i]);
}

/* ---- deadlines ---- */

/* Epoch seconds of a local (+07:00) date and time. */
static int64_t local(int y, int mo, int d, int h, int mi)
{
    return mc_date_to_days((mc_date){y, mo, d}) * 86400 + h * 3600 + mi * 60 -
           DOSSIER_UTC_OFFSET_MIN * 60;
}

/* 30 April and 1 May 2025 (Wednesday, Thursday) off. */
static const mc_date holidays_2025[] = {{2025, 4, 30}, {2025, 5, 1}};

static mc_calendar calendar(void)
{
    mc_calendar cal;
    mc_calendar_init_default(&cal);
    cal.days_off = holidays_2025;
    cal.n_days_off = 2;
    return cal;
}

static void dossier_init(struct dossier *d, double value, const char *unit)
{
    memset(d, 0, sizeof *d);
    d->limit_value = value;
    snprintf(d->limit_unit, sizeof d->limit_unit, "%s", unit);
    d->pauses = json_array();
}

static void dossier_fini(struct dossier *d)
{
    json_decref(d->pauses);
    d->pauses = NULL;
}

static void assert_time(int64_t got, int64_t want)
{
    if (got != want) {
        char a[32], b[32];
        mc_rfc3339_format(got, DOSSIER_UTC_OFFSET_MIN, a);
        mc_rfc3339_format(want, DOSSIER_UTC_OFFSET_MIN, b);
        fail_msg("got %s, expected %s", a, b);
    }
}

static void test_deadline_start(void **state)
{
    (void)state;
    mc_calendar cal = calendar();
    struct dossier d;

    /* Received Friday 25 April 2025 16:00, 3 working days (24 working hours):
       Fri 16:00-17:00 1 h, Mon 28 8 h, Tue 29 8 h, Wed 30 and Thu 1 May off,
       Fri 2 May 07:00-11:30 4.5 h, 13:30-16:00 2.5 h -> Fri 2 May 16:00. */
    dossier_init(&d, 3, "working_days");
    assert_true(deadline_start(&d, &cal, local(2025, 4, 25, 16, 0)));
    assert_time(d.clock_start_at, local(2025, 4, 25, 16, 0));
    assert_time(d.due_at, local(2025, 5, 2, 16, 0));
    assert_time(d.appointment_at, local(2025, 5, 2, 16, 0));
    assert_int_equal(d.paused_since, 0);
    assert_int_equal(json_array_size(d.pauses), 0);
    dossier_fini(&d);

    /* Same-day procedure received at 16:00 (after the 15:00 cutoff): due at the
       close of the next working day, Monday 28 April 17:00. */
    dossier_init(&d, 0, "working_days");
    assert_true(deadline_start(&d, &cal, local(2025, 4, 25, 16, 0)));
    assert_time(d.due_at, local(2025, 4, 28, 17, 0));
    dossier_fini(&d);

    /* 5 calendar days from Fri 25 April 16:00 is Wed 30 April (off), then
       Thu 1 May (off): due Friday 2 May 16:00. */
    dossier_init(&d, 5, "calendar_days");
    assert_true(deadline_start(&d, &cal, local(2025, 4, 25, 16, 0)));
    assert_time(d.due_at, local(2025, 5, 2, 16, 0));
    dossier_fini(&d);

    /* 4 working hours from Tuesday 29 April 15:00: 2 h that day, then the
       holidays, Fri 2 May 07:00 + 2 h -> 09:00. */
    dossier_init(&d, 4, "working_hours");
    assert_true(deadline_start(&d, &cal, local(2025, 4, 29, 15, 0)));
    assert_time(d.due_at, local(2025, 5, 2, 9, 0));
    dossier_fini(&d);

    /* Received on Saturday 26 April: the clock starts Monday 07:00; 1 working
       day -> Monday 17:00. */
    dossier_init(&d, 1, "working_days");
    assert_true(deadline_start(&d, &cal, local(2025, 4, 26, 10, 0)));
    assert_time(d.due_at, local(2025, 4, 28, 17, 0));
    dossier_fini(&d);

    /* An unusable limit fails and leaves the due date unset. */
    dossier_init(&d, 3, "fortnights");
    assert_false(deadline_start(&d, &cal, local(2025, 4, 25, 16, 0)));
    assert_int_equal(d.due_at, 0);
    dossier_fini(&d);
    dossier_init(&d, -1, "working_days");
    assert_false(deadline_start(&d, &cal, local(2025, 4, 25, 16, 0)));
    dossier_fini(&d);
    dossier_init(&d, 1.5, "calendar_days");
    assert_false(deadline_start(&d, &cal, local(2025, 4, 25, 16, 0)));
    dossier_fini(&d);
    /* an invalid calendar too */
    mc_calendar broken = cal;
    broken.n_sessions = 0;
    dossier_init(&d, 3, "working_days");
    assert_false(deadline_start(&d, &broken, local(2025, 4, 25, 16, 0)));
    dossier_fini(&d);
}

static void test_deadline_pause_resume_extend(void **state)
{
    (void)state;
    mc_calendar cal = calendar();
    struct dossier d;
    dossier_init(&d, 3, "working_days");
    assert_true(deadline_start(&d, &cal, local(2025, 4, 25, 16, 0)));

    /* Paused Monday 28 April 09:00 to Tuesday 29 April 09:00: 2.5 + 3.5 + 2 = 8
       working hours, one working day. The due date moves from Fri 2 May 16:00
       by one working day: Fri 16:00-17:00 1 h, Mon 5 May 07:00 + 7 h -> 16:00. */
    deadline_pause(&d, local(2025, 4, 28, 9, 0));
    assert_time(d.paused_since, local(2025, 4, 28, 9, 0));
    deadline_pause(&d, local(2025, 4, 28, 10, 0)); /* already paused: unchanged */
    assert_time(d.paused_since, local(2025, 4, 28, 9, 0));

    assert_true(deadline_resume(&d, &cal, local(2025, 4, 29, 9, 0), false));
    assert_int_equal(d.paused_since, 0);
    assert_time(d.clock_start_at, local(2025, 4, 25, 16, 0)); /* the clock keeps its start */
    assert_int_equal(json_array_size(d.pauses), 1);
    assert_int_equal(json_integer_value(json_array_get(json_array_get(d.pauses, 0), 0)),
                     local(2025, 4, 28, 9, 0));
    assert_int_equal(json_integer_value(json_array_get(json_array_get(d.pauses, 0), 1)),
                     local(2025, 4, 29, 9, 0));
    assert_time(d.due_at, local(2025, 5, 5, 16, 0));
    assert_time(d.appointment_at, local(2025, 5, 5, 16, 0)); /* the slip moves with it */

    /* A second pause over the holidays only: Tue 29 April 17:00 to Fri 2 May
       07:00 holds no working time, so nothing moves. */
    deadline_pause(&d, local(2025, 4, 29, 17, 0));
    assert_true(deadline_resume(&d, &cal, local(2025, 5, 2, 7, 0), false));
    assert_int_equal(json_array_size(d.pauses), 2);
    assert_time(d.due_at, local(2025, 5, 5, 16, 0));

    /* An apology set a later appointment: extending keeps the later one. */
    d.appointment_at = local(2025, 5, 9, 17, 0);
    deadline_pause(&d, local(2025, 5, 2, 7, 0));
    assert_true(deadline_resume(&d, &cal, local(2025, 5, 2, 11, 30), false)); /* 4.5 h */
    /* 5 May 16:00 + 4.5 h: 1 h that day, Tue 6 May 07:00 + 3.5 h -> 10:30 */
    assert_time(d.due_at, local(2025, 5, 6, 10, 30));
    assert_time(d.appointment_at, local(2025, 5, 9, 17, 0));

    /* Resuming without a pause changes nothing. */
    assert_true(deadline_resume(&d, &cal, local(2025, 5, 2, 14, 0), false));
    assert_int_equal(json_array_size(d.pauses), 3);
    assert_time(d.due_at, local(2025, 5, 6, 10, 30));
    dossier_fini(&d);
}

static void test_deadline_pause_resume_restart(void **state)
{
    (void)state;
    mc_calendar cal = calendar();
    struct dossier d;
    dossier_init(&d, 3, "working_days");
    assert_true(deadline_start(&d, &cal, local(2025, 4, 25, 16, 0)));
    deadline_pause(&d, local(2025, 4, 28, 9, 0));

    /* Restart on Tuesday 29 April 09:00: the full 3 working days again. Tue
       09:00-17:00 6 h, (holidays), Fri 2 May 8 h, Mon 5 May 8 h, Tue 6 May
       07:00 + 2 h -> 09:00. */
    assert_true(deadline_resume(&d, &cal, local(2025, 4, 29, 9, 0), true));
    assert_time(d.clock_start_at, local(2025, 4, 29, 9, 0));
    assert_time(d.due_at, local(2025, 5, 6, 9, 0));
    assert_time(d.appointment_at, local(2025, 5, 6, 9, 0));
    assert_int_equal(d.paused_since, 0);
    assert_int_equal(json_array_size(d.pauses), 0);
    dossier_fini(&d);

    /* Before reception there is no clock: pause and resume are no-ops. */
    dossier_init(&d, 3, "working_days");
    deadline_pause(&d, local(2025, 4, 28, 9, 0));
    assert_int_equal(d.paused_since, 0);
    assert_true(deadline_resume(&d, &cal, local(2025, 4, 29, 9, 0), true));
    assert_true(deadline_resume(&d, &cal, local(2025, 4, 29, 9, 0), false));
    assert_int_equal(d.clock_start_at, 0);
    assert_int_equal(d.due_at, 0);
    dossier_fini(&d);
}

static void test_supplement_due(void **state)
{
    (void)state;
    mc_calendar cal = calendar();
    /* 7 working days (56 h) from Fri 25 April 16:00: Fri 1 h, Mon 28 and Tue 29
       (17 h), Fri 2 May (25), Mon 5 (33), Tue 6 (41), Wed 7 (49), Thu 8 May
       07:00-11:30 (53.5), 13:30 + 2.5 h -> Thursday 8 May 16:00. */
    assert_time(deadline_supplement_due(&cal, local(2025, 4, 25, 16, 0), 7),
                local(2025, 5, 8, 16, 0));
    /* 1 working day from Tuesday 29 April 10:00 -> Friday 2 May 10:00 */
    assert_time(deadline_supplement_due(&cal, local(2025, 4, 29, 10, 0), 1),
                local(2025, 5, 2, 10, 0));
    mc_calendar broken = cal;
    broken.n_sessions = 0;
    assert_int_equal(deadline_supplement_due(&broken, local(2025, 4, 25, 16, 0), 7), 0);
}

static void test_deadline_years(void **state)
{
    (void)state;
    int first = 0, last = 0;
    deadline_years(local(2025, 4, 25, 16, 0), &first, &last);
    assert_int_equal(first, 2025);
    assert_int_equal(last, 2027);
    /* the local date counts: 31 December 23:59:59 +07 is still 2025 ... */
    deadline_years(local(2025, 12, 31, 23, 59) + 59, &first, &last);
    assert_int_equal(first, 2025);
    /* ... and 1 January 00:00 +07 (31 December 17:00 UTC) is 2026 */
    deadline_years(local(2026, 1, 1, 0, 0), &first, &last);
    assert_int_equal(first, 2026);
    assert_int_equal(last, 2028);
}

/* The watcher's flags when the appointment moves (deadlines.h). */
static void test_flags_to_clear(void **state)
{
    (void)state;
    assert_int_equal(deadline_due_soon_window(8), 24 * 3600);
    assert_int_equal(deadline_due_soon_window(1), 3 * 3600);
    int64_t now = local(2025, 5, 5, 10, 0), soon = now + deadline_due_soon_window(8);
    int64_t past = now - 3600, near = now + 3600, far = now + 3 * 86400;
    struct dossier d;
    memset(&d, 0, sizeof d);

    /* overdue (and warned before): an apology far ahead clears both */
    d.overdue_flagged_at = past;
    d.due_soon_flagged_at = past - 86400;
    d.appointment_at = far;
    assert_int_equal(deadline_flags_to_clear(&d, past, now, soon),
                     DEADLINE_FLAG_OVERDUE | DEADLINE_FLAG_DUE_SOON);
    /* ... to a date near: no longer overdue, and the near date gets its own warning */
    d.appointment_at = near;
    assert_int_equal(deadline_flags_to_clear(&d, past, now, soon),
                     DEADLINE_FLAG_OVERDUE | DEADLINE_FLAG_DUE_SOON);
    /* an appointment exactly now is not past */
    d.appointment_at = now;
    assert_int_equal(deadline_flags_to_clear(&d, past, now, soon) & DEADLINE_FLAG_OVERDUE,
                     DEADLINE_FLAG_OVERDUE);
    /* moved, still in the past (a due date extended by a pause): both kept */
    d.appointment_at = past + 600;
    assert_int_equal(deadline_flags_to_clear(&d, past, now, soon), 0);
    /* not moved: nothing to do, whatever the flags */
    d.appointment_at = past;
    assert_int_equal(deadline_flags_to_clear(&d, past, now, soon), 0);
    /* no appointment (no clock): nothing */
    d.appointment_at = 0;
    assert_int_equal(deadline_flags_to_clear(&d, past, now, soon), 0);

    /* warned "due soon", not overdue */
    d.overdue_flagged_at = 0;
    d.due_soon_flagged_at = now - 600;
    d.appointment_at = far; /* beyond the window */
    assert_int_equal(deadline_flags_to_clear(&d, near, now, soon), DEADLINE_FLAG_DUE_SOON);
    d.appointment_at = soon; /* the window's end is outside it */
    assert_int_equal(deadline_flags_to_clear(&d, near, now, soon), DEADLINE_FLAG_DUE_SOON);
    d.appointment_at = soon - 1; /* still due soon: kept, one warning per situation */
    assert_int_equal(deadline_flags_to_clear(&d, near, now, soon), 0);
    d.appointment_at = near + 600;
    assert_int_equal(deadline_flags_to_clear(&d, near, now, soon), 0);

    /* nothing flagged: nothing to clear */
    d.due_soon_flagged_at = 0;
    d.appointment_at = far;
    assert_int_equal(deadline_flags_to_clear(&d, past, now, soon), 0);
}

/* The clock through request_supplement -> request_withdrawal -> declined ->
   supplement: paused from the supplement request to the supplement (the
   withdrawal changes nothing of the clock), then extended by that pause. */
static void test_pause_through_a_declined_withdrawal(void **state)
{
    (void)state;
    mc_calendar cal = calendar();
    struct dossier d;
    dossier_init(&d, 3, "working_days");
    assert_true(deadline_start(&d, &cal, local(2025, 4, 25, 16, 0)));
    deadline_pause(&d, local(2025, 4, 28, 9, 0));       /* request_supplement */
    deadline_pause(&d, local(2025, 4, 28, 11, 0));      /* nothing the withdrawal does ... */
    assert_time(d.paused_since, local(2025, 4, 28, 9, 0));
    /* supplement on Tuesday 29 April 09:00: 8 working hours paused, as in
       test_deadline_pause_resume_extend */
    assert_true(deadline_resume(&d, &cal, local(2025, 4, 29, 9, 0), false));
    assert_int_equal(json_array_size(d.pauses), 1);
    assert_time(d.due_at, local(2025, 5, 5, 16, 0));
    dossier_fini(&d);
}

/* ---- the effects of actions (actions.c) ---- */

static bool has_error_at(const json_t *errors, const char *pointer, const char *code)
{
    size_t i;
    const json_t *e;
    json_array_foreach(errors, i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "pointer")), pointer) == 0 &&
            strcmp(json_string_value(json_object_get(e, "code")), code) == 0)
            return true;
    }
    return false;
}

/* An effect's arguments and what it writes to, around a dossier in `status`
   (limit 3 working days) at `now`. Not to be copied: `a` points into it. */
struct effect_case {
    struct dossier d;
    struct action_inputs in;
    struct action_body body;
    struct action_args a;
    json_t *details, *errors;
};

static void effect_case_init(struct effect_case *t, int status, int64_t now)
{
    dossier_init(&t->d, 3, "working_days");
    t->d.status = status;
    t->d.previous_status = t->d.withdrawal_from_status = -1;
    memset(&t->in, 0, sizeof t->in);
    t->body = (struct action_body)ACTION_BODY_INIT;
    t->a = (struct action_args){&t->body, &t->in, now, 2};
    t->details = json_object();
    t->errors = json_array();
}

static void effect_case_fini(struct effect_case *t)
{
    json_decref(t->details);
    json_decref(t->errors);
    json_decref(t->d.missing_items);
    dossier_fini(&t->d);
}

/* Forward and return_step: the default step, the range, the direction, and
   the assignee (kept only when given). */
static void test_effect_steps(void **state)
{
    (void)state;
    struct effect_case t;
    effect_case_init(&t, DS_RECEIVED, local(2025, 4, 25, 9, 0));
    t.in.n_steps = 3;

    /* received: forward without to_step moves into the first step */
    t.d.step_index = 0;
    snprintf(t.d.assignee_sub, sizeof t.d.assignee_sub, "old");
    assert_int_equal(action_forward(&t.d, &t.a, t.details, t.errors), MC_OK);
    assert_int_equal(t.d.step_index, 0);
    assert_string_equal(t.d.assignee_sub, ""); /* no assignee given: none */
    assert_int_equal(json_array_size(t.errors), 0);

    /* processing: to the next step, with an assignee */
    t.d.status = DS_PROCESSING;
    t.body.assignee = "officer-2";
    assert_int_equal(action_forward(&t.d, &t.a, t.details, t.errors), MC_OK);
    assert_int_equal(t.d.step_index, 1);
    assert_string_equal(t.d.assignee_sub, "officer-2");
    assert_int_equal(json_integer_value(json_object_get(t.details, "from_step")), 0);
    assert_int_equal(json_integer_value(json_object_get(t.details, "step_index")), 1);

    /* past the last step */
    t.body.to_step = 3;
    action_forward(&t.d, &t.a, t.details, t.errors);
    assert_true(has_error_at(t.errors, "/to_step", "out_of_range"));
    json_array_clear(t.errors);
    /* forward to an earlier step */
    t.d.step_index = 2;
    t.body.to_step = 1;
    action_forward(&t.d, &t.a, t.details, t.errors);
    assert_true(has_error_at(t.errors, "/to_step", "not_forward"));
    json_array_clear(t.errors);
    /* return_step goes back one by default, not past the first */
    t.d.step_index = 1;
    t.body.to_step = -1;
    assert_int_equal(action_return_step(&t.d, &t.a, t.details, t.errors), MC_OK);
    assert_int_equal(t.d.step_index, 0);
    assert_int_equal(json_array_size(t.errors), 0);
    action_return_step(&t.d, &t.a, t.details, t.errors);
    assert_true(has_error_at(t.errors, "/to_step", "out_of_range"));
    json_array_clear(t.errors);
    /* a case without steps */
    t.in.n_steps = 0;
    t.d.step_index = -1;
    t.body.to_step = 1;
    action_forward(&t.d, &t.a, t.details, t.errors);
    assert_true(has_error_at(t.errors, "/to_step", "no_steps"));
    effect_case_fini(&t);
}

/* request_supplement: the missing items, where it came from, the clock
   paused, the deadline in the service's default working days or the body's. */
static void test_effect_request_supplement(void **state)
{
    (void)state;
    struct effect_case t;
    int64_t now = local(2025, 4, 25, 9, 0); /* Friday */
    effect_case_init(&t, DS_PROCESSING, now);
    mc_calendar cal = calendar();
    t.in.calendar = cal;
    t.in.has_calendar = true;
    json_t *missing = json_pack("[s]", "a certified copy of the ID card");
    t.body.missing_items = missing;
    assert_true(deadline_start(&t.d, &cal, local(2025, 4, 24, 9, 0)));

    assert_int_equal(action_request_supplement(&t.d, &t.a, t.details, t.errors), MC_OK);
    assert_int_equal(t.d.previous_status, DS_PROCESSING);
    assert_true(json_equal(t.d.missing_items, missing));
    assert_ptr_not_equal(t.d.missing_items, missing); /* the dossier's own copy */
    assert_time(t.d.paused_since, now);
    /* the service's default: 2 working days */
    assert_time(t.d.supplement_due_at, deadline_supplement_due(&cal, now, 2));
    assert_true(json_is_string(json_object_get(t.details, "supplement_due_at")));

    t.body.deadline_working_days = 5;
    assert_int_equal(action_request_supplement(&t.d, &t.a, t.details, t.errors), MC_OK);
    assert_time(t.d.supplement_due_at, deadline_supplement_due(&cal, now, 5));
    assert_true(t.d.supplement_due_at > deadline_supplement_due(&cal, now, 2));
    json_decref(missing);
    effect_case_fini(&t);
}

/* apologize: the new appointment must be later than the current one and now. */
static void test_effect_apologize(void **state)
{
    (void)state;
    struct effect_case t;
    effect_case_init(&t, DS_PROCESSING, local(2025, 5, 2, 9, 0));
    t.d.due_at = t.d.appointment_at = local(2025, 5, 5, 16, 0);

    t.body.new_appointment_at = "2025-05-05T15:00:00+07:00"; /* earlier */
    action_apologize(&t.d, &t.a, t.details, t.errors);
    assert_true(has_error_at(t.errors, "/new_appointment_at", "not_later"));
    json_array_clear(t.errors);

    t.d.appointment_at = local(2025, 5, 5, 16, 0);
    t.body.new_appointment_at = "2025-05-09T17:00:00+07:00";
    assert_int_equal(action_apologize(&t.d, &t.a, t.details, t.errors), MC_OK);
    assert_int_equal(json_array_size(t.errors), 0);
    assert_time(t.d.appointment_at, local(2025, 5, 9, 17, 0));
    assert_time(t.d.due_at, local(2025, 5, 5, 16, 0)); /* the legal due date stays */
    assert_string_equal(json_string_value(json_object_get(t.details, "previous_appointment_at")),
                        "2025-05-05T16:00:00+07:00");
    assert_true(json_is_false(json_object_get(t.details, "late")));
    effect_case_fini(&t);
}

/* A withdrawal requested during a supplement request: declining it keeps the
   supplement request pending; confirming it finishes the dossier and
   forgets both origins. */
static void test_effect_withdrawal(void **state)
{
    (void)state;
    struct effect_case t;
    effect_case_init(&t, DS_SUPPLEMENT_REQUESTED, local(2025, 5, 2, 9, 0));
    t.d.previous_status = DS_PROCESSING;
    t.d.missing_items = json_pack("[s]", "x");

    action_request_withdrawal(&t.d, &t.a, t.details, t.errors);
    assert_int_equal(t.d.withdrawal_from_status, DS_SUPPLEMENT_REQUESTED);
    assert_int_equal(t.d.previous_status, DS_PROCESSING);
    action_decline_withdrawal(&t.d, &t.a, t.details, t.errors);
    assert_int_equal(t.d.withdrawal_from_status, -1);
    assert_int_equal(t.d.previous_status, DS_PROCESSING);
    assert_non_null(t.d.missing_items);

    action_request_withdrawal(&t.d, &t.a, t.details, t.errors);
    action_confirm_withdrawal(&t.d, &t.a, t.details, t.errors);
    assert_string_equal(t.d.outcome, "withdrawn");
    assert_time(t.d.finished_at, t.a.now);
    assert_int_equal(t.d.previous_status, -1);
    assert_int_equal(t.d.withdrawal_from_status, -1);
    assert_null(t.d.missing_items);
    assert_int_equal(json_array_size(t.errors), 0);
    effect_case_fini(&t);
}

/* ---- fees: pay first, fee items ---- */

static json_t *case_with_online(const char *collection, const char *fees_json)
{
    json_error_t err;
    json_t *fees = json_loads(fees_json, 0, &err);
    assert_non_null(fees);
    json_t *offer = json_pack("{ss so}", "channel", "online", "fees", fees);
    if (collection != NULL)
        json_object_set_new(offer, "fee_collection", json_string(collection));
    return json_pack("{ss s[o{ss s[]}]}", "code", "default", "channels", offer, "channel",
                     "in_person", "fees");
}

static void test_pay_first_fee(void **state)
{
    (void)state;
    const char *fees = "[{\"code\":\"LP\",\"name\":\"Lệ phí\",\"amount\":100000,"
                       "\"effective_from\":\"2020-01-01\",\"effective_to\":null},"
                       "{\"code\":\"CU\",\"name\":\"Cũ\",\"amount\":5000,"
                       "\"effective_from\":null,\"effective_to\":\"2024-12-31\"},"
                       "{\"code\":\"PH\",\"name\":\"Phí\",\"amount\":20000,"
                       "\"effective_from\":null,\"effective_to\":null},"
                       "{\"code\":\"MP\",\"name\":\"Miễn\",\"amount\":0}]";
    long long amount = -1;
    json_t *items = NULL;
    json_t *c = case_with_online("before_submission", fees);
    /* in force on 2025-06-01: LP and PH (CU ended, MP is zero) */
    assert_true(dossier_pay_first_fee(c, "online", "2025-06-01", &amount, &items));
    assert_int_equal(amount, 120000);
    assert_int_equal(json_array_size(items), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "code")), "LP");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 1), "amount")), 20000);
    json_decref(items);
    /* on 2024-06-01 CU was in force too, LP not yet... it was (from 2020) */
    assert_true(dossier_pay_first_fee(c, "online", "2024-06-01", &amount, &items));
    assert_int_equal(amount, 125000);
    json_decref(items);
    /* another channel (no offer with fees paid first) */
    assert_false(dossier_pay_first_fee(c, "in_person", "2025-06-01", &amount, &items));
    assert_null(items);
    assert_false(dossier_pay_first_fee(c, "postal", "2025-06-01", &amount, &items));
    json_decref(c);
    /* pay after (explicit or by default) and exempt never wait */
    const char *collections[] = {"after", NULL, "exempt"};
    for (size_t i = 0; i < 3; i++) {
        c = case_with_online(collections[i], fees);
        assert_false(dossier_pay_first_fee(c, "online", "2025-06-01", &amount, &items));
        assert_null(items);
        json_decref(c);
    }
    /* paid first, but nothing to pay today */
    c = case_with_online("before_submission", "[{\"code\":\"MP\",\"name\":\"M\",\"amount\":0}]");
    assert_false(dossier_pay_first_fee(c, "online", "2025-06-01", &amount, &items));
    assert_int_equal(amount, 0);
    json_decref(c);
    assert_false(dossier_pay_first_fee(NULL, "online", "2025-06-01", &amount, &items));
}

static void test_fee_items(void **state)
{
    (void)state;
    json_t *items = dossier_fee_items(NULL, 50000);
    assert_int_equal(json_array_size(items), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "code")), "LEPHI");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 0), "amount")), 50000);
    long long total = 0;
    assert_true(dossier_fee_items_total(items, &total));
    assert_int_equal(total, 50000);
    json_decref(items);
    json_t *given = json_pack("[{ss ss si} {ss ss si}]", "code", "LP", "name", "Lệ phí", "amount",
                              30000, "code", "PH", "name", "Phí", "amount", 15000);
    items = dossier_fee_items(given, 45000);
    assert_true(json_equal(items, given));
    assert_true(dossier_fee_items_total(items, &total));
    assert_int_equal(total, 45000);
    json_decref(items);
    json_array_append_new(given, json_pack("{ss}", "code", "X")); /* no amount */
    assert_false(dossier_fee_items_total(given, &total));
    json_decref(given);
}

/* Pay first: the demand at submission, the confirmation (amount checked,
   submitted at the payment time, the payment in the history), back to draft. */
static void test_effect_pay_first(void **state)
{
    (void)state;
    struct effect_case t;
    effect_case_init(&t, DS_DRAFT, local(2025, 5, 2, 9, 0));
    snprintf(t.d.code, sizeof t.d.code, "%s", "H56.06-250502-0001");
    t.d.submitted_at = local(2025, 5, 2, 9, 0); /* what submit's checks set */
    t.in.pay_first_amount = 200000;
    t.in.pay_first_items = json_pack("[{ss ss si}]", "code", "LP", "name", "Lệ phí", "amount", 200000);
    assert_int_equal(action_submit_pay_first(&t.d, &t.a, t.details, t.errors), MC_OK);
    assert_int_equal(t.d.fee_amount, 200000);
    assert_int_equal(t.d.submitted_at, 0); /* not submitted until paid */
    assert_int_equal(json_integer_value(json_object_get(t.details, "amount")), 200000);
    assert_true(json_equal(json_object_get(t.details, "fee_items"), t.in.pay_first_items));
    json_decref(t.in.pay_first_items);

    /* a payment of another amount is refused */
    json_object_clear(t.details);
    t.body.payment_id = "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f";
    t.body.provider = "vnpay";
    t.body.paid_at = "2025-05-02T10:15:30+07:00";
    t.body.amount = 199999;
    assert_int_equal(action_confirm_submission_payment(&t.d, &t.a, t.details, t.errors), MC_OK);
    assert_true(has_error_at(t.errors, "/amount", "mismatch"));
    assert_int_equal(t.d.submitted_at, 0);
    json_array_clear(t.errors);
    t.body.amount = 200000;
    assert_int_equal(action_confirm_submission_payment(&t.d, &t.a, t.details, t.errors), MC_OK);
    assert_int_equal(json_array_size(t.errors), 0);
    assert_time(t.d.submitted_at, local(2025, 5, 2, 10, 15) + 30);
    assert_string_equal(json_string_value(json_object_get(t.details, "payment_id")), t.body.payment_id);
    assert_string_equal(json_string_value(json_object_get(t.details, "provider")), "vnpay");

    /* back to draft keeps the code and the demand (a late payment) */
    assert_int_equal(action_back_to_draft(&t.d, &t.a, t.details, t.errors), MC_OK);
    assert_string_equal(t.d.code, "H56.06-250502-0001");
    assert_int_equal(t.d.fee_amount, 200000);

    /* a draft never submitted to pay first has no payment to confirm */
    t.d.code[0] = '\0';
    assert_int_equal(action_confirm_submission_payment(&t.d, &t.a, t.details, t.errors), MC_OK);
    assert_true(has_error_at(t.errors, "/payment_id", "not_awaiting"));
    effect_case_fini(&t);
}

/* Pay after: the officer's fee items must add up; the default item. A
   payment client's confirm_payment names its payment. */
static void test_effect_payment_fee_items(void **state)
{
    (void)state;
    struct effect_case t;
    effect_case_init(&t, DS_PROCESSING, local(2025, 5, 2, 9, 0));
    t.d.fee_amount = -1; /* no demand yet */
    t.body.amount = 70000;
    t.body.fee_items = json_pack("[{ss ss si}]", "code", "LP", "name", "Lệ phí", "amount", 60000);
    assert_int_equal(action_request_payment(&t.d, &t.a, t.details, t.errors), MC_OK);
    assert_true(has_error_at(t.errors, "/fee_items", "total"));
    assert_int_equal(t.d.fee_amount, -1);
    json_decref((json_t *)t.body.fee_items);
    json_array_clear(t.errors);
    t.body.fee_items = NULL;
    assert_int_equal(action_request_payment(&t.d, &t.a, t.details, t.errors), MC_OK);
    assert_int_equal(t.d.fee_amount, 70000);
    const json_t *items = json_object_get(t.details, "fee_items");
    assert_int_equal(json_array_size(items), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "code")), "LEPHI");
    effect_case_fini(&t);
}

/* The event payload: built from the dossier and the action alone. */
static void test_event_data(void **state)
{
    (void)state;
    struct dossier d;
    dossier_init(&d, 3, "working_days");
    snprintf(d.id, sizeof d.id, "123e4567-e89b-12d3-a456-426614174000");
    snprintf(d.handling_agency, sizeof d.handling_agency, "000.00.06.H56");
    d.status = DS_SUPPLEMENT_REQUESTED;
    d.fee_amount = -1;
    d.due_at = local(2025, 5, 5, 16, 0);
    d.transfer_chain = json_array();
    d.missing_items = json_pack("[s]", "x");
    json_t *reasons = json_pack("[s]", "because");
    json_t *details = json_pack("{si}", "step_index", 1);
    json_t *data = dossier_event_data(&d, "request_supplement", DS_PROCESSING, "officer", reasons,
                                      details, local(2025, 5, 2, 9, 0));
    assert_string_equal(json_string_value(json_object_get(data, "dossier_id")), d.id);
    assert_true(json_is_null(json_object_get(data, "code")));
    assert_int_equal(json_integer_value(json_object_get(data, "from_status")), DS_PROCESSING);
    assert_int_equal(json_integer_value(json_object_get(data, "to_status")),
                     DS_SUPPLEMENT_REQUESTED);
    assert_string_equal(json_string_value(json_object_get(data, "status_name")),
                        "supplement_requested");
    assert_string_equal(json_string_value(json_object_get(data, "due_at")),
                        "2025-05-05T16:00:00+07:00");
    assert_string_equal(json_string_value(json_object_get(data, "occurred_at")),
                        "2025-05-02T09:00:00+07:00");
    assert_true(json_is_null(json_object_get(data, "received_at")));
    assert_ptr_equal(json_object_get(data, "reasons"), reasons);
    assert_ptr_equal(json_object_get(data, "details"), details);
    assert_true(json_equal(json_object_get(data, "missing_items"), d.missing_items));
    assert_true(json_is_null(json_object_get(data, "fee_amount")));
    assert_true(json_is_null(json_object_get(data, "outcome")));
    json_decref(data);
    /* no reasons, no details: both members present, null (the null rule) */
    d.status = DS_PROCESSING;
    data = dossier_event_data(&d, "overdue", DS_PROCESSING, "system", NULL, NULL, d.due_at);
    assert_true(json_is_null(json_object_get(data, "reasons")));
    assert_true(json_is_null(json_object_get(data, "details")));
    assert_true(json_is_null(json_object_get(data, "missing_items")));
    json_decref(data);
    json_decref(reasons);
    json_decref(details);
    json_decref(d.missing_items);
    json_decref(d.transfer_chain);
    dossier_fini(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_matches_expected),
        cmocka_unit_test(test_check_exhaustive),
        cmocka_unit_test(test_check_unknown_action),
        cmocka_unit_test(test_check_forbidden_before_status),
        cmocka_unit_test(test_target),
        cmocka_unit_test(test_allowed_lists),
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_pay_first_fee),
        cmocka_unit_test(test_fee_items),
        cmocka_unit_test(test_effect_pay_first),
        cmocka_unit_test(test_effect_payment_fee_items),
        cmocka_unit_test(test_rows_carry_effects_and_uses),
        cmocka_unit_test(test_status_sql_lists_match_the_workflow),
        cmocka_unit_test(test_code_format),
        cmocka_unit_test(test_code_is_valid),
        cmocka_unit_test(test_deadline_start),
        cmocka_unit_test(test_deadline_pause_resume_extend),
        cmocka_unit_test(test_deadline_pause_resume_restart),
        cmocka_unit_test(test_supplement_due),
        cmocka_unit_test(test_deadline_years),
        cmocka_unit_test(test_flags_to_clear),
        cmocka_unit_test(test_pause_through_a_declined_withdrawal),
        cmocka_unit_test(test_effect_steps),
        cmocka_unit_test(test_effect_request_supplement),
        cmocka_unit_test(test_effect_apologize),
        cmocka_unit_test(test_effect_withdrawal),
        cmocka_unit_test(test_event_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
