/*
 * Unit tests of the public lookup's second factors (common/src/lookup_factor.c):
 * canonical values, the keyed hash against an independently known HMAC, the
 * constant-time comparison and the masked name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "motcua/lookup_factor.h"

static const unsigned char KEY[] = "0123456789abcdef0123456789abcdef";

static void test_canonical_values(void **state)
{
    (void)state;
    char out[16];
    assert_true(mc_lookup_factor_canonical(MC_LOOKUP_ID_NUMBER, "001090012345", out, sizeof out));
    assert_string_equal(out, "001090012345");
    assert_false(mc_lookup_factor_canonical(MC_LOOKUP_ID_NUMBER, "00109001234", out, sizeof out));
    assert_false(mc_lookup_factor_canonical(MC_LOOKUP_ID_NUMBER, "0010900123456", out, sizeof out));
    assert_false(mc_lookup_factor_canonical(MC_LOOKUP_ID_NUMBER, "001 090 012 345", out, sizeof out));
    assert_false(mc_lookup_factor_canonical(MC_LOOKUP_ID_NUMBER, "", out, sizeof out));
    assert_false(mc_lookup_factor_canonical(MC_LOOKUP_ID_NUMBER, NULL, out, sizeof out));
    /* a phone: its last 4 digits, separators ignored */
    assert_true(mc_lookup_factor_canonical(MC_LOOKUP_PHONE_LAST4, "+84 912.345-678", out, sizeof out));
    assert_string_equal(out, "5678");
    assert_true(mc_lookup_factor_canonical(MC_LOOKUP_PHONE_LAST4, "5678", out, sizeof out));
    assert_string_equal(out, "5678");
    assert_false(mc_lookup_factor_canonical(MC_LOOKUP_PHONE_LAST4, "678", out, sizeof out));
    assert_false(mc_lookup_factor_canonical(MC_LOOKUP_PHONE_LAST4, "56a8", out, sizeof out));
    assert_false(mc_lookup_factor_canonical(MC_LOOKUP_PHONE_LAST4, "5678", out, 4)); /* too small */
}

static void test_hash_is_the_keyed_hmac(void **state)
{
    (void)state;
    char h[MC_LOOKUP_HASH_LEN + 1], again[MC_LOOKUP_HASH_LEN + 1];
    /* printf 'id:001090012345' | openssl dgst -sha256 -hmac 0123456789abcdef0123456789abcdef */
    assert_true(mc_lookup_factor_hash(KEY, 32, MC_LOOKUP_ID_NUMBER, "001090012345", h));
    assert_string_equal(h, "97f8c42cae2c73744ad3e7762b044e58039115c2fecd809a5f379b4ca8eb1253");
    /* printf 'phone4:5678' | openssl dgst -sha256 -hmac 0123456789abcdef0123456789abcdef */
    assert_true(mc_lookup_factor_hash(KEY, 32, MC_LOOKUP_PHONE_LAST4, "0912 345 678", h));
    assert_string_equal(h, "90a6dff2b8ee98cd6f0540e81f3e93fb6d9b807f2df38ef33b5ea761b055f7f6");
    assert_true(mc_lookup_factor_hash(KEY, 32, MC_LOOKUP_PHONE_LAST4, "5678", again));
    assert_true(mc_lookup_hash_equal(h, again));
    /* another key, another hash; a malformed value, none */
    assert_true(mc_lookup_factor_hash(KEY, 31, MC_LOOKUP_PHONE_LAST4, "5678", again));
    assert_false(mc_lookup_hash_equal(h, again));
    assert_false(mc_lookup_factor_hash(KEY, 32, MC_LOOKUP_ID_NUMBER, "12345", h));
}

static void test_hash_equal(void **state)
{
    (void)state;
    char a[MC_LOOKUP_HASH_LEN + 1];
    memset(a, 'a', MC_LOOKUP_HASH_LEN);
    a[MC_LOOKUP_HASH_LEN] = '\0';
    char b[MC_LOOKUP_HASH_LEN + 1];
    memcpy(b, a, sizeof b);
    assert_true(mc_lookup_hash_equal(a, b));
    b[MC_LOOKUP_HASH_LEN - 1] = 'b';
    assert_false(mc_lookup_hash_equal(a, b));
    assert_false(mc_lookup_hash_equal(a, ""));
    assert_false(mc_lookup_hash_equal("", ""));
    assert_false(mc_lookup_hash_equal(a, NULL));
}

static void test_masked_name(void **state)
{
    (void)state;
    char out[64];
    assert_true(mc_lookup_mask_name("Nguyễn Văn An", out, sizeof out));
    assert_string_equal(out, "N*** V*** A***");
    /* a first letter with a diacritic is one character (several bytes) */
    assert_true(mc_lookup_mask_name("  Đỗ   Ánh  ", out, sizeof out));
    assert_string_equal(out, "Đ*** Á***");
    assert_false(mc_lookup_mask_name("", out, sizeof out));
    assert_false(mc_lookup_mask_name("   ", out, sizeof out));
    assert_false(mc_lookup_mask_name("Nguyễn Văn An", out, 8)); /* does not fit */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical_values),
        cmocka_unit_test(test_hash_is_the_keyed_hmac),
        cmocka_unit_test(test_hash_equal),
        cmocka_unit_test(test_masked_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
