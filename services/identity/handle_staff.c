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
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "identity.h"
#include "identity_rules.h"
#include "store.h"

#define AGENCY_RE "^[A-Za-z0-9.]{1,32}$"

static const char *const staff_roles[] = {"officer", "approver", "agency_admin", NULL};

static const struct mc_field role_item = {.type = MC_F_STRING, .enum_values = staff_roles};

static const struct mc_field create_fields[] = {
    {.name = "username", .type = MC_F_STRING, .required = true, .pattern = IDENTITY_USERNAME_RE},
    {.name = "full_name", .type = MC_F_STRING, .required = true, .min_len = 1, .max_len = 200},
    {.name = "agency", .type = MC_F_STRING, .required = true, .pattern = AGENCY_RE},
    {.name = "roles", .type = MC_F_ARRAY, .required = true, .min_len = 1, .max_len = 3,
     .item = &role_item},
    {.name = "email", .type = MC_F_STRING, .nullable = true, .max_len = 254},
    {.name = "password", .type = MC_F_STRING, .required = true, .max_len = 1024},
    {0}};

static const struct mc_field update_fields[] = {
    {.name = "roles", .type = MC_F_ARRAY, .min_len = 1, .max_len = 3, .item = &role_item},
    {.name = "disabled", .type = MC_F_BOOLEAN},
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

static void duplicate_roles(const json_t *roles, json_t *errors)
{
    for (size_t i = 0; json_is_array(roles) && i < json_array_size(roles); i++)
        for (size_t j = 0; j < i; j++)
            if (json_equal(json_array_get(roles, i), json_array_get(roles, j))) {
                char ptr[32];
                snprintf(ptr, sizeof ptr, "/roles/%zu", i);
                mc_errors_add(errors, ptr, "duplicate", "is listed twice");
            }
}

static void who_of(mc_request *req, char *actor, char *address, struct store_who *who)
{
    identity_actor(req, actor, 160);
    identity_client_address(req, address, 64);
    who->actor = actor;
    who->address = address;
}

void handle_staff_create(mc_request *req)
{
    const char *own = NULL;
    if (!admin_scope(req, &own))
        return;
    json_t *errors = mc_errors_new();
    mc_json_check(req->body, create_fields, "", errors);
    json_t *roles = json_object_get(req->body, "roles");
    duplicate_roles(roles, errors);
    const char *username = mc_json_str(req->body, "username", NULL);
    const char *email = mc_json_str(req->body, "email", NULL);
    const char *password = mc_json_str(req->body, "password", NULL);
    const char *code = NULL, *msg = NULL;
    if (email != NULL && !identity_is_email(email))
        mc_errors_add(errors, "/email", IDENTITY_E_FORMAT, "must be an email address");
    if (password != NULL &&
        (msg = identity_check_password(password, NULL, NULL, username, &code)) != NULL)
        mc_errors_add(errors, "/password", code, msg);
    if (!identity_no_errors(req, errors))
        return;
    const char *agency = mc_json_str(req->body, "agency", "");
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
    char actor[160], address[64];
    struct store_who who;
    who_of(req, actor, address, &who);
    struct store_staff s = {username, mc_json_str(req->body, "full_name", ""), agency, roles_json,
                            email, hash};
    json_t *out = NULL;
    mc_error rc = store_staff_create(mc_request_db(req), &s, &who, &out);
    free(roles_json);
    sodium_memzero(hash, sizeof hash);
    if (rc != MC_OK) {
        mc_reply_error(req, rc, NULL);
        return;
    }
    mc_reply_created(req, out, NULL, NULL);
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
    mc_error rc = store_staff_get(mc_request_db(req), id, own, &out, &revision);
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
    mc_json_check(req->body, update_fields, "", errors);
    json_t *roles = json_object_get(req->body, "roles");
    duplicate_roles(roles, errors);
    if (json_is_object(req->body) && json_object_size(req->body) == 0)
        mc_errors_add(errors, "", "required", "change roles, disabled or both");
    if (!identity_no_errors(req, errors))
        return;
    if (own != NULL && strcmp(id, req->principal.sub) == 0) {
        mc_reply_error(req, MC_ERR_FORBIDDEN, "administrators do not change their own account");
        return;
    }
    json_t *disabled = json_object_get(req->body, "disabled");
    char *roles_json = roles != NULL ? json_dumps(roles, JSON_COMPACT) : NULL;
    char actor[160], address[64];
    struct store_who who;
    who_of(req, actor, address, &who);
    json_t *out = NULL;
    long long expected = mc_if_match_revision(req, "s"), revision = 0;
    /* A header naming no revision of ours can never match: 412 (after the
       scope checks, which the store performs first). */
    mc_error rc = store_staff_update(mc_request_db(req), id, own, expected == -3 ? LLONG_MAX : expected,
                                     roles_json, disabled == NULL ? -1 : json_is_true(disabled) ? 1 : 0,
                                     &who, &out, &revision);
    free(roles_json);
    if (rc != MC_OK) {
        mc_reply_error(req, rc,
                       rc == MC_ERR_FORBIDDEN ? "this staff member is of another agency"
                       : rc == MC_ERR_PRECONDITION_REQUIRED
                           ? "send If-Match with the ETag from GET /api/v1/staff/{id}"
                       : rc == MC_ERR_PRECONDITION_FAILED
                           ? "the account changed since you read it; read it again"
                           : NULL);
        return;
    }
    char etag[40];
    staff_etag(etag, sizeof etag, revision);
    mc_set_header(req, "ETag", etag);
    mc_reply_json(req, 200, out);
}

void handle_staff_list(mc_request *req)
{
    const char *own = NULL;
    if (!admin_scope(req, &own))
        return;
    json_t *errors = mc_errors_new();
    unsigned limit = 0;
    json_t *cursor = NULL;
    const char *after = NULL;
    const char *agency = mc_query_str(req, "agency", 32, errors);
    if (agency != NULL && agency[0] == '\0')
        agency = NULL;
    if (mc_page_parse(req, IDENTITY_PAGE_DEFAULT, IDENTITY_PAGE_MAX, 1, &limit, &cursor, errors) &&
        cursor != NULL) {
        after = json_string_value(json_array_get(cursor, 0));
        if (after == NULL || !identity_is_username(after))
            mc_errors_add_param(errors, "cursor", "invalid", "is not a cursor of this list");
    }
    if (json_array_size(errors) > 0) {
        json_decref(cursor);
        mc_reply_errors(req, MC_ERR_BAD_QUERY, errors);
        return;
    }
    json_decref(errors);
    if (own != NULL && agency != NULL && strcmp(agency, own) != 0) {
        json_decref(cursor);
        mc_reply_error(req, MC_ERR_FORBIDDEN, "an agency_admin lists their own agency only");
        return;
    }
    json_t *items = NULL, *next = NULL;
    mc_error rc = store_staff_list(mc_request_db(req), own != NULL ? own : agency, after, limit,
                                   &items, &next);
    json_decref(cursor);
    if (rc != MC_OK) {
        json_decref(items);
        json_decref(next);
        mc_reply_error(req, rc, NULL);
        return;
    }
    mc_reply_json(req, 200, mc_page_body(items, next));
}
