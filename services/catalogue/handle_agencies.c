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

static mc_error agency_page(mc_db_conn *conn, const void *filter, unsigned limit, json_t **items,
                            json_t **next_keys)
{
    return store_agency_list(conn, filter, limit, items, next_keys);
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
    if (mc_page_parse(req, CATALOGUE_PAGE_DEFAULT, CATALOGUE_PAGE_MAX, 1, &limit, &cursor,
                      errors) &&
        cursor != NULL)
        filter.after_code = mc_page_cursor_string(cursor, 0, catalogue_is_agency_code, errors);
    mc_reply_list(req, errors, cursor, agency_page, &filter, limit);
}

/* A create or an update, in one transaction of the handler's. */
struct agency_write {
    json_t *agency; /* normalised body, owned by the handler */
    const char *admin_root;
    long long expected_revision; /* update only */
    json_t *errors;
    json_t *out;
    long long revision;
};

static void agency_write_reset(struct agency_write *w)
{
    json_decref(w->out); /* a retried transaction starts afresh */
    w->out = NULL;
    json_array_clear(w->errors);
}

static mc_error agency_create_tx(mc_db_conn *conn, void *p)
{
    struct agency_write *w = p;
    agency_write_reset(w);
    return store_agency_create(conn, w->agency, w->admin_root, w->errors, &w->out, &w->revision);
}

static mc_error agency_update_tx(mc_db_conn *conn, void *p)
{
    struct agency_write *w = p;
    agency_write_reset(w);
    return store_agency_update(conn, w->agency, w->expected_revision, w->admin_root, w->errors,
                               &w->out, &w->revision);
}

/* Run the write; on failure answer it (with the store's problems) and
   return false. */
static bool run_agency_write(mc_request *req, mc_db_tx_fn fn, struct agency_write *w)
{
    w->errors = mc_errors_new();
    mc_error rc = w->agency != NULL && w->errors != NULL
                      ? mc_db_transaction(mc_request_db(req), NULL, fn, w)
                      : MC_ERR_INTERNAL;
    if (rc != MC_OK) {
        json_decref(w->out);
        w->out = NULL;
        catalogue_reply_failure(req, rc, w->errors);
    }
    json_decref(w->errors);
    return rc == MC_OK;
}

void handle_agency_get(mc_request *req)
{
    const char *code = catalogue_path_agency(req);
    if (code == NULL)
        return;
    json_t *agency = NULL;
    long long revision = 0;
    mc_error rc = catalogue_read(req, store_agency_get, code, &agency, &revision);
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
    if (!catalogue_agency_refs_ok(req, body.parent_code, errors))
        return;

    const char *code = body.code;
    struct agency_write w = {.agency = catalogue_agency_normalize(req->body, code),
                             .admin_root = root};
    bool ok = run_agency_write(req, agency_create_tx, &w);
    json_decref(w.agency);
    if (!ok)
        return;
    char etag[40], location[128];
    agency_etag(etag, sizeof etag, w.revision);
    snprintf(location, sizeof location, CATALOGUE_API_PREFIX "/agencies/%s", code);
    mc_reply_created(req, w.out, location, etag);
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
    if (!catalogue_agency_refs_ok(req, body.parent_code, errors))
        return;

    json_t *current = NULL;
    long long revision = 0;
    mc_error rc = catalogue_read(req, store_agency_get, code, &current, &revision);
    json_decref(current);
    if (rc != MC_OK) {
        mc_reply_error(req, rc, NULL);
        return;
    }
    char etag[40];
    agency_etag(etag, sizeof etag, revision);
    if (!mc_require_if_match(req, etag))
        return;

    struct agency_write w = {.agency = catalogue_agency_normalize(req->body, code),
                             .admin_root = root,
                             .expected_revision = revision};
    bool ok = run_agency_write(req, agency_update_tx, &w);
    json_decref(w.agency);
    if (!ok)
        return;
    agency_etag(etag, sizeof etag, w.revision);
    catalogue_reply_etag(req, 200, w.out, etag);
}
