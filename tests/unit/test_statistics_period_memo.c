/* The rows of current periods kept for a moment (services/statistics/period_memo.c):
   fresh for ttl_ms and until more events are counted, read once for the requests
   that ask meanwhile. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "period_memo.h"

static json_t *rows_of(int n)
{
    return json_pack("[[sssiIII]]", "A", "", "", 0, (json_int_t)n, (json_int_t)0, (json_int_t)0);
}

static int first_value(const json_t *rows)
{
    return (int)json_integer_value(json_array_get(json_array_get(rows, 0), 4));
}

static void test_fresh_for_its_ttl_only(void **state)
{
    (void)state;
    struct period_memo *m = period_memo_new(1000, 4);
    bool claimed = false;
    assert_null(period_memo_get(m, "k", 0, &claimed));
    assert_true(claimed);
    json_t *r = rows_of(7);
    period_memo_done(m, "k", r);
    json_decref(r);
    json_t *got = period_memo_get(m, "k", 999, &claimed);
    assert_false(claimed);
    assert_int_equal(first_value(got), 7);
    json_decref(got);
    /* a second after the read started: read again */
    assert_null(period_memo_get(m, "k", 1000, &claimed));
    assert_true(claimed);
    period_memo_done(m, "k", NULL); /* a failed read is not kept */
    assert_null(period_memo_get(m, "k", 1001, &claimed));
    assert_true(claimed);
    period_memo_done(m, "k", NULL);
    period_memo_free(m);
    assert_null(period_memo_new(0, 4)); /* CURRENT_MEMO_MS=0: none */
    assert_null(period_memo_get(NULL, "k", 0, &claimed));
    assert_false(claimed);
}

static void test_counted_events_make_it_stale(void **state)
{
    (void)state;
    struct period_memo *m = period_memo_new(1000, 4);
    bool claimed = false;
    assert_null(period_memo_get(m, "k", 0, &claimed));
    json_t *r = rows_of(1);
    period_memo_done(m, "k", r);
    json_decref(r);
    period_memo_changed(m);
    assert_null(period_memo_get(m, "k", 10, &claimed));
    assert_true(claimed);
    /* a read claimed before a change is stale as soon as it is done */
    period_memo_changed(m);
    r = rows_of(2);
    period_memo_done(m, "k", r);
    json_decref(r);
    assert_null(period_memo_get(m, "k", 20, &claimed));
    assert_true(claimed);
    period_memo_done(m, "k", NULL);
    period_memo_free(m);
}

static void test_a_full_memo_drops_the_oldest(void **state)
{
    (void)state;
    struct period_memo *m = period_memo_new(1000, 2);
    bool claimed;
    const char *keys[] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++) {
        assert_null(period_memo_get(m, keys[i], i, &claimed));
        json_t *r = rows_of(i);
        period_memo_done(m, keys[i], r);
        json_decref(r);
    }
    assert_null(period_memo_get(m, "a", 5, &claimed));
    assert_true(claimed);
    period_memo_done(m, "a", NULL);
    json_t *c = period_memo_get(m, "c", 5, &claimed);
    assert_int_equal(first_value(c), 2);
    json_decref(c);
    period_memo_free(m);
}

/* ---- single flight ---- */

struct asker {
    struct period_memo *m;
    json_t *got;
    bool claimed;
};

static void *ask(void *arg)
{
    struct asker *a = arg;
    a->got = period_memo_get(a->m, "k", 100, &a->claimed);
    return NULL;
}

static void test_one_read_for_the_requests_that_ask_meanwhile(void **state)
{
    (void)state;
    struct period_memo *m = period_memo_new(1000, 4);
    bool claimed = false;
    assert_null(period_memo_get(m, "k", 0, &claimed));
    assert_true(claimed);
    struct asker askers[4];
    pthread_t threads[4];
    for (int i = 0; i < 4; i++) {
        askers[i] = (struct asker){m, NULL, false};
        assert_int_equal(pthread_create(&threads[i], NULL, ask, &askers[i]), 0);
    }
    usleep(100 * 1000); /* they wait for the read in hand */
    for (int i = 0; i < 4; i++)
        assert_null(askers[i].got);
    json_t *r = rows_of(42);
    period_memo_done(m, "k", r);
    json_decref(r);
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        assert_false(askers[i].claimed);
        assert_int_equal(first_value(askers[i].got), 42);
        json_decref(askers[i].got);
    }
    period_memo_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fresh_for_its_ttl_only),
        cmocka_unit_test(test_counted_events_make_it_stale),
        cmocka_unit_test(test_a_full_memo_drops_the_oldest),
        cmocka_unit_test(test_one_read_for_the_requests_that_ask_meanwhile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
