/* Unit tests: strict JSON parsing and the declarative field checker. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <locale.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "motcua/json_spec.h"

static const char *const levels[] = {"central", "province", "commune", NULL};

static const struct mc_field hours_fields[] = {
    {.name = "start", .type = MC_F_TIME_OF_DAY, .required = true},
    {.name = "end", .type = MC_F_TIME_OF_DAY, .required = true},
    {0},
};
static const struct mc_field hours_item = {.type = MC_F_OBJECT, .fields = hours_fields};
static const struct mc_field code_item_fields[] = {
    {.name = "code", .type = MC_F_STRING, .required = true, .min_len = 1, .max_len = 10},
    {0},
};
static const struct mc_field code_item = {.type = MC_F_OBJECT, .fields = code_item_fields};

static const char *no_x(const json_t *v, const char **code)
{
    if (strchr(json_string_value(v), 'x') != NULL) {
        *code = "no_x";
        return "must not contain x";
    }
    return NULL;
}

static const struct mc_field agency_fields[] = {
    {.name = "code", .type = MC_F_STRING, .required = true,
     .pattern = "^[0-9]{3}\\.[0-9]{2}\\.[0-9]{2}\\.[A-Z][0-9]{2}$"},
    {.name = "name", .type = MC_F_STRING, .required = true, .min_len = 1, .max_len = 12, .check = no_x},
    {.name = "admin_level", .type = MC_F_STRING, .required = true, .enum_values = levels},
    {.name = "parent_code", .type = MC_F_STRING, .nullable = true},
    {.name = "rank", .type = MC_F_INTEGER, .has_range = true, .min = 1, .max = 4},
    {.name = "founded", .type = MC_F_DATE},
    {.name = "office_hours", .type = MC_F_ARRAY, .min_len = 1, .max_len = 4, .item = &hours_item},
    {.name = "items", .type = MC_F_ARRAY, .item = &code_item, .unique_key_item = true},
    {0},
};

static json_t *parse(const char *text)
{
    char err[128];
    return mc_json_parse_strict(text, strlen(text), err, sizeof err);
}

static bool has_error(const json_t *errors, const char *pointer, const char *code)
{
    size_t i;
    const json_t *e;
    json_array_foreach(errors, i, e) {
        if (strcmp(json_string_value(json_object_get(e, "pointer")), pointer) == 0 &&
            strcmp(json_string_value(json_object_get(e, "code")), code) == 0)
            return true;
    }
    return false;
}

static void test_duplicate_keys_rejected(void **state)
{
    (void)state;
    char err[128];
    const char *text = "{\"a\":1,\"a\":2}";
    assert_null(mc_json_parse_strict(text, strlen(text), err, sizeof err));
    assert_non_null(strstr(err, "duplicate"));
}

static void test_malformed_and_nul_rejected(void **state)
{
    (void)state;
    char err[128];
    assert_null(mc_json_parse_strict("{\"a\":", 5, err, sizeof err));
    assert_null(mc_json_parse_strict("{\"a\":\"x\\u0000y\"}", 16, err, sizeof err));
    assert_null(mc_json_parse_strict("{} {}", 5, err, sizeof err));
    const char bad_utf8[] = "{\"a\":\"\xff\"}";
    assert_null(mc_json_parse_strict(bad_utf8, strlen(bad_utf8), err, sizeof err));
}

static void test_valid_document_passes(void **state)
{
    (void)state;
    json_t *doc = parse("{\"code\":\"000.00.06.H56\",\"name\":\"Sở Tư pháp\",\"admin_level\":"
                        "\"province\",\"parent_code\":null,\"rank\":2,\"founded\":\"2024-02-29\","
                        "\"office_hours\":[{\"start\":\"07:00\",\"end\":\"11:30\"}],"
                        "\"items\":[{\"code\":\"a\"},{\"code\":\"b\"}]}");
    assert_non_null(doc);
    json_t *errors = mc_errors_new();
    assert_int_equal(mc_json_check(doc, agency_fields, "", errors), 0);
    json_decref(errors);
    json_decref(doc);
}

static void test_every_problem_reported(void **state)
{
    (void)state;
    json_t *doc = parse("{\"code\":\"H56\",\"name\":\"\",\"admin_level\":\"district\","
                        "\"rank\":9,\"founded\":\"2025-02-29\",\"extra\":1,"
                        "\"office_hours\":[{\"start\":\"7:00\",\"end\":\"11:30\",\"x\":1}],"
                        "\"items\":[{\"code\":\"a\"},{\"code\":\"a\"}]}");
    json_t *errors = mc_errors_new();
    size_t n = mc_json_check(doc, agency_fields, "", errors);
    assert_true(has_error(errors, "/code", "pattern"));
    assert_true(has_error(errors, "/name", "min_length"));
    assert_true(has_error(errors, "/admin_level", "enum"));
    assert_true(has_error(errors, "/rank", "maximum"));
    assert_true(has_error(errors, "/founded", "format"));
    assert_true(has_error(errors, "/extra", "unknown_field"));
    assert_true(has_error(errors, "/office_hours/0/start", "format"));
    assert_true(has_error(errors, "/office_hours/0/x", "unknown_field"));
    assert_true(has_error(errors, "/items/1/code", "duplicate"));
    assert_int_equal(n, 9);
    assert_int_equal(json_array_size(errors), 9);
    json_decref(errors);
    json_decref(doc);
}

static void test_missing_required_and_types(void **state)
{
    (void)state;
    json_t *doc = parse("{\"name\":5,\"rank\":1.5,\"office_hours\":[],\"parent_code\":null}");
    json_t *errors = mc_errors_new();
    mc_json_check(doc, agency_fields, "/agency", errors);
    assert_true(has_error(errors, "/agency/code", "required"));
    assert_true(has_error(errors, "/agency/admin_level", "required"));
    assert_true(has_error(errors, "/agency/name", "type"));
    assert_true(has_error(errors, "/agency/rank", "type"));
    assert_true(has_error(errors, "/agency/office_hours", "min_items"));
    json_decref(errors);
    json_decref(doc);
}

static void test_custom_check_and_unicode_length(void **state)
{
    (void)state;
    /* 12 code points, 17 bytes: within max_len 12 */
    json_t *ok = parse("{\"code\":\"000.00.06.H56\",\"name\":\"Nguyễn Văn A\",\"admin_level\":\"commune\"}");
    json_t *errors = mc_errors_new();
    assert_int_equal(mc_json_check(ok, agency_fields, "", errors), 0);
    json_t *bad = parse("{\"code\":\"000.00.06.H56\",\"name\":\"xin chao\",\"admin_level\":\"commune\"}");
    assert_int_equal(mc_json_check(bad, agency_fields, "", errors), 1);
    assert_true(has_error(errors, "/name", "no_x"));
    json_decref(errors);
    json_decref(ok);
    json_decref(bad);
}

static void test_pointer_escaping(void **state)
{
    (void)state;
    char out[64];
    mc_pointer_join(out, sizeof out, "/form", "a/b~c");
    assert_string_equal(out, "/form/a~1b~0c");
    mc_pointer_join_index(out, sizeof out, "/cases", 3);
    assert_string_equal(out, "/cases/3");
}

static void test_not_an_object(void **state)
{
    (void)state;
    json_t *arr = parse("[1,2]");
    json_t *errors = mc_errors_new();
    assert_int_equal(mc_json_check(arr, agency_fields, "", errors), 1);
    assert_true(has_error(errors, "", "type"));
    json_decref(errors);
    json_decref(arr);
}

static void test_long_unknown_key_keeps_its_error(void **state)
{
    /* found by fuzzing: a pointer cut inside a UTF-8 character made the
       error vanish while it was still counted */
    (void)state;
    char text[700];
    size_t n = (size_t)snprintf(text, sizeof text, "{\"");
    for (int i = 0; i < 507; i++)
        text[n++] = 'a';
    n += (size_t)snprintf(text + n, sizeof text - n, "\xc3\xa9\":1}");
    json_t *doc = parse(text);
    assert_non_null(doc);
    json_t *errors = mc_errors_new();
    size_t problems = mc_json_check(doc, agency_fields, "", errors);
    assert_int_equal(problems, json_array_size(errors));
    assert_int_equal(problems, 4); /* unknown key + 3 missing required fields */
    json_decref(errors);
    json_decref(doc);
}

/* Field patterns are compiled once and matched under C.UTF-8, whatever the
   process locale: "." is one code point under "C" too. */
static const struct mc_field short_name_fields[] = {
    {.name = "name", .type = MC_F_STRING, .pattern = "^.{1,3}$"},
    {.name = "code", .type = MC_F_STRING, .pattern = "^[A-Z][0-9]{2}$"},
    {.name = "broken", .type = MC_F_STRING, .pattern = "^(unclosed$"},
    {0},
};

static size_t check_text(const char *text, const struct mc_field *fields, json_t *errors)
{
    json_t *v = mc_json_parse_strict(text, strlen(text), NULL, 0);
    assert_non_null(v);
    size_t n = mc_json_check(v, fields, "", errors);
    json_decref(v);
    return n;
}

static void test_patterns_ignore_process_locale(void **state)
{
    (void)state;
    const char *locales[] = {"C", "C.UTF-8", "C.utf8", "POSIX"};
    size_t tried = 0;
    for (size_t i = 0; i < sizeof locales / sizeof locales[0]; i++) {
        if (setlocale(LC_ALL, locales[i]) == NULL)
            continue;
        tried++;
        json_t *errors = mc_errors_new();
        assert_int_equal(check_text("{\"name\": \"Ễễễ\", \"code\": \"A12\"}",
                                    short_name_fields, errors), 0);
        assert_int_equal(check_text("{\"name\": \"Ễễễễ\", \"code\": \"Ă12\"}",
                                    short_name_fields, errors), 2);
        assert_true(has_error(errors, "/name", "pattern"));
        assert_true(has_error(errors, "/code", "pattern"));
        json_decref(errors);
    }
    assert_true(tried >= 2);
    setlocale(LC_ALL, "C");
}

/* A pattern regcomp refuses matches nothing, every time (it is remembered as such). */
static void test_invalid_pattern_never_matches(void **state)
{
    (void)state;
    for (int i = 0; i < 3; i++) {
        json_t *errors = mc_errors_new();
        assert_int_equal(check_text("{\"broken\": \"(unclosed\"}", short_name_fields, errors), 1);
        assert_true(has_error(errors, "/broken", "pattern"));
        json_decref(errors);
    }
}

/* Threads meeting a pattern for the first time at once all get it compiled. */
static const struct mc_field race_fields[] = {
    {.name = "a", .type = MC_F_STRING, .pattern = "^race-[0-9]+$"},
    {.name = "b", .type = MC_F_STRING, .pattern = "^other-race-[a-z]+$"},
    {0},
};

static void *pattern_worker(void *arg)
{
    size_t *failures = arg;
    for (int i = 0; i < 300; i++) {
        json_t *errors = mc_errors_new();
        if (check_text("{\"a\": \"race-1\", \"b\": \"other-race-x\"}", race_fields, errors) != 0)
            (*failures)++;
        if (check_text("{\"a\": \"race-x\", \"b\": \"other-race-1\"}", race_fields, errors) != 2)
            (*failures)++;
        json_decref(errors);
    }
    return NULL;
}

static void test_patterns_thread_safe(void **state)
{
    (void)state;
    pthread_t threads[4];
    size_t failures[4] = {0};
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, pattern_worker, &failures[i]), 0);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        assert_int_equal(failures[i], 0);
    }
}

/* ---- binding fields into a struct ---- */

struct bound_body {
    const char *to_agency;
    long long amount;
    double ratio;
    bool urgent;
    const char *day;
    const json_t *reasons;
    const char *summary; /* from the nested object "result" */
    const json_t *result;
};

static const struct mc_field bound_result_fields[] = {
    {.name = "summary", .type = MC_F_STRING, .required = true, MC_BIND(struct bound_body, summary)},
    {.name = "number", .type = MC_F_STRING},
    {0}};
static const struct mc_field bound_reason = {.type = MC_F_STRING, .min_len = 1};
static const struct mc_field bound_fields[] = {
    {.name = "to_agency", .type = MC_F_STRING, .nullable = true, .max_len = 20,
     MC_BIND(struct bound_body, to_agency)},
    {.name = "amount", .type = MC_F_INTEGER, .has_range = true, .min = 0, .max = 1e12,
     MC_BIND(struct bound_body, amount)},
    {.name = "ratio", .type = MC_F_NUMBER, MC_BIND(struct bound_body, ratio)},
    {.name = "urgent", .type = MC_F_BOOLEAN, MC_BIND(struct bound_body, urgent)},
    {.name = "day", .type = MC_F_DATE, MC_BIND(struct bound_body, day)},
    {.name = "reasons", .type = MC_F_ARRAY, .item = &bound_reason,
     MC_BIND(struct bound_body, reasons)},
    {.name = "result", .type = MC_F_OBJECT, .fields = bound_result_fields,
     MC_BIND(struct bound_body, result)},
    {.name = "unbound", .type = MC_F_STRING},
    {0}};

static void test_bind_fills_every_field(void **state)
{
    (void)state;
    json_t *doc = parse("{\"to_agency\":\"000.00.06.H56\",\"amount\":1500000,\"ratio\":0.25,"
                        "\"urgent\":true,\"day\":\"2025-03-10\",\"reasons\":[\"a\",\"b\"],"
                        "\"result\":{\"summary\":\"granted\",\"number\":\"12/QD\"},"
                        "\"unbound\":\"x\"}");
    json_t *errors = mc_errors_new();
    struct bound_body b = {.amount = -1};
    assert_int_equal(mc_json_parse_fields(doc, bound_fields, "", errors, &b), 0);
    assert_string_equal(b.to_agency, "000.00.06.H56");
    assert_int_equal(b.amount, 1500000);
    assert_true(b.ratio > 0.249 && b.ratio < 0.251);
    assert_true(b.urgent);
    assert_string_equal(b.day, "2025-03-10");
    assert_ptr_equal(b.reasons, json_object_get(doc, "reasons"));
    assert_ptr_equal(b.result, json_object_get(doc, "result"));
    assert_string_equal(b.summary, "granted"); /* a nested member, into the same struct */
    json_decref(errors);
    json_decref(doc);
}

static void test_bind_keeps_defaults_of_absent_and_null(void **state)
{
    (void)state;
    json_t *doc = parse("{\"to_agency\":null}");
    json_t *errors = mc_errors_new();
    const char *fallback = "default";
    struct bound_body b = {.to_agency = fallback, .amount = 7, .ratio = 1.5, .urgent = true};
    assert_int_equal(mc_json_parse_fields(doc, bound_fields, "", errors, &b), 0);
    assert_ptr_equal(b.to_agency, fallback);
    assert_int_equal(b.amount, 7);
    assert_true(b.ratio > 1.49 && b.ratio < 1.51);
    assert_true(b.urgent);
    assert_null(b.day);
    assert_null(b.reasons);
    assert_null(b.result);
    assert_null(b.summary);
    json_decref(errors);
    json_decref(doc);
}

static void test_bind_with_problems(void **state)
{
    (void)state;
    /* ratio has the wrong type: not bound, the caller's value stays. The
       others have the right type and bind, problems notwithstanding (a
       handler may check them further to report everything at once; it acts
       only when there is no problem): to_agency is too long, result lacks
       its summary, reasons has an empty item. Every problem is reported as
       by mc_json_check. */
    json_t *doc = parse("{\"amount\":12,\"ratio\":\"high\",\"result\":{\"number\":\"1\"},"
                        "\"to_agency\":\"much too long for this field\",\"reasons\":[\"a\",\"\"],"
                        "\"typo\":1}");
    json_t *errors = mc_errors_new();
    struct bound_body b = {.amount = -1, .ratio = 2.5};
    assert_int_equal(mc_json_parse_fields(doc, bound_fields, "", errors, &b), 5);
    assert_true(has_error(errors, "/ratio", "type"));
    assert_true(has_error(errors, "/result/summary", "required"));
    assert_true(has_error(errors, "/to_agency", "max_length"));
    assert_true(has_error(errors, "/reasons/1", "min_length"));
    assert_true(has_error(errors, "/typo", "unknown_field"));
    assert_int_equal(b.amount, 12);
    assert_true(b.ratio > 2.49 && b.ratio < 2.51);
    assert_string_equal(b.to_agency, "much too long for this field");
    assert_ptr_equal(b.result, json_object_get(doc, "result"));
    assert_ptr_equal(b.reasons, json_object_get(doc, "reasons"));
    assert_null(b.summary);
    /* the same problems as the plain check */
    json_t *plain = mc_errors_new();
    assert_int_equal(mc_json_check(doc, bound_fields, "", plain), 5);
    assert_true(json_equal(plain, errors));
    json_decref(plain);
    json_decref(errors);
    json_decref(doc);
}

static void test_fill_nulls_completes_kept_objects(void **state)
{
    (void)state;
    static const struct mc_field inner[] = {
        {.name = "method", .type = MC_F_STRING, .required = true},
        {.name = "address", .type = MC_F_STRING, .nullable = true},
        {0}};
    static const struct mc_field outer[] = {
        {.name = "full_name", .type = MC_F_STRING, .required = true},
        {.name = "phone", .type = MC_F_STRING, .nullable = true},
        {.name = "email", .type = MC_F_STRING, .nullable = true},
        {.name = "delivery", .type = MC_F_OBJECT, .nullable = true, .fields = inner},
        {.name = "form", .type = MC_F_OBJECT},
        {0}};
    json_t *doc = parse("{\"full_name\":\"An\",\"email\":\"a@b.vn\",\"delivery\":{\"method\":\"post\"},"
                        "\"form\":{\"x\":1}}");
    assert_non_null(doc);
    mc_json_fill_nulls(doc, outer);
    /* absent optional members become null; present ones and required ones are untouched */
    assert_true(json_is_null(json_object_get(doc, "phone")));
    assert_string_equal(json_string_value(json_object_get(doc, "email")), "a@b.vn");
    assert_string_equal(json_string_value(json_object_get(doc, "full_name")), "An");
    /* nested objects with a field table are completed; free-form ones are not */
    json_t *delivery = json_object_get(doc, "delivery");
    assert_true(json_is_null(json_object_get(delivery, "address")));
    assert_int_equal(json_object_size(delivery), 2);
    assert_int_equal(json_object_size(json_object_get(doc, "form")), 1);
    assert_int_equal(json_object_size(doc), 5);
    /* an absent required member stays absent; a non-object is left alone */
    json_t *partial = parse("{}");
    mc_json_fill_nulls(partial, outer);
    assert_null(json_object_get(partial, "full_name"));
    assert_true(json_is_null(json_object_get(partial, "delivery")));
    json_t *null_value = json_null();
    mc_json_fill_nulls(null_value, outer);
    mc_json_fill_nulls(NULL, outer);
    json_decref(partial);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duplicate_keys_rejected),
        cmocka_unit_test(test_malformed_and_nul_rejected),
        cmocka_unit_test(test_valid_document_passes),
        cmocka_unit_test(test_every_problem_reported),
        cmocka_unit_test(test_missing_required_and_types),
        cmocka_unit_test(test_custom_check_and_unicode_length),
        cmocka_unit_test(test_pointer_escaping),
        cmocka_unit_test(test_not_an_object),
        cmocka_unit_test(test_long_unknown_key_keeps_its_error),
        cmocka_unit_test(test_patterns_ignore_process_locale),
        cmocka_unit_test(test_invalid_pattern_never_matches),
        cmocka_unit_test(test_patterns_thread_safe),
        cmocka_unit_test(test_bind_fills_every_field),
        cmocka_unit_test(test_bind_keeps_defaults_of_absent_and_null),
        cmocka_unit_test(test_bind_with_problems),
        cmocka_unit_test(test_fill_nulls_completes_kept_objects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
