/*
 * /api/v1/procedures and /api/v1/procedures/{code}: search and browse the
 * current published procedures (thủ tục hành chính), read one, and create a
 * new procedure as draft version 1.
 *
 * The procedure document's field tables live here; PUT .../draft
 * (handle_procedure_draft.c) uses catalogue_procedure_draft_fields. Rules
 * beyond field types are in procedure_rules.c. A document lists every member
 * (api-spec ProcedureWrite): those marked nullable below must still be
 * present, with null when they have no value; catalogue_procedure_check
 * reports the missing ones (json_spec treats a nullable member as optional).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue.h"
#include "codes.h"
#include "procedure_rules.h"
#include "store.h"

#define NAME_MAX_CHARS 500
#define TEXT_MAX_CHARS 20000

static const struct mc_field text_item = {
    .type = MC_F_STRING, .max_len = TEXT_MAX_CHARS, .check = catalogue_check_not_blank};

static const struct mc_field applicant_type_item = {.type = MC_F_STRING,
                                                    .enum_values = catalogue_applicant_types};

static const struct mc_field agency_code_item = {.type = MC_F_STRING,
                                                 .pattern = CATALOGUE_AGENCY_CODE_RE};

static const struct mc_field legal_basis_fields[] = {
    {.name = "number",
     .type = MC_F_STRING,
     .required = true,
     .max_len = 100,
     .check = catalogue_check_not_blank},
    {.name = "title",
     .type = MC_F_STRING,
     .required = true,
     .max_len = NAME_MAX_CHARS,
     .check = catalogue_check_not_blank},
    {.name = "issued_on", .type = MC_F_DATE, .nullable = true},
    {0}};
static const struct mc_field legal_basis_item = {.type = MC_F_OBJECT, .fields = legal_basis_fields};

static const struct mc_field decision_fields[] = {
    {.name = "number",
     .type = MC_F_STRING,
     .required = true,
     .max_len = 100,
     .check = catalogue_check_not_blank},
    {.name = "date", .type = MC_F_DATE, .required = true},
    {.name = "summary", .type = MC_F_STRING, .nullable = true, .max_len = TEXT_MAX_CHARS},
    {0}};

static const struct mc_field time_limit_fields[] = {
    {.name = "value",
     .type = MC_F_NUMBER,
     .required = true,
     .has_range = true,
     .min = 0,
     .max = 3650},
    {.name = "unit", .type = MC_F_STRING, .required = true, .enum_values = catalogue_time_units},
    {0}};

static const struct mc_field fee_fields[] = {
    {.name = "code", .type = MC_F_STRING, .required = true, .pattern = CATALOGUE_ITEM_CODE_RE},
    {.name = "name",
     .type = MC_F_STRING,
     .required = true,
     .max_len = NAME_MAX_CHARS,
     .check = catalogue_check_not_blank},
    {.name = "amount",
     .type = MC_F_INTEGER,
     .required = true,
     .has_range = true,
     .min = 0,
     .max = 1e12},
    {.name = "description", .type = MC_F_STRING, .nullable = true, .max_len = TEXT_MAX_CHARS},
    {.name = "effective_from", .type = MC_F_DATE, .nullable = true},
    {.name = "effective_to", .type = MC_F_DATE, .nullable = true},
    {0}};
static const struct mc_field fee_item = {.type = MC_F_OBJECT, .fields = fee_fields};

static const struct mc_field channel_fields[] = {
    {.name = "channel", .type = MC_F_STRING, .required = true, .enum_values = catalogue_channels},
    {.name = "time_limit", .type = MC_F_OBJECT, .required = true, .fields = time_limit_fields},
    {.name = "fees", .type = MC_F_ARRAY, .required = true, .max_len = 50, .item = &fee_item},
    {.name = "fee_collection", .type = MC_F_STRING, .enum_values = catalogue_fee_collections},
    {0}};
static const struct mc_field channel_item = {.type = MC_F_OBJECT, .fields = channel_fields};

static const struct mc_field document_fields[] = {
    {.name = "code", .type = MC_F_STRING, .required = true, .pattern = CATALOGUE_ITEM_CODE_RE},
    {.name = "name",
     .type = MC_F_STRING,
     .required = true,
     .max_len = NAME_MAX_CHARS,
     .check = catalogue_check_not_blank},
    {.name = "template_url",
     .type = MC_F_STRING,
     .nullable = true,
     .max_len = 2000,
     .pattern = "^https?://[^[:space:]]+$"},
    {.name = "originals",
     .type = MC_F_INTEGER,
     .required = true,
     .has_range = true,
     .min = 0,
     .max = 100},
    {.name = "copies",
     .type = MC_F_INTEGER,
     .required = true,
     .has_range = true,
     .min = 0,
     .max = 100},
    {.name = "mandatory", .type = MC_F_BOOLEAN, .required = true},
    {.name = "description", .type = MC_F_STRING, .nullable = true, .max_len = TEXT_MAX_CHARS},
    {0}};
static const struct mc_field document_item = {.type = MC_F_OBJECT, .fields = document_fields};

static const struct mc_field processing_step_fields[] = {
    {.name = "name",
     .type = MC_F_STRING,
     .required = true,
     .max_len = NAME_MAX_CHARS,
     .check = catalogue_check_not_blank},
    {.name = "role", .type = MC_F_STRING, .required = true, .enum_values = catalogue_step_roles},
    {.name = "allowance_hours",
     .type = MC_F_NUMBER,
     .required = true,
     .has_range = true,
     .min = 0,
     .max = 10000},
    {0}};
static const struct mc_field processing_step_item = {.type = MC_F_OBJECT,
                                                     .fields = processing_step_fields};

static const struct mc_field case_fields[] = {
    {.name = "code", .type = MC_F_STRING, .required = true, .pattern = CATALOGUE_CASE_CODE_RE},
    {.name = "name",
     .type = MC_F_STRING,
     .required = true,
     .max_len = NAME_MAX_CHARS,
     .check = catalogue_check_not_blank},
    {.name = "steps", .type = MC_F_ARRAY, .required = true, .max_len = 100, .item = &text_item},
    {.name = "channels",
     .type = MC_F_ARRAY,
     .required = true,
     .min_len = 1,
     .max_len = 3,
     .item = &channel_item},
    {.name = "documents",
     .type = MC_F_ARRAY,
     .required = true,
     .max_len = 100,
     .item = &document_item},
    /* Free-form here; mc_form_schema_check (procedure_rules.c) checks it. */
    {.name = "form_schema", .type = MC_F_OBJECT, .nullable = true},
    {.name = "processing_steps",
     .type = MC_F_ARRAY,
     .required = true,
     .max_len = 50,
     .item = &processing_step_item},
    {0}};
static const struct mc_field case_item = {.type = MC_F_OBJECT, .fields = case_fields};

/* Every member of the procedure document except "code". */
/* clang-format off */
#define PROCEDURE_BODY_FIELDS                                                                    \
    {.name = "name",                                                                             \
     .type = MC_F_STRING,                                                                        \
     .required = true,                                                                           \
     .max_len = NAME_MAX_CHARS,                                                                  \
     .check = catalogue_check_not_blank},                                                        \
        {.name = "sector_code",                                                                  \
         .type = MC_F_STRING,                                                                    \
         .required = true,                                                                       \
         .pattern = CATALOGUE_SECTOR_CODE_RE},                                                   \
        {.name = "admin_level",                                                                  \
         .type = MC_F_STRING,                                                                    \
         .required = true,                                                                       \
         .enum_values = catalogue_admin_levels},                                                 \
        {.name = "applicant_types",                                                              \
         .type = MC_F_ARRAY,                                                                     \
         .required = true,                                                                       \
         .min_len = 1,                                                                           \
         .max_len = 3,                                                                           \
         .item = &applicant_type_item},                                                          \
        {.name = "agency_codes",                                                                 \
         .type = MC_F_ARRAY,                                                                     \
         .required = true,                                                                       \
         .min_len = 1,                                                                           \
         .max_len = 1000,                                                                        \
         .item = &agency_code_item},                                                             \
        {.name = "implementing_agency",                                                          \
         .type = MC_F_STRING,                                                                    \
         .nullable = true,                                                                       \
         .max_len = NAME_MAX_CHARS},                                                             \
        {.name = "competent_agency",                                                             \
         .type = MC_F_STRING,                                                                    \
         .nullable = true,                                                                       \
         .max_len = NAME_MAX_CHARS},                                                             \
        {.name = "delegated_agency",                                                             \
         .type = MC_F_STRING,                                                                    \
         .nullable = true,                                                                       \
         .max_len = NAME_MAX_CHARS},                                                             \
        {.name = "cooperating_agency",                                                           \
         .type = MC_F_STRING,                                                                    \
         .nullable = true,                                                                       \
         .max_len = NAME_MAX_CHARS},                                                             \
        {.name = "description", .type = MC_F_STRING, .nullable = true, .max_len = TEXT_MAX_CHARS}, \
        {.name = "conditions", .type = MC_F_STRING, .nullable = true, .max_len = TEXT_MAX_CHARS}, \
        {.name = "result", .type = MC_F_STRING, .nullable = true, .max_len = TEXT_MAX_CHARS},    \
        {.name = "online_level",                                                                 \
         .type = MC_F_INTEGER,                                                                   \
         .required = true,                                                                       \
         .has_range = true,                                                                      \
         .min = 1,                                                                               \
         .max = 4},                                                                              \
        {.name = "online_scope",                                                                 \
         .type = MC_F_STRING,                                                                    \
         .required = true,                                                                       \
         .enum_values = catalogue_online_scopes},                                                \
        {.name = "supplement_clock",                                                             \
         .type = MC_F_STRING,                                                                    \
         .required = true,                                                                       \
         .enum_values = catalogue_supplement_clocks},                                            \
        {.name = "legal_basis",                                                                  \
         .type = MC_F_ARRAY,                                                                     \
         .required = true,                                                                       \
         .max_len = 200,                                                                         \
         .item = &legal_basis_item},                                                             \
        {.name = "publication_decision",                                                         \
         .type = MC_F_OBJECT,                                                                    \
         .nullable = true,                                                                       \
         .fields = decision_fields},                                                             \
    {                                                                                            \
        .name = "cases", .type = MC_F_ARRAY, .required = true, .min_len = 1, .max_len = 50,      \
        .item = &case_item                                                                       \
    }
/* clang-format on */

/* POST /procedures body. */
static const struct mc_field procedure_create_fields[] = {
    {.name = "code",
     .type = MC_F_STRING,
     .required = true,
     .max_len = CATALOGUE_PROCEDURE_CODE_MAX,
     .pattern = CATALOGUE_PROCEDURE_CODE_RE,
     MC_BIND(struct catalogue_procedure_body, code)},
    PROCEDURE_BODY_FIELDS,
    {0}};

/* PUT /procedures/{code}/draft body: "code" optional (the URL has it). */
const struct mc_field catalogue_procedure_draft_fields[] = {
    {.name = "code",
     .type = MC_F_STRING,
     .max_len = CATALOGUE_PROCEDURE_CODE_MAX,
     .pattern = CATALOGUE_PROCEDURE_CODE_RE,
     MC_BIND(struct catalogue_procedure_body, code)},
    PROCEDURE_BODY_FIELDS,
    {0}};

/* A search rank as the store writes it into cursors: "11.545455". */
static bool is_rank(const char *s)
{
    size_t n = strlen(s), dot = 0;
    while (dot < n && s[dot] >= '0' && s[dot] <= '9')
        dot++;
    if (dot < 1 || dot > 3 || dot + 7 != n || s[dot] != '.')
        return false;
    for (size_t i = dot + 1; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool is_blank(const char *s)
{
    for (; *s != '\0'; s++)
        if (*s != ' ' && *s != '\t')
            return false;
    return true;
}

/* A validated string filter: absent (NULL), or a value `valid` accepts. */
static const char *filter_param(mc_request *req, const char *name, bool (*valid)(const char *),
                                const char *message, json_t *errors)
{
    const char *v = mc_query_str(req, name, 64, errors);
    if (v != NULL && !valid(v)) {
        mc_errors_add_param(errors, name, "format", message);
        return NULL;
    }
    return v;
}

static bool is_admin_level(const char *s)
{
    return catalogue_in_list(catalogue_admin_levels, s);
}

static bool is_channel(const char *s)
{
    return catalogue_in_list(catalogue_channels, s);
}

/* "Did you mean": for a first search page that found nothing, the query with
   its unknown words replaced by known ones, when that finds something (NULL
   otherwise; malloc'd, the caller frees it). */
static mc_error search_suggestion(mc_db_conn *conn, const struct store_procedure_filter *f,
                                  char **out)
{
    *out = NULL;
    char *suggestion = NULL;
    mc_error rc = store_procedure_suggest(conn, f->q, &suggestion);
    if (rc != MC_OK || suggestion == NULL)
        return rc;
    struct store_procedure_filter again = *f;
    again.q = suggestion;
    json_t *items = NULL, *next_keys = NULL;
    rc = store_procedure_search(conn, &again, 1, &items, &next_keys);
    if (rc == MC_OK && json_array_size(items) > 0)
        *out = suggestion;
    else
        free(suggestion);
    json_decref(items);
    json_decref(next_keys);
    return rc;
}

void handle_procedures_search(mc_request *req)
{
    json_t *errors = mc_errors_new();
    struct store_procedure_filter f = {0};
    const char *q = mc_query_str(req, "q", 200, errors);
    f.q = q != NULL && !is_blank(q) ? q : NULL; /* a blank q browses */
    f.sector =
        filter_param(req, "sector", catalogue_is_sector_code, "must be a sector code", errors);
    f.agency = filter_param(req, "agency", catalogue_is_agency_code,
                            "must be an agency code like 000.00.00.H56", errors);
    f.admin_level = filter_param(req, "admin_level", is_admin_level,
                                 "must be one of: central province district commune", errors);
    f.channel =
        filter_param(req, "channel", is_channel, "must be one of: online in_person postal", errors);
    unsigned level = 0;
    bool has_level = false;
    char level_text[8];
    if (mc_query_uint(req, "online_level", 1, 4, &level, &has_level, errors) && has_level) {
        snprintf(level_text, sizeof level_text, "%u", level);
        f.online_level = level_text;
    }

    /* Ranked search pages by (rank, code), browsing by code. */
    unsigned limit = 0;
    json_t *cursor = NULL;
    if (mc_page_parse(req, CATALOGUE_PAGE_DEFAULT, CATALOGUE_PAGE_MAX, f.q != NULL ? 2 : 1, &limit,
                      &cursor, errors) &&
        cursor != NULL) {
        if (f.q != NULL) {
            if (mc_page_cursor_string(cursor, 0, is_rank, errors) != NULL)
                mc_page_cursor_string(cursor, 1, catalogue_is_procedure_code, errors);
        } else {
            mc_page_cursor_string(cursor, 0, catalogue_is_procedure_code, errors);
        }
    }
    f.cursor = cursor;
    if (!mc_query_ok(req, errors)) {
        json_decref(cursor);
        return;
    }
    json_t *items = NULL, *next_keys = NULL;
    char *suggestion = NULL;
    /* The in-process index first: it takes no connection (a rebuild takes one
       of its own, so a search never holds one while waiting for it). */
    bool indexed = false;
    char *page = NULL;
    size_t page_len = 0, page_items = 0;
    mc_error rc =
        catalogue_search_with_index(req, &f, limit, &page, &page_len, &page_items, &indexed);
    if (rc == MC_OK && indexed && f.q != NULL && cursor == NULL && page_items == 0)
        rc = catalogue_suggest_with_index(req, &f, &suggestion);
    if (rc == MC_OK && indexed && suggestion == NULL) { /* the index's bytes as they are */
        json_decref(cursor);
        mc_reply_json_text(req, 200, page, page_len);
        free(page);
        return;
    }
    free(page);
    if (rc == MC_OK && indexed) /* an empty page with its suggestion */
        items = json_array();
    mc_db_conn *conn;
    if (rc == MC_OK && !indexed && (rc = mc_db_acquire(mc_request_db(req), &conn)) == MC_OK) {
        rc = store_procedure_search(conn, &f, limit, &items, &next_keys);
        if (rc == MC_OK && f.q != NULL && cursor == NULL && json_array_size(items) == 0)
            rc = search_suggestion(conn, &f, &suggestion);
        mc_db_release(mc_request_db(req), conn);
    }
    json_decref(cursor);
    if (rc != MC_OK) {
        json_decref(items);
        json_decref(next_keys);
        mc_reply_error(req, rc, NULL);
        return;
    }
    json_t *body = mc_page_body(items, next_keys);
    if (body != NULL && suggestion != NULL)
        json_object_set_new(body, "suggestion", json_string(suggestion));
    free(suggestion);
    mc_reply_json_etag(req, 200, body, NULL); /* ETag from the body */
}

void handle_procedure_get(mc_request *req)
{
    const char *code = catalogue_path_procedure(req);
    if (code == NULL)
        return;
    struct store_version v = {0};
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(mc_request_db(req), &conn);
    if (rc == MC_OK) {
        rc = store_procedure_current(conn, code, &v);
        mc_db_release(mc_request_db(req), conn);
    }
    if (rc != MC_OK) {
        mc_reply_error(req, rc, NULL);
        return;
    }
    char etag[48];
    catalogue_version_etag(etag, sizeof etag, &v);
    mc_reply_json_etag(req, 200, v.body, etag);
}

struct procedure_create {
    json_t *doc; /* normalised body, owned by the handler */
    const char *admin_root, *created_by;
    json_t *errors;
    struct store_version out;
};

static mc_error procedure_create_tx(mc_db_conn *conn, void *p)
{
    struct procedure_create *t = p;
    store_version_clear(&t->out); /* a retried transaction starts afresh */
    json_array_clear(t->errors);
    return store_procedure_create(conn, t->doc, t->admin_root, t->created_by, t->errors, &t->out);
}

void handle_procedure_create(mc_request *req)
{
    const char *root = NULL;
    if (catalogue_writer_of(req, &root) == CATALOGUE_WRITER_NONE) {
        mc_reply_error(req, MC_ERR_FORBIDDEN, "only administrators write procedures");
        return;
    }
    json_t *errors = mc_errors_new();
    struct catalogue_procedure_body body = {0};
    mc_json_parse_fields(req->body, procedure_create_fields, "", errors, &body);
    catalogue_procedure_check(req->body, errors);
    if (!catalogue_procedure_refs_ok(req, errors))
        return;

    const char *code = body.code;
    struct procedure_create t = {catalogue_procedure_normalize(req->body, code), root,
                                 req->principal.sub, mc_errors_new(), {0}};
    mc_error rc = t.doc != NULL && t.errors != NULL
                      ? mc_db_transaction(mc_request_db(req), NULL, procedure_create_tx, &t)
                      : MC_ERR_INTERNAL;
    json_decref(t.doc);
    struct store_version v = t.out;
    if (rc != MC_OK) {
        store_version_clear(&v);
        catalogue_reply_failure(req, rc, t.errors);
        json_decref(t.errors);
        return;
    }
    json_decref(t.errors);
    char etag[48], location[160];
    catalogue_version_etag(etag, sizeof etag, &v);
    snprintf(location, sizeof location, CATALOGUE_API_PREFIX "/procedures/%s/versions/%d", code,
             v.version);
    mc_reply_created(req, v.body, location, etag);
}
