/* Unit tests: the callback URL guard against server-side request forgery
   (common/src/callback_url.c). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "motcua/callback_url.h"
#include "test_sockaddr.h"

static const struct mc_callback_policy strict = {false, NULL, NULL};

static bool internal(const char *text)
{
    struct sockaddr_storage ss = addr_of(text);
    return mc_address_is_internal((const struct sockaddr *)&ss);
}

static void refuses_internal_ranges(void **state)
{
    (void)state;
    const char *refused[] = {"127.0.0.1", "127.255.0.9", "10.1.2.3", "172.16.0.1", "172.31.255.255",
                             "192.168.1.1", "169.254.169.254", "100.100.100.200", "0.0.0.0",
                             "224.0.0.1", "255.255.255.255", "168.63.129.16", "::1", "::",
                             "::ffff:127.0.0.1", "::ffff:10.0.0.1", "fe80::1", "fd00:ec2::254",
                             "fc00::5", "ff02::1", "64:ff9b::a00:1", "2002:7f00:1::1", "::127.0.0.1"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        if (!internal(refused[i]))
            fail_msg("%s should be internal", refused[i]);
    const char *public_addresses[] = {"8.8.8.8", "1.1.1.1", "172.32.0.1", "11.0.0.1", "100.128.0.1",
                                      "2001:4860:4860::8888", "::ffff:8.8.8.8"};
    for (size_t i = 0; i < sizeof public_addresses / sizeof public_addresses[0]; i++)
        if (internal(public_addresses[i]))
            fail_msg("%s should be public", public_addresses[i]);
    assert_true(mc_address_is_internal(NULL));
}

static void checks_syntax_scheme_credentials_and_allow_list(void **state)
{
    (void)state;
    struct mc_callback_target t;
    assert_int_equal(mc_callback_url_check("https://Hooks.Example.gov.vn/in?x=1", &strict, &t), MC_CALLBACK_OK);
    assert_string_equal(t.host, "hooks.example.gov.vn");
    assert_int_equal(t.port, 443);
    assert_int_equal(mc_callback_url_check("https://[2001:db8::1]:8443/x", &strict, &t), MC_CALLBACK_OK);
    assert_string_equal(t.host, "2001:db8::1");
    assert_int_equal(t.port, 8443);
    assert_int_equal(mc_callback_url_check("http://example.gov.vn/", &strict, &t), MC_CALLBACK_SCHEME_REFUSED);
    assert_int_equal(mc_callback_url_check("ftp://example.gov.vn/", &strict, &t), MC_CALLBACK_SCHEME_REFUSED);
    assert_int_equal(mc_callback_url_check("gopher://example.gov.vn/", &strict, &t),
                     MC_CALLBACK_SCHEME_REFUSED);
    assert_int_equal(mc_callback_url_check("file:///etc/passwd", &strict, &t), MC_CALLBACK_SCHEME_REFUSED);
    assert_int_equal(mc_callback_url_check("https://u:p@example.gov.vn/", &strict, &t),
                     MC_CALLBACK_CREDENTIALS_REFUSED);
    assert_int_equal(mc_callback_url_check("https://example.gov.vn/#frag", &strict, &t), MC_CALLBACK_MALFORMED);
    assert_int_equal(mc_callback_url_check("example.gov.vn/in", &strict, &t), MC_CALLBACK_MALFORMED);
    assert_int_equal(mc_callback_url_check("https://exa mple.gov.vn/", &strict, &t), MC_CALLBACK_MALFORMED);
    assert_int_equal(mc_callback_url_check("https://example.gov.vn:99999/", &strict, &t), MC_CALLBACK_MALFORMED);
    assert_int_equal(mc_callback_url_check("", &strict, &t), MC_CALLBACK_MALFORMED);
    assert_int_equal(mc_callback_url_check(NULL, &strict, &t), MC_CALLBACK_MALFORMED);

    struct mc_callback_policy listed = {true, NULL, "hooks.example.gov.vn, *.tinh.gov.vn"};
    assert_int_equal(mc_callback_url_check("http://hooks.example.gov.vn/", &listed, &t), MC_CALLBACK_OK);
    assert_int_equal(t.port, 80);
    assert_int_equal(mc_callback_url_check("https://a.tinh.gov.vn/", &listed, &t), MC_CALLBACK_OK);
    assert_int_equal(mc_callback_url_check("https://tinh.gov.vn/", &listed, &t), MC_CALLBACK_HOST_NOT_ALLOWED);
    assert_int_equal(mc_callback_url_check("https://eviltinh.gov.vn/", &listed, &t),
                     MC_CALLBACK_HOST_NOT_ALLOWED);
    assert_int_equal(mc_callback_url_check("https://hooks.example.gov.vn.evil.com/", &listed, &t),
                     MC_CALLBACK_HOST_NOT_ALLOWED);
    assert_int_equal(mc_callback_url_check("https://hooks.example.gov.vn./", &listed, &t), MC_CALLBACK_OK);
    assert_string_not_equal(mc_callback_verdict_code(MC_CALLBACK_ADDRESS_REFUSED), "");
}

static void resolution_refuses_internal_addresses_unless_allowed(void **state)
{
    (void)state;
    struct mc_callback_target t;
    char pin[300];
    /* Literal addresses and their numeric disguises resolve without DNS. */
    const char *urls[] = {"https://127.0.0.1/", "https://2130706433/", "https://0x7f.1/",
                          "https://[::1]/", "https://169.254.169.254/latest/meta-data/",
                          "https://[::ffff:127.0.0.1]/"};
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        assert_int_equal(mc_callback_url_check(urls[i], &strict, &t), MC_CALLBACK_OK);
        if (mc_callback_resolve(&t, &strict, pin, sizeof pin) != MC_CALLBACK_ADDRESS_REFUSED)
            fail_msg("%s was not refused", urls[i]);
        assert_string_equal(pin, "");
    }
    struct mc_callback_policy local = {true, "127.0.0.1/32 ::1", NULL};
    assert_int_equal(mc_callback_url_check("http://127.0.0.1:9999/hook", &local, &t), MC_CALLBACK_OK);
    assert_int_equal(mc_callback_resolve(&t, &local, pin, sizeof pin), MC_CALLBACK_OK);
    assert_string_equal(pin, ""); /* a literal: nothing to pin */
    assert_int_equal(mc_callback_url_check("http://localhost:9999/hook", &local, &t), MC_CALLBACK_OK);
    assert_int_equal(mc_callback_resolve(&t, &local, pin, sizeof pin), MC_CALLBACK_OK);
    assert_true(strncmp(pin, "localhost:9999:", 15) == 0);
    assert_int_equal(mc_callback_url_check("http://localhost:9999/hook", &strict, &t),
                     MC_CALLBACK_SCHEME_REFUSED);
    assert_int_equal(mc_callback_url_check("https://localhost:9999/hook", &strict, &t), MC_CALLBACK_OK);
    assert_int_equal(mc_callback_resolve(&t, &strict, pin, sizeof pin), MC_CALLBACK_ADDRESS_REFUSED);
    /* Only the internal addresses the operator named. */
    assert_int_equal(mc_callback_url_check("http://127.0.0.2/hook", &local, &t), MC_CALLBACK_OK);
    assert_int_equal(mc_callback_resolve(&t, &local, pin, sizeof pin), MC_CALLBACK_ADDRESS_REFUSED);
    assert_int_equal(mc_callback_url_check("http://169.254.169.254/", &local, &t), MC_CALLBACK_OK);
    assert_int_equal(mc_callback_resolve(&t, &local, pin, sizeof pin), MC_CALLBACK_ADDRESS_REFUSED);
    struct mc_callback_policy broken = {true, "not-a-cidr", NULL};
    assert_int_equal(mc_callback_url_check("http://127.0.0.1/", &broken, &t), MC_CALLBACK_OK);
    assert_int_equal(mc_callback_resolve(&t, &broken, pin, sizeof pin), MC_CALLBACK_ADDRESS_REFUSED);
    assert_int_equal(mc_callback_url_check("https://no-such-host.invalid/", &strict, &t), MC_CALLBACK_OK);
    assert_int_equal(mc_callback_resolve(&t, &strict, pin, sizeof pin), MC_CALLBACK_UNRESOLVABLE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(refuses_internal_ranges),
        cmocka_unit_test(checks_syntax_scheme_credentials_and_allow_list),
        cmocka_unit_test(resolution_refuses_internal_addresses_unless_allowed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
