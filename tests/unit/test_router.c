/* Unit tests: route matching, specificity, 404 vs 405 with Allow, and the shared
   percent-decoder (motcua/url.h) the router decodes path parameters with. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../common/src/internal.h"
#include "motcua/url.h"

static void h(mc_request *req)
{
    (void)req;
}

static const struct mc_route routes[] = {
    {"GET", "/api/v1/procedures", h, MC_AUTH_NONE, 0, 0},
    {"POST", "/api/v1/procedures", h, MC_AUTH_REQUIRED, 0, 0},
    {"GET", "/api/v1/procedures/{code}", h, MC_AUTH_NONE, 0, 0},
    {"GET", "/api/v1/procedures/{code}/versions/{version}", h, MC_AUTH_NONE, 0, 0},
    {"GET", "/api/v1/calendar/{year}", h, MC_AUTH_NONE, 0, 0},
    {"GET", "/api/v1/calendar/due-date", h, MC_AUTH_NONE, 0, 0},
    {"PUT", "/api/v1/calendar/days/{date}", h, MC_AUTH_REQUIRED, 0, 0},
    {"DELETE", "/api/v1/calendar/days/{date}", h, MC_AUTH_REQUIRED, 0, 0},
};
#define N (sizeof routes / sizeof routes[0])

static int match(const char *method, const char *path, mc_request *req, char *allow, bool *known)
{
    memset(req, 0, sizeof *req);
    return mc_router_match(routes, N, method, path, req, allow, 128, known);
}

static void test_params_extracted(void **state)
{
    (void)state;
    mc_request req;
    char allow[128];
    bool known;
    assert_int_equal(match("GET", "/api/v1/procedures/1.001193/versions/2", &req, allow, &known), 3);
    assert_string_equal(mc_path_param(&req, "code"), "1.001193");
    assert_string_equal(mc_path_param(&req, "version"), "2");
    assert_null(mc_path_param(&req, "nope"));
    mc_router_free_params(&req);
}

static void test_literal_beats_variable(void **state)
{
    (void)state;
    mc_request req;
    char allow[128];
    bool known;
    assert_int_equal(match("GET", "/api/v1/calendar/due-date", &req, allow, &known), 5);
    mc_router_free_params(&req);
    assert_int_equal(match("GET", "/api/v1/calendar/2025", &req, allow, &known), 4);
    assert_string_equal(mc_path_param(&req, "year"), "2025");
    mc_router_free_params(&req);
}

static void test_method_not_allowed_lists_allow(void **state)
{
    (void)state;
    mc_request req;
    char allow[128];
    bool known;
    assert_int_equal(match("PATCH", "/api/v1/procedures", &req, allow, &known), -1);
    assert_true(known);
    assert_string_equal(allow, "GET, POST");
    assert_int_equal(match("GET", "/api/v1/calendar/days/2025-01-01", &req, allow, &known), -1);
    assert_true(known);
    assert_string_equal(allow, "PUT, DELETE");
}

static void test_unknown_paths(void **state)
{
    (void)state;
    mc_request req;
    char allow[128];
    bool known;
    const char *paths[] = {"/", "", "/api", "/api/v1/procedures/", "/api/v1/procedures//versions/1",
                           "/api/v1/nothing", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s", "nope"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        assert_int_equal(match("GET", paths[i], &req, allow, &known), -1);
        assert_false(known);
    }
}

static void test_path_params_are_percent_decoded(void **state)
{
    (void)state;
    mc_request req;
    char allow[128];
    bool known;
    assert_int_equal(match("GET", "/api/v1/procedures/1%2E001193", &req, allow, &known), 2);
    assert_string_equal(mc_path_param(&req, "code"), "1.001193");
    mc_router_free_params(&req);
    assert_int_equal(match("GET", "/api/v1/procedures/%C4%91%20x", &req, allow, &known), 2);
    assert_string_equal(mc_path_param(&req, "code"), "\xc4\x91 x");
    mc_router_free_params(&req);
    /* malformed escapes and an encoded NUL name no resource */
    const char *bad[] = {"/api/v1/procedures/%zz", "/api/v1/procedures/%4", "/api/v1/procedures/%",
                         "/api/v1/procedures/a%00b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(match("GET", bad[i], &req, allow, &known), -1);
        assert_int_equal(req.n_path_params, 0);
    }
}

/* mc_url_decode into a fresh buffer; the result, the text in out. */
static enum mc_url_result decode(const char *in, unsigned flags, char *out, size_t *len)
{
    return mc_url_decode(in, strlen(in), out, flags, len);
}

static void test_url_decode(void **state)
{
    (void)state;
    char out[64];
    size_t len = 99;
    assert_int_equal(decode("a%2Fb%2fc+d", 0, out, &len), MC_URL_OK);
    assert_string_equal(out, "a/b/c+d"); /* '+' is literal in a path */
    assert_int_equal(len, 7);
    assert_int_equal(decode("a%2Fb+d", MC_URL_PLUS_IS_SPACE, out, &len), MC_URL_OK);
    assert_string_equal(out, "a/b d");
    assert_int_equal(decode("", MC_URL_REQUIRE_UTF8, out, &len), MC_URL_OK);
    assert_string_equal(out, "");
    assert_int_equal(len, 0);
    assert_int_equal(decode("%C4%91%E1%BB%87", MC_URL_REQUIRE_UTF8, out, NULL), MC_URL_OK);
    assert_string_equal(out, "\xc4\x91\xe1\xbb\x87");
    /* in place: decoding only shrinks */
    char buf[] = "x%41y%2b";
    assert_int_equal(mc_url_decode(buf, strlen(buf), buf, 0, &len), MC_URL_OK);
    assert_string_equal(buf, "xAy+");
    assert_int_equal(len, 4);
    /* only the first n bytes are read */
    assert_int_equal(mc_url_decode("ab%41", 2, out, 0, &len), MC_URL_OK);
    assert_string_equal(out, "ab");
    assert_int_equal(mc_url_decode("ab%41", 4, out, 0, &len), MC_URL_BAD_ESCAPE);

    /* malformed escapes, whatever the flags */
    const char *bad_escapes[] = {"%", "%4", "a%", "%zz", "%4g", "%g4", "%%41", "% 41"};
    for (size_t i = 0; i < sizeof bad_escapes / sizeof bad_escapes[0]; i++) {
        assert_int_equal(decode(bad_escapes[i], 0, out, &len), MC_URL_BAD_ESCAPE);
        assert_int_equal(len, 0);
        assert_int_equal(decode(bad_escapes[i], MC_URL_PLUS_IS_SPACE | MC_URL_REJECT_CONTROL,
                                out, &len),
                         MC_URL_BAD_ESCAPE);
    }
    /* %00 is always refused; other control characters only when asked */
    assert_int_equal(decode("a%00b", 0, out, &len), MC_URL_NUL);
    assert_int_equal(decode("a%00b", MC_URL_REJECT_CONTROL, out, &len), MC_URL_NUL);
    assert_int_equal(mc_url_decode("a\0b", 3, out, 0, &len), MC_URL_NUL);
    assert_int_equal(decode("a%0Ab", 0, out, &len), MC_URL_OK);
    assert_string_equal(out, "a\nb");
    const char *controls[] = {"a%0Ab", "a%1f", "%7F", "a\tb", "\x7f", "\x01"};
    for (size_t i = 0; i < sizeof controls / sizeof controls[0]; i++)
        assert_int_equal(decode(controls[i], MC_URL_REJECT_CONTROL, out, &len), MC_URL_CONTROL);
    assert_int_equal(decode("%20%7E", MC_URL_REJECT_CONTROL, out, &len), MC_URL_OK);
    assert_string_equal(out, " ~");

    /* UTF-8 is judged after the escapes, and only when asked */
    assert_int_equal(decode("%FF", 0, out, &len), MC_URL_OK);
    assert_int_equal(decode("%FF", MC_URL_REQUIRE_UTF8, out, &len), MC_URL_BAD_UTF8);
    assert_int_equal(len, 0);
    assert_int_equal(decode("%FF%zz", MC_URL_REQUIRE_UTF8, out, &len), MC_URL_BAD_ESCAPE);
    assert_int_equal(decode("%FF%0A", MC_URL_REQUIRE_UTF8 | MC_URL_REJECT_CONTROL, out, &len),
                     MC_URL_CONTROL);
    assert_int_equal(decode("%C4", MC_URL_REQUIRE_UTF8, out, &len), MC_URL_BAD_UTF8);
}

static void test_utf8_valid(void **state)
{
    (void)state;
    const char *good[] = {"", "plain", "\xc4\x91", "\xe1\xbb\x87", "\xf0\x9f\x98\x80",
                          "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf", "\xed\x9f\xbf"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_true(mc_utf8_valid(good[i], strlen(good[i])));
    const char *bad[] = {
        "\x80",             /* continuation first */
        "\xc4",             /* truncated */
        "\xe1\xbb",        /* truncated */
        "\xc0\xaf",        /* overlong '/' */
        "\xc1\xbf",        /* overlong */
        "\xe0\x80\xaf",   /* overlong */
        "\xf0\x80\x80\xaf", /* overlong */
        "\xed\xa0\x80",   /* surrogate U+D800 */
        "\xed\xbf\xbf",   /* surrogate U+DFFF */
        "\xf4\x90\x80\x80", /* U+110000 */
        "\xf5\x80\x80\x80",
        "\xf8\x88\x80\x80\x80",
        "\xff",
        "a\xc4z",           /* a non-continuation byte inside */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(mc_utf8_valid(bad[i], strlen(bad[i])));
    /* the length bounds the check: a sequence cut by n is invalid */
    assert_false(mc_utf8_valid("\xc4\x91", 1));
    assert_true(mc_utf8_valid("a\xc4\x91", 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params_extracted),
        cmocka_unit_test(test_literal_beats_variable),
        cmocka_unit_test(test_method_not_allowed_lists_allow),
        cmocka_unit_test(test_unknown_paths),
        cmocka_unit_test(test_path_params_are_percent_decoded),
        cmocka_unit_test(test_url_decode),
        cmocka_unit_test(test_utf8_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
