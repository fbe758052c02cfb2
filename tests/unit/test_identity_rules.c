/*
 * Unit tests of the identity service's pure logic
 * (services/identity/identity_rules.c): personal identification numbers,
 * phone normalisation, the password policy, login kinds, back-off, masking,
 * scopes and the strict form parser of the token endpoint.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "identity_rules.h"

static void test_personal_id(void **state)
{
    (void)state;
    const char *code = NULL;
    /* 001 Hà Nội, 0 = 1900s male, 90 = 1990 */
    assert_null(identity_check_personal_id("001090012345", "1990-05-17", &code));
    /* 3 = 2000s female, 05 = 2005 */
    assert_null(identity_check_personal_id("079305000001", "2005-01-01", &code));
    assert_non_null(identity_check_personal_id("00109001234", "1990-05-17", &code));
    assert_string_equal(code, IDENTITY_E_FORMAT);
    assert_non_null(identity_check_personal_id("00109001234x", NULL, &code));
    /* 003 is not a province code */
    assert_non_null(identity_check_personal_id("003090012345", "1990-05-17", &code));
    assert_string_equal(code, IDENTITY_E_PROVINCE);
    /* century digit 2 (2000s) vs born 1990 */
    assert_non_null(identity_check_personal_id("001290012345", "1990-05-17", &code));
    assert_string_equal(code, IDENTITY_E_CENTURY);
    /* birth year 91 vs 1990 */
    assert_non_null(identity_check_personal_id("001091012345", "1990-05-17", &code));
    assert_string_equal(code, IDENTITY_E_BIRTH_YEAR);
    /* before 1900: no century digit */
    assert_non_null(identity_check_personal_id("001099012345", "1899-05-17", &code));
    /* structure only */
    assert_null(identity_check_personal_id("001291012345", NULL, &code));
}

static void test_phone(void **state)
{
    (void)state;
    char out[24];
    assert_true(identity_normalize_phone("0912345678", out, sizeof out));
    assert_string_equal(out, "+84912345678");
    assert_true(identity_normalize_phone("+84 912 345 678", out, sizeof out));
    assert_string_equal(out, "+84912345678");
    assert_true(identity_normalize_phone("84912345678", out, sizeof out));
    assert_string_equal(out, "+84912345678");
    assert_true(identity_normalize_phone("091.234.5678", out, sizeof out));
    assert_string_equal(out, "+84912345678");
    assert_true(identity_normalize_phone("02439876543", out, sizeof out));
    assert_string_equal(out, "+842439876543");
    assert_false(identity_normalize_phone("0112345678", out, sizeof out));
    assert_false(identity_normalize_phone("091234567", out, sizeof out));
    assert_false(identity_normalize_phone("+1 202 555 0100", out, sizeof out));
    assert_false(identity_normalize_phone("0912  345678", out, sizeof out));
    assert_false(identity_normalize_phone("", out, sizeof out));
}

static void test_password_policy(void **state)
{
    (void)state;
    const char *code = NULL;
    assert_null(identity_check_password("hoa-sen-mua-he", "001090012345", "+84912345678", NULL,
                                        &code));
    assert_non_null(identity_check_password("short", NULL, NULL, NULL, &code));
    assert_string_equal(code, IDENTITY_E_TOO_SHORT);
    /* 10 code points, 20 bytes: long enough */
    assert_null(identity_check_password("ăăăăăăăăăă", NULL, NULL, NULL, &code));
    assert_non_null(identity_check_password("12345678901234", NULL, NULL, NULL, &code));
    assert_string_equal(code, IDENTITY_E_ALL_DIGITS);
    assert_non_null(identity_check_password("x001090012345", "001090012345", NULL, NULL, &code));
    assert_string_equal(code, IDENTITY_E_CONTAINS_ID);
    assert_non_null(identity_check_password("pw0912345678", NULL, "+84912345678", NULL, &code));
    assert_string_equal(code, IDENTITY_E_CONTAINS_PHONE);
    assert_non_null(identity_check_password("an.nguyen-secret", NULL, NULL, "an.nguyen", &code));
    assert_string_equal(code, IDENTITY_E_CONTAINS_USERNAME);
    char longpw[200];
    memset(longpw, 'a', sizeof longpw - 1);
    longpw[sizeof longpw - 1] = '\0';
    assert_non_null(identity_check_password(longpw, NULL, NULL, NULL, &code));
    assert_string_equal(code, IDENTITY_E_TOO_LONG);
    assert_non_null(identity_check_password("abc\xff\xfe" "defghijk", NULL, NULL, NULL, &code));
    assert_string_equal(code, IDENTITY_E_FORMAT);
}

static void test_login_kind(void **state)
{
    (void)state;
    char out[80];
    assert_int_equal(identity_login_kind("001090012345", out, sizeof out),
                     IDENTITY_LOGIN_PERSONAL_ID);
    assert_int_equal(identity_login_kind("0912 345 678", out, sizeof out), IDENTITY_LOGIN_PHONE);
    assert_string_equal(out, "+84912345678");
    assert_int_equal(identity_login_kind("842439876543", out, sizeof out), IDENTITY_LOGIN_PHONE);
    assert_string_equal(out, "+842439876543");
    assert_int_equal(identity_login_kind("003090012345", out, sizeof out), IDENTITY_LOGIN_INVALID);
    assert_int_equal(identity_login_kind("an.nguyen", out, sizeof out), IDENTITY_LOGIN_USERNAME);
    assert_int_equal(identity_login_kind("An.Nguyen", out, sizeof out), IDENTITY_LOGIN_INVALID);
    assert_int_equal(identity_login_kind("", out, sizeof out), IDENTITY_LOGIN_INVALID);
    assert_true(identity_is_username("can-bo_01"));
    assert_false(identity_is_username("1abc"));
    assert_false(identity_is_username("ab"));
}

static void test_backoff(void **state)
{
    (void)state;
    assert_int_equal(identity_backoff_seconds(0, 5, 900), 0);
    assert_int_equal(identity_backoff_seconds(4, 5, 900), 0);
    assert_int_equal(identity_backoff_seconds(5, 5, 900), 1);
    assert_int_equal(identity_backoff_seconds(6, 5, 900), 2);
    assert_int_equal(identity_backoff_seconds(7, 5, 900), 4);
    assert_int_equal(identity_backoff_seconds(14, 5, 900), 512);
    assert_int_equal(identity_backoff_seconds(15, 5, 900), 900);
    assert_int_equal(identity_backoff_seconds(4000000000u, 5, 900), 900);
}

static void test_mask_and_formats(void **state)
{
    (void)state;
    char out[16];
    identity_mask_personal_id("001090012345", out, sizeof out);
    assert_string_equal(out, "*********345");
    assert_true(identity_is_uuid("0b5e7c1a-2f3d-4e5f-8a9b-0c1d2e3f4a5b"));
    assert_false(identity_is_uuid("test-citizen-001"));
    assert_false(identity_is_uuid("0B5E7C1A-2F3D-4E5F-8A9B-0C1D2E3F4A5B"));
    assert_true(identity_is_refresh_token("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO-_"));
    assert_false(identity_is_refresh_token("abc"));
    assert_true(identity_is_email("an.nguyen@example.vn"));
    assert_false(identity_is_email("not an email"));
}

static void test_scopes(void **state)
{
    (void)state;
    assert_true(identity_scope_subset("dossier.read", "dossier.read dossier.write"));
    assert_true(identity_scope_subset("dossier.write dossier.read", "dossier.read dossier.write"));
    assert_false(identity_scope_subset("admin", "dossier.read dossier.write"));
    assert_false(identity_scope_subset("dossier.read ", "dossier.read"));
    assert_false(identity_scope_subset("dossier.read  dossier.read", "dossier.read"));
    assert_false(identity_scope_subset("", "dossier.read"));
    assert_false(identity_scope_subset("dossier", "dossier.read"));

    assert_true(identity_is_client_id("cl_AbC-12_x.y"));
    assert_true(identity_is_client_id("c"));
    char longest[65];
    memset(longest, 'a', 64);
    longest[64] = '\0';
    assert_true(identity_is_client_id(longest));
    longest[63] = '/';
    assert_false(identity_is_client_id(longest));
    char too_long[66];
    memset(too_long, 'a', 65);
    too_long[65] = '\0';
    assert_false(identity_is_client_id(too_long));
    const char *bad[] = {NULL, "", "cl x", "cl/x", "cl%2Fx", "cl:x", "\xc4\x91", "a\tb"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(identity_is_client_id(bad[i]));
}

static void test_form_parse(void **state)
{
    (void)state;
    struct identity_form f;
    const char *err = NULL;
    const char *body = "grant_type=password&username=001090012345&password=a+b%26c%3D";
    assert_true(identity_form_parse(body, strlen(body), &f, &err));
    assert_int_equal(f.n, 3);
    assert_string_equal(identity_form_get(&f, "grant_type"), "password");
    assert_string_equal(identity_form_get(&f, "password"), "a b&c=");
    assert_null(identity_form_get(&f, "scope"));
    identity_form_free(&f);

    body = "a=&b=x=y";
    assert_true(identity_form_parse(body, strlen(body), &f, &err));
    assert_string_equal(identity_form_get(&f, "a"), "");
    assert_string_equal(identity_form_get(&f, "b"), "x=y");
    identity_form_free(&f);

    body = "%C4%90%C3%A0=%E1%BB%87";
    assert_true(identity_form_parse(body, strlen(body), &f, &err));
    assert_string_equal(identity_form_get(&f, "Đà"), "ệ");
    identity_form_free(&f);

    static const char *const bad[] = {
        "a=1&a=2",     /* duplicate */
        "a=1&&b=2",    /* empty pair */
        "a=1&",        /* trailing empty pair */
        "=1",          /* empty key */
        "a",           /* no '=' */
        "a=%2",        /* short escape */
        "a=%zz",       /* bad escape */
        "a=%00",       /* NUL */
        "a=%0A",       /* control character */
        "a=%FF",       /* invalid UTF-8 */
        "",            /* empty */
        "a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9&j=10&k=11&l=12&m=13&n=14&o=15&p=16&q=17",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err = NULL;
        assert_false(identity_form_parse(bad[i], strlen(bad[i]), &f, &err));
        assert_non_null(err);
        assert_null(f.buf);
    }
    /* a raw NUL inside the body */
    assert_false(identity_form_parse("a=1\0b", 5, &f, &err));

    /* Which problem is named (common's mc_url_decode does the decoding):
       escapes and control characters before UTF-8, keys before values. */
    static const struct {
        const char *body, *error;
    } named[] = {
        {"a=%zz", "bad percent-escape or control character in the form"},
        {"a=b\tc", "bad percent-escape or control character in the form"},
        {"a=%7F", "bad percent-escape or control character in the form"},
        {"%FF=%zz", "bad percent-escape or control character in the form"},
        {"%FF=%0A", "bad percent-escape or control character in the form"},
        {"a=%FF", "the form is not valid UTF-8"},
        {"%C0%AF=1", "the form is not valid UTF-8"},
        {"a=%ED%A0%80", "the form is not valid UTF-8"},
    };
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        err = NULL;
        assert_false(identity_form_parse(named[i].body, strlen(named[i].body), &f, &err));
        assert_string_equal(err, named[i].error);
    }
    /* '+' is a space, "%2B" a plus, in keys and values alike */
    body = "a+b=c%2Bd+e";
    assert_true(identity_form_parse(body, strlen(body), &f, &err));
    assert_string_equal(identity_form_get(&f, "a b"), "c+d e");
    identity_form_free(&f);
}

static void test_basic_credentials(void **state)
{
    (void)state;
    char id[65], secret[129];
    /* "cl_a:s3cr%2Bt+x" */
    assert_true(identity_basic_credentials("Basic Y2xfYTpzM2NyJTJCdCt4", id, sizeof id, secret,
                                           sizeof secret));
    assert_string_equal(id, "cl_a");
    assert_string_equal(secret, "s3cr+t x");
    assert_true(identity_basic_credentials("bAsIc Y2xfYTpzM2NyJTJCdCt4", id, sizeof id, secret,
                                           sizeof secret));
    /* "a:b" needs padding: YTpi is exact; "ab:c" -> YWI6Yw== */
    assert_true(identity_basic_credentials("Basic YWI6Yw==", id, sizeof id, secret, sizeof secret));
    assert_string_equal(id, "ab");
    assert_string_equal(secret, "c");
    static const char *const bad[] = {
        NULL, "", "Basic", "Basic ", "Bearer YWI6Yw==", "Basic  YWI6Yw==", "Basic YWI6Yw",
        "Basic YWI6Yw=", "Basic YWI6Yw==\t", "Basic YWI6Yx==", /* non-zero pad bits */
        "Basic YW=6Yw==",                                        /* '=' inside */
        "Basic YWI6Y-==",                                        /* base64url alphabet */
        "Basic bm9jb2xvbg==",                                    /* "nocolon" */
        "Basic OnNlY3JldA==",                                    /* ":secret" */
        "Basic YWI6",                                            /* "ab:" */
        "Basic YTpiJTAwYw==",                                    /* "a:b%00c" */
        "Basic YTpiJXp6",                                        /* "a:b%zz" */
        "Basic YTr//g==",                                        /* "a:\xff\xfe" */
        "Basic YQBiOmM=",                                        /* "a\0b:c" */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_false(identity_basic_credentials(bad[i], id, sizeof id, secret, sizeof secret));
        assert_string_equal(id, "");
        assert_string_equal(secret, "");
    }
    /* too long for the buffers: "abcdef:ghijkl" with 4-byte buffers */
    char small_id[4], small_secret[4];
    assert_false(identity_basic_credentials("Basic YWJjZGVmOmdoaWprbA==", small_id,
                                            sizeof small_id, small_secret, sizeof small_secret));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_personal_id),   cmocka_unit_test(test_phone),
        cmocka_unit_test(test_password_policy), cmocka_unit_test(test_login_kind),
        cmocka_unit_test(test_backoff),       cmocka_unit_test(test_mask_and_formats),
        cmocka_unit_test(test_scopes),        cmocka_unit_test(test_form_parse),
        cmocka_unit_test(test_basic_credentials),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
