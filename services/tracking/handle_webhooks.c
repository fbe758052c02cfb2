/*
 * Webhook subscriptions of an agency's systems (docs/services/tracking.md,
 * "Webhooks"). Registered by the agency's administrators and by its machine
 * clients granted `tracking:webhooks`; always for the caller's own agency
 * (the token's agency claim), which every read and write is scoped to: a
 * subscription of another agency is a 404.
 *
 *   POST   /tracking/webhooks                         201, the secret shown once
 *   GET    /tracking/webhooks                         the agency's subscriptions
 *   GET    /tracking/webhooks/{id}
 *   DELETE /tracking/webhooks/{id}                    204
 *   POST   /tracking/webhooks/{id}/rotate-secret      a new secret; the old one
 *                                                     signs too for a while
 *   POST   /tracking/webhooks/{id}/enable             after a 410 or days of failure
 *   GET    /tracking/webhooks/{id}/deliveries         the delivery log
 *   POST   /tracking/webhooks/{id}/deliveries/{delivery_id}/redeliver
 */
#include <stdio.h>
#include <string.h>

#include "motcua/json_spec.h"
#include "motcua/uuid_text.h"
#include "tracking.h"
#include "webhook.h"
#include "webhook_signature.h"

#define PAGE_DEFAULT 20
#define PAGE_MAX 100

/* The caller's agency when they may manage its webhooks; else answers 403
   and returns NULL. */
static const char *webhook_agency(mc_request *req)
{
    const mc_principal *p = &req->principal;
    bool admin = mc_principal_has_any_role(p, MC_ROLE_AGENCY_ADMIN);
    bool client = mc_principal_has_any_role(p, MC_ROLE_SERVICE) && mc_principal_has_scope(p, WEBHOOK_SCOPE);
    if ((!admin && !client) || p->agency[0] == '\0') {
        mc_reply_error(req, MC_ERR_FORBIDDEN,
                       "webhooks are managed by an agency's administrators and its machine clients "
                       "with scope tracking:webhooks");
        return NULL;
    }
    return p->agency;
}

/* The {id} of the path, or NULL after answering 404. */
static const char *path_id(mc_request *req, const char *name)
{
    const char *id = mc_path_param(req, name);
    if (!mc_is_uuid(id)) {
        mc_reply_error(req, MC_ERR_NOT_FOUND, "no such webhook subscription or delivery");
        return NULL;
    }
    return id;
}

static const char *check_event_type(const json_t *value, const char **code)
{
    if (webhook_event_type_valid(json_string_value(value)))
        return NULL;
    *code = "pattern";
    return "must be a dossier event type such as dossier.dossier.received";
}

static const struct mc_field event_type_item = {.type = MC_F_STRING, .check = check_event_type};

struct webhook_body {
    const char *url;
    const json_t *event_types;
    const char *description;
};

static const struct mc_field webhook_fields[] = {
    {.name = "url", .type = MC_F_STRING, .required = true, .min_len = 1,
     .max_len = MC_CALLBACK_URL_MAX, MC_BIND(struct webhook_body, url)},
    {.name = "event_types", .type = MC_F_ARRAY, .nullable = true, .max_len = 32,
     .item = &event_type_item, MC_BIND(struct webhook_body, event_types)},
    {.name = "description", .type = MC_F_STRING, .nullable = true, .max_len = 500,
     MC_BIND(struct webhook_body, description)},
    {0}};

struct webhook_call {
    const char *agency, *id, *delivery_id;
    const struct webhook_new *create;
    const char *secret;
    unsigned overlap_s;
    enum { CALL_CREATE, CALL_GET, CALL_DELETE, CALL_ROTATE, CALL_ENABLE, CALL_REDELIVER } op;
    json_t *out;
};

static mc_error call_fn(mc_db_conn *conn, void *arg)
{
    struct webhook_call *c = arg;
    json_decref(c->out);
    c->out = NULL;
    switch (c->op) {
    case CALL_CREATE:
        return store_webhook_insert(conn, c->create, &c->out);
    case CALL_GET:
        return store_webhook_get(conn, c->agency, c->id, &c->out);
    case CALL_DELETE:
        return store_webhook_delete(conn, c->agency, c->id);
    case CALL_ROTATE:
        return store_webhook_rotate(conn, c->agency, c->id, c->secret, c->overlap_s, &c->out);
    case CALL_ENABLE:
        return store_webhook_enable(conn, c->agency, c->id, &c->out);
    case CALL_REDELIVER:
        return store_webhook_redeliver(conn, c->agency, c->id, c->delivery_id, &c->out);
    }
    return MC_ERR_INTERNAL;
}

/* Run c and answer status with its result (or its error). */
static void run_and_reply(mc_request *req, struct webhook_call *c, unsigned status)
{
    mc_error rc = mc_db_transaction(mc_request_db(req), NULL, call_fn, c);
    if (rc == MC_ERR_NOT_FOUND) {
        json_decref(c->out);
        mc_reply_error(req, rc, "no such webhook subscription or delivery");
    } else if (rc != MC_OK) {
        json_decref(c->out);
        mc_reply_error(req, rc, NULL);
    } else if (status == 204) {
        json_decref(c->out);
        mc_reply_no_content(req);
    } else {
        mc_set_header(req, "Cache-Control", "no-store");
        mc_reply_json(req, status, c->out);
    }
}

void handle_webhook_create(mc_request *req)
{
    const char *agency = webhook_agency(req);
    if (agency == NULL)
        return;
    json_t *errors = mc_errors_new();
    struct webhook_body body = {0};
    size_t problems = mc_json_parse_fields(req->body, webhook_fields, "", errors, &body);
    const struct webhook_settings *s = &tracking_ctx(req)->webhooks;
    if (problems == 0) {
        /* The same guard as at every delivery: scheme, allow-list, and the
           addresses the host resolves to now. */
        struct mc_callback_target target;
        char pin[300];
        enum mc_callback_verdict v = mc_callback_url_check(body.url, &s->policy, &target);
        if (v == MC_CALLBACK_OK)
            v = mc_callback_resolve(&target, &s->policy, pin, sizeof pin);
        if (v != MC_CALLBACK_OK)
            mc_errors_add(errors, "/url", mc_callback_verdict_code(v), mc_callback_verdict_message(v));
    }
    if (!mc_no_errors(req, MC_ERR_VALIDATION, errors))
        return;
    char secret[WEBHOOK_SECRET_MAX];
    if (!webhook_secret_generate(secret)) {
        mc_reply_error(req, MC_ERR_INTERNAL, "no random secret could be made");
        return;
    }
    json_t *no_types = json_array();
    struct webhook_new w = {
        .owner_sub = req->principal.sub,
        .agency_code = agency,
        .url = body.url,
        .description = body.description,
        .secret = secret,
        .event_types = body.event_types != NULL ? body.event_types : no_types,
    };
    struct webhook_call c = {.op = CALL_CREATE, .create = &w};
    mc_error rc = mc_db_transaction(mc_request_db(req), NULL, call_fn, &c);
    json_decref(no_types);
    if (rc != MC_OK) {
        memset(secret, 0, sizeof secret);
        json_decref(c.out);
        mc_reply_error(req, rc, NULL);
        return;
    }
    /* The only answer that carries the secret. */
    json_object_set_new(c.out, "secret", json_string(secret));
    memset(secret, 0, sizeof secret);
    char location[128];
    snprintf(location, sizeof location, "/api/v1/tracking/webhooks/%s",
             json_string_value(json_object_get(c.out, "id")));
    mc_set_header(req, "Cache-Control", "no-store");
    mc_reply_created(req, c.out, location, NULL);
}

struct list_query {
    const char *agency, *after_created, *after_id, *subscription_id;
};

static mc_error subscriptions_page(mc_db_conn *conn, const void *query, unsigned limit, json_t **items,
                                   json_t **next_keys)
{
    const struct list_query *q = query;
    return store_webhook_list(conn, q->agency, q->after_created, q->after_id, limit, items, next_keys);
}

static mc_error deliveries_page(mc_db_conn *conn, const void *query, unsigned limit, json_t **items,
                                json_t **next_keys)
{
    const struct list_query *q = query;
    return store_webhook_deliveries(conn, q->agency, q->subscription_id, q->after_created, q->after_id,
                                    limit, items, next_keys);
}

static void reply_list(mc_request *req, struct list_query *q, mc_list_fn list)
{
    json_t *errors = mc_errors_new();
    unsigned limit = 0;
    json_t *cursor = NULL;
    if (mc_page_parse(req, PAGE_DEFAULT, PAGE_MAX, 2, &limit, &cursor, errors) && cursor != NULL) {
        q->after_created = mc_page_cursor_string(cursor, 0, NULL, errors);
        q->after_id = mc_page_cursor_string(cursor, 1, mc_is_uuid, errors);
    }
    mc_reply_list(req, errors, cursor, list, q, limit);
}

void handle_webhooks_list(mc_request *req)
{
    struct list_query q = {.agency = webhook_agency(req)};
    if (q.agency != NULL)
        reply_list(req, &q, subscriptions_page);
}

void handle_webhook_deliveries(mc_request *req)
{
    struct list_query q = {.agency = webhook_agency(req)};
    if (q.agency == NULL || (q.subscription_id = path_id(req, "id")) == NULL)
        return;
    /* A subscription of another agency is a 404, not an empty log. */
    struct webhook_call c = {.op = CALL_GET, .agency = q.agency, .id = q.subscription_id};
    mc_error rc = mc_db_with_conn(mc_request_db(req), call_fn, &c);
    json_decref(c.out);
    if (rc != MC_OK) {
        mc_reply_error(req, rc, rc == MC_ERR_NOT_FOUND ? "no such webhook subscription" : NULL);
        return;
    }
    reply_list(req, &q, deliveries_page);
}

/* The handlers on one subscription: op on {id} of the caller's agency. */
static void on_subscription(mc_request *req, int op, unsigned status)
{
    struct webhook_call c = {.op = op, .agency = webhook_agency(req)};
    if (c.agency == NULL || (c.id = path_id(req, "id")) == NULL)
        return;
    run_and_reply(req, &c, status);
}

void handle_webhook_get(mc_request *req)
{
    on_subscription(req, CALL_GET, 200);
}

void handle_webhook_delete(mc_request *req)
{
    on_subscription(req, CALL_DELETE, 204);
}

void handle_webhook_enable(mc_request *req)
{
    on_subscription(req, CALL_ENABLE, 200);
}

void handle_webhook_rotate_secret(mc_request *req)
{
    struct webhook_call c = {.op = CALL_ROTATE, .agency = webhook_agency(req)};
    if (c.agency == NULL || (c.id = path_id(req, "id")) == NULL)
        return;
    char secret[WEBHOOK_SECRET_MAX];
    if (!webhook_secret_generate(secret)) {
        mc_reply_error(req, MC_ERR_INTERNAL, "no random secret could be made");
        return;
    }
    c.secret = secret;
    c.overlap_s = tracking_ctx(req)->webhooks.secret_overlap_s;
    run_and_reply(req, &c, 200);
    memset(secret, 0, sizeof secret);
}

void handle_webhook_redeliver(mc_request *req)
{
    struct webhook_call c = {.op = CALL_REDELIVER, .agency = webhook_agency(req)};
    if (c.agency == NULL || (c.id = path_id(req, "id")) == NULL ||
        (c.delivery_id = path_id(req, "delivery_id")) == NULL)
        return;
    run_and_reply(req, &c, 202);
}
