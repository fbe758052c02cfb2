/*
 * /api/v1/staff and /api/v1/staff/{id}: staff accounts of agencies.
 *
 * An agency_admin manages the staff of their own agency (the `agency` claim
 * of their token): creates officers, approvers and agency administrators,
 * changes their roles, disables them, lists them. A system_admin does the
 * same for any agency. Anything outside the caller's agency is 403
 * auth.forbidden. Staff sign in through the password grant with their
 * username.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "identity.h"
#include "identity_rules.h"
#include "store.h"

#define AGENCY_RE "^[A-Za-z0-9.]{1,32}$"

static const char *const staff_roles[] = {"officer", "approver", "agency_admin", NULL};

static const struct mc_field role_item = {.type = MC_F_STRING, .enum_values = staff_roles};

/* A staff body (POST and PATCH), bound by the tables below. */
struct staff_body {
    const char *username, *full_name, *agency, *email, *password;
    const json_t *roles;
    const json_t *disabled; /* NULL: unchanged */
};

static const struct mc_field create_fields[] = {
    {.name = "username", .type = MC_F_STRING, .required = true, .pattern = IDENTITY_USERNAME_RE,
     MC_BIND(struct staff_body, username)},
    {.name = "full_name", .type = MC_F_STRING, .required = true, .min_len = 1, .max_len = 200,
     MC_BIND(struct staff_body, full_name)},
    {.name = "agency", .type = MC_F_STRING, .required = true, .pattern = AGENCY_RE,
     MC_BIND(struct staff_body, agency)},
    {.name = "roles", .type = MC_F_ARRAY, .required = true, .min_len = 1, .max_len = 3,
     .item = &role_item, MC_BIND(struct staff_body, roles)},
    {.name = "email", .type = MC_F_STRING, .nullable = true, .max_len = 254,
     MC_BIND(struct staff_body, email)},
    {.name = "password", .type = MC_F_STRING, .required = true, .max_len = 1024,
     MC_BIND(struct staff_body, password)},
    {0}};

static const struct mc_field update_fields[] = {
    {.name = "roles", .type = MC_F_ARRAY, .min_len = 1, .max_len = 3, .item = &role_item,
     MC_BIND(struct staff_body, roles)},
    {.name = "disabled", .type = MC_F_BOOLEAN, MC_BIND(struct staff_body, disabled)},
    {0}};

/* The agency the caller may manage: NULL for a system_admin (any), their
   own agency for an agency_admin. False (after answering 403) when the
   caller may manage none. */
static bool admin_scope(mc_request *req, const char **agency)
{
    *agency = NULL;
    if (mc_principal_has_any_role(&req->principal, MC_ROLE_SYSTEM_ADMIN))
        return true;
    if (mc_principal_has_any_role(&req->principal, MC_ROLE_AGENCY_ADMIN) &&
        req->principal.agency[0] != '\0') {
        *agency = req->principal.agency;
        return true;
    }
    mc_reply_error(req, MC_ERR_FORBIDDEN, "only administrators manage staff");
    return false;
}

/* The writes, each in one transaction with its audit events
   (identity_run_audited_write). */
struct staff_write {
    const struct store_staff *create;
    const char *id, *admin_agency, *roles_json; /* update */
    int disabled;
    long long if_match;
    struct store_who who;
    json_t *out;
    long long revision;
};

static mc_error staff_create_tx(mc_db_conn *conn, void *p)
{
    struct staff_write *t = p;
    return store_staff_create(conn, t->create, &t->who, &t->out);
}

static mc_error staff_update_tx(mc_db_conn *conn, void *p)
{
    struct staff_write *t = p;
    return store_staff_update(conn, t->id, t->admin_agency, t->if_match, t->roles_json,
                              t->disabled, &t->who, &t->out, &t->revision);
}

void handle_staff_create(mc_request *req)
{
    const char *own = NULL;
    if (!admin_scope(req, &own))
        return;
    json_t *errors = mc_errors_new();
    struct staff_body body = {0};
    mc_json_parse_fields(req->body, create_fields, "", errors, &body);
    const json_t *roles = body.roles;
    identity_unique_items(roles, "/roles", errors);
    const char *username = body.username;
    const char *email = body.email;
    const char *password = body.password;
    const char *code = NULL, *msg = NULL;
    if (email != NULL && !identity_is_email(email))
        mc_errors_add(errors, "/email", IDENTITY_E_FORMAT, "must be an email address");
    if (password != NULL &&
        (msg = identity_check_password(password, NULL, NULL, username, &code)) != NULL)
        mc_errors_add(errors, "/password", code, msg);
    if (!identity_no_errors(req, errors))
        return;
    const char *agency = body.agency;
    if (own != NULL && strcmp(agency, own) != 0) {
        mc_reply_error(req, MC_ERR_FORBIDDEN, "an agency_admin manages their own agency only");
        return;
    }
    char hash[crypto_pwhash_STRBYTES];
    char *roles_json = json_dumps(roles, JSON_COMPACT);
    if (roles_json == NULL || !identity_password_hash(password, hash)) {
        free(roles_json);
        mc_reply_error(req, MC_ERR_INTERNAL, NULL);
        return;
    }
    struct store_staff s = {username, body.full_name, agency, roles_json, email, hash};
    struct staff_write t = {.create = &s};
    mc_error rc = identity_run_audited_write(req, staff_create_tx, &t, &t.who, &t.out);
    free(roles_json);
    sodium_memzero(hash, sizeof hash);
    if (rc != MC_OK) {
        mc_reply_error(req, rc, NULL);
        return;
    }
    mc_reply_created(req, t.out, NULL, NULL);
}

static void staff_etag(char *out, size_t len, long long revision)
{
    mc_etag_for_revision(out, len, "s", revision);
}

/* GET /staff/{id} is also read by services checking a staff member (the
   dossier service, for an assignee): a machine client with the scope
   identity:staff.read, within its agency when it has one. */
#define STAFF_READ_SCOPE "identity:staff.read"

static bool reader_scope(mc_request *req, const char **agency)
{
    const mc_principal *p = &req->principal;
    if (mc_principal_has_any_role(p, MC_ROLE_SERVICE) && mc_principal_has_scope(p, STAFF_READ_SCOPE)) {
        *agency = p->agency[0] != '\0' ? p->agency : NULL;
        return true;
    }
    return admin_scope(req, agency);
}

void handle_staff_get(mc_request *req)
{
    const char *own = NULL;
    if (!reader_scope(req, &own))
        return;
    const char *id = mc_path_param(req, "id");
    if (id == NULL || !identity_is_uuid(id)) {
        mc_reply_error(req, MC_ERR_IDENTITY_STAFF_NOT_FOUND, "no such staff account");
        return;
    }
    json_t *out = NULL;
    long long revision = 0;
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(mc_request_db(req), &conn);
    if (rc == MC_OK) {
        rc = store_staff_get(conn, id, own, &out, &revision);
        mc_db_release(mc_request_db(req), conn);
    }
    if (rc != MC_OK) {
        mc_reply_error(req, rc, rc == MC_ERR_FORBIDDEN ? "this staff member is of another agency"
                                                       : NULL);
        return;
    }
    char etag[40];
    staff_etag(etag, sizeof etag, revision);
    mc_reply_json_etag(req, 200, out, etag);
}

void handle_staff_update(mc_request *req)
{
    const char *own = NULL;
    if (!admin_scope(req, &own))
        return;
    const char *id = mc_path_param(req, "id");
    if (id == NULL || !identity_is_uuid(id)) {
        mc_reply_error(req, MC_ERR_IDENTITY_STAFF_NOT_FOUND, "no such staff account");
        return;
    }
    json_t *errors = mc_errors_new();
    struct staff_body body = {0};
    mc_json_parse_fields(req->body, update_fields, "", errors, &body);
    const json_t *roles = body.roles;
    identity_unique_items(roles, "/roles", errors);
    if (json_is_object(req->body) && json_object_size(req->body) == 0)
        mc_errors_add(errors, "", "required", "change roles, disabled or both");
    if (!identity_no_errors(req, errors))
        return;
    if (own != NULL && strcmp(id, req->principal.sub) == 0) {
        mc_reply_error(req, MC_ERR_FORBIDDEN, "administrators do not change their own account");
        return;
    }
    const json_t *disabled = body.disabled;
    char *roles_json = roles != NULL ? json_dumps(roles, JSON_COMPACT) : NULL;
    /* The store checks If-Match after the scope and existence checks. */
    struct staff_write t = {.id = id,
                            .admin_agency = own,
                            .roles_json = roles_json,
                            .disabled = disabled == NULL ? -1 : json_is_true(disabled) ? 1 : 0,
                            .if_match = mc_if_match_revision(req, "s")};
    mc_error rc = identity_run_audited_write(req, staff_update_tx, &t, &t.who, &t.out);
    free(roles_json);
    if (rc != MC_OK) {
        identity_reply_write_error(req, rc, "account", "/api/v1/staff/{id}");
        return;
    }
    json_t *out = t.out;
    long long revision = t.revision;
    char etag[40];
    staff_etag(etag, sizeof etag, revision);
    mc_set_header(req, "ETag", etag);
    mc_reply_json(req, 200, out);
}

static mc_error staff_page(mc_db_conn *conn, const void *query, unsigned limit, json_t **items,
                           json_t **next_keys)
{
    return store_staff_list(conn, query, limit, items, next_keys);
}

void handle_staff_list(mc_request *req)
{
    const char *own = NULL;
    if (admin_scope(req, &own))
        identity_reply_agency_list(req, own, identity_is_username, staff_page);
}
