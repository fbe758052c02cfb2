/* Unit tests: route matching, specificity, 404 vs 405 with Allow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../common/src/internal.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params_extracted),
        cmocka_unit_test(test_literal_beats_variable),
        cmocka_unit_test(test_method_not_allowed_lists_allow),
        cmocka_unit_test(test_unknown_paths),
        cmocka_unit_test(test_path_params_are_percent_decoded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
