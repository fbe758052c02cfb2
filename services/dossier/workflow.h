/*
 * The legal lifecycle of a dossier (DOMAIN.md §3) as one transition table:
 * from which statuses an action may be taken, the status it leads to, who may
 * take it, what it requires, the event it emits, what it does to the dossier
 * (its effect, actions.c) and what it uses besides (the calendar, the filed
 * procedure). Every change of a dossier's status goes through
 * workflow_check(); anything not in the table is refused with the actions
 * that are allowed. Adding an action: docs/services/dossier.md. Pure: no
 * I/O, no state.
 */
#ifndef DOSSIER_WORKFLOW_H
#define DOSSIER_WORKFLOW_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "motcua/error.h"

enum dossier_status {
    DS_DRAFT = 0,                 /* ours: not yet submitted */
    DS_SUBMITTED = 1,             /* mới đăng ký */
    DS_RECEIVED = 2,              /* được tiếp nhận */
    DS_REFUSED = 3,               /* không được tiếp nhận */
    DS_PROCESSING = 4,            /* đang xử lý */
    DS_SUPPLEMENT_REQUESTED = 5,  /* yêu cầu bổ sung giấy tờ */
    DS_AWAITING_PAYMENT = 6,      /* yêu cầu thực hiện nghĩa vụ tài chính */
    DS_WITHDRAWAL_REQUESTED = 7,  /* công dân yêu cầu rút hồ sơ */
    DS_STOPPED = 8,               /* dừng xử lý */
    DS_RESULT_READY = 9,          /* đã xử lý xong */
    DS_RESULT_RETURNED = 10,      /* đã trả kết quả */
    DS_AWAITING_SUBMISSION_PAYMENT = 11, /* ours, like draft: submitted, waiting for the fee to
                                            be paid first; not a national status, never in an
                                            agency's inbox */
};
#define DS_COUNT 12

/* Who is acting, relative to the dossier (computed by the handler from the
   token and the dossier; several bits may be set). */
enum workflow_actor {
    ACTOR_OWNER = 1u << 0,        /* the citizen it belongs to */
    ACTOR_COUNTER = 1u << 1,      /* staff of the handling agency, for a dossier filed at the counter */
    ACTOR_OFFICER = 1u << 2,      /* officer of the handling agency */
    ACTOR_APPROVER = 1u << 3,     /* approver of the handling agency */
    ACTOR_AGENCY_ADMIN = 1u << 4, /* agency_admin of the handling agency */
    ACTOR_SYSTEM = 1u << 5,       /* the deadline watcher */
    ACTOR_SERVICE = 1u << 6,      /* a machine client with the dossier:payments scope */
};

/* Where a transition leads when it is not a fixed status. A supplement and a
   declined withdrawal each go back to where their own request came from: a
   withdrawal may be requested while a supplement request is pending (5 -> 7),
   so the dossier remembers both (previous_status, withdrawal_from_status). */
#define WF_TO_SAME (-1)              /* status unchanged (apology, internal steps) */
#define WF_TO_PREVIOUS (-2)          /* back to where the supplement request came from (supplement) */
#define WF_TO_WITHDRAWAL_ORIGIN (-3) /* back to where the withdrawal was requested (declined withdrawal) */

/* What an action's body must carry. */
enum workflow_needs {
    NEED_REASONS = 1u << 0,       /* reasons: non-empty list */
    NEED_MISSING_ITEMS = 1u << 1, /* missing_items: everything missing, listed once */
    NEED_AGENCY = 1u << 2,        /* to_agency */
    NEED_APPOINTMENT = 1u << 3,   /* new_appointment_at */
    NEED_AMOUNT = 1u << 4,        /* amount (VND) */
    NEED_RESULT = 1u << 5,        /* result {summary, document_id?} */
    NEED_ASSIGNEE = 1u << 6,      /* assignee */
    NEED_PAYMENT = 1u << 7,       /* payment_id, paid_at, amount, provider (a payment client) */
};

/* What taking an action involves besides its effect. */
enum workflow_uses {
    WF_USES_CALENDAR = 1u << 0,        /* moves the legal clock: the agency's calendar is fetched */
    WF_CHECKS_TRANSFER_TARGET = 1u << 1, /* to_agency must exist and handle the procedure */
    WF_SUBMISSION = 1u << 2,           /* the submission: own endpoint, form and documents
                                          checked under the lock, a dossier code given; 422 is
                                          "incomplete" */
    WF_USES_PROCEDURE = 1u << 3,       /* reads the filed procedure version (its form, documents,
                                          steps): fetched from the catalogue first */
    WF_PAY_FIRST = 1u << 4,            /* the submission of a dossier whose fee is paid first:
                                          taken by `submit` instead of its own row when the
                                          channel's fee is collected before submission; never
                                          by name, never listed as allowed */
    WF_PAYMENT_CONFIRMATION = 1u << 5, /* a payment client's confirmation: idempotent by the
                                          body's payment_id (a repeat answers the dossier) */
};

struct dossier;
struct action_args;

/* What an action does to the dossier (actions.h): NULL when it changes
   nothing but the status. */
typedef mc_error (*workflow_effect_fn)(struct dossier *d, const struct action_args *a,
                                       json_t *details, json_t *errors);

struct workflow_transition {
    const char *action;    /* "receive" */
    unsigned from;         /* bit per status (1u << status) */
    int to;                /* a status, WF_TO_SAME, WF_TO_PREVIOUS or WF_TO_WITHDRAWAL_ORIGIN */
    unsigned actors;       /* enum workflow_actor bits allowed */
    unsigned needs;        /* enum workflow_needs */
    const char *event;     /* "dossier.dossier.received" */
    workflow_effect_fn effect;
    unsigned uses;         /* enum workflow_uses */
};

enum workflow_verdict {
    WF_OK = 0,
    WF_UNKNOWN_ACTION,     /* 404 */
    WF_NOT_FROM_STATUS,    /* 409 with the allowed actions */
    WF_ACTOR_FORBIDDEN,    /* 403 */
};

/* The table, for documentation and tests. */
extern const struct workflow_transition workflow_table[];
extern const size_t workflow_table_count;

/* The row of `action`, or NULL. */
const struct workflow_transition *workflow_find(const char *action);

/* May `actors` take `action` on a dossier in `status`? *row is set when the
   action exists. An action none of the caller's kinds may ever take is
   forbidden whatever the status; otherwise a wrong status is reported. */
enum workflow_verdict workflow_check(const char *action, int status, unsigned actors,
                                     const struct workflow_transition **row);

/* The status an allowed transition leads to, given the status before and the
   statuses the dossier remembers: where its supplement request came from
   (previous_status) and where its withdrawal request came from
   (withdrawal_from_status). */
int workflow_target(const struct workflow_transition *row, int status, int previous_status,
                    int withdrawal_from_status);

/* The actions `actors` may take now, written to out (at most cap); returns
   how many. */
size_t workflow_allowed(int status, unsigned actors, const char **out, size_t cap);

/* "received", ... for a status; NULL when out of range. */
const char *workflow_status_name(int status);

/* Statuses with the legal clock running or paused (received and not finished). */
bool workflow_status_is_open(int status);

/* Open statuses with the clock running, whose appointment the deadline
   watcher warns about (not while a supplement or a withdrawal is pending). */
bool workflow_status_is_watched(int status);

/* The same two sets as SQL lists, for the statements that must name them
   literally: the partial indexes of the migrations (dossiers_inbox_open_due,
   dossiers_open_due) are used only by a query whose condition repeats their
   predicate, and a parameter (status = ANY($n)) does not repeat it. A unit
   test checks that each list is exactly its set. */
#define WF_OPEN_STATUSES_SQL "2, 4, 5, 6, 7"
/* The statuses of a dossier that was submitted (an agency's inbox): the
   national codes. Draft (0) and awaiting submission payment (11) are the
   applicant's own; the inbox's partial indexes (migration 0008) repeat it. */
#define WF_FILED_STATUSES_SQL "status BETWEEN 1 AND 10"
#define WF_WATCHED_STATUSES_SQL "2, 4, 6"

#endif
