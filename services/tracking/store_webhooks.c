/* The SQL of webhooks: subscriptions, the delivery outbox and its log (webhook.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "webhook.h"

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

#define SUBSCRIPTION_JSON                                                                         \
    "json_build_object('id', s.id, 'agency_code', s.agency_code, 'url', s.url, 'event_types', "   \
    "to_jsonb(s.event_types), 'description', s.description, 'state', s.state, "                   \
    "'disabled_reason', s.disabled_reason, 'disabled_at', " TS("s.disabled_at") ", "               \
    "'failing_since', " TS("s.failing_since") ", 'created_at', " TS("s.created_at") ", "           \
    "'updated_at', " TS("s.updated_at") ")"

static const mc_db_statement insert_subscription = {
    "tracking_webhook_insert",
    "WITH s AS (INSERT INTO webhook_subscriptions (owner_sub, agency_code, url, event_types, "
    "description, secret) VALUES ($1, $2, $3, ARRAY(SELECT jsonb_array_elements_text($4::jsonb)), "
    "$5, $6) RETURNING *) SELECT " SUBSCRIPTION_JSON "::text FROM s",
    6};

static const mc_db_statement get_subscription = {
    "tracking_webhook_get",
    "SELECT " SUBSCRIPTION_JSON "::text FROM webhook_subscriptions s "
    "WHERE s.agency_code = $1 AND s.id = $2::uuid",
    2};

static const mc_db_statement list_subscriptions = {
    "tracking_webhook_list",
    "SELECT " SUBSCRIPTION_JSON "::text, s.created_at::text, s.id::text FROM webhook_subscriptions s "
    "WHERE s.agency_code = $1 AND ($2::timestamptz IS NULL OR (s.created_at, s.id) > ($2::timestamptz, "
    "$3::uuid)) ORDER BY s.created_at, s.id LIMIT $4::int",
    4};

static const mc_db_statement delete_subscription = {
    "tracking_webhook_delete",
    "DELETE FROM webhook_subscriptions WHERE agency_code = $1 AND id = $2::uuid RETURNING id", 2};

static const mc_db_statement rotate_subscription = {
    "tracking_webhook_rotate",
    "WITH s AS (UPDATE webhook_subscriptions SET previous_secret = secret, secret = $3, "
    "previous_secret_until = now() + $4::int * interval '1 second', updated_at = now(), "
    "revision = revision + 1 WHERE agency_code = $1 AND id = $2::uuid RETURNING *) "
    "SELECT json_build_object('id', s.id, 'secret', s.secret, 'previous_secret_expires_at', "
    TS("s.previous_secret_until") ")::text FROM s",
    4};

static const mc_db_statement enable_subscription = {
    "tracking_webhook_enable",
    "WITH s AS (UPDATE webhook_subscriptions SET state = 'active', disabled_reason = NULL, "
    "disabled_at = NULL, failing_since = NULL, updated_at = now(), revision = revision + 1 "
    "WHERE agency_code = $1 AND id = $2::uuid RETURNING *) SELECT " SUBSCRIPTION_JSON "::text FROM s",
    2};

#define DELIVERY_JSON                                                                             \
    "json_build_object('id', d.id, 'event_id', d.event_id, 'event_type', d.event_type, 'state', "   \
    "d.state, 'attempts', d.attempts, 'next_attempt_at', CASE WHEN d.state IN ('pending', 'failed') " \
    "THEN " TS("d.next_attempt_at") " END, 'last_status', d.last_status, 'last_error', d.last_error, " \
    "'delivered_at', " TS("d.delivered_at") ", 'created_at', " TS("d.created_at") ", 'log', "        \
    "(SELECT coalesce(json_agg(json_build_object('attempt', a.attempt, 'attempted_at', "             \
    TS("a.attempted_at") ", 'status', a.status, 'error', a.error, 'duration_ms', a.duration_ms) "    \
    "ORDER BY a.id), '[]') FROM webhook_attempts a WHERE a.delivery_id = d.id))"

static const mc_db_statement list_deliveries = {
    "tracking_webhook_deliveries",
    "SELECT " DELIVERY_JSON "::text, d.created_at::text, d.id::text FROM webhook_deliveries d "
    "JOIN webhook_subscriptions s ON s.id = d.subscription_id "
    "WHERE s.agency_code = $1 AND s.id = $2::uuid AND ($3::timestamptz IS NULL OR "
    "(d.created_at, d.id) < ($3::timestamptz, $4::uuid)) ORDER BY d.created_at DESC, d.id DESC "
    "LIMIT $5::int",
    5};

static const mc_db_statement redeliver = {
    "tracking_webhook_redeliver",
    "WITH d AS (UPDATE webhook_deliveries d SET state = 'pending', attempts = 0, "
    "next_attempt_at = now() FROM webhook_subscriptions s WHERE s.id = d.subscription_id "
    "AND s.agency_code = $1 AND s.id = $2::uuid AND d.id = $3::uuid RETURNING d.*) "
    "SELECT " DELIVERY_JSON "::text FROM d",
    3};

static const mc_db_statement enqueue = {
    "tracking_webhook_enqueue",
    "INSERT INTO webhook_deliveries (subscription_id, event_id, event_type, payload) "
    "SELECT s.id, $1::uuid, $2, $3 FROM webhook_subscriptions s WHERE s.state = 'active' "
    "AND s.agency_code IN (SELECT jsonb_array_elements_text($4::jsonb)) "
    "AND (cardinality(s.event_types) = 0 OR $2 = ANY (s.event_types)) "
    "ON CONFLICT (subscription_id, event_id) DO NOTHING",
    4};

static const mc_db_statement claim = {
    "tracking_webhook_claim",
    "WITH due AS (SELECT d.id FROM webhook_deliveries d JOIN webhook_subscriptions s "
    " ON s.id = d.subscription_id WHERE d.state IN ('pending', 'failed') "
    " AND d.next_attempt_at <= now() AND s.state = 'active' "
    " AND (s.in_flight_until IS NULL OR s.in_flight_until < now()) "
    " ORDER BY d.next_attempt_at LIMIT 1 FOR UPDATE OF d, s SKIP LOCKED), "
    "c AS (UPDATE webhook_deliveries d SET attempts = d.attempts + 1, "
    " next_attempt_at = now() + $1::int * interval '1 millisecond' FROM due WHERE d.id = due.id "
    " RETURNING d.id, d.subscription_id, d.attempts, d.payload), "
    "f AS (UPDATE webhook_subscriptions s SET in_flight_until = now() + $1::int * interval "
    " '1 millisecond' FROM c WHERE s.id = c.subscription_id) "
    "SELECT json_build_object('id', c.id, 'subscription_id', c.subscription_id, 'attempts', "
    "c.attempts, 'payload', c.payload, 'url', s.url, 'secret', s.secret, 'previous_secret', "
    "CASE WHEN s.previous_secret_until > now() THEN s.previous_secret END, 'failing_since_ms', "
    "(extract(epoch FROM s.failing_since) * 1000)::bigint, 'owner_sub', s.owner_sub, "
    "'agency_code', s.agency_code)::text FROM c JOIN webhook_subscriptions s ON s.id = c.subscription_id",
    1};

static const mc_db_statement record_attempt = {
    "tracking_webhook_attempt",
    "INSERT INTO webhook_attempts (delivery_id, attempt, status, error, duration_ms) "
    "VALUES ($1::uuid, $2::int, $3::int, $4, $5::int)",
    5};

static const mc_db_statement record_delivery = {
    "tracking_webhook_delivery_state",
    "UPDATE webhook_deliveries SET state = $2, last_status = $3::int, last_error = $4, "
    "next_attempt_at = CASE WHEN $2 = 'failed' THEN now() + $5::bigint * interval '1 millisecond' "
    " ELSE next_attempt_at END, delivered_at = CASE WHEN $2 = 'delivered' THEN now() END "
    "WHERE id = $1::uuid",
    5};

static const mc_db_statement record_subscription = {
    "tracking_webhook_subscription_state",
    "UPDATE webhook_subscriptions SET in_flight_until = NULL, "
    "failing_since = CASE WHEN $2::boolean THEN NULL ELSE coalesce(failing_since, now()) END, "
    "state = CASE WHEN $3::text IS NOT NULL THEN 'disabled' ELSE state END, "
    "disabled_reason = coalesce($3, disabled_reason), "
    "disabled_at = CASE WHEN $3::text IS NOT NULL THEN now() ELSE disabled_at END, "
    "updated_at = CASE WHEN $3::text IS NOT NULL THEN now() ELSE updated_at END "
    "WHERE id = $1::uuid RETURNING owner_sub, agency_code, url",
    3};

static const mc_db_statement notice_add = {
    "tracking_notice_add",
    "INSERT INTO notifications (recipient_sub, agency_code, kind, legally_required, title, body) "
    "VALUES ($1, $2, $3, false, $4, $5)",
    5};

/* Run stmt with p (cleared) and expect one JSON row into *out. */
static mc_error fetch_one(mc_db_conn *conn, const mc_db_statement *stmt, mc_db_params *p, json_t **out)
{
    mc_error rc = mc_db_fetch_json(conn, stmt, p, MC_ERR_NOT_FOUND, out, NULL);
    mc_db_params_clear(p);
    return rc;
}

/* Run stmt with p (cleared) for its effect; *rows the rows it touched. */
static mc_error run(mc_db_conn *conn, const mc_db_statement *stmt, mc_db_params *p, int *rows)
{
    PGresult *res = mc_db_exec_params(conn, stmt, p);
    mc_db_params_clear(p);
    if (res == NULL)
        return mc_db_last_error(conn);
    if (rows != NULL) {
        const char *n = PQcmdTuples(res);
        *rows = n[0] != '\0' ? atoi(n) : PQntuples(res);
    }
    PQclear(res);
    return MC_OK;
}

mc_error store_webhook_insert(mc_db_conn *conn, const struct webhook_new *w, json_t **out)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, w->owner_sub);
    mc_db_add_text(&p, w->agency_code);
    mc_db_add_text(&p, w->url);
    mc_db_add_json(&p, w->event_types);
    mc_db_add_text(&p, w->description != NULL ? w->description : "");
    mc_db_add_text(&p, w->secret);
    return fetch_one(conn, &insert_subscription, &p, out);
}

/* stmt on the subscription id of agency ($1, $2), one JSON row into *out. */
static mc_error on_subscription(mc_db_conn *conn, const mc_db_statement *stmt, const char *agency,
                                const char *id, json_t **out)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, agency);
    mc_db_add_text(&p, id);
    return fetch_one(conn, stmt, &p, out);
}

mc_error store_webhook_get(mc_db_conn *conn, const char *agency, const char *id, json_t **out)
{
    return on_subscription(conn, &get_subscription, agency, id, out);
}

mc_error store_webhook_list(mc_db_conn *conn, const char *agency, const char *after_created,
                            const char *after_id, unsigned limit, json_t **items, json_t **next_keys)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, agency);
    mc_db_add_text(&p, after_created);
    mc_db_add_text(&p, after_id);
    mc_db_add_int64(&p, (long long)limit + 1);
    mc_error rc = mc_db_fetch_page(conn, &list_subscriptions, &p, limit, "ss", items, next_keys);
    mc_db_params_clear(&p);
    return rc;
}

mc_error store_webhook_delete(mc_db_conn *conn, const char *agency, const char *id)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, agency);
    mc_db_add_text(&p, id);
    int rows = 0;
    mc_error rc = run(conn, &delete_subscription, &p, &rows);
    return rc == MC_OK && rows == 0 ? MC_ERR_NOT_FOUND : rc;
}

mc_error store_webhook_rotate(mc_db_conn *conn, const char *agency, const char *id,
                              const char *secret, unsigned overlap_s, json_t **out)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, agency);
    mc_db_add_text(&p, id);
    mc_db_add_text(&p, secret);
    mc_db_add_int64(&p, overlap_s);
    return fetch_one(conn, &rotate_subscription, &p, out);
}

mc_error store_webhook_enable(mc_db_conn *conn, const char *agency, const char *id, json_t **out)
{
    return on_subscription(conn, &enable_subscription, agency, id, out);
}

mc_error store_webhook_deliveries(mc_db_conn *conn, const char *agency, const char *subscription_id,
                                  const char *after_created, const char *after_id, unsigned limit,
                                  json_t **items, json_t **next_keys)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, agency);
    mc_db_add_text(&p, subscription_id);
    mc_db_add_text(&p, after_created);
    mc_db_add_text(&p, after_id);
    mc_db_add_int64(&p, (long long)limit + 1);
    mc_error rc = mc_db_fetch_page(conn, &list_deliveries, &p, limit, "ss", items, next_keys);
    mc_db_params_clear(&p);
    return rc;
}

mc_error store_webhook_redeliver(mc_db_conn *conn, const char *agency, const char *subscription_id,
                                 const char *delivery_id, json_t **out)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, agency);
    mc_db_add_text(&p, subscription_id);
    mc_db_add_text(&p, delivery_id);
    return fetch_one(conn, &redeliver, &p, out);
}

mc_error store_webhook_enqueue(mc_db_conn *conn, const char *event_id, const char *type,
                               const char *payload, const json_t *agencies)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, event_id);
    mc_db_add_text(&p, type);
    mc_db_add_text(&p, payload);
    mc_db_add_json(&p, agencies);
    return run(conn, &enqueue, &p, NULL);
}

mc_error store_webhook_claim(mc_db_conn *conn, unsigned lease_ms, json_t **claimed)
{
    *claimed = NULL;
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_int64(&p, lease_ms);
    mc_error rc = fetch_one(conn, &claim, &p, claimed);
    return rc == MC_ERR_NOT_FOUND ? MC_OK : rc;
}

mc_error store_notice_add(mc_db_conn *conn, const char *recipient_sub, const char *agency,
                          const char *kind, const char *title, const char *body)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, recipient_sub);
    mc_db_add_text(&p, agency);
    mc_db_add_text(&p, kind);
    mc_db_add_text(&p, title);
    mc_db_add_text(&p, body);
    return run(conn, &notice_add, &p, NULL);
}

mc_error store_webhook_record(mc_db_conn *conn, const struct webhook_result *r)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, r->delivery_id);
    mc_db_add_int64(&p, r->attempt);
    if (r->status > 0)
        mc_db_add_int64(&p, r->status);
    else
        mc_db_add_null(&p);
    mc_db_add_text(&p, r->error);
    mc_db_add_int64(&p, r->duration_ms);
    mc_error rc = run(conn, &record_attempt, &p, NULL);
    if (rc != MC_OK)
        return rc;
    mc_db_add_text(&p, r->delivery_id);
    mc_db_add_text(&p, r->state);
    if (r->status > 0)
        mc_db_add_int64(&p, r->status);
    else
        mc_db_add_null(&p);
    mc_db_add_text(&p, r->error);
    mc_db_add_int64(&p, r->retry_ms);
    rc = run(conn, &record_delivery, &p, NULL);
    if (rc != MC_OK)
        return rc;
    mc_db_add_text(&p, r->subscription_id);
    mc_db_add_bool(&p, r->succeeded);
    mc_db_add_text(&p, r->disable_reason);
    PGresult *res = mc_db_exec_params(conn, &record_subscription, &p);
    mc_db_params_clear(&p);
    if (res == NULL)
        return mc_db_last_error(conn);
    if (r->disable_reason != NULL && PQntuples(res) == 1) {
        /* The owner is told in their inbox (the URL is theirs to see). */
        char body[2600];
        snprintf(body, sizeof body,
                 "Đăng ký webhook %s (%s) đã bị tắt: %s. Bật lại bằng POST "
                 "/api/v1/tracking/webhooks/%s/enable sau khi khắc phục.",
                 r->subscription_id, mc_db_text(res, 0, 2), r->disable_reason, r->subscription_id);
        rc = store_notice_add(conn, mc_db_text(res, 0, 0), mc_db_text(res, 0, 1), "webhook_disabled",
                              "Webhook đã bị tắt", body);
    }
    PQclear(res);
    return rc;
}
