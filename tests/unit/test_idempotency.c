/* Unit tests: the Idempotency-Key request hash (method, path and body each
   change it; no allocation of the body) and which answers pin a key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../common/src/internal.h"

static void hash_of(const char *method, const char *path, const char *body, char out[65])
{
    assert_true(mc_idem_request_hash(method, path, body, body != NULL ? strlen(body) : 0, out));
    assert_int_equal(strlen(out), 64);
}

static void hash_is_sha256_of_method_path_body(void **state)
{
    (void)state;
    char got[65], want[65];
    hash_of("POST", "/api/v1/dossiers", "{\"a\":1}", got);
    const char joined[] = "POST\n/api/v1/dossiers\n{\"a\":1}";
    mc_sha256_hex(joined, strlen(joined), want);
    assert_string_equal(got, want);
    /* never the all-zero placeholder of a failed hash */
    assert_string_not_equal(got, "0000000000000000000000000000000000000000000000000000000000000000");
}

static void each_part_changes_the_hash(void **state)
{
    (void)state;
    char base[65], other[65];
    hash_of("POST", "/api/v1/dossiers", "{\"a\":1}", base);
    hash_of("PUT", "/api/v1/dossiers", "{\"a\":1}", other);
    assert_string_not_equal(base, other);
    hash_of("POST", "/api/v1/dossier", "{\"a\":1}", other);
    assert_string_not_equal(base, other);
    hash_of("POST", "/api/v1/dossiers", "{\"a\":2}", other);
    assert_string_not_equal(base, other);
    hash_of("POST", "/api/v1/dossiers", NULL, other);
    assert_string_not_equal(base, other);
    hash_of("POST", "/api/v1/dossiers", "{\"a\":1}", other);
    assert_string_equal(base, other);
}

static void large_body_hashes(void **state)
{
    (void)state;
    size_t n = 8u * 1024 * 1024;
    char *body = malloc(n);
    assert_non_null(body);
    memset(body, 'x', n);
    char a[65], b[65];
    assert_true(mc_idem_request_hash("POST", "/p", body, n, a));
    body[n - 1] = 'y';
    assert_true(mc_idem_request_hash("POST", "/p", body, n, b));
    assert_string_not_equal(a, b);
    free(body);
}

static void successes_and_final_outcomes_pin_the_key(void **state)
{
    (void)state;
    assert_true(mc_idem_status_pins_key(200));
    assert_true(mc_idem_status_pins_key(201));
    assert_true(mc_idem_status_pins_key(204));
    assert_true(mc_idem_status_pins_key(410));
}

static void fixable_answers_and_failures_release_the_key(void **state)
{
    (void)state;
    const unsigned released[] = {400, 401, 403, 404, 409, 412, 415, 422, 428, 429, 500, 502, 503, 504};
    for (size_t i = 0; i < sizeof released / sizeof released[0]; i++)
        if (mc_idem_status_pins_key(released[i]))
            fail_msg("status %u must not pin the key", released[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hash_is_sha256_of_method_path_body),
        cmocka_unit_test(each_part_changes_the_hash),
        cmocka_unit_test(large_body_hashes),
        cmocka_unit_test(successes_and_final_outcomes_pin_the_key),
        cmocka_unit_test(fixable_answers_and_failures_release_the_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
