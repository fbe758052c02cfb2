/*
 * Unit tests of a dossier's document rules (services/dossier/document_rules.c):
 * the media types taken and the bytes they must start with, file names that
 * lie about themselves, slot names, who may upload when, and the
 * Content-Disposition of a download with a Vietnamese file name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "document_rules.h"
#include "workflow.h"

#define RLO "\xE2\x80\xAE" /* U+202E RIGHT-TO-LEFT OVERRIDE */

/* ---- declared media types ---- */

static void test_accepted_media_type(void **state)
{
    (void)state;
    assert_string_equal(document_accepted_media_type("application/pdf"), "application/pdf");
    assert_string_equal(document_accepted_media_type("image/jpeg"), "image/jpeg");
    assert_string_equal(document_accepted_media_type("image/png"), "image/png");
    /* case-insensitive, parameters and leading blanks ignored; the answer is lowercase */
    assert_string_equal(document_accepted_media_type("Image/PNG; charset=binary"), "image/png");
    assert_string_equal(document_accepted_media_type(" \tAPPLICATION/PDF ;x=y"), "application/pdf");
    assert_null(document_accepted_media_type(NULL));
    assert_null(document_accepted_media_type(""));
    assert_null(document_accepted_media_type("image/jpg"));
    assert_null(document_accepted_media_type("application/pdfx"));
    assert_null(document_accepted_media_type("application/pd"));
    assert_null(document_accepted_media_type("text/html"));
    assert_null(document_accepted_media_type("image/svg+xml"));
    assert_null(document_accepted_media_type("application/octet-stream"));
}

static void test_octet_stream(void **state)
{
    (void)state;
    assert_true(document_is_octet_stream("application/octet-stream"));
    assert_true(document_is_octet_stream("Application/Octet-Stream; name=a.pdf"));
    assert_true(document_is_octet_stream("\t application/octet-stream"));
    assert_false(document_is_octet_stream(NULL));
    assert_false(document_is_octet_stream(""));
    assert_false(document_is_octet_stream("application/octet-streams"));
    assert_false(document_is_octet_stream("application/octet"));
    assert_false(document_is_octet_stream("application/pdf"));
}

/* ---- the bytes ---- */

static const unsigned char pdf[] = "%PDF-1.7\n%\xE2\xE3\xCF\xD3\n";
static const unsigned char jpeg[] = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F'};
static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0, 0, 0, 13};

static void test_sniff_magic_bytes(void **state)
{
    (void)state;
    assert_string_equal(document_sniffed_media_type(pdf, sizeof pdf - 1), "application/pdf");
    assert_string_equal(document_sniffed_media_type(jpeg, sizeof jpeg), "image/jpeg");
    assert_string_equal(document_sniffed_media_type(png, sizeof png), "image/png");
    /* exactly the signature is enough */
    assert_string_equal(document_sniffed_media_type(pdf, 5), "application/pdf");
    assert_string_equal(document_sniffed_media_type(jpeg, 3), "image/jpeg");
    assert_string_equal(document_sniffed_media_type(png, 8), "image/png");
}

static void test_sniff_truncated(void **state)
{
    (void)state;
    /* a file shorter than its signature is none of the types, whatever
       follows it in memory */
    assert_null(document_sniffed_media_type(pdf, 4));
    assert_null(document_sniffed_media_type(jpeg, 2));
    assert_null(document_sniffed_media_type(png, 7));
    assert_null(document_sniffed_media_type(png, 0));
}

static void test_sniff_lying_files(void **state)
{
    (void)state;
    static const unsigned char html[] = "<!DOCTYPE html><script>alert(1)</script>";
    static const unsigned char exe[] = {'M', 'Z', 0x90, 0x00, 0x03, 0x00, 0x00, 0x00};
    static const unsigned char almost_pdf[] = " %PDF-1.7"; /* not at the start */
    static const unsigned char pdx[] = "%PDX-1.7";
    static const unsigned char jpeg_soi_only[] = {0xFF, 0xD8, 0x00, 0xE0};
    static const unsigned char png_lf_cr[] = {0x89, 'P', 'N', 'G', '\n', '\r', 0x1A, '\n'};
    assert_null(document_sniffed_media_type(html, sizeof html - 1));
    assert_null(document_sniffed_media_type(exe, sizeof exe));
    assert_null(document_sniffed_media_type(almost_pdf, sizeof almost_pdf - 1));
    assert_null(document_sniffed_media_type(pdx, sizeof pdx - 1));
    assert_null(document_sniffed_media_type(jpeg_soi_only, sizeof jpeg_soi_only));
    assert_null(document_sniffed_media_type(png_lf_cr, sizeof png_lf_cr));
    /* a PNG sent as a PDF: the bytes say PNG, so the declared type is refused */
    const char *declared = document_accepted_media_type("application/pdf");
    const char *sniffed = document_sniffed_media_type(png, sizeof png);
    assert_non_null(sniffed);
    assert_string_not_equal(declared, sniffed);
}

/* ---- file names ---- */

static void test_deceptive_code_points(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        bool deceptive;
        const char *what;
    } cases[] = {
        /* clang-format off */
        /* the right-to-left override that shows "hoso<U+202E>fdp.exe" as "hosoexe.pdf" */
        {"hoso" RLO "fdp.exe", true, "U+202E RLO"},
        {"\xE2\x80\xAA" "a", true, "U+202A LRE"},
        {"a\xE2\x80\xAD", true, "U+202D LRO"},
        {"a\xE2\x81\xA6" "b", true, "U+2066 LRI"},
        {"a\xE2\x81\xA9" "b", true, "U+2069 PDI"},
        {"a\xC2\x85" "b", true, "U+0085 NEL (C1)"},
        {"\xC2\x80", true, "U+0080 (C1)"},
        {"\xC2\x9F", true, "U+009F (C1)"},
        /* neighbours of the ranges, and ordinary Vietnamese, are not */
        {"a\xE2\x80\xA9" "b", false, "U+2029"},
        {"a\xE2\x80\xAF" "b", false, "U+202F"},
        {"a\xE2\x81\xA5" "b", false, "U+2065"},
        {"a\xE2\x81\xAA" "b", false, "U+206A"},
        {"\xC2\xA0" "a", false, "U+00A0 NBSP"},
        {"Gi\xE1\xBA\xA5y khai sinh.pdf", false, "Vietnamese"},
        {"", false, "empty"},
        /* clang-format on */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (document_has_deceptive_code_points(cases[i].name) != cases[i].deceptive)
            fail_msg("%s: expected %s", cases[i].what,
                     cases[i].deceptive ? "deceptive" : "not deceptive");
    }
}

/* The problem code of a file name ("ok" when none), the checked name in out. */
static const char *name_problem(const char *raw, char *out, size_t out_len)
{
    const char *detail = NULL;
    const char *problem = document_file_name_problem(raw, out, out_len, &detail);
    if (problem == NULL)
        return "ok";
    assert_non_null(detail);
    assert_true(detail[0] != '\0');
    return problem;
}

static void test_file_name(void **state)
{
    (void)state;
    char out[1024];
    assert_string_equal(name_problem("  Gi\xE1\xBA\xA5y khai sinh.pdf  ", out, sizeof out), "ok");
    assert_string_equal(out, "Gi\xE1\xBA\xA5y khai sinh.pdf");
    assert_string_equal(name_problem("...pdf", out, sizeof out), "ok");
    assert_string_equal(name_problem("", out, sizeof out), "required");
    assert_string_equal(name_problem("   ", out, sizeof out), "required");
    assert_string_equal(name_problem("a/b.pdf", out, sizeof out), "path");
    assert_string_equal(name_problem("..\\b.pdf", out, sizeof out), "path");
    assert_string_equal(name_problem(".", out, sizeof out), "path");
    assert_string_equal(name_problem(" .. ", out, sizeof out), "path");
    assert_string_equal(name_problem("hoso" RLO "fdp.exe", out, sizeof out), "control_characters");
    /* a name that does not fit the caller's buffer */
    assert_string_equal(name_problem("abcdefgh", out, 8), "max_length");
    assert_string_equal(name_problem("abcdefg", out, 8), "ok");
}

static void test_file_name_length_in_code_points(void **state)
{
    (void)state;
    /* 255 "ấ" (3 bytes each) are 765 bytes but 255 characters: taken; 256 are not */
    char name[3 * 256 + 1];
    for (int i = 0; i < 256; i++)
        memcpy(name + 3 * i, "\xE1\xBA\xA5", 3);
    name[3 * 256] = '\0';
    char out[1024];
    assert_string_equal(name_problem(name, out, sizeof out), "max_length");
    name[3 * 255] = '\0';
    assert_string_equal(name_problem(name, out, sizeof out), "ok");
    assert_int_equal(strlen(out), 3 * 255);
}

/* ---- slots ---- */

static void test_slot_syntax(void **state)
{
    (void)state;
    char longest[66];
    memset(longest, 'a', 65);
    longest[65] = '\0';
    assert_false(document_slot_syntax_ok(longest));
    longest[64] = '\0';
    assert_true(document_slot_syntax_ok(longest));
    assert_true(document_slot_syntax_ok("TK"));
    assert_true(document_slot_syntax_ok("extra-1"));
    assert_true(document_slot_syntax_ok("giay_to.ban-sao"));
    assert_true(document_slot_syntax_ok("9a"));
    assert_false(document_slot_syntax_ok(""));
    assert_false(document_slot_syntax_ok("."));
    assert_false(document_slot_syntax_ok(".."));
    assert_false(document_slot_syntax_ok("-a"));
    assert_false(document_slot_syntax_ok("_a"));
    assert_false(document_slot_syntax_ok("a b"));
    assert_false(document_slot_syntax_ok("a/b"));
    assert_false(document_slot_syntax_ok("a%2Fb"));
    assert_false(document_slot_syntax_ok("gi\xE1\xBA\xA5y"));
}

static void test_extra_slot(void **state)
{
    (void)state;
    assert_true(document_is_extra_slot("extra-1"));
    assert_true(document_is_extra_slot("extra-9"));
    assert_true(document_is_extra_slot("extra-10"));
    assert_true(document_is_extra_slot("extra-20"));
    assert_false(document_is_extra_slot("extra-0"));
    assert_false(document_is_extra_slot("extra-01"));
    assert_false(document_is_extra_slot("extra-21"));
    assert_false(document_is_extra_slot("extra-100"));
    assert_false(document_is_extra_slot("extra-"));
    assert_false(document_is_extra_slot("extra-1a"));
    assert_false(document_is_extra_slot("extra--1"));
    assert_false(document_is_extra_slot("Extra-1"));
    assert_false(document_is_extra_slot("extra1"));
    assert_false(document_is_extra_slot("TK"));
}

/* ---- who may upload when ---- */

static void test_upload_rules(void **state)
{
    (void)state;
    bool ever = false;
    const struct document_upload_rule *r = document_upload_rule_for(DS_DRAFT, ACTOR_OWNER, &ever);
    assert_non_null(r);
    assert_true(ever);
    assert_string_equal(r->kind, "application");
    assert_false(r->result_slot);

    r = document_upload_rule_for(DS_SUPPLEMENT_REQUESTED, ACTOR_COUNTER, &ever);
    assert_non_null(r);
    assert_string_equal(r->kind, "supplement");

    r = document_upload_rule_for(DS_PROCESSING, ACTOR_APPROVER, &ever);
    assert_non_null(r);
    assert_string_equal(r->kind, "result");
    assert_true(r->result_slot);

    /* may upload, but not now: 409 */
    assert_null(document_upload_rule_for(DS_SUBMITTED, ACTOR_OWNER, &ever));
    assert_true(ever);
    assert_null(document_upload_rule_for(DS_DRAFT, ACTOR_OFFICER, &ever));
    assert_true(ever);
    /* never: 403 */
    assert_null(document_upload_rule_for(DS_PROCESSING, ACTOR_AGENCY_ADMIN, &ever));
    assert_false(ever);
    assert_null(document_upload_rule_for(DS_DRAFT, ACTOR_SERVICE | ACTOR_SYSTEM, &ever));
    assert_false(ever);
    assert_null(document_upload_rule_for(DS_DRAFT, 0, &ever));
    assert_false(ever);
}

/* ---- Content-Disposition (RFC 6266, RFC 8187) ---- */

static void test_content_disposition_vietnamese(void **state)
{
    (void)state;
    char out[4096];
    document_content_disposition("Gi\xE1\xBA\xA5y khai sinh.pdf", out, sizeof out);
    assert_string_equal(out, "attachment; filename=\"Gi_y khai sinh.pdf\"; "
                             "filename*=UTF-8''Gi%E1%BA%A5y%20khai%20sinh.pdf");
    /* "Đơn đề nghị (bản sao).pdf": one '_' per character in the fallback;
       parentheses are not attr-chars */
    document_content_disposition("\xC4\x90\xC6\xA1n \xC4\x91\xE1\xBB\x81 ngh\xE1\xBB\x8B "
                                 "(b\xE1\xBA\xA3n sao).pdf",
                                 out, sizeof out);
    assert_string_equal(out, "attachment; filename=\"__n __ ngh_ (b_n sao).pdf\"; "
                             "filename*=UTF-8''%C4%90%C6%A1n%20%C4%91%E1%BB%81%20ngh%E1%BB%8B"
                             "%20%28b%E1%BA%A3n%20sao%29.pdf");
}

static void test_content_disposition_quoting(void **state)
{
    (void)state;
    char out[4096];
    /* a quote, a backslash or a percent sign cannot end or escape the
       quoted fallback */
    document_content_disposition("a\"b\\c%d.pdf", out, sizeof out);
    assert_string_equal(out, "attachment; filename=\"a_b_c_d.pdf\"; "
                             "filename*=UTF-8''a%22b%5Cc%25d.pdf");
    document_content_disposition("x!#$&+-.^_`|~.png", out, sizeof out);
    assert_string_equal(out, "attachment; filename=\"x!#$&+-.^_`|~.png\"; "
                             "filename*=UTF-8''x!#$&+-.^_`|~.png");
}

static void test_content_disposition_truncated(void **state)
{
    (void)state;
    /* a buffer too small: terminated inside it, and cut before a %XX that
       would not fit, never inside one */
    char out[70];
    memset(out, 'Z', sizeof out);
    document_content_disposition("Gi\xE1\xBA\xA5y khai sinh.pdf", out, sizeof out);
    assert_string_equal(out, "attachment; filename=\"Gi_y khai sinh.pdf\"; "
                             "filename*=UTF-8''Gi%E1%BA");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted_media_type),
        cmocka_unit_test(test_octet_stream),
        cmocka_unit_test(test_sniff_magic_bytes),
        cmocka_unit_test(test_sniff_truncated),
        cmocka_unit_test(test_sniff_lying_files),
        cmocka_unit_test(test_deceptive_code_points),
        cmocka_unit_test(test_file_name),
        cmocka_unit_test(test_file_name_length_in_code_points),
        cmocka_unit_test(test_slot_syntax),
        cmocka_unit_test(test_extra_slot),
        cmocka_unit_test(test_upload_rules),
        cmocka_unit_test(test_content_disposition_vietnamese),
        cmocka_unit_test(test_content_disposition_quoting),
        cmocka_unit_test(test_content_disposition_truncated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
