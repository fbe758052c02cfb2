/*
 * The in-app inbox of whoever is signed in (a citizen's notices about their
 * dossiers; an agency's webhook owner's notices about its subscriptions),
 * and the citizen's SMS preference.
 *
 *   GET  /tracking/notifications[?unread=true]    newest first, keyset pages
 *   POST /tracking/notifications/{id}/read        mark one read
 *   GET  /tracking/notification-preferences       {"sms_opt_out": bool}
 *   PUT  /tracking/notification-preferences       the same; legally required
 *        notices still go by SMS (docs/services/tracking.md)
 */
#include <string.h>

#include "motcua/json_spec.h"
#include "motcua/uuid_text.h"
#include "notify.h"
#include "tracking.h"

#define INBOX_PAGE_DEFAULT 20
#define INBOX_PAGE_MAX 100

static mc_error inbox_page(mc_db_conn *conn, const void *query, unsigned limit, json_t **items,
                           json_t **next_keys)
{
    return store_inbox_list(conn, query, limit, items, next_keys);
}

void handle_notifications_list(mc_request *req)
{
    json_t *errors = mc_errors_new();
    struct inbox_query q = {.recipient_sub = req->principal.sub};
    const char *unread = mc_query_str(req, "unread", 5, errors);
    if (unread != NULL) {
        if (strcmp(unread, "true") == 0)
            q.unread_only = true;
        else if (strcmp(unread, "false") != 0)
            mc_errors_add_param(errors, "unread", "invalid_value", "must be true or false");
    }
    unsigned limit = 0;
    json_t *cursor = NULL;
    if (mc_page_parse(req, INBOX_PAGE_DEFAULT, INBOX_PAGE_MAX, 2, &limit, &cursor, errors) &&
        cursor != NULL) {
        q.after_created = mc_page_cursor_string(cursor, 0, NULL, errors);
        q.after_id = mc_page_cursor_string(cursor, 1, mc_is_uuid, errors);
    }
    mc_reply_list(req, errors, cursor, inbox_page, &q, limit);
}

struct mark_read {
    const char *sub, *id;
    json_t *item;
};

static mc_error mark_read_fn(mc_db_conn *conn, void *arg)
{
    struct mark_read *m = arg;
    return store_inbox_mark_read(conn, m->sub, m->id, &m->item);
}

void handle_notification_read(mc_request *req)
{
    struct mark_read m = {.sub = req->principal.sub, .id = mc_path_param(req, "id")};
    if (!mc_is_uuid(m.id)) {
        mc_reply_error(req, MC_ERR_NOT_FOUND, "no such notification");
        return;
    }
    mc_error rc = mc_db_with_conn(mc_request_db(req), mark_read_fn, &m);
    if (rc == MC_ERR_NOT_FOUND)
        mc_reply_error(req, rc, "no such notification");
    else if (rc != MC_OK)
        mc_reply_error(req, rc, NULL);
    else
        mc_reply_json(req, 200, m.item);
}

struct preference {
    const char *sub;
    int set; /* -1: read only */
    bool opted_out;
};

static mc_error preference_fn(mc_db_conn *conn, void *arg)
{
    struct preference *p = arg;
    if (p->set >= 0)
        return store_sms_opt_out_set(conn, p->sub, p->set != 0);
    return store_sms_opted_out(conn, p->sub, &p->opted_out);
}

static void reply_preference(mc_request *req, struct preference *p)
{
    mc_error rc = mc_db_with_conn(mc_request_db(req), preference_fn, p);
    if (rc != MC_OK) {
        mc_reply_error(req, rc, NULL);
        return;
    }
    bool opted_out = p->set >= 0 ? p->set != 0 : p->opted_out;
    mc_reply_json(req, 200, json_pack("{sb}", "sms_opt_out", opted_out));
}

void handle_notification_preferences_get(mc_request *req)
{
    struct preference p = {.sub = req->principal.sub, .set = -1};
    reply_preference(req, &p);
}

struct preference_body {
    bool sms_opt_out;
};

static const struct mc_field preference_fields[] = {
    {.name = "sms_opt_out", .type = MC_F_BOOLEAN, .required = true,
     MC_BIND(struct preference_body, sms_opt_out)},
    {0}};

void handle_notification_preferences_put(mc_request *req)
{
    json_t *errors = mc_errors_new();
    struct preference_body body = {0};
    mc_json_parse_fields(req->body, preference_fields, "", errors, &body);
    if (!mc_no_errors(req, MC_ERR_VALIDATION, errors))
        return;
    struct preference p = {.sub = req->principal.sub, .set = body.sms_opt_out ? 1 : 0};
    reply_preference(req, &p);
}
