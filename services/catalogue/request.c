/*
 * Helpers shared by the catalogue's handlers: who is writing, path
 * parameters, body checks and common answers. No SQL, no domain rules.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue.h"
#include "codes.h"
#include "motcua/calendar.h"
#include "store.h"

enum catalogue_writer catalogue_writer_of(const mc_request *req, const char **root)
{
    *root = NULL;
    if (!req->authenticated)
        return CATALOGUE_WRITER_NONE;
    if (mc_principal_has_any_role(&req->principal, MC_ROLE_SYSTEM_ADMIN))
        return CATALOGUE_WRITER_SYSTEM;
    /* An agency_admin token without a well-formed agency claim writes nothing. */
    if (mc_principal_has_any_role(&req->principal, MC_ROLE_AGENCY_ADMIN) &&
        catalogue_is_agency_code(req->principal.agency)) {
        *root = req->principal.agency;
        return CATALOGUE_WRITER_AGENCY;
    }
    return CATALOGUE_WRITER_NONE;
}

/* A malformed identifier names no resource: 404 with the resource's code. */
static const char *path_code(mc_request *req, bool (*valid)(const char *), mc_error not_found)
{
    const char *code = mc_path_param(req, "code");
    if (code == NULL || !valid(code)) {
        mc_reply_error(req, not_found, "no such code");
        return NULL;
    }
    return code;
}

const char *catalogue_path_sector(mc_request *req)
{
    return path_code(req, catalogue_is_sector_code, MC_ERR_SECTOR_NOT_FOUND);
}

const char *catalogue_path_agency(mc_request *req)
{
    return path_code(req, catalogue_is_agency_code, MC_ERR_AGENCY_NOT_FOUND);
}

const char *catalogue_path_procedure(mc_request *req)
{
    return path_code(req, catalogue_is_procedure_code, MC_ERR_PROCEDURE_NOT_FOUND);
}

/* Digits only, no sign, no leading zero, at most `max_digits`. */
static bool parse_positive(const char *s, size_t max_digits, long *out)
{
    size_t n = s != NULL ? strlen(s) : 0;
    if (n == 0 || n > max_digits || s[0] == '0')
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    *out = strtol(s, NULL, 10);
    return true;
}

bool catalogue_path_version(mc_request *req, int *version)
{
    long v = 0;
    if (!parse_positive(mc_path_param(req, "version"), 7, &v) || v > 1000000) {
        mc_reply_error(req, MC_ERR_PROCEDURE_VERSION_NOT_FOUND,
                       "versions are numbered from 1 to 1000000");
        return false;
    }
    *version = (int)v;
    return true;
}

static void bad_path_param(mc_request *req, const char *name, const char *message)
{
    json_t *errors = mc_errors_new();
    mc_errors_add_param(errors, name, "format", message);
    mc_reply_errors(req, MC_ERR_BAD_QUERY, errors);
}

bool catalogue_path_year(mc_request *req, int *year)
{
    long y = 0;
    if (!parse_positive(mc_path_param(req, "year"), 4, &y) || y < 1900 || y > 2200) {
        bad_path_param(req, "year", "must be a year from 1900 to 2200");
        return false;
    }
    *year = (int)y;
    return true;
}

const char *catalogue_path_date(mc_request *req)
{
    const char *s = mc_path_param(req, "date");
    mc_date d;
    if (s == NULL || !mc_date_parse(s, &d) || d.year < 1900 || d.year > 2200) {
        bad_path_param(req, "date", "must be a real date YYYY-MM-DD in 1900..2200");
        return NULL;
    }
    return s;
}

bool catalogue_no_errors(mc_request *req, json_t *errors)
{
    return mc_no_errors(req, MC_ERR_VALIDATION, errors);
}

mc_error catalogue_read(mc_request *req, catalogue_get_fn get, const char *code, json_t **out,
                        long long *revision)
{
    *out = NULL;
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(mc_request_db(req), &conn);
    if (rc != MC_OK)
        return rc;
    rc = get(conn, code, out, revision);
    mc_db_release(mc_request_db(req), conn);
    return rc;
}

/* Run check(conn, arg, errors) on a connection of its own, then catalogue_no_errors. */
static bool refs_ok(mc_request *req, json_t *errors,
                    mc_error (*check)(mc_db_conn *conn, const void *arg, json_t *errors),
                    const void *arg)
{
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(mc_request_db(req), &conn);
    if (rc == MC_OK) {
        rc = check(conn, arg, errors);
        mc_db_release(mc_request_db(req), conn);
    }
    if (rc != MC_OK) {
        json_decref(errors);
        mc_reply_error(req, rc, NULL);
        return false;
    }
    return catalogue_no_errors(req, errors);
}

static mc_error check_parent(mc_db_conn *conn, const void *parent_code, json_t *errors)
{
    return store_agency_check_exists(conn, parent_code, "/parent_code", errors);
}

bool catalogue_agency_refs_ok(mc_request *req, const char *parent_code, json_t *errors)
{
    return refs_ok(req, errors, check_parent, parent_code);
}

static mc_error check_procedure_refs(mc_db_conn *conn, const void *body, json_t *errors)
{
    return store_procedure_check_refs(conn, body, errors);
}

bool catalogue_procedure_refs_ok(mc_request *req, json_t *errors)
{
    return refs_ok(req, errors, check_procedure_refs, req->body);
}

void catalogue_reply_etag(mc_request *req, unsigned status, json_t *body, const char *etag)
{
    mc_set_header(req, "ETag", etag);
    mc_reply_json(req, status, body);
}

void catalogue_code_matches_path(const char *body_code, const char *code, json_t *errors)
{
    if (body_code != NULL && strcmp(body_code, code) != 0)
        mc_errors_add(errors, "/code", "mismatch",
                      "must equal the code in the URL (or be left out)");
}

void catalogue_reply_failure(mc_request *req, mc_error err, json_t *errors)
{
    if (json_array_size(errors) > 0)
        mc_reply_errors(req, err, json_incref(errors));
    else
        mc_reply_error(req, err, NULL);
}

void catalogue_version_etag(char *out, size_t len, const struct store_version *v)
{
    char prefix[24];
    snprintf(prefix, sizeof prefix, "%c%d-", v->published ? 'v' : 'd', v->version);
    mc_etag_for_revision(out, len, prefix, v->revision);
}

void catalogue_reply_put(mc_request *req, json_t *body, bool created, const char *collection,
                         const char *key)
{
    if (!created) {
        mc_reply_json(req, 200, body);
        return;
    }
    char location[192];
    snprintf(location, sizeof location, CATALOGUE_API_PREFIX "%s/%s", collection, key);
    mc_reply_created(req, body, location, NULL);
}
