/* Unit tests: the event feed consumer's pure parts (motcua/feed_consumer.h):
   checking a feed page, the 410 problem, the position check's filter, the
   page URL and the back-off. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "motcua/feed_consumer.h"

#define EV(seq) "{\"id\":\"e" #seq "\",\"type\":\"t\",\"sequence\":\"" #seq "\"}"

static void page_is_read_in_order(void **state)
{
    (void)state;
    mc_feed_page page;
    assert_true(mc_feed_page_parse("{\"items\":[" EV(11) "," EV(12) "," EV(15) "],\"next_after\":15}", 10,
                                   &page));
    assert_int_equal(json_array_size(page.items), 3);
    assert_int_equal(page.next_after, 15);
    mc_feed_page_clear(&page);
    assert_null(page.items);
}

static void empty_page_stays_at_after(void **state)
{
    (void)state;
    mc_feed_page page;
    assert_true(mc_feed_page_parse("{\"items\":[],\"next_after\":42}", 42, &page));
    assert_int_equal(json_array_size(page.items), 0);
    assert_int_equal(page.next_after, 42);
    mc_feed_page_clear(&page);
    /* An empty page that claims to move the position is not trusted. */
    assert_false(mc_feed_page_parse("{\"items\":[],\"next_after\":50}", 42, &page));
    assert_null(page.items);
}

static void bad_pages_are_refused(void **state)
{
    (void)state;
    mc_feed_page page;
    const char *bad[] = {
        "",
        "not json",
        "[]",
        "{\"items\":{},\"next_after\":1}",
        "{\"items\":[],\"next_after\":\"1\"}",
        /* sequence not after `after` (10) */
        "{\"items\":[" EV(10) "],\"next_after\":10}",
        /* out of order, repeated */
        "{\"items\":[" EV(12) "," EV(11) "],\"next_after\":12}",
        "{\"items\":[" EV(12) "," EV(12) "],\"next_after\":12}",
        /* next_after not the last sequence */
        "{\"items\":[" EV(11) "],\"next_after\":12}",
        /* a sequence that is not a decimal string, an event without id */
        "{\"items\":[{\"id\":\"x\",\"sequence\":11}],\"next_after\":11}",
        "{\"items\":[{\"id\":\"x\",\"sequence\":\"+11\"}],\"next_after\":11}",
        "{\"items\":[{\"id\":\"x\",\"sequence\":\"11x\"}],\"next_after\":11}",
        "{\"items\":[{\"sequence\":\"11\"}],\"next_after\":11}",
        "{\"items\":[7],\"next_after\":11}",
        /* duplicate keys */
        "{\"items\":[],\"items\":[],\"next_after\":10}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (mc_feed_page_parse(bad[i], 10, &page)) {
            print_error("accepted: %s\n", bad[i]);
            fail();
        }
        assert_null(page.items);
    }
    assert_false(mc_feed_page_parse(NULL, 10, &page));
}

static void expired_position_gives_oldest_after(void **state)
{
    (void)state;
    assert_int_equal(mc_feed_expired_oldest_after(
                         "{\"status\":410,\"code\":\"events.position_expired\",\"oldest_after\":900}", 5),
                     900);
    /* another problem, no number, or a number that does not move forward */
    assert_int_equal(mc_feed_expired_oldest_after("{\"code\":\"auth.forbidden\",\"oldest_after\":900}", 5), -1);
    assert_int_equal(mc_feed_expired_oldest_after("{\"code\":\"events.position_expired\"}", 5), -1);
    assert_int_equal(mc_feed_expired_oldest_after("{\"code\":\"events.position_expired\",\"oldest_after\":5}", 5),
                     -1);
    assert_int_equal(mc_feed_expired_oldest_after("<html>", 5), -1);
    assert_int_equal(mc_feed_expired_oldest_after(NULL, 5), -1);
}

static void position_check_drops_what_was_applied(void **state)
{
    (void)state;
    mc_feed_page page;
    assert_true(mc_feed_page_parse("{\"items\":[" EV(11) "," EV(12) "," EV(13) "],\"next_after\":13}", 10,
                                   &page));
    json_t *fresh = mc_feed_events_after(page.items, 12);
    assert_int_equal(json_array_size(fresh), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(fresh, 0), "id")), "e13");
    json_decref(fresh);
    fresh = mc_feed_events_after(page.items, 10);
    assert_int_equal(json_array_size(fresh), 3);
    json_decref(fresh);
    fresh = mc_feed_events_after(page.items, 13);
    assert_int_equal(json_array_size(fresh), 0);
    json_decref(fresh);
    mc_feed_page_clear(&page);
}

static void page_url(void **state)
{
    (void)state;
    char url[128];
    assert_true(mc_feed_page_url(url, sizeof url, "http://gw/api/v1/events/dossier", 42, 100, NULL));
    assert_string_equal(url, "http://gw/api/v1/events/dossier?after=42&limit=100");
    assert_true(mc_feed_page_url(url, sizeof url, "http://gw/e", 0, 5, "dossier.dossier.submitted"));
    assert_string_equal(url, "http://gw/e?after=0&limit=5&type=dossier.dossier.submitted");
    /* a type that would need escaping, an empty type, no room */
    assert_false(mc_feed_page_url(url, sizeof url, "http://gw/e", 0, 5, "a&b=c"));
    assert_false(mc_feed_page_url(url, sizeof url, "http://gw/e", 0, 5, ""));
    assert_false(mc_feed_page_url(url, 20, "http://gw/api/v1/events/dossier", 0, 5, NULL));
}

static void backoff_doubles_up_to_the_cap_with_jitter(void **state)
{
    (void)state;
    /* random 0 gives the lowest factor (0.5), UINT32_MAX nearly 1.0 */
    assert_int_equal(mc_feed_backoff_ms(1, 200, 30000, 0), 100);
    assert_int_equal(mc_feed_backoff_ms(2, 200, 30000, 0), 200);
    assert_int_equal(mc_feed_backoff_ms(4, 200, 30000, 0), 800);
    assert_in_range(mc_feed_backoff_ms(1, 200, 30000, UINT32_MAX), 199, 200);
    assert_in_range(mc_feed_backoff_ms(3, 200, 30000, 1u << 31), 599, 600);
    /* capped, and no overflow after very many failures */
    assert_int_equal(mc_feed_backoff_ms(20, 200, 30000, 0), 15000);
    assert_in_range(mc_feed_backoff_ms(4000000000u, 200, 30000, UINT32_MAX), 29999, 30000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(page_is_read_in_order),
        cmocka_unit_test(empty_page_stays_at_after),
        cmocka_unit_test(bad_pages_are_refused),
        cmocka_unit_test(expired_position_gives_oldest_after),
        cmocka_unit_test(position_check_drops_what_was_applied),
        cmocka_unit_test(page_url),
        cmocka_unit_test(backoff_doubles_up_to_the_cap_with_jitter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
