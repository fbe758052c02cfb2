/* Unit tests: CIDR lists (HTTP_TRUSTED_PROXIES) and the per-address
   connection admission that keeps capacity for the trusted proxies. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../common/src/internal.h"
#include "test_sockaddr.h"

static bool contains(const struct mc_cidr_list *l, const char *text)
{
    struct sockaddr_storage ss = addr_of(text);
    return mc_cidr_list_contains(l, (const struct sockaddr *)&ss);
}

static void parses_lists_and_matches_prefixes(void **state)
{
    (void)state;
    struct mc_cidr_list l;
    char bad[80];
    assert_true(mc_cidr_list_parse("127.0.0.1/32, 10.20.0.0/16 192.168.1.128/25,fd00::/8 ::1", &l, bad,
                                   sizeof bad));
    assert_int_equal(l.n, 5);
    assert_true(contains(&l, "127.0.0.1"));
    assert_false(contains(&l, "127.0.0.2"));
    assert_true(contains(&l, "10.20.255.1"));
    assert_false(contains(&l, "10.21.0.1"));
    assert_true(contains(&l, "192.168.1.200"));
    assert_false(contains(&l, "192.168.1.127"));
    assert_true(contains(&l, "fd12::1"));
    assert_true(contains(&l, "::1"));
    assert_false(contains(&l, "fe80::1"));
    /* an IPv4 client seen through an IPv6 socket is the same address */
    assert_true(contains(&l, "::ffff:127.0.0.1"));
}

static void a_bare_address_is_one_host_and_zero_is_everyone(void **state)
{
    (void)state;
    struct mc_cidr_list l;
    char bad[80];
    assert_true(mc_cidr_list_parse("203.0.113.7", &l, bad, sizeof bad));
    assert_true(contains(&l, "203.0.113.7"));
    assert_false(contains(&l, "203.0.113.8"));
    assert_true(mc_cidr_list_parse("0.0.0.0/0", &l, bad, sizeof bad));
    assert_true(contains(&l, "198.51.100.1"));
    assert_false(contains(&l, "2001:db8::1"));
    assert_true(mc_cidr_list_parse("", &l, bad, sizeof bad));
    assert_int_equal(l.n, 0);
    assert_false(contains(&l, "127.0.0.1"));
}

static void refuses_bad_items_naming_them(void **state)
{
    (void)state;
    struct mc_cidr_list l;
    char bad[80];
    const char *wrong[] = {"127.0.0.1/33", "10.0.0.0/", "10.0.0.0/8x", "gateway", "::1/129",
                           "127.0.0.1/-1", "1.2.3.4.5"};
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        assert_false(mc_cidr_list_parse(wrong[i], &l, bad, sizeof bad));
        assert_string_equal(bad, wrong[i]);
    }
    assert_false(mc_cidr_list_parse("127.0.0.1, nonsense", &l, bad, sizeof bad));
    assert_string_equal(bad, "nonsense");
}

static void addresses_as_text(void **state)
{
    (void)state;
    char out[64];
    struct sockaddr_storage a = addr_of("127.0.0.2"), b = addr_of("2001:db8::5");
    assert_true(mc_sockaddr_text((const struct sockaddr *)&a, out, sizeof out));
    assert_string_equal(out, "127.0.0.2");
    assert_true(mc_sockaddr_text((const struct sockaddr *)&b, out, sizeof out));
    assert_string_equal(out, "2001:db8::5");
    assert_false(mc_sockaddr_text(NULL, out, sizeof out));
}

static enum mc_admission admit(struct mc_conn_admission *a, const char *text)
{
    struct sockaddr_storage ss = addr_of(text);
    return mc_conn_admit(a, (const struct sockaddr *)&ss);
}

static void release(struct mc_conn_admission *a, const char *text)
{
    struct sockaddr_storage ss = addr_of(text);
    mc_conn_release(a, (const struct sockaddr *)&ss);
}

static void limits_each_address_but_not_the_proxies(void **state)
{
    (void)state;
    struct mc_cidr_list trusted;
    char bad[80];
    assert_true(mc_cidr_list_parse("127.0.0.1", &trusted, bad, sizeof bad));
    struct mc_conn_admission *a = mc_conn_admission_new(&trusted, 3, 100);
    assert_non_null(a);
    for (int i = 0; i < 3; i++)
        assert_int_equal(admit(a, "127.0.0.2"), MC_ADMIT_COUNTED);
    assert_int_equal(admit(a, "127.0.0.2"), MC_ADMIT_REFUSED);
    /* another address has its own allowance; the proxy has no limit */
    assert_int_equal(admit(a, "127.0.0.3"), MC_ADMIT_COUNTED);
    for (int i = 0; i < 500; i++)
        assert_int_equal(admit(a, "127.0.0.1"), MC_ADMIT_TRUSTED);
    /* a closed connection gives its place back */
    release(a, "127.0.0.2");
    assert_int_equal(admit(a, "127.0.0.2"), MC_ADMIT_COUNTED);
    assert_int_equal(admit(a, "127.0.0.2"), MC_ADMIT_REFUSED);
    mc_conn_admission_free(a);
}

static void untrusted_addresses_together_leave_the_reserve(void **state)
{
    (void)state;
    struct mc_cidr_list trusted;
    char bad[80];
    assert_true(mc_cidr_list_parse("10.0.0.1", &trusted, bad, sizeof bad));
    struct mc_conn_admission *a = mc_conn_admission_new(&trusted, 2, 5);
    const char *many[] = {"192.0.2.1", "192.0.2.2", "192.0.2.3"};
    int admitted = 0;
    for (int round = 0; round < 2; round++)
        for (size_t i = 0; i < 3; i++)
            admitted += admit(a, many[i]) == MC_ADMIT_COUNTED;
    assert_int_equal(admitted, 5);
    assert_int_equal(admit(a, "192.0.2.4"), MC_ADMIT_REFUSED);
    assert_int_equal(admit(a, "10.0.0.1"), MC_ADMIT_TRUSTED);
    release(a, "192.0.2.1");
    assert_int_equal(admit(a, "192.0.2.4"), MC_ADMIT_COUNTED);
    mc_conn_admission_free(a);
}

static void many_addresses_come_and_go(void **state)
{
    (void)state;
    struct mc_cidr_list none = {0};
    struct mc_conn_admission *a = mc_conn_admission_new(&none, 1, 100000);
    char text[32];
    /* more distinct addresses over time than the table has slots */
    for (int i = 0; i < 20000; i++) {
        snprintf(text, sizeof text, "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        assert_int_equal(admit(a, text), MC_ADMIT_COUNTED);
        assert_int_equal(admit(a, text), MC_ADMIT_REFUSED);
        release(a, text);
    }
    assert_int_equal(admit(a, "10.0.0.1"), MC_ADMIT_COUNTED);
    mc_conn_admission_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_lists_and_matches_prefixes),
        cmocka_unit_test(a_bare_address_is_one_host_and_zero_is_everyone),
        cmocka_unit_test(refuses_bad_items_naming_them),
        cmocka_unit_test(addresses_as_text),
        cmocka_unit_test(limits_each_address_but_not_the_proxies),
        cmocka_unit_test(untrusted_addresses_together_leave_the_reserve),
        cmocka_unit_test(many_addresses_come_and_go),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
