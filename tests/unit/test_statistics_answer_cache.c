/* The statistics service's answer cache (answer_cache.c) and when a period has
   settled so that its answer may be kept (stat_period_settled, report_rules.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "answer_cache.h"
#include "fact_rules.h"
#include "motcua/calendar.h"
#include "report_rules.h"

static int64_t day(const char *ymd)
{
    mc_date d;
    assert_true(mc_date_parse(ymd, &d));
    return mc_date_to_days(d);
}

/* Epoch seconds of a Vietnam civil time (UTC+7) on day ymd. */
static int64_t vn_time(const char *ymd, int hour, int minute, int second)
{
    return day(ymd) * 86400 + hour * 3600 + minute * 60 + second - 7 * 3600;
}

static void test_settled_periods(void **state)
{
    (void)state;
    struct stat_period november = {day("2026-11-01"), day("2026-11-30")};
    int64_t today = day("2026-12-03");
    /* Nothing counted yet: nothing has settled. */
    assert_false(stat_period_settled(&november, today, 0));
    /* Counted up to 00:04:59 on 1 December (Vietnam time): an event of
       30 November may still commit after it (the slack is five minutes). */
    assert_false(stat_period_settled(&november, today, vn_time("2026-12-01", 0, 4, 59)));
    assert_true(stat_period_settled(&november, today, vn_time("2026-12-01", 0, 5, 0)));
    assert_true(stat_period_settled(&november, today, vn_time("2026-12-03", 9, 0, 0)));
    /* A consumer far behind: a month ended long ago but not yet counted past. */
    assert_false(stat_period_settled(&november, today, vn_time("2026-11-30", 23, 0, 0)));
    /* The current month never settles, whatever the event times say. */
    struct stat_period december = {day("2026-12-01"), day("2026-12-31")};
    assert_false(stat_period_settled(&december, today, vn_time("2027-02-01", 0, 0, 0)));
    /* A period ending yesterday settles once today's events are counted. */
    struct stat_period yesterday = {day("2026-12-02"), day("2026-12-02")};
    assert_true(stat_period_settled(&yesterday, today, vn_time("2026-12-03", 0, 10, 0)));
    assert_false(stat_period_settled(&yesterday, day("2026-12-02"), vn_time("2026-12-03", 0, 10, 0)));
    /* The UTC+7 offset: 17:10 UTC on 30 November is 00:10 on 1 December. */
    assert_int_equal(stat_day_of(vn_time("2026-12-01", 0, 10, 0)), day("2026-12-01"));
}

static void test_get_and_put(void **state)
{
    (void)state;
    assert_null(answer_cache_new(0)); /* capacity 0: no cache */
    assert_null(answer_cache_get(NULL, "k"));
    answer_cache_put(NULL, "k", json_true()); /* a NULL cache keeps nothing */
    struct answer_cache *c = answer_cache_new(4);
    assert_non_null(c);
    assert_null(answer_cache_get(c, "a"));
    json_t *a = json_pack("[i]", 1);
    answer_cache_put(c, "a", a);
    json_decref(a); /* the cache holds its own reference */
    json_t *got = answer_cache_get(c, "a");
    assert_non_null(got);
    assert_int_equal(json_integer_value(json_array_get(got, 0)), 1);
    json_decref(got);
    /* The same key again replaces its answer. */
    json_t *a2 = json_pack("[i]", 2);
    answer_cache_put(c, "a", a2);
    json_decref(a2);
    assert_int_equal(answer_cache_size(c), 1);
    got = answer_cache_get(c, "a");
    assert_int_equal(json_integer_value(json_array_get(got, 0)), 2);
    json_decref(got);
    assert_null(answer_cache_get(c, "b"));
    answer_cache_free(c);
}

static void test_bounded_oldest_out(void **state)
{
    (void)state;
    struct answer_cache *c = answer_cache_new(3);
    const char *keys[] = {"k0", "k1", "k2", "k3", "k4"};
    for (int i = 0; i < 5; i++) {
        json_t *v = json_integer(i);
        answer_cache_put(c, keys[i], v);
        json_decref(v);
        assert_true(answer_cache_size(c) <= 3);
    }
    assert_int_equal(answer_cache_size(c), 3);
    assert_null(answer_cache_get(c, "k0"));
    assert_null(answer_cache_get(c, "k1"));
    for (int i = 2; i < 5; i++) {
        json_t *v = answer_cache_get(c, keys[i]);
        assert_non_null(v);
        assert_int_equal(json_integer_value(v), i);
        json_decref(v);
    }
    answer_cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_settled_periods),
        cmocka_unit_test(test_get_and_put),
        cmocka_unit_test(test_bounded_oldest_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
