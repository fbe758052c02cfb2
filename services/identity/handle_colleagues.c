/*
 * GET /api/v1/colleagues: the active staff of the caller's own agency (the
 * `agency` claim), for an officer picking an assignee and for showing names
 * in timelines: {id, full_name, roles} only, never contact data, usernames
 * or disabled accounts. Ordered by full name (then id), keyset-paginated.
 * Managing staff stays with the administrators (handle_staff.c).
 */
#include "identity.h"
#include "identity_rules.h"
#include "store.h"

void handle_colleague_list(mc_request *req)
{
    const char *agency = req->principal.agency;
    if (agency[0] == '\0') {
        mc_reply_error(req, MC_ERR_FORBIDDEN, "your token names no agency");
        return;
    }
    json_t *errors = mc_errors_new();
    unsigned limit = 0;
    json_t *cursor = NULL;
    const char *after_name = NULL, *after_id = NULL;
    if (mc_page_parse(req, IDENTITY_PAGE_DEFAULT, IDENTITY_PAGE_MAX, 2, &limit, &cursor, errors) &&
        cursor != NULL) {
        after_name = json_string_value(json_array_get(cursor, 0));
        after_id = json_string_value(json_array_get(cursor, 1));
        if (after_name == NULL || after_id == NULL || !identity_is_uuid(after_id))
            mc_errors_add_param(errors, "cursor", "invalid", "is not a cursor of this list");
    }
    if (json_array_size(errors) > 0) {
        json_decref(cursor);
        mc_reply_errors(req, MC_ERR_BAD_QUERY, errors);
        return;
    }
    json_decref(errors);
    json_t *items = NULL, *next = NULL;
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(mc_request_db(req), &conn);
    if (rc == MC_OK) {
        rc = store_colleague_list(conn, agency, after_name, after_id, limit, &items, &next);
        mc_db_release(mc_request_db(req), conn);
    }
    json_decref(cursor);
    if (rc != MC_OK) {
        json_decref(items);
        json_decref(next);
        mc_reply_error(req, rc, NULL);
        return;
    }
    mc_set_header(req, "Cache-Control", "private, no-cache");
    mc_reply_json(req, 200, mc_page_body(items, next));
}
