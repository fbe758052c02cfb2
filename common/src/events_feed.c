/*
 * The PostgreSQL event feed, GET /api/v1/events/<service>?after=N
 * (motcua/events.h): published events in published_seq order, and 410
 * events.position_expired for a position behind the retention horizon.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"
#include "motcua/events.h"
#include "motcua/json_spec.h"

#define FEED_DEFAULT_LIMIT 100
#define FEED_MAX_LIMIT 1000

static const mc_db_statement feed_select = {
    "common_outbox_feed",
    "SELECT published_seq, id, type, source, subject,"
    " to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), data::text"
    " FROM outbox WHERE published_seq > $1::bigint AND ($3::text IS NULL OR type = $3)"
    " ORDER BY published_seq LIMIT $2::integer",
    3};

static const mc_db_statement horizon_select = {
    "common_outbox_horizon", "SELECT pruned_through FROM outbox_horizon", 0};

struct feed_query {
    const char *after;
    const char *limit;
    const char *type;
    json_t *items;
    long long last;
    long long horizon;
};

/* The page, then the horizon, each in its own snapshot: the horizon only
   grows, so if it is not past `after` when read after the page, it was not
   when the page was read, and the page misses nothing. If it is, the answer is
   410 (the page may have been complete; telling is the safe side). */
static mc_error feed_tx(mc_db_conn *conn, void *ctx)
{
    struct feed_query *q = ctx;
    long long after = q->last;
    const char *params[3] = {q->after, q->limit, q->type};
    PGresult *res = mc_db_exec(conn, &feed_select, params);
    if (res == NULL)
        return mc_db_last_error(conn);
    for (int r = 0; r < PQntuples(res); r++) {
        json_t *ev = mc_event_from_row(res, r);
        if (ev != NULL)
            json_array_append_new(q->items, ev);
        q->last = mc_db_int(res, r, 0);
    }
    PQclear(res);
    res = mc_db_exec(conn, &horizon_select, NULL);
    if (res == NULL)
        return mc_db_last_error(conn);
    q->horizon = PQntuples(res) > 0 ? mc_db_int(res, 0, 0) : 0;
    PQclear(res);
    return after < q->horizon ? MC_ERR_EVENTS_POSITION_EXPIRED : MC_OK;
}

void mc_handle_event_feed(mc_request *req)
{
    json_t *errors = mc_errors_new();
    const char *after_text = mc_query_str(req, "after", 20, errors);
    long long after = 0;
    if (after_text != NULL) {
        char *end = NULL;
        errno = 0;
        after = strtoll(after_text, &end, 10);
        if (errno != 0 || end == after_text || *end != '\0' || after < 0 || after_text[0] == '+' ||
            after_text[0] == '-')
            mc_errors_add_param(errors, "after", "invalid",
                                "must be a published sequence number (an integer >= 0)");
    }
    unsigned limit = FEED_DEFAULT_LIMIT;
    bool present = false;
    mc_query_uint(req, "limit", 1, FEED_MAX_LIMIT, &limit, &present, errors);
    const char *type = mc_query_str(req, "type", 200, errors);
    if (json_array_size(errors) > 0) {
        mc_reply_errors(req, MC_ERR_BAD_QUERY, errors);
        return;
    }
    json_decref(errors);
    char after_buf[24], limit_buf[12];
    snprintf(after_buf, sizeof after_buf, "%lld", after);
    snprintf(limit_buf, sizeof limit_buf, "%u", limit);
    struct feed_query q = {after_buf, limit_buf, type, json_array(), after, 0};
    mc_error rc = mc_db_with_conn(mc_request_db(req), feed_tx, &q);
    if (rc == MC_ERR_EVENTS_POSITION_EXPIRED) {
        json_decref(q.items);
        char detail[160];
        snprintf(detail, sizeof detail,
                 "events up to %lld are past their retention; resynchronise, then read from after=%lld",
                 q.horizon, q.horizon);
        mc_reply_problem(req, rc, detail, json_pack("{sI}", "oldest_after", (json_int_t)q.horizon));
        return;
    }
    if (rc != MC_OK) {
        json_decref(q.items);
        mc_reply_error(req, rc, NULL);
        return;
    }
    mc_set_header(req, "Cache-Control", "no-store");
    mc_reply_json(req, 200, json_pack("{so sI}", "items", q.items, "next_after", (json_int_t)q.last));
}
