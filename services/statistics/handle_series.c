/*
 * GET /statistics/series: received, resolved, resolved overdue per day or
 * month of a period, and the in-progress overdue stock at the end of each
 * bucket, for charts. Who sees what: as report 06a.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "motcua/calendar.h"
#include "statistics.h"
#include "store.h"

#define SERIES_DAYS_MAX 400 /* per-day series; monthly ones follow the report's limit */

struct series {
    int64_t first, last, today;
    long long *received, *resolved, *overdue; /* per day of the period */
    long long *stock_delta;                   /* open_overdue changes per day */
};

static void add_day(void *ctx, int64_t day, int measure, long long value)
{
    struct series *s = ctx;
    size_t i = (size_t)(day - s->first);
    if (measure == M_RECEIVED_ONLINE || measure == M_RECEIVED_OFFLINE)
        s->received[i] += value;
    else if (measure == M_RESOLVED_EARLY || measure == M_RESOLVED_ON_TIME)
        s->resolved[i] += value;
    else if (measure == M_RESOLVED_OVERDUE) {
        s->resolved[i] += value;
        s->overdue[i] += value;
    } else if (measure == M_OPEN_OVERDUE && day <= s->today)
        s->stock_delta[i] += value; /* a crossing ahead of today is not a fact yet */
}

static void add_start(void *ctx, const char *agency, const char *sector, const char *procedure,
                      int measure, long long period, long long at_start, long long at_end)
{
    if (measure == M_OPEN_OVERDUE)
        *(long long *)ctx += at_start;
}

static json_t *series_items(const struct series *s, enum stat_interval interval, long long stock)
{
    json_t *items = json_array();
    json_t *item = NULL;
    int64_t bucket = -1;
    for (int64_t day = s->first; day <= s->last; day++) {
        size_t i = (size_t)(day - s->first);
        if (stat_bucket_start(day, interval) != bucket) {
            bucket = stat_bucket_start(day, interval);
            char start[11];
            mc_date_format(mc_date_from_days(day), start);
            item = json_pack("{ss sI sI sI sI}", "start", start, "received", (json_int_t)0, "resolved",
                             (json_int_t)0, "resolved_overdue", (json_int_t)0, "in_progress_overdue",
                             (json_int_t)0);
            json_array_append_new(items, item);
        }
        stock += s->stock_delta[i];
        json_object_set_new(item, "received",
                            json_integer(json_integer_value(json_object_get(item, "received")) +
                                         s->received[i]));
        json_object_set_new(item, "resolved",
                            json_integer(json_integer_value(json_object_get(item, "resolved")) +
                                         s->resolved[i]));
        json_object_set_new(item, "resolved_overdue",
                            json_integer(json_integer_value(json_object_get(item, "resolved_overdue")) +
                                         s->overdue[i]));
        json_object_set_new(item, "in_progress_overdue", json_integer(stock));
    }
    return items;
}

void handle_series(mc_request *req)
{
    json_t *errors = json_array();
    const char *interval_text = mc_query_str(req, "interval", 8, errors);
    enum stat_interval interval = STAT_DAY;
    if (interval_text != NULL && strcmp(interval_text, "month") == 0)
        interval = STAT_MONTH;
    else if (interval_text != NULL && strcmp(interval_text, "day") != 0)
        mc_errors_add_param(errors, "interval", "invalid", "day or month");
    struct report_scope scope;
    if (!load_scope(req, &scope, errors))
        return;
    int64_t days = scope.period.last - scope.period.first + 1;
    if (interval == STAT_DAY && days > SERIES_DAYS_MAX) {
        json_t *e = json_array();
        mc_errors_add_param(e, "interval", "too_many_days", "a daily series covers at most 400 days");
        mc_query_ok(req, e);
        scope_clear(&scope);
        return;
    }
    if (!stat_tree_is_root(scope.tree, scope.agency) && !may_see_detail(req, scope.tree, scope.agency)) {
        refuse_detail(req, "an agency's series (below the province's)");
        scope_clear(&scope);
        return;
    }
    struct series s = {scope.period.first, scope.period.last, stat_day_of((int64_t)time(NULL)), NULL,
                       NULL, NULL, NULL};
    long long *cells = calloc((size_t)days * 4, sizeof *cells);
    mc_error rc = cells != NULL ? MC_OK : MC_ERR_INTERNAL;
    long long stock = 0;
    if (rc == MC_OK) {
        s.received = cells;
        s.resolved = cells + days;
        s.overdue = cells + 2 * days;
        s.stock_delta = cells + 3 * days;
        rc = scope_sums(req, &scope, s.today, false, add_start, &stock);
    }
    if (rc == MC_OK) {
        json_t *measures = json_pack("[sssss]", "received_online", "received_offline", "resolved_early",
                                     "resolved_on_time", "resolved_overdue");
        json_array_append_new(measures, json_string("open_overdue"));
        mc_db_conn *conn;
        rc = mc_db_acquire(mc_request_db(req), &conn);
        if (rc == MC_OK) {
            rc = store_daily_sums(conn, scope.agencies, s.first, s.last, measures, add_day, &s);
            mc_db_release(mc_request_db(req), conn);
        }
        json_decref(measures);
    }
    json_t *body = rc == MC_OK ? json_pack("{ss ss so}", "agency_code", scope.agency, "interval",
                                           interval == STAT_DAY ? "day" : "month", "items",
                                           series_items(&s, interval, stock))
                               : NULL;
    free(cells);
    scope_clear(&scope);
    if (body == NULL) {
        mc_reply_error(req, rc != MC_OK ? rc : MC_ERR_INTERNAL, NULL);
        return;
    }
    mc_reply_json_etag(req, 200, body, NULL);
}
