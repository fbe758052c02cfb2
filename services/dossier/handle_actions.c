/*
 * The workflow endpoints: every change of a dossier's status.
 *
 *   POST /dossiers/{id}/submit             the applicant (or the counter) submits a draft
 *   POST /dossiers/{id}/actions/{action}   any other transition of workflow.c's table
 *   GET  /dossiers/{id}/actions            what the caller may do now
 *
 * Each takes If-Match with the dossier's ETag. Inside one transaction the row
 * is locked, its revision checked again, the change applied (the row's
 * effect, actions.c, through transition.c), the row saved, the history row
 * and the event written: they commit together or not at all. Submit also
 * takes Idempotency-Key, whose answer is stored in the same transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "deadlines.h"
#include "dossier.h"
#include "fees.h"
#include "motcua/form_schema.h"
#include "motcua/json_spec.h"
#include "request.h"
#include "staff_directory.h"
#include "store.h"
#include "transition.h"

/* ------------------------------------------------------------------ */
/* the action body                                                     */

#define UUID_RE "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"

static const struct mc_field reason_item = {.type = MC_F_STRING, .min_len = 1, .max_len = 1000,
                                             .check = dossier_check_not_blank};
static const struct mc_field missing_item = {.type = MC_F_STRING, .min_len = 1, .max_len = 1000,
                                              .check = dossier_check_not_blank};
static const struct mc_field document_item = {
    .type = MC_F_STRING,
    .pattern = UUID_RE};
static const struct mc_field result_fields[] = {
    {.name = "summary", .type = MC_F_STRING, .required = true, .min_len = 1, .max_len = 2000,
     .check = dossier_check_not_blank},
    {.name = "number", .type = MC_F_STRING, .nullable = true, .max_len = 100},
    {.name = "document_id", .type = MC_F_STRING, .nullable = true,
     .pattern = UUID_RE,
     MC_BIND(struct action_body, result_document_id)},
    {0}};

static const char *const payment_providers[] = {"vnpay", "national_platform", NULL};
static const struct mc_field fee_item_fields[] = {
    {.name = "code", .type = MC_F_STRING, .required = true,
     .pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"},
    {.name = "name", .type = MC_F_STRING, .required = true, .min_len = 1, .max_len = 500,
     .check = dossier_check_not_blank},
    {.name = "amount", .type = MC_F_INTEGER, .required = true, .has_range = true, .min = 0,
     .max = 1e12},
    {0}};
static const struct mc_field fee_item = {.type = MC_F_OBJECT, .fields = fee_item_fields};

/* Every member any action may send, bound into struct action_body (actions.h). */
static const struct mc_field action_fields[] = {
    {.name = "reasons", .type = MC_F_ARRAY, .min_len = 1, .max_len = 20, .item = &reason_item,
     MC_BIND(struct action_body, reasons)},
    {.name = "note", .type = MC_F_STRING, .nullable = true, .max_len = 2000,
     MC_BIND(struct action_body, note)},
    {.name = "missing_items", .type = MC_F_ARRAY, .min_len = 1, .max_len = 50,
     .item = &missing_item, MC_BIND(struct action_body, missing_items)},
    {.name = "deadline_working_days", .type = MC_F_INTEGER, .has_range = true, .min = 1, .max = 60,
     MC_BIND(struct action_body, deadline_working_days)},
    {.name = "assignee", .type = MC_F_STRING, .min_len = 1, .max_len = 128,
     MC_BIND(struct action_body, assignee)},
    {.name = "to_step", .type = MC_F_INTEGER, .has_range = true, .min = 0, .max = 49,
     MC_BIND(struct action_body, to_step)},
    {.name = "to_agency", .type = MC_F_STRING,
     .pattern = "^[0-9]{3}\\.[0-9]{2}\\.[0-9]{2}\\.[A-Z][0-9]{2}$",
     MC_BIND(struct action_body, to_agency)},
    {.name = "amount", .type = MC_F_INTEGER, .has_range = true, .min = 0, .max = 1e12,
     MC_BIND(struct action_body, amount)},
    {.name = "result", .type = MC_F_OBJECT, .fields = result_fields,
     MC_BIND(struct action_body, result)},
    {.name = "new_appointment_at", .type = MC_F_STRING, .max_len = 40,
     MC_BIND(struct action_body, new_appointment_at)},
    {.name = "documents", .type = MC_F_ARRAY, .max_len = 50, .item = &document_item,
     MC_BIND(struct action_body, documents)},
    {.name = "fee_items", .type = MC_F_ARRAY, .min_len = 1, .max_len = 50, .item = &fee_item,
     MC_BIND(struct action_body, fee_items)},
    {.name = "payment_id", .type = MC_F_STRING, .pattern = UUID_RE,
     MC_BIND(struct action_body, payment_id)},
    {.name = "paid_at", .type = MC_F_STRING, .max_len = 40, MC_BIND(struct action_body, paid_at)},
    {.name = "provider", .type = MC_F_STRING, .enum_values = payment_providers,
     MC_BIND(struct action_body, provider)},
    {0}};

/* What each `needs` bit asks of the body, and where. */
static void check_needs(const struct workflow_transition *row, const struct action_body *body,
                        json_t *errors)
{
    const struct {
        unsigned need;
        bool given;
        const char *pointer;
        const char *message;
    } needs[] = {
        {NEED_REASONS, body->reasons != NULL, "/reasons", "give the reasons (a list of sentences)"},
        {NEED_MISSING_ITEMS, body->missing_items != NULL, "/missing_items",
         "list everything that is missing, at once"},
        {NEED_AGENCY, body->to_agency != NULL, "/to_agency",
         "name the agency the dossier is transferred to"},
        {NEED_APPOINTMENT, body->new_appointment_at != NULL, "/new_appointment_at",
         "give the new appointment date"},
        {NEED_AMOUNT, body->amount >= 0, "/amount", "give the amount to pay (VND)"},
        {NEED_RESULT, body->result != NULL, "/result",
         "give the result (summary, optional number and document)"},
        {NEED_ASSIGNEE, body->assignee != NULL, "/assignee",
         "name the officer the dossier is assigned to"},
    };
    for (size_t i = 0; i < sizeof needs / sizeof needs[0]; i++)
        if ((row->needs & needs[i].need) != 0 && !needs[i].given)
            mc_errors_add(errors, needs[i].pointer, "required", needs[i].message);
    int64_t t;
    if (body->new_appointment_at != NULL && mc_rfc3339_parse(body->new_appointment_at, &t) != 0)
        mc_errors_add(errors, "/new_appointment_at", "format",
                      "must be an RFC 3339 date-time, e.g. 2025-03-10T17:00:00+07:00");
    /* A payment's confirmation names the whole payment (a payment client's
       confirm_payment may, confirm_submission_payment must). */
    if ((row->needs & NEED_PAYMENT) != 0 || body->payment_id != NULL) {
        const struct {
            bool given;
            const char *pointer;
        } payment[] = {{body->payment_id != NULL, "/payment_id"},
                       {body->paid_at != NULL, "/paid_at"},
                       {body->amount >= 0, "/amount"},
                       {body->provider != NULL, "/provider"}};
        for (size_t i = 0; i < sizeof payment / sizeof payment[0]; i++)
            if (!payment[i].given)
                mc_errors_add(errors, payment[i].pointer, "required",
                              "a payment's confirmation gives payment_id, paid_at, amount and provider");
    }
    if (body->paid_at != NULL && mc_rfc3339_parse(body->paid_at, &t) != 0)
        mc_errors_add(errors, "/paid_at", "format",
                      "must be an RFC 3339 date-time, e.g. 2025-03-10T09:15:00+07:00");
}

/* ------------------------------------------------------------------ */
/* what an action needs from outside the database                     */

/*
 * May the dossier be transferred to agency `to`? It must exist (/to_agency
 * not_found), not be the handling agency already (same_agency) and implement
 * the procedure (not_offering): be one of the agency_codes of the
 * procedure's current published version. Competence is a fact of today (an
 * agency merged away or newly given the procedure since the filing), so the
 * current version decides, not the one the dossier was filed under; the
 * dossier is still processed under its filed version (time limit, steps).
 * Should the catalogue no longer publish the procedure, the filed version
 * (`filed`) is the reference. The current version is the catalogue client's
 * copy, renewed every CATALOGUE_CACHE_SECONDS.
 */
static mc_error check_transfer_target(mc_catalogue_client *catalogue, const struct dossier *d,
                                      const json_t *filed, const char *to, json_t *errors)
{
    const mc_catalogue_doc *agency = NULL;
    mc_error rc = mc_catalogue_agency(catalogue, to, &agency);
    mc_catalogue_doc_release(agency);
    if (rc == MC_ERR_AGENCY_NOT_FOUND) {
        mc_errors_add(errors, "/to_agency", "not_found", "no agency has this code");
        return MC_OK;
    }
    if (rc != MC_OK)
        return rc;
    if (strcmp(to, d->handling_agency) == 0) {
        mc_errors_add(errors, "/to_agency", "same_agency", "the dossier is already handled there");
        return MC_OK;
    }
    const mc_catalogue_doc *current = NULL;
    rc = mc_catalogue_procedure_current(catalogue, d->procedure_code, &current);
    if (rc != MC_OK && rc != MC_ERR_PROCEDURE_NOT_FOUND)
        return rc;
    if (!mc_catalogue_procedure_has_agency(current != NULL ? mc_catalogue_doc_json(current) : filed,
                                           to))
        mc_errors_add(errors, "/to_agency", "not_offering",
                      "this agency does not handle the dossier's procedure");
    mc_catalogue_doc_release(current);
    return MC_OK;
}

static mc_error gather_inputs(mc_request *req, const struct dossier *d,
                              const struct workflow_transition *row, const struct action_body *body,
                              struct action_inputs *in, json_t *errors)
{
    struct dossier_ctx *ctx = dossier_ctx(req);
    memset(in, 0, sizeof *in);
    mc_error rc = MC_OK;
    if ((row->uses & WF_USES_PROCEDURE) != 0) {
        rc = mc_catalogue_procedure_version(ctx->catalogue, d->procedure_code, d->procedure_version,
                                            &in->procedure);
        if (rc != MC_OK)
            return rc == MC_ERR_PROCEDURE_VERSION_NOT_FOUND ? MC_ERR_CATALOGUE_UNAVAILABLE : rc;
        const json_t *the_case = dossier_find_case(mc_catalogue_doc_json(in->procedure), d->case_code);
        in->n_steps = (int)json_array_size(json_object_get(the_case, "processing_steps"));
    }
    if ((row->uses & WF_USES_CALENDAR) != 0) {
        int first, last, start_year, unused;
        deadline_years((int64_t)time(NULL), &first, &last);
        /* extending a due date walks again from the clock start, maybe last year */
        if (d->clock_start_at != 0) {
            deadline_years(d->clock_start_at, &start_year, &unused);
            if (start_year < first)
                first = start_year;
        }
        rc = mc_catalogue_calendar(ctx->catalogue, d->handling_agency, first, last, &in->calendar);
        if (rc != MC_OK)
            return rc == MC_ERR_AGENCY_NOT_FOUND ? MC_ERR_CATALOGUE_UNAVAILABLE : rc;
        in->has_calendar = true;
    }
    rc = dossier_check_assignee(ctx, d, body->assignee, errors); /* staff_directory.c */
    if (rc != MC_OK)
        return rc;
    if ((row->uses & WF_CHECKS_TRANSFER_TARGET) != 0)
        return check_transfer_target(ctx->catalogue, d, mc_catalogue_doc_json(in->procedure),
                                     body->to_agency, errors);
    return MC_OK;
}

static void inputs_clear(struct action_inputs *in)
{
    if (in->has_calendar)
        mc_catalogue_calendar_free(&in->calendar);
    json_decref(in->pay_first_items);
    mc_catalogue_doc_release(in->procedure);
    memset(in, 0, sizeof *in);
}

/* ------------------------------------------------------------------ */
/* the transaction                                                     */

struct action_tx {
    mc_request *req;
    const struct workflow_transition *row;
    const struct action_body *body;
    const struct action_inputs *in;
    unsigned actors;
    long long expected_revision;
    struct transition_settings settings;
    /* out */
    struct dossier d;
    json_t *errors;     /* 422 problems found against the locked row */
    json_t *answer;     /* 200 body */
    char etag[48];
};

/* Submit's own checks and the dossier code: under the row lock. */
static mc_error submit_checks(mc_db_conn *conn, struct action_tx *t, int64_t now)
{
    struct dossier *d = &t->d;
    const json_t *the_case = dossier_find_case(mc_catalogue_doc_json(t->in->procedure), d->case_code);
    mc_catalogue_validate_form(t->in->procedure, the_case, d->form_data, "/form_data", t->errors);
    json_t *slots = NULL;
    mc_error rc = store_document_slots(conn, d->id, &slots);
    if (rc != MC_OK)
        return rc;
    size_t i;
    const json_t *doc;
    json_array_foreach(json_object_get(the_case, "documents"), i, doc)
    {
        if (!mc_json_bool(doc, "mandatory", false))
            continue;
        const char *code = mc_json_str(doc, "code", "");
        bool present = false;
        size_t j;
        const json_t *s;
        json_array_foreach(slots, j, s)
        {
            if (strcmp(json_string_value(s), code) == 0)
                present = true;
        }
        if (!present) {
            char pointer[160], message[700];
            snprintf(pointer, sizeof pointer, "/documents/%s", code);
            snprintf(message, sizeof message, "missing mandatory document: %s",
                     mc_json_str(doc, "name", code));
            mc_errors_add(t->errors, pointer, "missing", message);
        }
    }
    json_decref(slots);
    if (json_array_size(t->errors) > 0)
        return MC_OK;
    /* Submitted now, unless the fee is paid first: then at the payment. */
    if (t->row->to == DS_SUBMITTED)
        d->submitted_at = now;
    /* A dossier back from paying first keeps the code it was given then. */
    if (d->code[0] != '\0')
        return MC_OK;
    /* The code: the receiving agency, the local date, the next number. */
    char day[11];
    mc_date_format(mc_date_from_days((now + DOSSIER_UTC_OFFSET_MIN * 60) / 86400), day);
    long sequence = 0;
    rc = store_next_code_sequence(conn, d->agency_code, day, &sequence);
    if (rc != MC_OK)
        return rc;
    mc_date local;
    mc_date_parse(day, &local);
    if (!dossier_code_format(d->code, sizeof d->code, d->agency_code, local, sequence))
        return MC_ERR_INTERNAL;
    return MC_OK;
}

/*
 * The file a decision cites (approve, reject: result.document_id), under the
 * row lock (uploads take it too): a current file of this dossier's "result"
 * slot, the agency's result. Another dossier's file or an unknown id is
 * /result/document_id not_found (the same answer, so ids of other dossiers
 * cannot be probed); a replaced file is `replaced` (cite the current one); an
 * applicant's file is `not_result`. No document_id (or null) cites no file.
 */
static mc_error result_checks(mc_db_conn *conn, struct action_tx *t)
{
    const char *id = t->body->result_document_id;
    if (id == NULL)
        return MC_OK;
    struct store_document doc;
    mc_error rc = store_document_of_dossier(conn, t->d.id, id, &doc);
    if (rc == MC_ERR_DOSSIER_DOCUMENT_NOT_FOUND) {
        mc_errors_add(t->errors, "/result/document_id", "not_found",
                      "this dossier has no file with this id: upload the result file to the "
                      "\"result\" slot and cite its id");
        return MC_OK;
    }
    if (rc != MC_OK)
        return rc;
    if (strcmp(doc.kind, "result") != 0)
        mc_errors_add(t->errors, "/result/document_id", "not_result",
                      "this file is one of the applicant's: cite the agency's result file");
    else if (doc.replaced_at != 0)
        mc_errors_add(t->errors, "/result/document_id", "replaced",
                      "this result file was replaced: cite the current one");
    return MC_OK;
}

/* The answer: the dossier as the caller may see it now, with what they may do. */
static mc_error tx_answer(mc_db_conn *conn, struct action_tx *t)
{
    json_decref(t->answer);
    /* what the caller may see and do now: a transfer takes the dossier out
       of their hands; a payment client sees the payment view */
    bool read_only;
    unsigned actors_now = dossier_actors(t->req, &t->d, &read_only);
    t->answer = dossier_view_json(&t->d, actors_now, read_only);
    dossier_add_allowed_actions(t->answer, &t->d, actors_now);
    dossier_etag(&t->d, t->etag, sizeof t->etag);
    return mc_idempotency_record(t->req, conn, 200, t->answer, NULL, t->etag);
}

static mc_error action_tx_fn(mc_db_conn *conn, void *arg)
{
    struct action_tx *t = arg;
    dossier_clear(&t->d);
    json_array_clear(t->errors);
    mc_error rc = store_dossier_load(conn, mc_path_param(t->req, "id"), true, &t->d);
    if (rc != MC_OK)
        return rc;
    /* the same payment confirmed meanwhile (a concurrent repeat): done */
    if ((t->row->uses & WF_PAYMENT_CONFIRMATION) != 0 && t->body->payment_id != NULL) {
        bool applied = false;
        rc = store_history_payment_applied(conn, t->d.id, t->row->action, t->body->payment_id,
                                           &applied);
        if (rc != MC_OK || applied)
            return rc != MC_OK ? rc : tx_answer(conn, t);
    }
    if (t->d.revision != t->expected_revision)
        return MC_ERR_PRECONDITION_FAILED;
    int64_t now = (int64_t)time(NULL);
    if ((t->row->uses & WF_SUBMISSION) != 0)
        rc = submit_checks(conn, t, now);
    else if ((t->row->needs & NEED_RESULT) != 0)
        rc = result_checks(conn, t);
    if (rc == MC_OK && json_array_size(t->errors) > 0)
        rc = MC_ERR_VALIDATION;
    if (rc != MC_OK)
        return rc;
    const mc_principal *p = &t->req->principal;
    struct transition_actor actor = {p->sub, transition_acting_role(t->row->actors & t->actors),
                                     p->agency[0] != '\0' ? p->agency : NULL,
                                     dossier_actor_name(p)};
    rc = transition_commit(conn, &t->d, t->row, t->body, t->in, now, &t->settings, &actor,
                           t->errors);
    if (rc != MC_OK)
        return rc;
    return tx_answer(conn, t);
}

/* ------------------------------------------------------------------ */
/* payments                                                            */

struct applied_check {
    const char *dossier_id, *action, *payment_id;
    bool applied;
};

static mc_error applied_fn(mc_db_conn *conn, void *arg)
{
    struct applied_check *c = arg;
    return store_history_payment_applied(conn, c->dossier_id, c->action, c->payment_id, &c->applied);
}

/*
 * A payment client's confirmation repeated after it succeeded (the payment
 * service retries until it hears back): answer 200 with the dossier as it is,
 * whatever its status and ETag now, with no second history row or event.
 * True when the request was answered (also with an error).
 */
static bool reply_if_payment_applied(mc_request *req, const struct dossier *d,
                                     const struct workflow_transition *row,
                                     const struct action_body *body, unsigned actors,
                                     bool read_only)
{
    if ((row->uses & WF_PAYMENT_CONFIRMATION) == 0 || body->payment_id == NULL ||
        (actors & ACTOR_SERVICE) == 0)
        return false;
    struct applied_check c = {d->id, row->action, body->payment_id, false};
    mc_error rc = mc_db_with_conn(mc_request_db(req), applied_fn, &c);
    if (rc != MC_OK) {
        mc_reply_error(req, rc, NULL);
        return true;
    }
    if (!c.applied)
        return false;
    json_t *answer = dossier_view_json(d, actors, read_only);
    dossier_add_allowed_actions(answer, d, actors);
    char etag[48];
    dossier_etag(d, etag, sizeof etag);
    mc_set_header(req, "Cache-Control", "private, no-store");
    mc_reply_json_etag(req, 200, answer, etag);
    return true;
}

/* Does this submission wait for its fees to be paid first (fees.h)? Then the
   demand goes into `in` and the submission takes the pay-first row. */
static bool pays_first(const struct dossier *d, struct action_inputs *in)
{
    if (in->procedure == NULL)
        return false;
    char today[11];
    mc_date_format(mc_date_from_days(((int64_t)time(NULL) + DOSSIER_UTC_OFFSET_MIN * 60) / 86400),
                   today);
    const json_t *the_case = dossier_find_case(mc_catalogue_doc_json(in->procedure), d->case_code);
    return dossier_pay_first_fee(the_case, d->channel, today, &in->pay_first_amount,
                                 &in->pay_first_items);
}

/* ------------------------------------------------------------------ */
/* handlers                                                            */

static void reply_not_allowed(mc_request *req, const struct dossier *d, unsigned actors,
                              const char *action)
{
    json_t *members = json_object();
    json_object_set_new(members, "status_name", json_string(workflow_status_name(d->status)));
    json_t *probe = json_object();
    dossier_add_allowed_actions(probe, d, actors);
    json_object_set(members, "allowed_actions", json_object_get(probe, "allowed_actions"));
    json_decref(probe);
    char detail[200];
    snprintf(detail, sizeof detail, "'%s' is not allowed while the dossier is %s", action,
             workflow_status_name(d->status));
    mc_reply_problem(req, MC_ERR_DOSSIER_TRANSITION_NOT_ALLOWED, detail, members);
}

static void run_action(mc_request *req, const char *action)
{
    const struct workflow_transition *row = workflow_find(action);
    if (row == NULL) {
        mc_reply_error(req, MC_ERR_DOSSIER_UNKNOWN_ACTION, "see GET /dossiers/{id}/actions");
        return;
    }
    json_t *errors = mc_errors_new();
    struct action_body body = ACTION_BODY_INIT;
    if (mc_json_parse_fields(req->body, action_fields, "", errors, &body) > 0) {
        mc_reply_errors(req, MC_ERR_VALIDATION, errors);
        return;
    }
    /* The result is kept as sent: with every member, null when empty. */
    mc_json_fill_nulls(json_object_get(req->body, "result"), result_fields);
    struct dossier d;
    unsigned actors;
    bool read_only;
    if (!dossier_load_for_request(req, &d, &actors, &read_only)) {
        json_decref(errors);
        return;
    }
    if (reply_if_payment_applied(req, &d, row, &body, actors, read_only)) {
        json_decref(errors);
        dossier_clear(&d);
        return;
    }
    switch (workflow_check(action, d.status, actors, NULL)) {
    case WF_OK:
        break;
    case WF_NOT_FROM_STATUS:
        json_decref(errors);
        reply_not_allowed(req, &d, actors, action);
        dossier_clear(&d);
        return;
    case WF_UNKNOWN_ACTION:
    case WF_ACTOR_FORBIDDEN:
        json_decref(errors);
        dossier_clear(&d);
        mc_reply_error(req, MC_ERR_FORBIDDEN, "your role may not '%s' this dossier", action);
        return;
    }
    char etag[48];
    dossier_etag(&d, etag, sizeof etag);
    if (!mc_require_if_match(req, etag)) {
        json_decref(errors);
        dossier_clear(&d);
        return;
    }
    check_needs(row, &body, errors);
    struct action_inputs in;
    memset(&in, 0, sizeof in);
    mc_error rc = MC_OK;
    if (json_array_size(errors) == 0)
        rc = gather_inputs(req, &d, row, &body, &in, errors);
    if (rc == MC_OK && json_array_size(errors) == 0 && (row->uses & WF_SUBMISSION) != 0 &&
        pays_first(&d, &in))
        row = workflow_find("submit_pay_first");
    if (rc != MC_OK || json_array_size(errors) > 0) {
        inputs_clear(&in);
        dossier_clear(&d);
        if (rc != MC_OK) {
            json_decref(errors);
            mc_reply_error(req, rc, NULL);
        } else {
            mc_reply_errors(req, MC_ERR_VALIDATION, errors);
        }
        return;
    }
    struct action_tx t = {.req = req,
                          .row = row,
                          .body = &body,
                          .in = &in,
                          .actors = actors,
                          .expected_revision = d.revision,
                          .settings = transition_settings_of(dossier_ctx(req)),
                          .errors = errors};
    dossier_clear(&d);
    rc = mc_db_transaction(mc_request_db(req), &(mc_db_tx_options){.max_attempts = 5},
                           action_tx_fn, &t);
    inputs_clear(&in);
    if (rc == MC_ERR_VALIDATION) {
        dossier_clear(&t.d);
        json_decref(t.answer);
        mc_reply_errors(req, (row->uses & WF_SUBMISSION) != 0 ? MC_ERR_DOSSIER_INCOMPLETE
                                                              : MC_ERR_VALIDATION,
                        t.errors);
        return;
    }
    json_decref(t.errors);
    if (rc == MC_ERR_PRECONDITION_FAILED) {
        char current[48];
        dossier_etag(&t.d, current, sizeof current);
        if (t.d.revision > 0)
            mc_set_header(req, "ETag", current);
        dossier_clear(&t.d);
        json_decref(t.answer);
        mc_reply_error(req, rc, "the dossier changed since you read it: read it again");
        return;
    }
    dossier_clear(&t.d);
    if (rc != MC_OK) {
        json_decref(t.answer);
        mc_reply_error(req, rc, NULL);
        return;
    }
    mc_set_header(req, "Cache-Control", "private, no-store");
    mc_reply_json_etag(req, 200, t.answer, t.etag);
}

void handle_dossier_submit(mc_request *req)
{
    run_action(req, "submit");
}

void handle_dossier_action(mc_request *req)
{
    const char *action = mc_path_param(req, "action");
    const struct workflow_transition *row = workflow_find(action);
    if (row != NULL && (row->uses & WF_SUBMISSION) != 0) {
        mc_reply_error(req, MC_ERR_DOSSIER_UNKNOWN_ACTION, "submit with POST /dossiers/{id}/submit");
        return;
    }
    run_action(req, action != NULL ? action : "");
}

void handle_dossier_actions_list(mc_request *req)
{
    struct dossier d;
    unsigned actors;
    bool read_only;
    if (!dossier_load_for_request(req, &d, &actors, &read_only))
        return;
    json_t *body = json_pack("{ss si ss}", "dossier_id", d.id, "status", d.status, "status_name",
                             workflow_status_name(d.status));
    dossier_add_allowed_actions(body, &d, actors);
    dossier_clear(&d);
    mc_set_header(req, "Cache-Control", "private, no-store");
    mc_reply_json(req, 200, body);
}
