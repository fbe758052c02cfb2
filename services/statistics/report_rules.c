/* Report 06a from rollup sums (report_rules.h). */
#include "report_rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fact_rules.h"
#include "motcua/calendar.h"

static int64_t day_of_date(int y, int m, int d)
{
    return mc_date_to_days((mc_date){.year = y, .month = m, .day = d});
}

static int64_t last_day_of_month(int y, int m)
{
    return m == 12 ? day_of_date(y + 1, 1, 1) - 1 : day_of_date(y, m + 1, 1) - 1;
}

bool stat_period_parse(const char *s, struct stat_period *out)
{
    int y = 0, n = 0, used = 0;
    if (s == NULL || strlen(s) < 4)
        return false;
    for (int i = 0; i < 4; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    if (sscanf(s, "%4d%n", &y, &used) != 1 || used != 4 || y < 1900 || y > 9998)
        return false;
    if (s[4] == '\0') {
        *out = (struct stat_period){day_of_date(y, 1, 1), day_of_date(y, 12, 31)};
        return true;
    }
    if (s[4] == '-' && s[5] == 'Q' && s[6] >= '1' && s[6] <= '4' && s[7] == '\0') {
        int q = s[6] - '0';
        *out = (struct stat_period){day_of_date(y, 3 * q - 2, 1), last_day_of_month(y, 3 * q)};
        return true;
    }
    if (s[4] == '-' && s[5] >= '0' && s[5] <= '1' && s[6] >= '0' && s[6] <= '9' && s[7] == '\0') {
        n = (s[5] - '0') * 10 + (s[6] - '0');
        if (n < 1 || n > 12)
            return false;
        *out = (struct stat_period){day_of_date(y, n, 1), last_day_of_month(y, n)};
        return true;
    }
    return false;
}

bool stat_period_from_range(const char *from, const char *to, struct stat_period *out)
{
    mc_date a, b;
    if (from == NULL || to == NULL || !mc_date_parse(from, &a) || !mc_date_parse(to, &b))
        return false;
    int64_t first = mc_date_to_days(a), last = mc_date_to_days(b);
    if (first > last || last - first + 1 > STAT_PERIOD_MAX_DAYS)
        return false;
    *out = (struct stat_period){first, last};
    return true;
}

void stat_sums_add(struct stat_sums *into, const struct stat_sums *s)
{
    for (int m = 0; m < M_COUNT; m++) {
        into->period[m] += s->period[m];
        into->at_start[m] += s->at_start[m];
        into->at_end[m] += s->at_end[m];
    }
}

double stat_on_time_rate(const struct stat_sums *s)
{
    long long good = s->at_end[M_OPEN_WITHIN] + s->period[M_RESOLVED_EARLY] +
                     s->period[M_RESOLVED_ON_TIME] + s->period[M_WITHDRAWN];
    long long all = good + s->period[M_RESOLVED_OVERDUE] + s->at_end[M_OPEN_OVERDUE];
    return all > 0 ? (double)good / (double)all : -1.0;
}

json_t *stat_06a_columns(const struct stat_sums *s)
{
    const long long *p = s->period;
    long long carried = s->at_start[M_OPEN_WITHIN] + s->at_start[M_OPEN_OVERDUE];
    long long online = p[M_RECEIVED_ONLINE], offline = p[M_RECEIVED_OFFLINE];
    long long early = p[M_RESOLVED_EARLY], on_time = p[M_RESOLVED_ON_TIME],
              overdue = p[M_RESOLVED_OVERDUE];
    long long within = s->at_end[M_OPEN_WITHIN], open_overdue = s->at_end[M_OPEN_OVERDUE];
    double rate = stat_on_time_rate(s);
    json_t *c = json_pack(
        "{s{sIsIsIsI} s{sIsIsIsI} s{sIsIsI} sI sI sI sI sI sI sI}", "received", "total",
        (json_int_t)(online + offline), "online", (json_int_t)online, "in_person_postal",
        (json_int_t)offline, "carried_over", (json_int_t)carried, "resolved", "total",
        (json_int_t)(early + on_time + overdue), "early", (json_int_t)early, "on_time",
        (json_int_t)on_time, "overdue", (json_int_t)overdue, "in_progress", "total",
        (json_int_t)(within + open_overdue), "within_deadline", (json_int_t)within, "overdue",
        (json_int_t)open_overdue, "withdrawn", (json_int_t)p[M_WITHDRAWN], "stopped",
        (json_int_t)p[M_STOPPED], "refused", (json_int_t)p[M_REFUSED], "returned",
        (json_int_t)p[M_RETURNED], "awaiting_supplement", (json_int_t)s->at_end[M_AWAITING_SUPPLEMENT],
        "transferred_in", (json_int_t)p[M_TRANSFERRED_IN], "transferred_out",
        (json_int_t)p[M_TRANSFERRED_OUT]);
    if (c != NULL)
        json_object_set_new(c, "on_time_rate", rate >= 0 ? json_real(rate) : json_null());
    return c;
}

int64_t stat_bucket_start(int64_t day, enum stat_interval interval)
{
    if (interval == STAT_DAY)
        return day;
    mc_date d = mc_date_from_days(day);
    return day_of_date(d.year, d.month, 1);
}

/* ---- Where the agency-level sums are read ---- */

static int64_t month_start(int64_t day)
{
    return stat_bucket_start(day, STAT_MONTH);
}

int64_t stat_stock_bound(int64_t day)
{
    return month_start(day + 1) == day + 1 ? day + 1 : month_start(day);
}

struct stat_read_plan stat_read_plan(const struct stat_period *p, int64_t start_stock_day,
                                     int64_t end_stock_day)
{
    /* The first month starting on or after the period's first day; the end of
       the last month ending on or before its last day. */
    int64_t from = month_start(p->first) == p->first ? p->first : month_start(month_start(p->first) + 31);
    int64_t to = month_start(p->last + 1) == p->last + 1 ? p->last + 1 : month_start(p->last);
    if (from >= to)
        from = to = p->last + 1;
    return (struct stat_read_plan){from, to, stat_stock_bound(start_stock_day),
                                   stat_stock_bound(end_stock_day)};
}

/* ---- The agency tree ---- */

#define TREE_DEPTH_MAX 32

static const char *parent_of(const json_t *agencies, const char *code)
{
    return json_string_value(json_object_get(json_object_get(agencies, code), "parent"));
}

const char *stat_tree_child_toward(const json_t *agencies, const char *ancestor, const char *code)
{
    const char *below = NULL;
    const char *at = code;
    for (int depth = 0; at != NULL && depth < TREE_DEPTH_MAX; depth++) {
        if (strcmp(at, ancestor) == 0)
            return below != NULL ? below : json_object_get(agencies, at) != NULL ? ancestor : NULL;
        below = at;
        at = parent_of(agencies, at);
    }
    return NULL;
}

bool stat_tree_contains(const json_t *agencies, const char *ancestor, const char *code)
{
    return stat_tree_child_toward(agencies, ancestor, code) != NULL;
}

json_t *stat_tree_subtree(const json_t *agencies, const char *ancestor)
{
    json_t *out = json_array();
    const char *code;
    json_t *v;
    json_object_foreach((json_t *)agencies, code, v) {
        if (stat_tree_contains(agencies, ancestor, code))
            json_array_append_new(out, json_string(code));
    }
    return out;
}

bool stat_tree_is_root(const json_t *agencies, const char *code)
{
    const json_t *a = json_object_get(agencies, code);
    return a != NULL && parent_of(agencies, code) == NULL;
}

/* ---- CSV ---- */

struct buf {
    char *data;
    size_t len, cap;
    bool failed;
};

static void put(struct buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->cap + n + 1) * 2;
        char *d = realloc(b->data, cap);
        if (d == NULL) {
            b->failed = true;
            return;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void put_text(struct buf *b, const char *s)
{
    put(b, "\"", 1);
    for (const char *q = s != NULL ? s : ""; *q != '\0'; q++) {
        put(b, q, 1);
        if (*q == '"')
            put(b, "\"", 1); /* a quote inside is doubled */
    }
    put(b, "\"", 1);
}

/* The form's cells after the row label, in order: what CSV and XLSX print. */
const struct stat_06a_cell stat_06a_cells[] = {
    {"received", "total", "Số hồ sơ nhận giải quyết", "Tổng số"},
    {"received", "online", "Số hồ sơ nhận giải quyết", "Trực tuyến"},
    {"received", "in_person_postal", "Số hồ sơ nhận giải quyết", "Trực tiếp và bưu chính"},
    {"received", "carried_over", "Số hồ sơ nhận giải quyết", "Từ kỳ trước"},
    {"resolved", "total", "Số hồ sơ đã giải quyết", "Tổng số"},
    {"resolved", "early", "Số hồ sơ đã giải quyết", "Trước hạn"},
    {"resolved", "on_time", "Số hồ sơ đã giải quyết", "Đúng hạn"},
    {"resolved", "overdue", "Số hồ sơ đã giải quyết", "Quá hạn"},
    {"in_progress", "total", "Số hồ sơ đang giải quyết", "Tổng số"},
    {"in_progress", "within_deadline", "Số hồ sơ đang giải quyết", "Trong hạn"},
    {"in_progress", "overdue", "Số hồ sơ đang giải quyết", "Quá hạn"},
    {"withdrawn", NULL, "Rút hồ sơ", NULL},
    {"stopped", NULL, "Dừng xử lý", NULL},
    {"refused", NULL, "Từ chối tiếp nhận", NULL},
    {"awaiting_supplement", NULL, "Chờ bổ sung", NULL},
    {"on_time_rate", NULL, "Tỷ lệ đúng hạn (%)", NULL},
};
const size_t stat_06a_cells_count = sizeof stat_06a_cells / sizeof stat_06a_cells[0];

const char *const stat_06a_label_header = "Đơn vị / lĩnh vực / thủ tục";
const char *const stat_06a_total_label = "Tổng cộng";

double stat_06a_cell_value(const json_t *columns, size_t i)
{
    const json_t *v = json_object_get(columns, stat_06a_cells[i].group);
    if (stat_06a_cells[i].member != NULL)
        v = json_object_get(v, stat_06a_cells[i].member);
    if (strcmp(stat_06a_cells[i].group, "on_time_rate") == 0)
        return json_is_number(v) ? 100.0 * json_number_value(v) : -1.0;
    return (double)json_integer_value(v);
}

const char *stat_06a_row_label(const json_t *row)
{
    const char *name = json_string_value(json_object_get(row, "name"));
    return name != NULL ? name : json_string_value(json_object_get(row, "key"));
}

static void put_row(struct buf *b, const char *label, const json_t *cols)
{
    put_text(b, label);
    for (size_t i = 0; i < stat_06a_cells_count; i++) {
        double v = stat_06a_cell_value(cols, i);
        char n[40];
        int len = i + 1 == stat_06a_cells_count
                      ? (v >= 0 ? snprintf(n, sizeof n, ",%.2f", v) : snprintf(n, sizeof n, ","))
                      : snprintf(n, sizeof n, ",%lld", (long long)v);
        put(b, n, (size_t)len);
    }
    put(b, "\r\n", 2);
}

/* The two header rows: a group's label over its first cell, its members below. */
static void put_header(struct buf *b)
{
    put(b, "\xEF\xBB\xBF", 3);
    put_text(b, stat_06a_label_header);
    for (size_t i = 0; i < stat_06a_cells_count; i++) {
        put(b, ",", 1);
        if (i == 0 || strcmp(stat_06a_cells[i].group_label, stat_06a_cells[i - 1].group_label) != 0)
            put_text(b, stat_06a_cells[i].group_label);
    }
    put(b, "\r\n", 2);
    for (size_t i = 0; i < stat_06a_cells_count; i++) {
        put(b, ",", 1);
        if (stat_06a_cells[i].label != NULL)
            put_text(b, stat_06a_cells[i].label);
    }
    put(b, "\r\n", 2);
}

char *stat_06a_csv(const json_t *report, size_t *len)
{
    struct buf b = {0};
    put_header(&b);
    size_t i;
    const json_t *row;
    json_array_foreach(json_object_get(report, "rows"), i, row)
        put_row(&b, stat_06a_row_label(row), row);
    put_row(&b, stat_06a_total_label, json_object_get(report, "totals"));
    if (b.failed) {
        free(b.data);
        return NULL;
    }
    *len = b.len;
    return b.data;
}

bool stat_period_settled(const struct stat_period *p, int64_t today, int64_t applied_until)
{
    return applied_until > STAT_SETTLE_SLACK_SECONDS && p->last < today &&
           p->last < stat_day_of(applied_until - STAT_SETTLE_SLACK_SECONDS);
}

int64_t stat_stock_snapshot_month(int64_t today, int64_t applied_until)
{
    if (applied_until <= STAT_SETTLE_SLACK_SECONDS)
        return STAT_NO_DAY;
    /* The first day not settled: today, or the day of applied_until minus the slack. */
    int64_t counted = stat_day_of(applied_until - STAT_SETTLE_SLACK_SECONDS);
    return month_start(counted < today ? counted : today);
}
