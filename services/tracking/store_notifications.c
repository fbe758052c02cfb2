/* The SQL of citizen notifications: templates, the inbox, the outbox and
   SMS opt-outs (notify.h). */
#include <stdio.h>
#include <string.h>

#include "notify.h"

static const mc_db_statement templates_of_kind = {
    "tracking_templates_of_kind",
    "SELECT json_build_object('agency_code', agency_code, 'lang', lang, 'subject', subject, "
    "'body', body, 'sms', sms)::text FROM notification_templates WHERE kind = $1",
    1};

static const mc_db_statement notification_add = {
    "tracking_notification_add",
    "WITH n AS (INSERT INTO notifications (event_id, dossier_id, dossier_code, recipient_sub, "
    "agency_code, kind, legally_required, title, body, sms_text) VALUES ($1::uuid, $2::uuid, $3, $4, "
    "$5, $6, $7::boolean, $8, $9, $10) ON CONFLICT (event_id) DO NOTHING RETURNING id), "
    "d AS (INSERT INTO notification_deliveries (notification_id, channel) "
    "SELECT n.id, c.channel FROM n, unnest(ARRAY['email', 'sms']) AS c(channel) WHERE $11::boolean) "
    "SELECT count(*) FROM n",
    11};

/* The due deliveries, oldest first, each pushed past its lease and counted. */
static const mc_db_statement notification_claim = {
    "tracking_notification_claim",
    "WITH due AS (SELECT notification_id, channel FROM notification_deliveries "
    " WHERE state IN ('pending', 'failed') AND next_attempt_at <= now() "
    " ORDER BY next_attempt_at LIMIT $1::int FOR UPDATE SKIP LOCKED), "
    "claimed AS (UPDATE notification_deliveries nd SET attempts = nd.attempts + 1, "
    " next_attempt_at = now() + $2::int * interval '1 millisecond' FROM due "
    " WHERE nd.notification_id = due.notification_id AND nd.channel = due.channel "
    " RETURNING nd.notification_id, nd.channel, nd.attempts) "
    "SELECT json_build_object('notification_id', n.id, 'channel', c.channel, 'attempts', c.attempts, "
    "'dossier_id', n.dossier_id, 'recipient_sub', n.recipient_sub, "
    "'legally_required', n.legally_required, 'title', n.title, 'body', n.body, "
    "'sms_text', n.sms_text)::text FROM claimed c JOIN notifications n ON n.id = c.notification_id",
    2};

static const mc_db_statement delivery_done = {
    "tracking_notification_delivery_done",
    "UPDATE notification_deliveries SET state = $3, last_error = $5, "
    "next_attempt_at = CASE WHEN $3 = 'failed' THEN now() + $4::bigint * interval '1 millisecond' "
    " ELSE next_attempt_at END, "
    "sent_at = CASE WHEN $3 = 'sent' THEN now() ELSE sent_at END "
    "WHERE notification_id = $1::uuid AND channel = $2",
    5};

static const mc_db_statement sms_opted_out = {
    "tracking_sms_opted_out", "SELECT 1 FROM sms_opt_outs WHERE recipient_sub = $1", 1};
static const mc_db_statement sms_opt_out_add = {
    "tracking_sms_opt_out_add",
    "INSERT INTO sms_opt_outs (recipient_sub) VALUES ($1) ON CONFLICT DO NOTHING", 1};
static const mc_db_statement sms_opt_out_remove = {
    "tracking_sms_opt_out_remove", "DELETE FROM sms_opt_outs WHERE recipient_sub = $1", 1};

#define INBOX_ITEM                                                                                \
    "json_build_object('id', id, 'kind', kind, 'dossier_id', dossier_id, 'dossier_code', "        \
    "dossier_code, 'title', title, 'body', body, 'legally_required', legally_required, "           \
    "'created_at', to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), " \
    "'read', read_at IS NOT NULL, 'read_at', "                                                     \
    "to_char(read_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'))::text"

static const mc_db_statement inbox_list = {
    "tracking_inbox_list",
    "SELECT " INBOX_ITEM ", created_at::text, id::text FROM notifications "
    "WHERE recipient_sub = $1 AND (NOT $2::boolean OR read_at IS NULL) "
    "AND ($3::timestamptz IS NULL OR (created_at, id) < ($3::timestamptz, $4::uuid)) "
    "ORDER BY created_at DESC, id DESC LIMIT $5::int",
    5};

static const mc_db_statement inbox_mark_read = {
    "tracking_inbox_mark_read",
    "UPDATE notifications SET read_at = coalesce(read_at, now()) "
    "WHERE id = $2::uuid AND recipient_sub = $1 RETURNING " INBOX_ITEM,
    2};

mc_error store_templates_of_kind(mc_db_conn *conn, const char *kind, json_t **rows)
{
    *rows = NULL;
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, kind);
    PGresult *res = mc_db_exec_params(conn, &templates_of_kind, &p);
    mc_db_params_clear(&p);
    if (res == NULL)
        return mc_db_last_error(conn);
    *rows = mc_db_json_rows(res, 0, (unsigned)PQntuples(res));
    PQclear(res);
    return *rows != NULL ? MC_OK : MC_ERR_INTERNAL;
}

mc_error store_notification_add(mc_db_conn *conn, const struct notification_new *n, bool *added)
{
    *added = false;
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, n->event_id);
    mc_db_add_text(&p, n->dossier_id);
    mc_db_add_text(&p, n->dossier_code);
    mc_db_add_text(&p, n->recipient_sub);
    mc_db_add_text(&p, n->agency_code);
    mc_db_add_text(&p, n->kind);
    mc_db_add_bool(&p, n->legally_required);
    mc_db_add_text(&p, n->title);
    mc_db_add_text(&p, n->body);
    mc_db_add_text(&p, n->sms_text != NULL ? n->sms_text : "");
    mc_db_add_bool(&p, n->with_deliveries);
    PGresult *res = mc_db_exec_params(conn, &notification_add, &p);
    mc_db_params_clear(&p);
    if (res == NULL)
        return mc_db_last_error(conn);
    *added = mc_db_int(res, 0, 0) > 0;
    PQclear(res);
    return MC_OK;
}

mc_error store_notification_claim(mc_db_conn *conn, unsigned limit, unsigned lease_ms, json_t **claimed)
{
    *claimed = NULL;
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_int64(&p, limit);
    mc_db_add_int64(&p, lease_ms);
    PGresult *res = mc_db_exec_params(conn, &notification_claim, &p);
    mc_db_params_clear(&p);
    if (res == NULL)
        return mc_db_last_error(conn);
    *claimed = mc_db_json_rows(res, 0, (unsigned)PQntuples(res));
    PQclear(res);
    return *claimed != NULL ? MC_OK : MC_ERR_INTERNAL;
}

mc_error store_notification_delivery_done(mc_db_conn *conn, const char *notification_id,
                                          const char *channel, const char *state, int64_t retry_ms,
                                          const char *error)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, notification_id);
    mc_db_add_text(&p, channel);
    mc_db_add_text(&p, state);
    mc_db_add_int64(&p, retry_ms);
    mc_db_add_text(&p, error);
    PGresult *res = mc_db_exec_params(conn, &delivery_done, &p);
    mc_db_params_clear(&p);
    if (res == NULL)
        return mc_db_last_error(conn);
    PQclear(res);
    return MC_OK;
}

mc_error store_sms_opted_out(mc_db_conn *conn, const char *recipient_sub, bool *opted_out)
{
    *opted_out = false;
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, recipient_sub);
    PGresult *res = mc_db_exec_params(conn, &sms_opted_out, &p);
    mc_db_params_clear(&p);
    if (res == NULL)
        return mc_db_last_error(conn);
    *opted_out = PQntuples(res) > 0;
    PQclear(res);
    return MC_OK;
}

mc_error store_sms_opt_out_set(mc_db_conn *conn, const char *recipient_sub, bool opted_out)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, recipient_sub);
    PGresult *res = mc_db_exec_params(conn, opted_out ? &sms_opt_out_add : &sms_opt_out_remove, &p);
    mc_db_params_clear(&p);
    if (res == NULL)
        return mc_db_last_error(conn);
    PQclear(res);
    return MC_OK;
}

mc_error store_inbox_list(mc_db_conn *conn, const struct inbox_query *q, unsigned limit,
                          json_t **items, json_t **next_keys)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, q->recipient_sub);
    mc_db_add_bool(&p, q->unread_only);
    mc_db_add_text(&p, q->after_created);
    mc_db_add_text(&p, q->after_id);
    mc_db_add_int64(&p, (long long)limit + 1);
    mc_error rc = mc_db_fetch_page(conn, &inbox_list, &p, limit, "ss", items, next_keys);
    mc_db_params_clear(&p);
    return rc;
}

mc_error store_inbox_mark_read(mc_db_conn *conn, const char *recipient_sub, const char *id,
                               json_t **item)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, recipient_sub);
    mc_db_add_text(&p, id);
    mc_error rc = mc_db_fetch_json(conn, &inbox_mark_read, &p, MC_ERR_NOT_FOUND, item, NULL);
    mc_db_params_clear(&p);
    return rc;
}
