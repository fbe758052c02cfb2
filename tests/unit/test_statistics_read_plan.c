/* Where the statistics service reads an agency's sums (stat_read_plan,
   report_rules.c): whole months from the monthly rollups, the other days from
   the daily ones. Whatever the period, every day must be read exactly once,
   and a stock at a day must be the running sum of every delta up to it. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "motcua/calendar.h"
#include "report_rules.h"

static int64_t day(const char *ymd)
{
    mc_date d;
    assert_true(mc_date_parse(ymd, &d));
    return mc_date_to_days(d);
}

/* The plan of first..last with stocks at start and end: the whole months
   [from, to) and the stocks' bounds. */
static void assert_plan(const char *first, const char *last, const char *start, const char *end,
                        const char *from, const char *to, const char *start_bound,
                        const char *end_bound)
{
    struct stat_period p = {day(first), day(last)};
    struct stat_read_plan plan = stat_read_plan(&p, day(start), day(end));
    assert_int_equal(plan.months_from, day(from));
    assert_int_equal(plan.months_to, day(to));
    assert_int_equal(plan.start_bound, day(start_bound));
    assert_int_equal(plan.end_bound, day(end_bound));
}

static void test_whole_months_and_the_days_around_them(void **state)
{
    (void)state;
    /* March: one whole month; the end of February is a whole month too (no daily rows) */
    assert_plan("2025-03-01", "2025-03-31", "2025-02-28", "2025-03-31", "2025-03-01", "2025-04-01",
                "2025-03-01", "2025-04-01");
    /* cut on both sides: March and April whole, the days of February and May around them */
    assert_plan("2024-02-14", "2024-05-09", "2024-02-13", "2024-05-09", "2024-03-01", "2024-05-01",
                "2024-02-01", "2024-05-01");

    /* inside one month: no whole month, every day from the daily rollups */
    struct stat_period inside = {day("2025-03-10"), day("2025-03-20")};
    struct stat_read_plan p = stat_read_plan(&inside, day("2025-03-09"), day("2025-03-20"));
    assert_int_equal(p.months_from, p.months_to);
    assert_true(p.months_from > inside.last || p.months_from <= inside.first);

    /* a leap year's February ends on the 29th */
    assert_int_equal(stat_stock_bound(day("2024-02-28")), day("2024-02-01"));
    assert_int_equal(stat_stock_bound(day("2024-02-29")), day("2024-03-01"));
    assert_int_equal(stat_stock_bound(day("2025-12-31")), day("2026-01-01"));
}

/* ---- Against brute force: random deltas over three years ---- */

#define SPAN 1200
static long long deltas[SPAN]; /* per day from base */
static int64_t base;

static long long sum_days(int64_t first, int64_t last)
{
    long long s = 0;
    for (int64_t d = first; d <= last; d++)
        if (d >= base && d < base + SPAN)
            s += deltas[d - base];
    return s;
}

/* What the monthly rollups hold: the sum of a month's days. */
static long long month_row(int64_t month_start)
{
    return sum_days(month_start, stat_bucket_start(month_start + 31, STAT_MONTH) - 1);
}

static long long months_in(int64_t from, int64_t to)
{
    long long s = 0;
    for (int64_t m = stat_bucket_start(base, STAT_MONTH); m < to;
         m = stat_bucket_start(m + 31, STAT_MONTH))
        if (m >= from)
            s += month_row(m);
    return s;
}

/* The reads the plan asks for, as the store makes them. */
static long long planned_flow(const struct stat_period *p, const struct stat_read_plan *plan)
{
    long long s = months_in(plan->months_from, plan->months_to);
    for (int64_t d = p->first; d <= p->last; d++)
        if (!(d >= plan->months_from && d < plan->months_to))
            s += sum_days(d, d);
    return s;
}

static long long planned_stock(int64_t bound, int64_t at)
{
    return months_in(INT64_MIN, bound) + sum_days(bound, at);
}

/* The month-start snapshots written (migration 0006): a snapshot at month m
   holds the sum of every month before it; only some months have one. */
#define MONTHS (SPAN / 28 + 2)
static bool snapshot_written[MONTHS];

static int month_index(int64_t month_start)
{
    mc_date d = mc_date_from_days(month_start), b = mc_date_from_days(base);
    return (d.year - b.year) * 12 + (d.month - b.month);
}

/* A stock as the agency statement reads it: the latest snapshot not after the
   bound (none: every month), the months from it to the bound, the days. */
static long long snapshot_stock(int64_t bound, int64_t at)
{
    int64_t from = INT64_MIN;
    long long snapshot = 0;
    for (int64_t m = stat_bucket_start(base, STAT_MONTH); m <= bound; m = stat_bucket_start(m + 31, STAT_MONTH))
        if (month_index(m) < MONTHS && snapshot_written[month_index(m)]) {
            from = m;
            snapshot = months_in(INT64_MIN, m);
        }
    return snapshot + months_in(from, bound) + sum_days(bound, at);
}

static void test_every_day_is_read_once(void **state)
{
    (void)state;
    base = day("2023-01-01");
    srand(20261203);
    for (int i = 0; i < SPAN; i++)
        deltas[i] = rand() % 7 - 3;
    for (int i = 0; i < MONTHS; i++)
        snapshot_written[i] = rand() % 3 != 0;
    for (int n = 0; n < 3000; n++) {
        int64_t first = base + rand() % (SPAN - 40);
        int64_t last = first + rand() % (n % 3 == 0 ? 40 : SPAN - (first - base));
        if (last >= base + SPAN)
            last = base + SPAN - 1;
        if (n % 5 == 0) { /* a whole month, quarter or year as period= names them */
            first = stat_bucket_start(first, STAT_MONTH);
            last = stat_bucket_start(last + 31, STAT_MONTH) - 1;
            if (last >= base + SPAN)
                continue;
        }
        struct stat_period p = {first, last};
        int64_t today = base + rand() % SPAN;
        int64_t start_stock = first - 1 < today ? first - 1 : today;
        int64_t end_stock = last < today ? last : today;
        struct stat_read_plan plan = stat_read_plan(&p, start_stock, end_stock);
        assert_true(plan.months_from <= plan.months_to);
        assert_int_equal(planned_flow(&p, &plan), sum_days(first, last));
        assert_int_equal(planned_stock(plan.start_bound, start_stock), sum_days(base, start_stock));
        assert_int_equal(planned_stock(plan.end_bound, end_stock), sum_days(base, end_stock));
        assert_int_equal(snapshot_stock(plan.start_bound, start_stock), sum_days(base, start_stock));
        assert_int_equal(snapshot_stock(plan.end_bound, end_stock), sum_days(base, end_stock));
        /* at most the days of two partly covered months come from the daily rollups */
        int64_t daily = 0;
        for (int64_t d = first; d <= last; d++)
            daily += !(d >= plan.months_from && d < plan.months_to);
        assert_true(daily <= 62);
    }
}

/* A month's snapshot is written only once every day before it has settled:
   for any watermark, the day before the snapshot month is settled and the
   day before the next month is not. */
static void test_a_snapshot_waits_for_its_month_to_settle(void **state)
{
    (void)state;
    assert_int_equal(stat_stock_snapshot_month(day("2026-12-03"), 0), STAT_NO_DAY);
    /* counted up to 2026-12-01 00:04 in Vietnam (17:04 UTC the day before): the slack
       of 5 minutes puts the settled edge on 2026-11-30, so November is not settled yet */
    int64_t at = (day("2026-11-30") * 86400) + 17 * 3600 + 4 * 60;
    assert_int_equal(stat_stock_snapshot_month(day("2026-12-03"), at), day("2026-11-01"));
    assert_int_equal(stat_stock_snapshot_month(day("2026-12-03"), at + 120), day("2026-12-01"));
    /* a watermark ahead of today (a clock skew) never settles today */
    assert_int_equal(stat_stock_snapshot_month(day("2026-11-20"), at + 86400 * 30), day("2026-11-01"));
    srand(20261204);
    for (int n = 0; n < 5000; n++) {
        int64_t today = day("2020-01-01") + rand() % 3000;
        int64_t applied = (today - 40 + rand() % 80) * 86400 + rand() % 86400;
        int64_t month = stat_stock_snapshot_month(today, applied);
        struct stat_period before = {month - 1, month - 1};
        int64_t next = stat_bucket_start(month + 31, STAT_MONTH);
        struct stat_period before_next = {next - 1, next - 1};
        assert_true(stat_period_settled(&before, today, applied));
        assert_false(stat_period_settled(&before_next, today, applied));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_months_and_the_days_around_them),
        cmocka_unit_test(test_every_day_is_read_once),
        cmocka_unit_test(test_a_snapshot_waits_for_its_month_to_settle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
