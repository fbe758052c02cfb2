/*
 * /api/v1/sectors and /api/v1/sectors/{code}: the sectors (lĩnh vực) a
 * procedure belongs to. Reads are public; writes are for system_admin (the
 * route table says so).
 */
#include <stdio.h>

#include "catalogue.h"
#include "codes.h"
#include "procedure_rules.h"
#include "store.h"

/* What the handlers read of a sector body (bound by the tables below). */
struct sector_body {
    const char *code;
};

/* POST /sectors body. */
static const struct mc_field sector_create_fields[] = {
    {.name = "code", .type = MC_F_STRING, .required = true, .pattern = CATALOGUE_SECTOR_CODE_RE,
     MC_BIND(struct sector_body, code)},
    {.name = "name",
     .type = MC_F_STRING,
     .required = true,
     .max_len = 500,
     .check = catalogue_check_not_blank},
    {.name = "description", .type = MC_F_STRING, .nullable = true, .max_len = 20000},
    {0}};

/* PUT /sectors/{code} body: the same, with "code" optional (the URL has it). */
static const struct mc_field sector_update_fields[] = {
    {.name = "code", .type = MC_F_STRING, .pattern = CATALOGUE_SECTOR_CODE_RE,
     MC_BIND(struct sector_body, code)},
    {.name = "name",
     .type = MC_F_STRING,
     .required = true,
     .max_len = 500,
     .check = catalogue_check_not_blank},
    {.name = "description", .type = MC_F_STRING, .nullable = true, .max_len = 20000},
    {0}};

static void sector_etag(char *out, size_t len, long long revision)
{
    mc_etag_for_revision(out, len, "s", revision);
}

static mc_error sector_page(mc_db_conn *conn, const void *after, unsigned limit, json_t **items,
                            json_t **next_keys)
{
    return store_sector_list(conn, after, limit, items, next_keys);
}

void handle_sectors_list(mc_request *req)
{
    mc_reply_keyed_list(req, CATALOGUE_PAGE_DEFAULT, CATALOGUE_PAGE_MAX, catalogue_is_sector_code, sector_page);
}

void handle_sector_get(mc_request *req)
{
    const char *code = catalogue_path_sector(req);
    if (code == NULL)
        return;
    json_t *sector = NULL;
    long long revision = 0;
    mc_error rc = catalogue_read(req, store_sector_get, code, &sector, &revision);
    if (rc != MC_OK) {
        mc_reply_error(req, rc, NULL);
        return;
    }
    char etag[40];
    sector_etag(etag, sizeof etag, revision);
    mc_reply_json_etag(req, 200, sector, etag);
}

void handle_sector_create(mc_request *req)
{
    json_t *errors = mc_errors_new();
    struct sector_body body = {0};
    mc_json_parse_fields(req->body, sector_create_fields, "", errors, &body);
    if (!catalogue_no_errors(req, errors))
        return;
    const char *code = body.code;
    json_t *sector = catalogue_sector_normalize(req->body, code);
    json_t *out = NULL;
    long long revision = 0;
    mc_db_conn *conn = NULL;
    mc_error rc = sector != NULL ? mc_db_acquire(mc_request_db(req), &conn) : MC_ERR_INTERNAL;
    if (rc == MC_OK) {
        rc = store_sector_create(conn, sector, &out, &revision);
        mc_db_release(mc_request_db(req), conn);
    }
    json_decref(sector);
    if (rc != MC_OK) {
        mc_reply_error(req, rc, NULL);
        return;
    }
    char etag[40], location[128];
    sector_etag(etag, sizeof etag, revision);
    snprintf(location, sizeof location, CATALOGUE_API_PREFIX "/sectors/%s", code);
    mc_reply_created(req, out, location, etag);
}

/* The update and the search refresh it implies, in one transaction. */
struct sector_update {
    const json_t *sector;
    long long expected_revision;
    json_t *out;
    long long revision;
};

static mc_error sector_update_tx(mc_db_conn *conn, void *p)
{
    struct sector_update *t = p;
    json_decref(t->out); /* a retried transaction starts afresh */
    t->out = NULL;
    return store_sector_update(conn, t->sector, t->expected_revision, &t->out, &t->revision);
}

void handle_sector_update(mc_request *req)
{
    const char *code = catalogue_path_sector(req);
    if (code == NULL)
        return;
    json_t *errors = mc_errors_new();
    struct sector_body body = {0};
    mc_json_parse_fields(req->body, sector_update_fields, "", errors, &body);
    catalogue_code_matches_path(body.code, code, errors);
    if (!catalogue_no_errors(req, errors))
        return;

    json_t *current = NULL;
    long long revision = 0;
    mc_error rc = catalogue_read(req, store_sector_get, code, &current, &revision);
    json_decref(current);
    if (rc != MC_OK) {
        mc_reply_error(req, rc, NULL);
        return;
    }
    char etag[40];
    sector_etag(etag, sizeof etag, revision);
    if (!mc_require_if_match(req, etag))
        return;

    json_t *sector = catalogue_sector_normalize(req->body, code);
    struct sector_update t = {sector, revision, NULL, 0};
    rc = sector != NULL ? mc_db_transaction(mc_request_db(req), NULL, sector_update_tx, &t)
                        : MC_ERR_INTERNAL;
    json_decref(sector);
    if (rc != MC_OK) {
        json_decref(t.out); /* set by an attempt whose commit failed */
        mc_reply_error(req, rc, NULL);
        return;
    }
    sector_etag(etag, sizeof etag, t.revision);
    catalogue_reply_etag(req, 200, t.out, etag);
}
