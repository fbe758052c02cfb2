/* Report 06a from rollup sums (report_rules.h). */
#include "report_rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static void put_int(struct buf *b, const json_t *v)
{
    char n[24];
    int len = snprintf(n, sizeof n, ",%lld", (long long)json_integer_value(v));
    put(b, n, (size_t)len);
}

/* The numeric cells of a row, in the form's order. */
static const char *const csv_columns[][2] = {
    {"received", "total"},         {"received", "online"},
    {"received", "in_person_postal"}, {"received", "carried_over"},
    {"resolved", "total"},         {"resolved", "early"},
    {"resolved", "on_time"},       {"resolved", "overdue"},
    {"in_progress", "total"},      {"in_progress", "within_deadline"},
    {"in_progress", "overdue"},    {"withdrawn", NULL},
    {"stopped", NULL},             {"refused", NULL},
    {"awaiting_supplement", NULL},
};

static void put_row(struct buf *b, const char *label, const json_t *cols)
{
    put_text(b, label);
    for (size_t i = 0; i < sizeof csv_columns / sizeof csv_columns[0]; i++) {
        const json_t *v = json_object_get(cols, csv_columns[i][0]);
        if (csv_columns[i][1] != NULL)
            v = json_object_get(v, csv_columns[i][1]);
        put_int(b, v);
    }
    const json_t *rate = json_object_get(cols, "on_time_rate");
    char n[32];
    int len = json_is_number(rate) ? snprintf(n, sizeof n, ",%.2f", 100.0 * json_number_value(rate))
                                   : snprintf(n, sizeof n, ",");
    put(b, n, (size_t)len);
    put(b, "\r\n", 2);
}

char *stat_06a_csv(const json_t *report, size_t *len)
{
    struct buf b = {0};
    static const char header[] =
        "\xEF\xBB\xBF"
        "\"Đơn vị / lĩnh vực / thủ tục\",\"Số hồ sơ nhận giải quyết\",,,,\"Số hồ sơ đã giải quyết\",,,,"
        "\"Số hồ sơ đang giải quyết\",,,\"Rút hồ sơ\",\"Dừng xử lý\",\"Từ chối tiếp nhận\","
        "\"Chờ bổ sung\",\"Tỷ lệ đúng hạn (%)\"\r\n"
        ",\"Tổng số\",\"Trực tuyến\",\"Trực tiếp và bưu chính\",\"Từ kỳ trước\",\"Tổng số\","
        "\"Trước hạn\",\"Đúng hạn\",\"Quá hạn\",\"Tổng số\",\"Trong hạn\",\"Quá hạn\",,,,,\r\n";
    put(&b, header, sizeof header - 1);
    size_t i;
    const json_t *row;
    json_array_foreach(json_object_get(report, "rows"), i, row) {
        const char *name = json_string_value(json_object_get(row, "name"));
        put_row(&b, name != NULL ? name : json_string_value(json_object_get(row, "key")), row);
    }
    put_row(&b, "Tổng cộng", json_object_get(report, "totals"));
    if (b.failed) {
        free(b.data);
        return NULL;
    }
    *len = b.len;
    return b.data;
}
