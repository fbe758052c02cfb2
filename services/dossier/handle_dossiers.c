/*
 * /dossiers: file a draft, list, read, and edit a draft.
 *
 *   POST  /dossiers        a citizen (online, postal) or an officer at the counter
 *   GET   /dossiers        a citizen's own; staff: their agency's inbox with filters
 *   GET   /dossiers/{id}   by id or code, with ETag and the caller's allowed actions
 *   PATCH /dossiers/{id}   applicant, representative, form data, delivery; If-Match;
 *                          while a draft, or while a supplement is requested
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dossier.h"
#include "motcua/db.h"
#include "motcua/form_schema.h"
#include "motcua/json_spec.h"
#include "request.h"
#include "store.h"

/* ------------------------------------------------------------------ */
/* body specs                                                          */

static const char *const applicant_types[] = {"citizen", "business", "organisation", NULL};
static const char *const channels[] = {"online", "in_person", "postal", NULL};
static const char *const delivery_methods[] = {"counter", "post", "online", NULL};

static const struct mc_field applicant_fields[] = {
    {.name = "type", .type = MC_F_STRING, .required = true, .enum_values = applicant_types},
    {.name = "full_name", .type = MC_F_STRING, .required = true, .min_len = 1, .max_len = 200,
     .check = dossier_check_not_blank},
    {.name = "personal_id", .type = MC_F_STRING, .nullable = true, .pattern = "^[0-9]{12}$"},
    {.name = "tax_code", .type = MC_F_STRING, .nullable = true, .pattern = "^[0-9]{10}(-[0-9]{3})?$"},
    {.name = "date_of_birth", .type = MC_F_DATE, .nullable = true},
    {.name = "phone", .type = MC_F_STRING, .nullable = true, .max_len = 20,
     .pattern = "^\\+?[0-9 .-]{8,20}$"},
    {.name = "email", .type = MC_F_STRING, .nullable = true, .max_len = 254,
     .pattern = "^[^@ ]+@[^@ ]+\\.[^@ ]+$"},
    {.name = "address", .type = MC_F_STRING, .nullable = true, .max_len = 500},
    {0}};

static const struct mc_field representative_fields[] = {
    {.name = "full_name", .type = MC_F_STRING, .required = true, .min_len = 1, .max_len = 200,
     .check = dossier_check_not_blank},
    {.name = "personal_id", .type = MC_F_STRING, .required = true, .pattern = "^[0-9]{12}$"},
    {.name = "phone", .type = MC_F_STRING, .nullable = true, .max_len = 20,
     .pattern = "^\\+?[0-9 .-]{8,20}$"},
    {.name = "authorisation", .type = MC_F_STRING, .required = true, .min_len = 1, .max_len = 500,
     .check = dossier_check_not_blank},
    {0}};

/* The body of a filing or an edit, bound by create_fields and update_fields
   (borrowed from the request body). */
struct dossier_body {
    const char *procedure_code;
    const char *case_code;
    const char *channel;
    const char *agency_code;
    const json_t *applicant;
    const json_t *representative;
    const json_t *form_data;
    const json_t *delivery;
    const char *delivery_method;  /* delivery.method */
    const char *delivery_address; /* delivery.address */
};

static const struct mc_field delivery_fields[] = {
    {.name = "method", .type = MC_F_STRING, .required = true, .enum_values = delivery_methods,
     MC_BIND(struct dossier_body, delivery_method)},
    {.name = "address", .type = MC_F_STRING, .nullable = true, .max_len = 500,
     MC_BIND(struct dossier_body, delivery_address)},
    {0}};

static const struct mc_field create_fields[] = {
    {.name = "procedure_code", .type = MC_F_STRING, .required = true, .max_len = 64,
     .pattern = "^[0-9]\\.[0-9]{6}(\\.[0-9A-Za-z]+)*$",
     MC_BIND(struct dossier_body, procedure_code)},
    {.name = "case_code", .type = MC_F_STRING, .nullable = true, .max_len = 64,
     .pattern = "^[a-z0-9][a-z0-9_-]{0,63}$", MC_BIND(struct dossier_body, case_code)},
    {.name = "channel", .type = MC_F_STRING, .required = true, .enum_values = channels,
     MC_BIND(struct dossier_body, channel)},
    {.name = "agency_code", .type = MC_F_STRING, .required = true,
     .pattern = "^[0-9]{3}\\.[0-9]{2}\\.[0-9]{2}\\.[A-Z][0-9]{2}$",
     MC_BIND(struct dossier_body, agency_code)},
    {.name = "applicant", .type = MC_F_OBJECT, .required = true, .fields = applicant_fields,
     MC_BIND(struct dossier_body, applicant)},
    {.name = "representative", .type = MC_F_OBJECT, .nullable = true,
     .fields = representative_fields, MC_BIND(struct dossier_body, representative)},
    {.name = "form_data", .type = MC_F_OBJECT, .required = true,
     MC_BIND(struct dossier_body, form_data)},
    {.name = "delivery", .type = MC_F_OBJECT, .required = true, .fields = delivery_fields,
     MC_BIND(struct dossier_body, delivery)},
    {0}};

/* An edit: each member replaces the dossier's (representative: null removes
   it, which changed_members() reads from the body itself). */
static const struct mc_field update_fields[] = {
    {.name = "applicant", .type = MC_F_OBJECT, .fields = applicant_fields,
     MC_BIND(struct dossier_body, applicant)},
    {.name = "representative", .type = MC_F_OBJECT, .nullable = true,
     .fields = representative_fields, MC_BIND(struct dossier_body, representative)},
    {.name = "form_data", .type = MC_F_OBJECT, MC_BIND(struct dossier_body, form_data)},
    {.name = "delivery", .type = MC_F_OBJECT, .fields = delivery_fields,
     MC_BIND(struct dossier_body, delivery)},
    {0}};

/* The members a dossier keeps as they were sent are answered with every documented
   member, null when empty (README, API conventions): complete them once the body is
   valid, before they are stored or compared with the stored ones. */
static void complete_kept_members(json_t *body)
{
    mc_json_fill_nulls(json_object_get(body, "applicant"), applicant_fields);
    mc_json_fill_nulls(json_object_get(body, "representative"), representative_fields);
    mc_json_fill_nulls(json_object_get(body, "delivery"), delivery_fields);
}

/* A postal delivery needs an address; an online delivery needs an account
   to deliver to. */
static void check_delivery(const struct dossier_body *b, bool has_owner, json_t *errors)
{
    const char *method = b->delivery_method != NULL ? b->delivery_method : "";
    const char *address = b->delivery_address;
    if (strcmp(method, "post") == 0 && (address == NULL || address[0] == '\0'))
        mc_errors_add(errors, "/delivery/address", "required",
                      "a postal delivery needs the address to send the result to");
    if (strcmp(method, "online") == 0 && !has_owner)
        mc_errors_add(errors, "/delivery/method", "no_account",
                      "an online delivery needs the applicant's account (file online)");
}

/* ------------------------------------------------------------------ */
/* create                                                              */

struct create_tx {
    mc_request *req;
    struct dossier *d;
    json_t *body;   /* the 201 answer, built inside the transaction */
    char location[128];
    char etag[48];
    unsigned max_drafts; /* a citizen's drafts at most (MAX_DRAFTS_PER_CITIZEN) ... */
    int64_t drafts_active_since; /* ... counting those edited since (ABANDONED_DRAFT_DAYS) */
    int64_t oldest_draft;        /* when the oldest of them was last edited */
};

static mc_error create_tx_fn(mc_db_conn *conn, void *arg)
{
    struct create_tx *t = arg;
    mc_error rc = MC_OK;
    if (strcmp(t->d->filed_by_role, "citizen") == 0) { /* MAX_DRAFTS_PER_CITIZEN */
        long long drafts = 0;
        rc = store_citizen_drafts(conn, t->d->owner_sub, t->drafts_active_since, &drafts,
                                  &t->oldest_draft);
        if (rc == MC_OK && drafts >= t->max_drafts)
            rc = MC_ERR_DOSSIER_TOO_MANY_DRAFTS;
        if (rc != MC_OK)
            return rc;
    }
    rc = store_dossier_insert(conn, t->d);
    if (rc != MC_OK)
        return rc;
    const mc_principal *p = &t->req->principal;
    struct history_entry h = {
        .dossier_id = t->d->id,
        .actor_sub = p->sub,
        .actor_role = t->d->filed_by_role,
        .actor_agency = p->agency[0] != '\0' ? p->agency : NULL,
        .actor_name = dossier_actor_name(p),
        .action = "create",
        .from_status = DS_DRAFT,
        .to_status = DS_DRAFT,
    };
    rc = store_history_add(conn, &h);
    if (rc != MC_OK)
        return rc;
    json_decref(t->body);
    t->body = dossier_to_json(t->d);
    dossier_add_allowed_actions(t->body, t->d, ACTOR_OWNER | ACTOR_COUNTER);
    snprintf(t->location, sizeof t->location, "/api/v1/dossiers/%s", t->d->id);
    dossier_etag(t->d, t->etag, sizeof t->etag);
    return mc_idempotency_record(t->req, conn, 201, t->body, t->location, t->etag);
}

void handle_dossier_create(mc_request *req)
{
    json_t *errors = mc_errors_new();
    struct dossier_body body = {0};
    if (mc_json_parse_fields(req->body, create_fields, "", errors, &body) > 0) {
        mc_reply_errors(req, MC_ERR_VALIDATION, errors);
        return;
    }
    const mc_principal *p = &req->principal;
    bool citizen = (p->roles & MC_ROLE_CITIZEN) != 0;
    const char *channel = body.channel;
    const char *agency = body.agency_code;
    if (citizen) {
        if (strcmp(channel, "in_person") == 0)
            mc_errors_add(errors, "/channel", "counter_only",
                          "an in-person filing is made by an officer at the counter");
    } else if (strcmp(agency, p->agency) != 0) {
        mc_errors_add(errors, "/agency_code", "not_your_agency",
                      "staff file dossiers for their own agency only");
    }
    check_delivery(&body, citizen, errors);

    const mc_catalogue_doc *procedure_doc = NULL;
    mc_error rc = mc_catalogue_procedure_current(dossier_ctx(req)->catalogue, body.procedure_code,
                                                 &procedure_doc);
    const json_t *procedure = mc_catalogue_doc_json(procedure_doc);
    if (rc == MC_ERR_PROCEDURE_NOT_FOUND) {
        mc_errors_add(errors, "/procedure_code", "not_found", "no published procedure has this code");
    } else if (rc != MC_OK) {
        json_decref(errors);
        mc_reply_error(req, rc, NULL);
        return;
    }
    const json_t *the_case = NULL;
    double limit_value = 0;
    const char *limit_unit = NULL;
    if (procedure != NULL)
        the_case = dossier_check_procedure_choice(procedure, agency, body.case_code, channel,
                                                  &limit_value, &limit_unit, errors);
    if (the_case != NULL)
        mc_catalogue_validate_form(procedure_doc, the_case, body.form_data, "/form_data", errors);
    if (json_array_size(errors) > 0) {
        mc_catalogue_doc_release(procedure_doc);
        mc_reply_errors(req, MC_ERR_VALIDATION, errors);
        return;
    }
    json_decref(errors);

    struct dossier d;
    memset(&d, 0, sizeof d);
    snprintf(d.procedure_code, sizeof d.procedure_code, "%s", mc_json_str(procedure, "code", ""));
    d.procedure_version = (int)mc_json_int(procedure, "version", 0);
    snprintf(d.procedure_name, sizeof d.procedure_name, "%s", mc_json_str(procedure, "name", ""));
    snprintf(d.sector_code, sizeof d.sector_code, "%s", mc_json_str(procedure, "sector_code", ""));
    snprintf(d.case_code, sizeof d.case_code, "%s", mc_json_str(the_case, "code", ""));
    snprintf(d.channel, sizeof d.channel, "%s", channel);
    d.limit_value = limit_value;
    snprintf(d.limit_unit, sizeof d.limit_unit, "%s", limit_unit);
    snprintf(d.supplement_clock, sizeof d.supplement_clock, "%s",
             mc_json_str(procedure, "supplement_clock", "restart"));
    snprintf(d.agency_code, sizeof d.agency_code, "%s", agency);
    if (citizen)
        snprintf(d.owner_sub, sizeof d.owner_sub, "%s", p->sub);
    snprintf(d.filed_by_sub, sizeof d.filed_by_sub, "%s", p->sub);
    snprintf(d.filed_by_role, sizeof d.filed_by_role, "%s", dossier_primary_role(p));
    complete_kept_members(req->body);
    d.applicant = json_incref((json_t *)body.applicant);
    d.representative = json_incref((json_t *)body.representative);
    d.form_data = json_incref((json_t *)body.form_data);
    d.delivery = json_incref((json_t *)body.delivery);
    mc_catalogue_doc_release(procedure_doc);

    struct dossier_ctx *ctx = dossier_ctx(req);
    struct create_tx t = {.req = req,
                          .d = &d,
                          .max_drafts = ctx->max_drafts_per_citizen,
                          .drafts_active_since =
                              (int64_t)time(NULL) - (int64_t)ctx->abandoned_draft_days * 86400};
    rc = mc_db_transaction(mc_request_db(req), NULL, create_tx_fn, &t);
    if (rc == MC_ERR_DOSSIER_TOO_MANY_DRAFTS) {
        json_decref(t.body);
        dossier_clear(&d);
        /* without the citizen's doing, a slot frees when the oldest draft stops counting */
        char retry_after[24];
        int64_t wait = t.oldest_draft - t.drafts_active_since;
        snprintf(retry_after, sizeof retry_after, "%lld", (long long)(wait > 0 ? wait : 1));
        mc_set_header(req, "Retry-After", retry_after);
        mc_reply_problem(req, rc,
                         "you have as many drafts as allowed: submit one, or let old ones go",
                         json_pack("{si ss}", "limit", (int)t.max_drafts, "limit_name",
                                   "MAX_DRAFTS_PER_CITIZEN"));
        return;
    }
    if (rc != MC_OK) {
        json_decref(t.body);
        dossier_clear(&d);
        mc_reply_error(req, rc, NULL);
        return;
    }
    dossier_clear(&d);
    mc_reply_created(req, t.body, t.location, t.etag);
}

/* ------------------------------------------------------------------ */
/* read                                                                */

void handle_dossier_get(mc_request *req)
{
    struct dossier d;
    unsigned actors;
    bool read_only;
    if (!dossier_load_for_request(req, &d, &actors, &read_only))
        return;
    json_t *body = dossier_view_json(&d, actors, read_only);
    dossier_add_allowed_actions(body, &d, actors);
    char etag[48];
    dossier_etag(&d, etag, sizeof etag);
    dossier_clear(&d);
    mc_set_header(req, "Cache-Control", "private, no-store");
    mc_reply_json_etag(req, 200, body, etag);
}

/* ------------------------------------------------------------------ */
/* list                                                                */

void handle_dossiers_list(mc_request *req)
{
    json_t *errors = mc_errors_new();
    const mc_principal *p = &req->principal;
    struct dossier_filter f;
    memset(&f, 0, sizeof f);
    f.status = -1;
    f.step_index = -1;
    f.now = (int64_t)time(NULL);

    unsigned status = 0, step = 0;
    bool has_status = false, has_step = false;
    mc_query_uint(req, "status", 0, 10, &status, &has_status, errors);
    mc_query_uint(req, "step", 0, 1000, &step, &has_step, errors);
    if (has_status)
        f.status = (int)status;
    if (has_step)
        f.step_index = (int)step;
    f.procedure_code = mc_query_str(req, "procedure", 64, errors);
    f.channel = mc_query_str(req, "channel", 16, errors);
    if (f.channel != NULL && strcmp(f.channel, "online") != 0 && strcmp(f.channel, "in_person") != 0 &&
        strcmp(f.channel, "postal") != 0)
        mc_errors_add_param(errors, "channel", "enum", "must be one of: online in_person postal");
    const char *assignee = mc_query_str(req, "assignee", 128, errors);
    f.assignee_sub = assignee != NULL && strcmp(assignee, "me") == 0 ? p->sub : assignee;
    const char *due_before = mc_query_str(req, "due_before", 40, errors);
    if (due_before != NULL && mc_rfc3339_parse(due_before, &f.due_before) != 0)
        mc_errors_add_param(errors, "due_before", "format",
                            "must be an RFC 3339 date-time, e.g. 2025-03-01T17:00:00+07:00");
    const char *overdue = mc_query_str(req, "overdue", 5, errors);
    if (overdue != NULL && strcmp(overdue, "true") != 0 && strcmp(overdue, "false") != 0)
        mc_errors_add_param(errors, "overdue", "enum", "must be true or false");
    f.overdue_only = overdue != NULL && strcmp(overdue, "true") == 0;
    const char *agency = mc_query_str(req, "agency", 32, errors);
    const char *sort = mc_query_str(req, "sort", 16, errors);
    if (sort != NULL && strcmp(sort, "due_at") != 0 && strcmp(sort, "-submitted_at") != 0)
        mc_errors_add_param(errors, "sort", "enum", "must be one of: -submitted_at due_at");
    f.by_due = sort != NULL && strcmp(sort, "due_at") == 0;

    /* A cursor of the deadline queue carries a third key naming it, so a
       cursor is never read under the other order. */
    json_t *cursor = NULL;
    mc_page_parse(req, DOSSIER_PAGE_DEFAULT, DOSSIER_PAGE_MAX, f.by_due ? 3 : 2, &f.limit, &cursor,
                  errors);
    if (cursor != NULL) {
        const json_t *k0 = json_array_get(cursor, 0), *k1 = json_array_get(cursor, 1),
                     *k2 = json_array_get(cursor, 2);
        if (!json_is_integer(k0) || !json_is_string(k1) || !dossier_id_is_valid(json_string_value(k1)) ||
            (f.by_due && (!json_is_string(k2) || strcmp(json_string_value(k2), "due_at") != 0)))
            mc_errors_add_param(errors, "cursor", "invalid", "is not a cursor this server produced");
        else {
            f.after_time = (int64_t)json_integer_value(k0);
            f.after_id = json_string_value(k1);
        }
    }

    unsigned staff = p->roles & (MC_ROLE_OFFICER | MC_ROLE_APPROVER | MC_ROLE_AGENCY_ADMIN);
    if ((p->roles & MC_ROLE_CITIZEN) != 0 && staff == 0) {
        f.owner_sub = p->sub;
        if (agency != NULL)
            mc_errors_add_param(errors, "agency", "not_allowed", "citizens list their own dossiers");
        if (f.by_due)
            mc_errors_add_param(errors, "sort", "not_allowed",
                                "the deadline queue is an agency's; citizens' lists are newest first");
    } else if (staff != 0) {
        if (agency != NULL && strcmp(agency, p->agency) != 0)
            mc_errors_add_param(errors, "agency", "not_your_agency",
                                "staff list their own agency's dossiers");
        f.agency = p->agency;
    } else {
        /* auditors and system administrators name the agency */
        if (agency == NULL)
            mc_errors_add_param(errors, "agency", "required", "name the agency to list");
        f.agency = agency;
    }
    if (json_array_size(errors) > 0) {
        json_decref(cursor);
        mc_reply_errors(req, MC_ERR_BAD_QUERY, errors);
        return;
    }
    json_decref(errors);

    struct dossier *items = NULL;
    size_t n = 0;
    mc_db_conn *conn = NULL;
    mc_error rc = mc_db_acquire(mc_request_db(req), &conn);
    if (rc == MC_OK) {
        rc = store_dossier_list(conn, &f, &items, &n);
        mc_db_release(mc_request_db(req), conn);
    }
    json_decref(cursor); /* f.after_id pointed into it */
    if (rc != MC_OK) {
        mc_reply_error(req, rc, NULL);
        return;
    }
    json_t *list = json_array();
    json_t *next = NULL;
    for (size_t i = 0; i < n; i++) {
        if (i < f.limit)
            json_array_append_new(list, dossier_summary_json(&items[i]));
        if (i + 1 == f.limit && n > f.limit) /* the last item shown, before it is cleared */
            next = f.by_due ? json_pack("[Iss]", (json_int_t)items[i].sort_micros, items[i].id, "due_at")
                            : json_pack("[Is]", (json_int_t)items[i].sort_micros, items[i].id);
        dossier_clear(&items[i]);
    }
    free(items);
    mc_set_header(req, "Cache-Control", "private, no-store");
    mc_reply_json(req, 200, mc_page_body(list, next));
}

/* ------------------------------------------------------------------ */
/* update                                                              */

struct update_tx {
    mc_request *req;
    struct dossier *d;
    long long expected;
    const json_t *changed; /* the names of the members that change */
    json_t *body;
    char etag[48];
};

#define N_EDITABLE 4
static const char *const editable_members[N_EDITABLE] = {"applicant", "representative", "form_data",
                                                         "delivery"};

/* The member of d an edit replaces (editable_members[i]). */
static json_t **editable_member(struct dossier *d, size_t i)
{
    json_t **members[N_EDITABLE] = {&d->applicant, &d->representative, &d->form_data,
                                    &d->delivery};
    return members[i];
}

/* The names of the members the body sends with another value than d has
   (new reference, an array; empty when the edit changes nothing). JSON
   equality: the order of object members does not count; null and an absent
   representative are the same. */
static json_t *changed_members(const json_t *body, struct dossier *d)
{
    json_t *changed = json_array();
    for (size_t i = 0; i < N_EDITABLE; i++) {
        const json_t *v = json_object_get(body, editable_members[i]);
        if (v == NULL)
            continue;
        const json_t *now = *editable_member(d, i);
        bool same = json_is_null(v) ? now == NULL || json_is_null(now)
                                    : now != NULL && json_equal(now, v);
        if (!same)
            json_array_append_new(changed, json_string(editable_members[i]));
    }
    return changed;
}

static mc_error update_tx_fn(mc_db_conn *conn, void *arg)
{
    struct update_tx *t = arg;
    for (size_t i = 0; i < N_EDITABLE; i++) {
        bool listed = false;
        size_t j;
        const json_t *name;
        json_array_foreach(t->changed, j, name)
        {
            if (strcmp(json_string_value(name), editable_members[i]) == 0)
                listed = true;
        }
        if (!listed)
            continue;
        json_t *v = json_object_get(t->req->body, editable_members[i]);
        json_t **member = editable_member(t->d, i);
        json_decref(*member);
        *member = json_is_null(v) ? NULL : json_incref(v);
    }
    json_t *changes = json_pack("{sO}", "fields", t->changed);
    mc_error rc = store_dossier_save(conn, t->d, t->expected);
    if (rc != MC_OK) {
        json_decref(changes);
        return rc;
    }
    const mc_principal *p = &t->req->principal;
    struct history_entry h = {
        .dossier_id = t->d->id,
        .actor_sub = p->sub,
        .actor_role = dossier_primary_role(p),
        .actor_agency = p->agency[0] != '\0' ? p->agency : NULL,
        .actor_name = dossier_actor_name(p),
        .action = "update",
        .from_status = t->d->status,
        .to_status = t->d->status,
        .details = changes,
    };
    rc = store_history_add(conn, &h);
    json_decref(changes);
    return rc;
}

void handle_dossier_update(mc_request *req)
{
    json_t *errors = mc_errors_new();
    struct dossier_body edit = {0};
    if (mc_json_parse_fields(req->body, update_fields, "", errors, &edit) > 0) {
        mc_reply_errors(req, MC_ERR_VALIDATION, errors);
        return;
    }
    struct dossier d;
    unsigned actors;
    bool read_only;
    if (!dossier_load_for_request(req, &d, &actors, &read_only)) {
        json_decref(errors);
        return;
    }
    bool editable = d.status == DS_DRAFT || d.status == DS_SUPPLEMENT_REQUESTED;
    if ((actors & (ACTOR_OWNER | ACTOR_COUNTER)) == 0) {
        json_decref(errors);
        dossier_clear(&d);
        mc_reply_error(req, MC_ERR_FORBIDDEN, "only the applicant (or the counter that filed it) edits a dossier");
        return;
    }
    char etag[48];
    dossier_etag(&d, etag, sizeof etag);
    if (!mc_require_if_match(req, etag)) {
        json_decref(errors);
        dossier_clear(&d);
        return;
    }
    if (!editable) {
        json_decref(errors);
        dossier_clear(&d);
        mc_reply_error(req, MC_ERR_DOSSIER_TRANSITION_NOT_ALLOWED,
                       "a dossier can be edited while a draft or while a supplement is requested");
        return;
    }
    if (edit.form_data != NULL) {
        const mc_catalogue_doc *procedure = NULL;
        mc_error rc = mc_catalogue_procedure_version(dossier_ctx(req)->catalogue, d.procedure_code,
                                                     d.procedure_version, &procedure);
        if (rc != MC_OK) {
            json_decref(errors);
            dossier_clear(&d);
            mc_reply_error(req, rc == MC_ERR_PROCEDURE_VERSION_NOT_FOUND ? MC_ERR_CATALOGUE_UNAVAILABLE : rc,
                           NULL);
            return;
        }
        mc_catalogue_validate_form(procedure,
                                   dossier_find_case(mc_catalogue_doc_json(procedure), d.case_code),
                                   edit.form_data, "/form_data", errors);
        mc_catalogue_doc_release(procedure);
    }
    if (edit.delivery != NULL)
        check_delivery(&edit, d.owner_sub[0] != '\0', errors);
    if (json_array_size(errors) > 0) {
        dossier_clear(&d);
        mc_reply_errors(req, MC_ERR_VALIDATION, errors);
        return;
    }
    json_decref(errors);
    complete_kept_members(req->body);
    /* An edit that changes nothing ({} or the values the dossier has) writes
       nothing: no revision, no history row; the answer is the dossier as it
       is, with its ETag (checked above). */
    json_t *changed = changed_members(req->body, &d);
    if (json_array_size(changed) > 0) {
        struct update_tx t = {.req = req, .d = &d, .expected = d.revision, .changed = changed};
        mc_error rc = mc_db_transaction(mc_request_db(req), NULL, update_tx_fn, &t);
        if (rc != MC_OK) {
            json_decref(changed);
            dossier_clear(&d);
            mc_reply_error(req, rc, NULL);
            return;
        }
    }
    json_decref(changed);
    json_t *body = dossier_to_json(&d);
    dossier_add_allowed_actions(body, &d, actors);
    dossier_etag(&d, etag, sizeof etag);
    dossier_clear(&d);
    mc_reply_json_etag(req, 200, body, etag);
}
