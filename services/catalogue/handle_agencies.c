/*
 * /api/v1/agencies and /api/v1/agencies/{code}: the agencies (cơ quan) and
 * their tree. Reads are public; a system_admin writes any agency, an
 * agency_admin creates children inside their own subtree and updates agencies
 * of that subtree (checked in the store, in the same transaction as the
 * write).
 */
#include <stdio.h>

#include "catalogue.h"
#include "codes.h"
#include "procedure_rules.h"
#include "store.h"

static const struct mc_field session_fields[] = {
    {.name = "start", .type = MC_F_TIME_OF_DAY, .required = true},
    {.name = "end", .type = MC_F_TIME_OF_DAY, .required = true},
    {0}};
static const struct mc_field session_item = {.type = MC_F_OBJECT, .fields = session_fields};

/* What the handlers read of an agency body (bound by the tables below). */
struct agency_body {
    const char *code;
    const char *parent_code;
    const json_t *office_hours;
};

/* Members shared by the POST and PUT bodies (every member but "code"). */
/* clang-format off */
#define AGENCY_BODY_FIELDS                                                                       \
    {.name = "name",                                                                             \
     .type = MC_F_STRING,                                                                        \
     .required = true,                                                                           \
     .max_len = 500,                                                                             \
     .check = catalogue_check_not_blank},                                                        \
        {.name = "admin_level",                                                                  \
         .type = MC_F_STRING,                                                                    \
         .required = true,                                                                       \
         .enum_values = catalogue_admin_levels},                                                 \
        {.name = "parent_code",                                                                  \
         .type = MC_F_STRING,                                                                    \
         .nullable = true,                                                                       \
         .pattern = CATALOGUE_AGENCY_CODE_RE,                                                    \
         MC_BIND(struct agency_body, parent_code)},                                              \
        {.name = "address", .type = MC_F_STRING, .nullable = true, .max_len = 500},              \
        {.name = "phone",                                                                        \
         .type = MC_F_STRING,                                                                    \
         .nullable = true,                                                                       \
         .pattern = "^[0-9+(). -]{3,32}$"},                                                      \
        {.name = "email",                                                                        \
         .type = MC_F_STRING,                                                                    \
         .nullable = true,                                                                       \
         .max_len = 254,                                                                         \
         .pattern = "^[^@[:space:]]+@[^@[:space:]]+\\.[^@[:space:]]+$"},                         \
        {.name = "office_hours",                                                                 \
         .type = MC_F_ARRAY,                                                                     \
         .nullable = true,                                                                       \
         .min_len = 1,                                                                           \
         .max_len = 4,                                                                           \
         .item = &session_item,                                                                  \
         MC_BIND(struct agency_body, office_hours)},                                             \
        {.name = "same_day_cutoff", .type = MC_F_TIME_OF_DAY, .nullable = true }
/* clang-format on */

/* POST /agencies body. */
static const struct mc_field agency_create_fields[] = {
    {.name = "code", .type = MC_F_STRING, .required = true, .pattern = CATALOGUE_AGENCY_CODE_RE,
     MC_BIND(struct agency_body, code)},
    AGENCY_BODY_FIELDS,
    {0}};

/* PUT /agencies/{code} body: "code" optional (the URL has it). */
static const struct mc_field agency_update_fields[] = {
    {.name = "code", .type = MC_F_STRING, .pattern = CATALOGUE_AGENCY_CODE_RE,
     MC_BIND(struct agency_body, code)},
    AGENCY_BODY_FIELDS,
    {0}};

static void agency_etag(char *out, size_t len, long long revision)
{
    mc_etag_for_revision(out, len, "a", revision);
}

void handle_agencies_list(mc_request *req)
{
    json_t *errors = mc_errors_new();
    struct store_agency_filter filter = {0};
    filter.parent = mc_query_str(req, "parent", 32, errors);
    if (filter.parent != NULL && !catalogue_is_agency_code(filter.parent))
        mc_errors_add_param(errors, "parent", "format",
                            "must be an agency code like 000.00.00.H56");
    filter.admin_level = mc_query_str(req, "admin_level", 16, errors);
    if (filter.admin_level != NULL &&
        !catalogue_in_list(catalogue_admin_levels, filter.admin_level))
        mc_errors_add_param(errors, "admin_level", "enum",
                            "must be one of: central province district commune");
    filter.q = mc_query_str(req, "q", 200, errors);

    unsigned limit = 0;
    json_t *cursor = NULL;
    const char *after = NULL;
    if (mc_page_parse(req, CATALOGUE_PAGE_DEFAULT, CATALOGUE_PAGE_MAX, 1, &limit, &cursor,
                      errors) &&
        cursor != NULL)
        after = catalogue_cursor_string(cursor, 0, catalogue_is_agency_code, errors);
    if (!catalogue_query_ok(req, errors)) {
        json_decref(cursor);
        return;
    }
    json_t *items = NULL, *next = NULL;
    mc_error rc = store_agency_list(mc_request_db(req), &filter, after, limit, &items, &next);
    json_decref(cursor);
    catalogue_reply_page(req, rc, items, next);
}

void handle_agency_get(mc_request *req)
{
    const char *code = catalogue_path_agency(req);
    if (code == NULL)
        return;
    json_t *agency = NULL;
    long long revision = 0;
    mc_error rc = store_agency_get(mc_request_db(req), code, &agency, &revision);
    if (rc != MC_OK) {
        mc_reply_error(req, rc, NULL);
        return;
    }
    char etag[40];
    agency_etag(etag, sizeof etag, revision);
    mc_reply_json_etag(req, 200, agency, etag);
}

void handle_agency_create(mc_request *req)
{
    const char *root = NULL;
    if (catalogue_writer_of(req, &root) == CATALOGUE_WRITER_NONE) {
        mc_reply_error(req, MC_ERR_FORBIDDEN, "only administrators write agencies");
        return;
    }
    json_t *errors = mc_errors_new();
    struct agency_body body = {0};
    mc_json_parse_fields(req->body, agency_create_fields, "", errors, &body);
    catalogue_office_hours_check(body.office_hours, "/office_hours", errors);
    mc_error rc = store_agency_check_exists(mc_request_db(req), body.parent_code, "/parent_code",
                                            errors);
    if (rc != MC_OK) {
        json_decref(errors);
        mc_reply_error(req, rc, NULL);
        return;
    }
    if (!catalogue_no_errors(req, errors))
        return;

    const char *code = body.code;
    json_t *agency = catalogue_agency_normalize(req->body, code);
    json_t *out = NULL;
    long long revision = 0;
    errors = mc_errors_new();
    rc = agency != NULL
             ? store_agency_create(mc_request_db(req), agency, root, errors, &out, &revision)
             : MC_ERR_INTERNAL;
    json_decref(agency);
    if (rc != MC_OK) {
        catalogue_reply_failure(req, rc, errors);
        json_decref(errors);
        return;
    }
    json_decref(errors);
    char etag[40], location[128];
    agency_etag(etag, sizeof etag, revision);
    snprintf(location, sizeof location, CATALOGUE_API_PREFIX "/agencies/%s", code);
    mc_reply_created(req, out, location, etag);
}

void handle_agency_update(mc_request *req)
{
    const char *root = NULL;
    if (catalogue_writer_of(req, &root) == CATALOGUE_WRITER_NONE) {
        mc_reply_error(req, MC_ERR_FORBIDDEN, "only administrators write agencies");
        return;
    }
    const char *code = catalogue_path_agency(req);
    if (code == NULL)
        return;
    json_t *errors = mc_errors_new();
    struct agency_body body = {0};
    mc_json_parse_fields(req->body, agency_update_fields, "", errors, &body);
    catalogue_code_matches_path(body.code, code, errors);
    catalogue_office_hours_check(body.office_hours, "/office_hours", errors);
    mc_error rc = store_agency_check_exists(mc_request_db(req), body.parent_code, "/parent_code",
                                            errors);
    if (rc != MC_OK) {
        json_decref(errors);
        mc_reply_error(req, rc, NULL);
        return;
    }
    if (!catalogue_no_errors(req, errors))
        return;

    json_t *current = NULL;
    long long revision = 0;
    rc = store_agency_get(mc_request_db(req), code, &current, &revision);
    json_decref(current);
    if (rc != MC_OK) {
        mc_reply_error(req, rc, NULL);
        return;
    }
    char etag[40];
    agency_etag(etag, sizeof etag, revision);
    if (!mc_require_if_match(req, etag))
        return;

    json_t *agency = catalogue_agency_normalize(req->body, code);
    json_t *out = NULL;
    errors = mc_errors_new();
    rc = agency != NULL ? store_agency_update(mc_request_db(req), agency, revision, root, errors,
                                              &out, &revision)
                        : MC_ERR_INTERNAL;
    json_decref(agency);
    if (rc != MC_OK) {
        catalogue_reply_failure(req, rc, errors);
        json_decref(errors);
        return;
    }
    json_decref(errors);
    agency_etag(etag, sizeof etag, revision);
    catalogue_reply_etag(req, 200, out, etag);
}
