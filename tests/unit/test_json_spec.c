/* Unit tests: strict JSON parsing and the declarative field checker. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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
        cmocka_unit_test(test_fill_nulls_completes_kept_objects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
