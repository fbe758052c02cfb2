/*
 * Unit tests for the form-schema validator (common/src/form_schema.c).
 *
 * Test JSON is written with single quotes for readability; J() turns every ' into "
 * before parsing, so literal apostrophes must be written as \u0027.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <locale.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "motcua/form_schema.h"

/* ------------------------------------------------------------------------------------ */
/* Helpers                                                                               */

static json_t *J(const char *text)
{
    char *copy = strdup(text);
    assert_non_null(copy);
    for (char *p = copy; *p; p++) {
        if (*p == '\'')
            *p = '"';
    }
    json_error_t err;
    json_t *v = json_loads(copy, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    free(copy);
    if (!v)
        fail_msg("bad test JSON: %s (line %d col %d): %s", err.text, err.line, err.column, text);
    return v;
}

/* Returns the number of errors whose pointer and code match exactly. */
static size_t count_error(const json_t *errors, const char *pointer, const char *code)
{
    size_t n = 0, i;
    json_t *e;
    json_array_foreach(errors, i, e)
    {
        const char *p = json_string_value(json_object_get(e, "pointer"));
        const char *c = json_string_value(json_object_get(e, "code"));
        if (p && c && strcmp(p, pointer) == 0 && strcmp(c, code) == 0)
            n++;
    }
    return n;
}

static void dump_errors(const json_t *errors)
{
    char *s = json_dumps(errors, JSON_INDENT(2));
    print_message("%s\n", s ? s : "(null)");
    free(s);
}

static void expect_error(const json_t *errors, const char *pointer, const char *code)
{
    if (count_error(errors, pointer, code) != 1) {
        dump_errors(errors);
        fail_msg("expected exactly one error %s at '%s'", code, pointer);
    }
}

/* Every error object must have exactly the three documented string members. */
static void assert_error_shape(const json_t *errors)
{
    size_t i;
    json_t *e;
    assert_true(json_is_array(errors));
    json_array_foreach(errors, i, e)
    {
        assert_true(json_is_object(e));
        assert_int_equal(json_object_size(e), 3);
        assert_true(json_is_string(json_object_get(e, "pointer")));
        assert_true(json_is_string(json_object_get(e, "code")));
        assert_true(json_is_string(json_object_get(e, "message")));
        assert_true(json_string_length(json_object_get(e, "message")) > 0);
    }
}

/* Checks the schema (must be clean), validates the instance, returns the error count and
   (optionally) the errors array. */
static size_t run(const char *schema_text, const char *instance_text, const char *base,
                  json_t **errors_out)
{
    json_t *schema = J(schema_text);
    json_t *instance = J(instance_text);
    json_t *check_errors = json_array();
    size_t nc = mc_form_schema_check(schema, "", check_errors);
    if (nc != 0) {
        dump_errors(check_errors);
        fail_msg("test schema does not pass mc_form_schema_check: %s", schema_text);
    }
    json_decref(check_errors);

    json_t *errors = json_array();
    size_t n = mc_form_schema_validate(schema, instance, base, errors);
    assert_int_equal(n, json_array_size(errors));
    assert_error_shape(errors);

    /* the compiled schema (patterns compiled once) gives exactly the same answer */
    mc_form_schema *compiled = mc_form_schema_compile(schema);
    assert_non_null(compiled);
    assert_ptr_equal(mc_form_schema_json(compiled), schema);
    json_t *compiled_errors = json_array();
    assert_int_equal(mc_form_schema_validate_compiled(compiled, instance, base, compiled_errors), n);
    if (!json_equal(errors, compiled_errors)) {
        dump_errors(errors);
        dump_errors(compiled_errors);
        fail_msg("the compiled schema answers differently for %s", instance_text);
    }
    json_decref(compiled_errors);
    mc_form_schema_free(compiled);
    json_decref(schema);
    json_decref(instance);
    if (errors_out)
        *errors_out = errors;
    else
        json_decref(errors);
    return n;
}

static void accept(const char *schema, const char *instance)
{
    json_t *errors = NULL;
    if (run(schema, instance, "", &errors) != 0) {
        dump_errors(errors);
        json_decref(errors);
        fail_msg("expected %s to be valid against %s", instance, schema);
    }
    json_decref(errors);
}

/* Expects exactly one error, with the given code at the root pointer "". */
static void reject(const char *schema, const char *instance, const char *code)
{
    json_t *errors = NULL;
    size_t n = run(schema, instance, "", &errors);
    if (n != 1 || count_error(errors, "", code) != 1) {
        dump_errors(errors);
        json_decref(errors);
        fail_msg("expected one '%s' error for %s against %s", code, instance, schema);
    }
    json_decref(errors);
}

/* Schema check helpers. */
static json_t *check_errors_of(const char *schema_text, const char *base)
{
    json_t *schema = J(schema_text);
    json_t *errors = json_array();
    size_t n = mc_form_schema_check(schema, base, errors);
    assert_int_equal(n, json_array_size(errors));
    assert_error_shape(errors);
    json_decref(schema);
    return errors;
}

static void check_ok(const char *schema_text)
{
    json_t *errors = check_errors_of(schema_text, "");
    if (json_array_size(errors) != 0) {
        dump_errors(errors);
        json_decref(errors);
        fail_msg("schema unexpectedly rejected: %s", schema_text);
    }
    json_decref(errors);
}

static void check_bad(const char *schema_text, const char *pointer, const char *code)
{
    json_t *errors = check_errors_of(schema_text, "");
    if (json_array_size(errors) != 1 || count_error(errors, pointer, code) != 1) {
        dump_errors(errors);
        json_decref(errors);
        fail_msg("expected one %s at '%s' for schema %s", code, pointer, schema_text);
    }
    json_decref(errors);
}

static const char *message_at(const json_t *errors, size_t index)
{
    return json_string_value(json_object_get(json_array_get(errors, index), "message"));
}

/* A condensed copy of the birth-registration example in docs/form-schema.md. */
static const char *const BIRTH_SCHEMA =
    "{"
    " '$comment': 'Birth registration (dang ky khai sinh), form data v1',"
    " 'title': 'Đăng ký khai sinh',"
    " 'type': 'object',"
    " 'additionalProperties': false,"
    " 'required': ['children', 'mother', 'declarant', 'copies'],"
    " 'properties': {"
    "  'children': {"
    "   'title': 'Trẻ được khai sinh', 'type': 'array', 'minItems': 1, 'maxItems': 5,"
    "   'items': {"
    "    'type': 'object', 'additionalProperties': false,"
    "    'required': ['full_name', 'sex', 'birth_date', 'birth_place'],"
    "    'properties': {"
    "     'full_name': {'title': 'Họ, chữ đệm và tên', 'type': 'string',"
    "                   'minLength': 2, 'maxLength': 100},"
    "     'sex': {'title': 'Giới tính', 'enum': ['male', 'female']},"
    "     'birth_date': {'title': 'Ngày sinh', 'type': 'string', 'format': 'date'},"
    "     'birth_place': {'type': 'string', 'minLength': 1, 'maxLength': 255},"
    "     'ethnicity': {'type': 'string', 'maxLength': 50, 'default': 'Kinh'},"
    "     'birth_weight_grams': {'type': 'integer', 'exclusiveMinimum': 0,"
    "                            'maximum': 8000}"
    "    }"
    "   }"
    "  },"
    "  'mother': {"
    "   'type': 'object', 'additionalProperties': false,"
    "   'required': ['full_name', 'birth_date', 'personal_id'],"
    "   'properties': {"
    "    'full_name': {'type': 'string', 'minLength': 2, 'maxLength': 100},"
    "    'birth_date': {'type': 'string', 'format': 'date'},"
    "    'personal_id': {'type': 'string', 'format': 'vn-personal-id',"
    "                    'examples': ['001190012345']},"
    "    'ethnicity': {'type': 'string', 'maxLength': 50}"
    "   }"
    "  },"
    "  'father': {"
    "   'description': 'null when the father is not declared',"
    "   'type': ['object', 'null'], 'additionalProperties': false,"
    "   'required': ['full_name', 'personal_id'],"
    "   'properties': {"
    "    'full_name': {'type': 'string', 'minLength': 2, 'maxLength': 100},"
    "    'personal_id': {'type': 'string', 'format': 'vn-personal-id'}"
    "   }"
    "  },"
    "  'declarant': {"
    "   'type': 'object', 'additionalProperties': false,"
    "   'required': ['full_name', 'relationship', 'phone'],"
    "   'properties': {"
    "    'full_name': {'type': 'string', 'minLength': 2, 'maxLength': 100},"
    "    'relationship': {'enum': ['mother', 'father', 'grandparent', 'other']},"
    "    'phone': {'type': 'string', 'format': 'vn-phone'},"
    "    'email': {'type': 'string', 'format': 'email', 'maxLength': 254}"
    "   }"
    "  },"
    "  'copies': {'title': 'Số bản sao trích lục', 'type': 'integer', 'minimum': 0,"
    "             'maximum': 10},"
    "  'residence_code': {'type': 'string', 'pattern': '^[0-9]{5}$'},"
    "  'confirm': {'const': true}"
    " }"
    "}";

static const char *const BIRTH_VALID =
    "{"
    " 'children': [{'full_name': 'Nguyễn Văn An', 'sex': 'male',"
    "               'birth_date': '2024-02-29', 'birth_place': 'Bệnh viện Phụ sản Hà Nội',"
    "               'birth_weight_grams': 3200}],"
    " 'mother': {'full_name': 'Trần Thị Bích', 'birth_date': '1995-07-14',"
    "            'personal_id': '001195012345'},"
    " 'father': null,"
    " 'declarant': {'full_name': 'Trần Thị Bích', 'relationship': 'mother',"
    "               'phone': '091 234 5678', 'email': 'bich.tran@example.vn'},"
    " 'copies': 2,"
    " 'residence_code': '00001',"
    " 'confirm': true"
    "}";

/* ------------------------------------------------------------------------------------ */
/* Keywords                                                                              */

static void test_type(void **state)
{
    (void)state;
    accept("{'type':'string'}", "'x'");
    reject("{'type':'string'}", "1", "type");
    accept("{'type':'number'}", "1");
    accept("{'type':'number'}", "1.5");
    reject("{'type':'number'}", "'1'", "type");
    accept("{'type':'integer'}", "3");
    accept("{'type':'integer'}", "-9007199254740993");
    reject("{'type':'integer'}", "3.5", "type");
    /* documented: 3.0 is not an integer because jansson parses it as a real */
    reject("{'type':'integer'}", "3.0", "type");
    accept("{'type':'boolean'}", "false");
    reject("{'type':'boolean'}", "0", "type");
    accept("{'type':'object'}", "{}");
    reject("{'type':'object'}", "[]", "type");
    accept("{'type':'array'}", "[]");
    reject("{'type':'array'}", "{}", "type");
    accept("{'type':'null'}", "null");
    reject("{'type':'null'}", "''", "type");
    accept("{'type':['string','null']}", "null");
    accept("{'type':['string','null']}", "'a'");
    reject("{'type':['string','null']}", "1", "type");
    accept("{}", "{'anything': [1, 2, 3]}");

    json_t *errors = NULL;
    run("{'type':'integer'}", "'x'", "/form_data", &errors);
    assert_string_equal(message_at(errors, 0), "must be an integer");
    json_decref(errors);
    run("{'type':['string','null']}", "1", "", &errors);
    assert_string_equal(message_at(errors, 0), "must be a string or null");
    json_decref(errors);
}

static void test_properties_required(void **state)
{
    (void)state;
    const char *s = "{'type':'object','required':['full_name','sex'],"
                    "'properties':{'full_name':{'type':'string'},'sex':{'enum':['male','female']},"
                    "'note':{'type':'string'}}}";
    accept(s, "{'full_name':'Lê Văn Tám','sex':'male'}");
    accept(s, "{'full_name':'Lê Văn Tám','sex':'male','note':'x','extra':1}");

    json_t *errors = NULL;
    assert_int_equal(run(s, "{'note': 5}", "/form_data", &errors), 3);
    expect_error(errors, "/form_data/full_name", "required");
    expect_error(errors, "/form_data/sex", "required");
    expect_error(errors, "/form_data/note", "type");
    assert_string_equal(message_at(errors, 0), "is required");
    json_decref(errors);

    /* required only applies to objects; null counts as present */
    accept("{'required':['a']}", "'not an object'");
    accept("{'required':['a'],'properties':{'a':{}}}", "{'a':null}");
}

static void test_nested_required_pointer(void **state)
{
    (void)state;
    json_t *errors = NULL;
    assert_int_equal(run("{'properties':{'mother':{'type':'object','required':['full_name'],"
                         "'properties':{'full_name':{'type':'string'}}}}}",
                         "{'mother':{}}", "/form_data", &errors),
                     1);
    expect_error(errors, "/form_data/mother/full_name", "required");
    json_decref(errors);
}

static void test_additional_properties(void **state)
{
    (void)state;
    const char *closed = "{'type':'object','additionalProperties':false,"
                         "'properties':{'a':{},'b':{}}}";
    accept(closed, "{'a':1,'b':2}");
    accept(closed, "{}");
    json_t *errors = NULL;
    assert_int_equal(run(closed, "{'a':1,'x':2,'y':3}", "/f", &errors), 2);
    expect_error(errors, "/f/x", "additional_property");
    expect_error(errors, "/f/y", "additional_property");
    json_decref(errors);
    accept("{'additionalProperties':true,'properties':{'a':{}}}", "{'z':1}");
    /* no properties at all + false: every member is extra */
    assert_int_equal(run("{'additionalProperties':false}", "{'k':1}", "", &errors), 1);
    expect_error(errors, "/k", "additional_property");
    json_decref(errors);
}

static void test_enum_const(void **state)
{
    (void)state;
    accept("{'enum':['male','female']}", "'female'");
    reject("{'enum':['male','female']}", "'Male'", "enum");
    accept("{'enum':[1, 'x', null, {'a':[1,2]}]}", "null");
    accept("{'enum':[1, 'x', null, {'a':[1,2]}]}", "{'a':[1,2]}");
    reject("{'enum':[1, 'x', null, {'a':[1,2]}]}", "{'a':[2,1]}", "enum");
    /* numbers compare mathematically */
    accept("{'enum':[1, 2]}", "2.0");
    reject("{'enum':[1, 2]}", "2.5", "enum");
    reject("{'enum':[1]}", "true", "enum");

    accept("{'const':true}", "true");
    reject("{'const':true}", "false", "const");
    reject("{'const':true}", "1", "const");
    accept("{'const':{'a':1,'b':[null]}}", "{'b':[null],'a':1.0}");
    reject("{'const':{'a':1,'b':[null]}}", "{'a':1,'b':[null],'c':0}", "const");
    accept("{'const':null}", "null");
    reject("{'const':null}", "0", "const");
    accept("{'const':'VN'}", "'VN'");
    reject("{'const':'VN'}", "'VNM'", "const");
}

static void test_string_length_unicode(void **state)
{
    (void)state;
    /* "Nguyễn Văn A" is 12 code points (15 bytes in UTF-8) */
    const char *name = "'Nguyễn Văn A'";
    assert_int_equal(strlen("Nguyễn Văn A"), 15);
    accept("{'maxLength':12}", name);
    reject("{'maxLength':11}", name, "max_length");
    accept("{'minLength':12}", name);
    reject("{'minLength':13}", name, "min_length");
    /* NFD-free precomposed characters and astral plane characters count once each */
    accept("{'minLength':2,'maxLength':2}", "'\\ud83d\\ude00ễ'");
    accept("{'minLength':0,'maxLength':0}", "''");
    /* length keywords ignore non-strings */
    accept("{'minLength':5}", "12");

    json_t *errors = NULL;
    run("{'maxLength':100}",
        "'"
        "0123456789012345678901234567890123456789"
        "0123456789012345678901234567890123456789012345678901234567890123456789'",
        "/form_data/x", &errors);
    assert_int_equal(json_array_size(errors), 1);
    assert_string_equal(message_at(errors, 0), "must be at most 100 characters");
    json_decref(errors);
    run("{'minLength':1}", "''", "", &errors);
    assert_string_equal(message_at(errors, 0), "must be at least 1 character");
    json_decref(errors);
}

static void test_pattern(void **state)
{
    (void)state;
    accept("{'pattern':'^[0-9]{5}$'}", "'10000'");
    reject("{'pattern':'^[0-9]{5}$'}", "'1000'", "pattern");
    reject("{'pattern':'^[0-9]{5}$'}", "'10000a'", "pattern");
    /* unanchored: matches anywhere, as in JSON Schema */
    accept("{'pattern':'[0-9]'}", "'abc1def'");
    reject("{'pattern':'[0-9]'}", "'abcdef'", "pattern");
    accept("{'pattern':'^(HN|HCM|DN)-[A-Z]+$'}", "'HCM-ABC'");
    accept("{'pattern':'^[[:upper:]]{2}[[:digit:]]+$'}", "'AB12'");
    /* matching is by code point ("C.UTF-8"), whatever the process locale */
    accept("{'pattern':'^.{12}$'}", "'Nguyễn Văn A'");
    accept("{'pattern':'^[[:alpha:] ]+$'}", "'Nguyễn Văn A'");
    reject("{'pattern':'^[[:alpha:] ]+$'}", "'Nguyễn Văn 1'", "pattern");
    accept("{'pattern':'^(Ông|Bà) '}", "'Bà Trần Thị Bích'");
    /* patterns ignore non-strings */
    accept("{'pattern':'^a$'}", "5");
    /* an embedded NUL can't be seen by regexec, so it never matches */
    reject("{'pattern':'^a'}", "'a\\u0000b'", "pattern");
}

static void test_numeric_bounds(void **state)
{
    (void)state;
    accept("{'minimum':0}", "0");
    reject("{'minimum':0}", "-1", "minimum");
    reject("{'minimum':0}", "-0.0001", "minimum");
    accept("{'minimum':0.5}", "1");
    reject("{'minimum':0.5}", "0", "minimum");
    accept("{'maximum':10}", "10");
    accept("{'maximum':10}", "10.0");
    reject("{'maximum':10}", "10.5", "maximum");
    reject("{'maximum':10}", "11", "maximum");
    accept("{'exclusiveMinimum':0}", "1");
    accept("{'exclusiveMinimum':0}", "0.001");
    reject("{'exclusiveMinimum':0}", "0", "exclusive_minimum");
    reject("{'exclusiveMinimum':0}", "0.0", "exclusive_minimum");
    accept("{'exclusiveMaximum':100}", "99.99");
    reject("{'exclusiveMaximum':100}", "100", "exclusive_maximum");
    /* large integers compare exactly, even against reals */
    accept("{'maximum':9007199254740993}", "9007199254740993");
    reject("{'maximum':9007199254740992}", "9007199254740993", "maximum");
    accept("{'maximum':9.2233720368547758e18}", "9223372036854775807"); /* 2^63 */
    reject("{'maximum':9.2233720368547748e18}", "9223372036854775807", "maximum");
    /* naive conversion to double would round 2^53 + 1 down to 2^53 and accept it */
    reject("{'maximum':9007199254740992.0}", "9007199254740993", "maximum");
    reject("{'const':9007199254740992.0}", "9007199254740993", "const");
    accept("{'minimum':-9.3e18}", "-9223372036854775807");
    /* bounds ignore non-numbers */
    accept("{'minimum':5}", "'1'");

    json_t *errors = NULL;
    assert_int_equal(run("{'minimum':1,'exclusiveMaximum':5}", "7", "", &errors), 1);
    assert_string_equal(message_at(errors, 0), "must be less than 5");
    json_decref(errors);
    run("{'minimum':0.5}", "0", "", &errors);
    assert_string_equal(message_at(errors, 0), "must be at least 0.5");
    json_decref(errors);
    run("{'minimum':18}", "17", "", &errors);
    assert_string_equal(message_at(errors, 0), "must be at least 18");
    json_decref(errors);
}

static void test_items(void **state)
{
    (void)state;
    accept("{'items':{'type':'integer'}}", "[1,2,3]");
    accept("{'items':{'type':'integer'}}", "[]");
    accept("{'minItems':1,'maxItems':2}", "[1]");
    accept("{'minItems':1,'maxItems':2}", "[1,2]");
    reject("{'minItems':1}", "[]", "min_items");
    reject("{'maxItems':2}", "[1,2,3]", "max_items");
    accept("{'minItems':3}", "'not an array'");

    json_t *errors = NULL;
    assert_int_equal(run("{'items':{'type':'integer'},'maxItems':2}", "[1,'a',3,null]",
                         "/form_data/codes", &errors),
                     3);
    expect_error(errors, "/form_data/codes", "max_items");
    expect_error(errors, "/form_data/codes/1", "type");
    expect_error(errors, "/form_data/codes/3", "type");
    assert_string_equal(message_at(errors, 0), "must have at most 2 items");
    json_decref(errors);
}

static void test_annotations_ignored(void **state)
{
    (void)state;
    accept("{'title':'Họ tên','description':'x','default':'a','examples':['b', 1],"
           "'$comment':'internal','type':'string'}",
           "'c'");
    reject("{'title':'t','type':'string','default':5}", "6", "type");
}

/* ------------------------------------------------------------------------------------ */
/* Formats                                                                               */

static void test_format_date(void **state)
{
    (void)state;
    const char *s = "{'format':'date'}";
    const char *good[] = {"2024-02-29", "2000-02-29", "1999-12-31", "2023-01-01",
                          "2023-04-30", "1975-04-30", "0001-01-01"};
    const char *bad[] = {"2023-02-29",  "1900-02-29",           "2024-13-01",
                         "2024-00-10",  "2024-01-00",           "2024-04-31",
                         "2024-06-31",  "2024-01-32",           "2024-1-01",
                         "24-01-01",    "2024/01/01",           " 2024-01-01",
                         "2024-01-01 ", "2024-01-01T00:00:00Z", "",
                         "31/12/2024",  "2024-0a-01",           "２０２４-01-01"};
    char buf[128];
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        snprintf(buf, sizeof buf, "'%s'", good[i]);
        accept(s, buf);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(buf, sizeof buf, "'%s'", bad[i]);
        reject(s, buf, "format");
    }
    accept(s, "20240101"); /* formats apply to strings only */
}

static void test_format_email(void **state)
{
    (void)state;
    const char *s = "{'format':'email'}";
    const char *good[] = {"nguyen.van.a@gmail.com",          "a@b.vn",
                          "bich.tran+motcua@example.gov.vn", "o\\u0027brien@example.com",
                          "x_y-z@sub-domain.example.com.vn", "user@xn--vietnam-0ua.vn"};
    const char *bad[] = {"",
                         "plainaddress",
                         "@example.com",
                         "user@",
                         "user@localhost",
                         "user@example.c",
                         "user@@example.com",
                         "a@b@example.com",
                         ".user@example.com",
                         "user.@example.com",
                         "us..er@example.com",
                         "user@-example.com",
                         "user@example-.com",
                         "user@example..com",
                         "user@.example.com",
                         "user@example.com.",
                         "user name@example.com",
                         "user@exa mple.com",
                         "user@127.0.0.1",
                         "nguyễn@example.vn",
                         "user@example.123"};
    char buf[512];
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        snprintf(buf, sizeof buf, "'%s'", good[i]);
        accept(s, buf);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(buf, sizeof buf, "'%s'", bad[i]);
        reject(s, buf, "format");
    }
    /* length limits: local part 64, total 254 */
    char local[80], addr[400];
    memset(local, 'a', 64);
    local[64] = '\0';
    snprintf(addr, sizeof addr, "'%s@example.vn'", local);
    accept(s, addr);
    memset(local, 'a', 65);
    local[65] = '\0';
    snprintf(addr, sizeof addr, "'%s@example.vn'", local);
    reject(s, addr, "format");
    char label[64];
    memset(label, 'b', 63);
    label[63] = '\0';
    snprintf(addr, sizeof addr, "'a@%s.%s.%s.%s.vn'", label, label, label, label);
    reject(s, addr, "format"); /* 2 + 4*64 + 2 = 260 > 254 */
}

static void test_format_vn_personal_id(void **state)
{
    (void)state;
    const char *s = "{'format':'vn-personal-id'}";
    const char *good[] = {
        "001095012345", /* Hà Nội, male born 1995 */
        "079301000123", /* TP Hồ Chí Minh, female born 2001 */
        "048188004567", /* Đà Nẵng, male born 1988 */
        "096205999999", /* Cà Mau, female... born 2005 */
        "031090000001", /* Hải Phòng */
        "002200000000", /* Hà Giang */
        "092190123456", /* Cần Thơ */
    };
    const char *bad[] = {
        "003095012345",  /* 003 is not a province code */
        "000095012345",  /* 000 */
        "097095012345",  /* beyond 096 */
        "100095012345",  /* not a code */
        "050095012345",  /* gap in the official list */
        "00109501234",   /* 11 digits */
        "0010950123456", /* 13 digits */
        "001095O12345",  /* letter O */
        "001 095 012 345", "001-095-012345", "",
        "123456789", /* old 9-digit CMND: not a personal identification number */
        "+01095012345",
    };
    char buf[128];
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        snprintf(buf, sizeof buf, "'%s'", good[i]);
        accept(s, buf);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(buf, sizeof buf, "'%s'", bad[i]);
        reject(s, buf, "format");
    }
    /* every code from 001 to 099: exactly 63 are valid */
    size_t valid = 0;
    for (int code = 0; code < 100; code++) {
        json_t *schema = J(s);
        char id[16];
        snprintf(id, sizeof id, "%03d095012345", code);
        json_t *inst = json_string(id);
        if (mc_form_schema_validate(schema, inst, "", NULL) == 0)
            valid++;
        json_decref(inst);
        json_decref(schema);
    }
    assert_int_equal(valid, 63);
}

static void test_format_vn_phone(void **state)
{
    (void)state;
    const char *s = "{'format':'vn-phone'}";
    const char *good[] = {
        "0912345678",       "0987654321",      "0323456789",      "0567891234",   "0701234567",
        "0812345678",       "091 234 5678",    "091.234.5678",    "091-234-5678", "0912 345 678",
        "+84912345678",     "+84 912 345 678", "+84-91-234-5678", "84912345678",  "84 384 123 456",
        "02438251234",      /* Hà Nội landline, 11 digits */
        "028 3829 1234",    /* TP HCM landline */
        "0236.3821.234",    /* Đà Nẵng landline */
        "0203 3825 123",    /* Quảng Ninh landline */
        "0213 382 1234",    /* 11 digits with 4-digit area code */
        "021 3382 123",     /* 10-digit landline */
        "+84 24 3825 1234", /* landline in international form */
    };
    const char *bad[] = {
        "0123456789", /* old 01x prefix, no longer mobile */
        "0412345678", /* 04 is not a mobile prefix */
        "0612345678",
        "091234567",     /* too short */
        "09123456789",   /* too long for a mobile */
        "912345678",     /* missing leading 0 */
        "+840912345678", /* trunk 0 after country code */
        "+85912345678",
        "+1 912 345 678",
        "091--2345678",
        "091 234 5678 ",
        " 0912345678",
        "(028) 38291234",
        "091a345678",
        "+",
        "",
        "0",
        "84",
        "+84",
        "024382512",    /* landline too short */
        "024382512345", /* landline too long */
        "0912_345_678",
        "091/234/5678",
        "０912345678",
        "0912345678901234567890",
    };
    char buf[128];
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        snprintf(buf, sizeof buf, "'%s'", good[i]);
        accept(s, buf);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(buf, sizeof buf, "'%s'", bad[i]);
        reject(s, buf, "format");
    }
}

/* ------------------------------------------------------------------------------------ */
/* Many errors at once, pointers                                                          */

static void test_birth_registration_valid(void **state)
{
    (void)state;
    accept(BIRTH_SCHEMA, BIRTH_VALID);
}

static void test_multiple_errors_with_pointers(void **state)
{
    (void)state;
    const char *bad = "{"
                      " 'children': ["
                      "   {'full_name': 'Nguyễn Văn An', 'sex': 'male', 'birth_date': '2024-01-15',"
                      "    'birth_place': 'Hà Nội'},"
                      "   {'full_name': 'N', 'sex': 'boy', 'birth_date': '2024-01-15',"
                      "    'birth_place': 'Hà Nội', 'birth_weight_grams': 0},"
                      "   {'full_name': 'Nguyễn Văn Ba', 'sex': 'male', 'birth_date': '2023-02-29',"
                      "    'birth_place': 'Hà Nội', 'nickname': 'Bin'}"
                      " ],"
                      " 'mother': {'birth_date': '1995-7-14', 'personal_id': '003195012345'},"
                      " 'father': 'unknown',"
                      " 'declarant': {'full_name': 'Trần Thị Bích', 'relationship': 'mother',"
                      "               'phone': '0123 456 789', 'email': 'bich@'},"
                      " 'copies': 11,"
                      " 'residence_code': '1234',"
                      " 'confirm': false,"
                      " 'captcha': 'x'"
                      "}";
    json_t *errors = NULL;
    size_t n = run(BIRTH_SCHEMA, bad, "/form_data", &errors);
    expect_error(errors, "/form_data/children/1/full_name", "min_length");
    expect_error(errors, "/form_data/children/1/sex", "enum");
    expect_error(errors, "/form_data/children/1/birth_weight_grams", "exclusive_minimum");
    expect_error(errors, "/form_data/children/2/birth_date", "format");
    expect_error(errors, "/form_data/children/2/nickname", "additional_property");
    expect_error(errors, "/form_data/mother/full_name", "required");
    expect_error(errors, "/form_data/mother/birth_date", "format");
    expect_error(errors, "/form_data/mother/personal_id", "format");
    expect_error(errors, "/form_data/father", "type");
    expect_error(errors, "/form_data/declarant/phone", "format");
    expect_error(errors, "/form_data/declarant/email", "format");
    expect_error(errors, "/form_data/copies", "maximum");
    expect_error(errors, "/form_data/residence_code", "pattern");
    expect_error(errors, "/form_data/confirm", "const");
    expect_error(errors, "/form_data/captcha", "additional_property");
    if (n != 15) {
        dump_errors(errors);
        fail_msg("expected 15 errors, got %zu", n);
    }
    json_decref(errors);

    /* missing top-level members and an empty children array */
    n = run(BIRTH_SCHEMA, "{'children': []}", "/form_data", &errors);
    expect_error(errors, "/form_data/children", "min_items");
    expect_error(errors, "/form_data/mother", "required");
    expect_error(errors, "/form_data/declarant", "required");
    expect_error(errors, "/form_data/copies", "required");
    assert_int_equal(n, 4);
    json_decref(errors);
}

static void test_pointer_escaping(void **state)
{
    (void)state;
    json_t *errors = NULL;
    size_t n = run("{'required':['a/b','c~d','~1'],'properties':{'x/y~z':{'type':'string'},"
                   "'a/b':{},'c~d':{},'~1':{}},'additionalProperties':false}",
                   "{'x/y~z': 1, 'e/': true}", "/form_data", &errors);
    assert_int_equal(n, 5);
    expect_error(errors, "/form_data/a~1b", "required");
    expect_error(errors, "/form_data/c~0d", "required");
    expect_error(errors, "/form_data/~01", "required");
    expect_error(errors, "/form_data/x~1y~0z", "type");
    expect_error(errors, "/form_data/e~1", "additional_property");
    json_decref(errors);

    /* empty property name and no base pointer */
    n = run("{'properties':{'':{'type':'integer'}}}", "{'':'x'}", NULL, &errors);
    assert_int_equal(n, 1);
    expect_error(errors, "/", "type");
    json_decref(errors);
}

static void test_errors_null_counts_only(void **state)
{
    (void)state;
    json_t *schema = J(BIRTH_SCHEMA);
    json_t *inst = J("{}");
    assert_int_equal(mc_form_schema_validate(schema, inst, "/form_data", NULL), 4);
    assert_int_equal(mc_form_schema_check(schema, "", NULL), 0);
    /* errors array is appended to, never cleared */
    json_t *errors = J("[{'pointer':'/x','code':'custom','message':'kept'}]");
    assert_int_equal(mc_form_schema_validate(schema, inst, "/form_data", errors), 4);
    assert_int_equal(json_array_size(errors), 5);
    assert_string_equal(message_at(errors, 0), "kept");
    json_decref(errors);
    json_decref(inst);
    json_decref(schema);
}

/* ------------------------------------------------------------------------------------ */
/* Schema check                                                                          */

static void test_check_accepts_valid(void **state)
{
    (void)state;
    check_ok(BIRTH_SCHEMA);
    check_ok("{}");
    check_ok("{'type':['integer','null'],'minimum':0,'maximum':0}");
    check_ok("{'minLength':3,'maxLength':3}");
    check_ok("{'exclusiveMinimum':0,'exclusiveMaximum':1}");
    check_ok("{'pattern':'^[A-Z]{2}[0-9]{6}$'}");
    check_ok("{'pattern':''}");
    check_ok("{'pattern':'[\\\\]]'}");
    check_ok("{'const':{'a':[1,{'b':null}]},'enum':[[1],[2]],'default':{},'examples':[]}");
}

static void test_check_unknown_keywords(void **state)
{
    (void)state;
    check_bad("{'type':'string','minlength':3}", "/minlength", "unsupported_keyword");
    check_bad("{'$schema':'https://json-schema.org/draft/2020-12/schema'}", "/$schema",
              "unsupported_keyword");
    check_bad("{'properties':{'a':{'oneOf':[]}}}", "/properties/a/oneOf", "unsupported_keyword");
    check_bad("{'items':{'$ref':'#'}}", "/items/$ref", "unsupported_keyword");
    check_bad("{'properties':{'a/b':{'format':'date','x-ui':1}}}", "/properties/a~1b/x-ui",
              "unsupported_keyword");

    /* several problems at once, with base pointer */
    json_t *errors =
        check_errors_of("{'allOf':[],'properties':{'n':{'type':'text','minLength':-1}},"
                        "'patternProperties':{}}",
                        "/form_schema");
    assert_int_equal(json_array_size(errors), 4);
    expect_error(errors, "/form_schema/allOf", "unsupported_keyword");
    expect_error(errors, "/form_schema/patternProperties", "unsupported_keyword");
    expect_error(errors, "/form_schema/properties/n/type", "invalid_schema");
    expect_error(errors, "/form_schema/properties/n/minLength", "invalid_schema");
    json_decref(errors);
}

static void test_check_bad_patterns(void **state)
{
    (void)state;
    check_bad("{'pattern':'(abc'}", "/pattern", "invalid_schema");
    check_bad("{'pattern':'[a-'}", "/pattern", "invalid_schema");
    check_bad("{'pattern':'a{3,1}'}", "/pattern", "invalid_schema");
    check_bad("{'properties':{'p':{'pattern':'*+'}}}", "/properties/p/pattern", "invalid_schema");
    check_bad("{'pattern':'(a)\\\\1'}", "/pattern", "invalid_schema"); /* back-reference */
    check_bad("{'pattern':'((a{0,255}){0,255}){0,255}'}", "/pattern", "invalid_schema");
    check_bad("{'pattern':'^[0-9]{1,60000}$'}", "/pattern", "invalid_schema");
    /* ECMA-262 habits that POSIX ERE does not have */
    check_bad("{'pattern':'^\\\\d{12}$'}", "/pattern", "invalid_schema");
    check_bad("{'pattern':'\\\\w+'}", "/pattern", "invalid_schema");
    check_bad("{'pattern':'a\\\\sb'}", "/pattern", "invalid_schema");
    check_bad("{'pattern':'\\\\bword'}", "/pattern", "invalid_schema");
    check_bad("{'pattern':'(?:ab)'}", "/pattern", "invalid_schema");
    check_bad("{'pattern':'a(?=b)'}", "/pattern", "invalid_schema");
    check_bad("{'pattern':'[[:letter:]]'}", "/pattern", "invalid_schema");
    /* ranges between non-ASCII characters: use [[:alpha:]] (documented) */
    check_bad("{'pattern':'^[A-Za-zÀ-ỹ ]+$'}", "/pattern", "invalid_schema");
    check_ok("{'pattern':'^[0-9]+\\\\.[0-9]+$'}"); /* escaped punctuation is fine */
    check_ok("{'pattern':'^\\\\\\\\d$'}");         /* an escaped backslash, then d */
    check_bad("{'pattern':5}", "/pattern", "invalid_schema");
    check_bad("{'pattern':'a\\u0000b'}", "/pattern", "invalid_schema");

    /* 512 bytes is fine, 513 is not */
    char text[700];
    char pat[600];
    memset(pat, 'a', 512);
    pat[512] = '\0';
    snprintf(text, sizeof text, "{'pattern':'%s'}", pat);
    check_ok(text);
    memset(pat, 'a', 513);
    pat[513] = '\0';
    snprintf(text, sizeof text, "{'pattern':'%s'}", pat);
    check_bad(text, "/pattern", "invalid_schema");

    /* the reason is in the message */
    json_t *errors = check_errors_of("{'pattern':'(abc'}", "");
    assert_non_null(strstr(message_at(errors, 0), "POSIX extended regular expression"));
    json_decref(errors);
    errors = check_errors_of("{'pattern':'^\\\\d+$'}", "");
    assert_non_null(strstr(message_at(errors, 0), "use [0-9]"));
    json_decref(errors);
}

static void test_check_wrong_keyword_types(void **state)
{
    (void)state;
    check_bad("[]", "", "invalid_schema");
    check_bad("true", "", "invalid_schema");
    check_bad("{'type':5}", "/type", "invalid_schema");
    check_bad("{'type':'text'}", "/type", "invalid_schema");
    check_bad("{'type':[]}", "/type", "invalid_schema");
    check_bad("{'type':['string','date']}", "/type/1", "invalid_schema");
    check_bad("{'type':['string','string']}", "/type/1", "invalid_schema");
    check_bad("{'properties':[]}", "/properties", "invalid_schema");
    check_bad("{'properties':{'a':'string'}}", "/properties/a", "invalid_schema");
    check_bad("{'required':'a'}", "/required", "invalid_schema");
    check_bad("{'required':['a',1]}", "/required/1", "invalid_schema");
    check_bad("{'required':['a','a']}", "/required/1", "invalid_schema");
    check_bad("{'additionalProperties':{}}", "/additionalProperties", "invalid_schema");
    check_bad("{'additionalProperties':'no'}", "/additionalProperties", "invalid_schema");
    check_bad("{'enum':[]}", "/enum", "invalid_schema");
    check_bad("{'enum':'a'}", "/enum", "invalid_schema");
    check_bad("{'minLength':-1}", "/minLength", "invalid_schema");
    check_bad("{'maxLength':1.5}", "/maxLength", "invalid_schema");
    check_bad("{'maxLength':'10'}", "/maxLength", "invalid_schema");
    check_bad("{'minItems':true}", "/minItems", "invalid_schema");
    check_bad("{'maxItems':-3}", "/maxItems", "invalid_schema");
    check_bad("{'minimum':'0'}", "/minimum", "invalid_schema");
    check_bad("{'maximum':null}", "/maximum", "invalid_schema");
    check_bad("{'exclusiveMinimum':true}", "/exclusiveMinimum", "invalid_schema");
    check_bad("{'exclusiveMaximum':[1]}", "/exclusiveMaximum", "invalid_schema");
    check_bad("{'items':[{}]}", "/items", "invalid_schema");
    check_bad("{'items':true}", "/items", "invalid_schema");
    check_bad("{'format':'phone'}", "/format", "invalid_schema");
    check_bad("{'format':'date-time'}", "/format", "invalid_schema");
    check_bad("{'format':1}", "/format", "invalid_schema");
    check_bad("{'title':3}", "/title", "invalid_schema");
    check_bad("{'description':{}}", "/description", "invalid_schema");
    check_bad("{'$comment':false}", "/$comment", "invalid_schema");
    check_bad("{'examples':{}}", "/examples", "invalid_schema");
    /* contradictory bounds */
    check_bad("{'minLength':5,'maxLength':4}", "/minLength", "invalid_schema");
    check_bad("{'minItems':2,'maxItems':1}", "/minItems", "invalid_schema");
    check_bad("{'minimum':10,'maximum':9.5}", "/minimum", "invalid_schema");
    check_bad("{'exclusiveMinimum':1,'exclusiveMaximum':1}", "/exclusiveMinimum", "invalid_schema");
    /* a required field that additionalProperties:false forbids */
    check_bad("{'required':['a','b'],'properties':{'a':{}},'additionalProperties':false}",
              "/required/1", "invalid_schema");
}

/* Builds {"properties":{"a":{"properties":{"a": ... }}}} with `levels` subschemas below
   the root, iteratively. */
static json_t *deep_schema(size_t levels)
{
    json_t *root = json_object();
    json_t *cur = root;
    json_object_set_new(cur, "type", json_string("object"));
    for (size_t i = 0; i < levels; i++) {
        json_t *props = json_object();
        json_t *child = json_object();
        json_object_set_new(child, "type", json_string("object"));
        json_object_set_new(props, "a", child);
        json_object_set_new(cur, "properties", props);
        cur = child;
    }
    return root;
}

/* {"a":{"a":{...}}} with `levels` nested objects below the root. */
static json_t *deep_object(size_t levels)
{
    json_t *root = json_object();
    json_t *cur = root;
    for (size_t i = 0; i < levels; i++) {
        json_t *child = json_object();
        json_object_set_new(cur, "a", child);
        cur = child;
    }
    return root;
}

/* [[[...]]] with `levels` nested arrays. */
static json_t *deep_array(size_t levels)
{
    json_t *root = json_array();
    json_t *cur = root;
    for (size_t i = 0; i < levels; i++) {
        json_t *child = json_array();
        json_array_append_new(cur, child);
        cur = child;
    }
    return root;
}

static void test_check_depth_limit(void **state)
{
    (void)state;
    json_t *errors = json_array();
    json_t *ok = deep_schema(MC_FORM_SCHEMA_MAX_DEPTH);
    assert_int_equal(mc_form_schema_check(ok, "", errors), 0);
    json_decref(ok);

    json_t *too = deep_schema(MC_FORM_SCHEMA_MAX_DEPTH + 1);
    assert_int_equal(mc_form_schema_check(too, "", errors), 1);
    char expected[1024] = "";
    for (int i = 0; i <= MC_FORM_SCHEMA_MAX_DEPTH; i++)
        strcat(expected, "/properties/a");
    expect_error(errors, expected, "too_deep");
    json_decref(too);
    json_decref(errors);

    /* items nesting counts too */
    errors = json_array();
    json_t *s = json_object();
    json_t *cur = s;
    for (int i = 0; i < 40; i++) {
        json_t *child = json_object();
        json_object_set_new(cur, "items", child);
        cur = child;
    }
    assert_int_equal(mc_form_schema_check(s, "", errors), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(errors, 0), "code")),
                        "too_deep");
    json_decref(s);
    json_decref(errors);

    /* deep const / enum / default values */
    errors = json_array();
    s = json_object();
    /* deep_array(n) has n + 1 nested arrays: 32 levels are fine, 33 are not */
    json_object_set_new(s, "const", deep_array(MC_FORM_SCHEMA_MAX_DEPTH - 1));
    assert_int_equal(mc_form_schema_check(s, "", errors), 0);
    json_object_set_new(s, "const", deep_array(MC_FORM_SCHEMA_MAX_DEPTH));
    json_object_set_new(s, "default", deep_object(100));
    json_t *en = json_array();
    json_array_append_new(en, deep_array(1000));
    json_object_set_new(s, "enum", en);
    assert_int_equal(mc_form_schema_check(s, "", errors), 3);
    expect_error(errors, "/const", "too_deep");
    expect_error(errors, "/default", "too_deep");
    expect_error(errors, "/enum/0", "too_deep");
    json_decref(s);
    json_decref(errors);
}

/* ------------------------------------------------------------------------------------ */
/* Hostile input                                                                         */

static void test_hostile_deep_nesting(void **state)
{
    (void)state;
    const size_t levels = 10000;

    /* 10000-level schema: check reports one too_deep, no stack overflow */
    json_t *schema = deep_schema(levels);
    json_t *errors = json_array();
    assert_int_equal(mc_form_schema_check(schema, "", errors), 1);
    json_decref(errors);

    /* validating a 10000-level instance against it (unchecked) */
    json_t *inst = deep_object(levels);
    errors = json_array();
    assert_int_equal(mc_form_schema_validate(schema, inst, "/form_data", errors), 1);
    char expected[1024] = "/form_data";
    for (int i = 0; i <= MC_FORM_SCHEMA_MAX_DEPTH; i++)
        strcat(expected, "/a");
    expect_error(errors, expected, "too_deep");
    json_decref(errors);
    json_decref(schema);

    /* deep instance against an ordinary schema: only the top level is looked at */
    json_t *birth = J(BIRTH_SCHEMA);
    errors = json_array();
    json_t *deep_arr = deep_array(levels);
    json_object_set_new(inst, "children", deep_arr);
    size_t n = mc_form_schema_validate(birth, inst, "/form_data", errors);
    assert_int_equal(n, 5); /* 3 x required, /a, /children/0 */
    expect_error(errors, "/form_data/a", "additional_property");
    expect_error(errors, "/form_data/children/0", "type");
    json_decref(errors);
    json_decref(birth);

    /* const / enum comparisons against deep values */
    json_t *s = J("{'const':[[[1]]],'enum':[{'a':{'a':{}}}, [[[[[]]]]]]}");
    errors = json_array();
    assert_int_equal(mc_form_schema_validate(s, deep_arr, "", errors), 2);
    assert_int_equal(mc_form_schema_validate(s, inst, "", errors), 2);
    assert_int_equal(json_array_size(errors), 4);
    json_decref(errors);
    json_decref(s);

    /* an unchecked schema whose const is as deep as the instance */
    s = json_object();
    json_object_set_new(s, "const", deep_array(levels));
    assert_int_equal(mc_form_schema_validate(s, deep_arr, "", NULL), 1);
    json_decref(s);

    /* deeply nested items schema with a deep array instance */
    s = json_object();
    json_t *cur = s;
    for (size_t i = 0; i < levels; i++) {
        json_t *child = json_object();
        json_object_set_new(cur, "type", json_string("array"));
        json_object_set_new(cur, "items", child);
        cur = child;
    }
    errors = json_array();
    assert_int_equal(mc_form_schema_validate(s, deep_arr, "", errors), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(errors, 0), "code")),
                        "too_deep");
    json_decref(errors);
    json_decref(s);
    json_decref(inst);
}

static void test_hostile_huge_strings(void **state)
{
    (void)state;
    const size_t big = 8u * 1024 * 1024;
    char *str = malloc(big + 1);
    assert_non_null(str);
    for (size_t i = 0; i < big; i++)
        str[i] = (char)('0' + (i % 10));
    str[big] = '\0';
    json_t *inst = json_stringn(str, big);
    assert_non_null(inst);

    json_t *schema = J("{'type':'string','maxLength':100,'pattern':'^[0-9]+$','format':'date'}");
    json_t *errors = json_array();
    assert_int_equal(mc_form_schema_validate(schema, inst, "/form_data/x", errors), 3);
    expect_error(errors, "/form_data/x", "max_length");
    expect_error(errors, "/form_data/x", "pattern");
    expect_error(errors, "/form_data/x", "format");
    json_decref(errors);
    json_decref(schema);

    const char *fmts[] = {"email", "vn-phone", "vn-personal-id", "date"};
    for (size_t i = 0; i < 4; i++) {
        json_t *s = json_object();
        json_object_set_new(s, "format", json_string(fmts[i]));
        assert_int_equal(mc_form_schema_validate(s, inst, "", NULL), 1);
        json_decref(s);
    }
    json_decref(inst);

    /* a huge string of '@' / separators / Vietnamese letters */
    memset(str, '@', big);
    inst = json_stringn(str, big);
    schema = J("{'format':'email'}");
    assert_int_equal(mc_form_schema_validate(schema, inst, "", NULL), 1);
    json_decref(schema);
    json_decref(inst);
    for (size_t i = 0; i + 1 < big; i += 2) {
        str[i] = '9';
        str[i + 1] = ' ';
    }
    inst = json_stringn(str, big - 1);
    schema = J("{'format':'vn-phone'}");
    assert_int_equal(mc_form_schema_validate(schema, inst, "", NULL), 1);
    json_decref(schema);
    json_decref(inst);
    free(str);

    /* 1M code points of "ễ" (3 bytes each) */
    size_t cps = 1000000;
    char *viet = malloc(cps * 3 + 1);
    assert_non_null(viet);
    for (size_t i = 0; i < cps; i++)
        memcpy(viet + 3 * i, "ễ", 3);
    inst = json_stringn(viet, cps * 3);
    free(viet);
    schema = J("{'minLength':1000000,'maxLength':1000000}");
    assert_int_equal(mc_form_schema_validate(schema, inst, "", NULL), 0);
    json_decref(schema);
    schema = J("{'maxLength':999999}");
    assert_int_equal(mc_form_schema_validate(schema, inst, "", NULL), 1);
    json_decref(schema);
    json_decref(inst);
}

static void test_hostile_many_errors_and_keys(void **state)
{
    (void)state;
    /* 20000 array items, each with two violations: every one is reported */
    json_t *schema = J("{'items':{'type':'object','required':['a'],'additionalProperties':false}}");
    json_t *inst = json_array();
    for (int i = 0; i < 20000; i++)
        json_array_append_new(inst, json_pack("{s:i}", "b", i));
    json_t *errors = json_array();
    assert_int_equal(mc_form_schema_validate(schema, inst, "/form_data/rows", errors), 40000);
    expect_error(errors, "/form_data/rows/19999/a", "required");
    expect_error(errors, "/form_data/rows/12345/b", "additional_property");
    json_decref(errors);
    json_decref(inst);
    json_decref(schema);

    /* property names with every awkward byte sequence still yield valid pointers */
    schema = J("{'additionalProperties':false}");
    inst = json_object();
    json_object_setn_new(inst, "a\0b", 3, json_true());
    json_object_set_new(inst, "~/~/", json_true());
    json_object_set_new(inst, "Họ tên", json_true());
    errors = json_array();
    assert_int_equal(mc_form_schema_validate(schema, inst, "", errors), 3);
    expect_error(errors, "/~0~1~0~1", "additional_property");
    expect_error(errors, "/Họ tên", "additional_property");
    json_t *p0 = json_object_get(json_array_get(errors, 0), "pointer");
    assert_int_equal(json_string_length(p0), 4); /* "/a\0b" keeps its NUL */
    json_decref(errors);
    json_decref(inst);
    json_decref(schema);
}

static void test_fail_closed_on_malformed_schema(void **state)
{
    (void)state;
    /* validate never trusts an unchecked schema: malformed keywords are reported */
    const char *cases[] = {
        "{'type':'text'}", "{'type':7}",        "{'type':[]}",
        "{'enum':3}",      "{'minLength':'2'}", "{'pattern':'(('}",
        "{'format':'x'}",  "{'minimum':'1'}",   "{'maxLength':-5}",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *schema = J(cases[i]);
        json_t *inst = strstr(cases[i], "minimum") ? json_integer(3) : J("'abc'");
        json_t *errors = json_array();
        size_t n = mc_form_schema_validate(schema, inst, "/form_data", errors);
        if (n != 1 || count_error(errors, "/form_data", "invalid_schema") != 1) {
            dump_errors(errors);
            fail_msg("expected invalid_schema for %s", cases[i]);
        }
        json_decref(errors);
        json_decref(inst);
        json_decref(schema);
    }
    const char *obj_cases[] = {"{'required':'a'}", "{'properties':[]}",
                               "{'additionalProperties':{}}", "{'minItems':'1'}"};
    for (size_t i = 0; i < sizeof obj_cases / sizeof obj_cases[0]; i++) {
        json_t *schema = J(obj_cases[i]);
        json_t *inst = strstr(obj_cases[i], "Items") ? J("[1]") : J("{'a':1}");
        assert_int_equal(mc_form_schema_validate(schema, inst, "", NULL), 1);
        json_decref(inst);
        json_decref(schema);
    }

    /* NULL / non-object schema, NULL instance, NULL schema for check */
    json_t *inst = J("{}");
    json_t *errors = json_array();
    assert_int_equal(mc_form_schema_validate(NULL, inst, "/f", errors), 1);
    expect_error(errors, "/f", "invalid_schema");
    json_decref(errors);
    json_t *schema = J("{'type':'object'}");
    errors = json_array();
    assert_int_equal(mc_form_schema_validate(schema, NULL, "/f", errors), 1);
    expect_error(errors, "/f", "type");
    json_decref(errors);
    errors = json_array();
    assert_int_equal(mc_form_schema_check(NULL, "/s", errors), 1);
    expect_error(errors, "/s", "invalid_schema");
    json_decref(errors);
    json_decref(schema);
    json_decref(inst);
}

static void test_hostile_pattern_input(void **state)
{
    (void)state;
    /* a string just above the matching limit is refused without running the regex */
    size_t n = MC_FORM_SCHEMA_MAX_PATTERN_INPUT + 1;
    char *s = malloc(n);
    assert_non_null(s);
    memset(s, 'a', n);
    json_t *inst = json_stringn(s, n);
    json_t *schema = J("{'pattern':'^a*$'}");
    assert_int_equal(mc_form_schema_validate(schema, inst, "", NULL), 1);
    json_decref(inst);
    inst = json_stringn(s, n - 1);
    assert_int_equal(mc_form_schema_validate(schema, inst, "", NULL), 0);
    json_decref(inst);
    json_decref(schema);
    free(s);
}

/* ------------------------------------------------------------------------------------ */
/* Thread safety: one shared schema, several threads validating at once.                  */

typedef struct {
    const json_t *schema;
    const mc_form_schema *compiled; /* NULL: validate against the JSON schema */
    size_t failures;
} thread_arg;

static size_t validate_either(const thread_arg *arg, const json_t *inst, json_t *errors)
{
    return arg->compiled != NULL
               ? mc_form_schema_validate_compiled(arg->compiled, inst, "/form_data", errors)
               : mc_form_schema_validate(arg->schema, inst, "/form_data", errors);
}

static void *validate_worker(void *p)
{
    thread_arg *arg = p;
    json_error_t err;
    char text[4096];
    snprintf(text, sizeof text, "%s", BIRTH_VALID);
    for (char *c = text; *c; c++) {
        if (*c == '\'')
            *c = '"';
    }
    json_t *good = json_loads(text, 0, &err);
    json_t *bad = json_loads("{\"copies\": -1}", 0, &err);
    json_t *bad_pattern = json_deep_copy(good);
    json_object_set_new(bad_pattern, "residence_code", json_string("1234x"));
    for (int i = 0; i < 200; i++) {
        json_t *errors = json_array();
        if (validate_either(arg, good, errors) != 0)
            arg->failures++;
        if (validate_either(arg, bad, errors) != 4)
            arg->failures++;
        if (validate_either(arg, bad_pattern, errors) != 1)
            arg->failures++;
        json_decref(errors);
    }
    json_decref(good);
    json_decref(bad);
    json_decref(bad_pattern);
    return NULL;
}

static void test_thread_safety(void **state)
{
    (void)state;
    json_t *schema = J(BIRTH_SCHEMA);
    /* half the threads share one compiled schema (one regex_t per pattern) */
    mc_form_schema *compiled = mc_form_schema_compile(schema);
    assert_non_null(compiled);
    pthread_t threads[4];
    thread_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i].schema = schema;
        args[i].compiled = i % 2 == 0 ? compiled : NULL;
        args[i].failures = 0;
        assert_int_equal(pthread_create(&threads[i], NULL, validate_worker, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        assert_int_equal(args[i].failures, 0);
    }
    mc_form_schema_free(compiled);
    json_decref(schema);
}

/* A schema with any problem does not compile; a schema without patterns does. */
static void test_compile_refuses_bad_schemas(void **state)
{
    (void)state;
    const char *bad[] = {"{'pattern':'('}", "{'pattern':'\\\\d'}", "{'type':'text'}",
                         "{'properties':{'a':{'minLength':-1}}}", "{'frobnicate':1}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *schema = J(bad[i]);
        assert_true(mc_form_schema_check(schema, "", NULL) > 0);
        assert_null(mc_form_schema_compile(schema));
        json_decref(schema);
    }
    assert_null(mc_form_schema_compile(NULL));
    json_t *plain = J("{'type':'object','properties':{'n':{'type':'integer'}}}");
    mc_form_schema *fs = mc_form_schema_compile(plain);
    assert_non_null(fs);
    json_t *inst = J("{'n':'x'}");
    json_t *errors = json_array();
    assert_int_equal(mc_form_schema_validate_compiled(fs, inst, "", errors), 1);
    expect_error(errors, "/n", "type");
    json_decref(errors);
    json_decref(inst);
    mc_form_schema_free(fs);
    json_decref(plain);
}

/*
 * Patterns are compiled and matched under C.UTF-8 whatever the process locale: the
 * same schema and data give the same answer under "C" (bytes) and "C.UTF-8" (code
 * points), with patterns compiled under one process locale and matched under another.
 */
static void test_process_locale_does_not_matter(void **state)
{
    (void)state;
    json_t *schema = J("{'type':'object','properties':{"
                       " 'name':{'pattern':'^.{12}$'},"
                       " 'alpha':{'pattern':'^[[:alpha:] ]+$'},"
                       " 'ascii':{'pattern':'^[a-z]{1,3}$'}}}");
    json_t *good = J("{'name':'Nguyễn Văn A','alpha':'Trần Thị Bích','ascii':'abc'}");
    json_t *bad = J("{'name':'Nguyễn Văn AB','alpha':'Trần Thị 1','ascii':'ễ'}");
    assert_non_null(setlocale(LC_ALL, "C"));
    mc_form_schema *compiled = mc_form_schema_compile(schema);
    assert_non_null(compiled);
    const char *locales[] = {"C", "C.UTF-8", "C.utf8", "POSIX"};
    size_t tried = 0;
    for (size_t i = 0; i < sizeof locales / sizeof locales[0]; i++) {
        if (setlocale(LC_ALL, locales[i]) == NULL)
            continue;
        tried++;
        assert_int_equal(mc_form_schema_validate(schema, good, "", NULL), 0);
        assert_int_equal(mc_form_schema_validate_compiled(compiled, good, "", NULL), 0);
        json_t *errors = json_array();
        assert_int_equal(mc_form_schema_validate(schema, bad, "", errors), 3);
        assert_int_equal(mc_form_schema_validate_compiled(compiled, bad, "", errors), 3);
        assert_int_equal(count_error(errors, "/name", "pattern"), 2);
        assert_int_equal(count_error(errors, "/alpha", "pattern"), 2);
        assert_int_equal(count_error(errors, "/ascii", "pattern"), 2);
        json_decref(errors);
    }
    assert_true(tried >= 2);
    setlocale(LC_ALL, "C");
    mc_form_schema_free(compiled);
    json_decref(bad);
    json_decref(good);
    json_decref(schema);
}

/* Found by fuzzing: patterns whose glibc compilation explodes in time and
   memory must be refused when the schema is saved. */
static void test_explosive_patterns_refused(void **state)
{
    (void)state;
    const char *patterns[] = {"a++++++++++++++++++++++", "([a-x]{,255}){,255}", "^(|x){0,120}*$",
                              "x*+", "(ab){2}{3}"};
    for (size_t i = 0; i < sizeof patterns / sizeof patterns[0]; i++) {
        json_t *schema = json_pack("{ss ss}", "type", "string", "pattern", patterns[i]);
        json_t *errors = json_array();
        assert_true(mc_form_schema_check(schema, "", errors) >= 1);
        json_decref(errors);
        json_decref(schema);
    }
    /* ordinary patterns still pass */
    json_t *ok = json_pack("{ss ss}", "type", "string", "pattern", "^[0-9]{2}(-[0-9]{3})+$");
    json_t *errors = json_array();
    assert_int_equal(mc_form_schema_check(ok, "", errors), 0);
    json_decref(errors);
    json_decref(ok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type),
        cmocka_unit_test(test_properties_required),
        cmocka_unit_test(test_nested_required_pointer),
        cmocka_unit_test(test_additional_properties),
        cmocka_unit_test(test_enum_const),
        cmocka_unit_test(test_string_length_unicode),
        cmocka_unit_test(test_pattern),
        cmocka_unit_test(test_numeric_bounds),
        cmocka_unit_test(test_items),
        cmocka_unit_test(test_annotations_ignored),
        cmocka_unit_test(test_format_date),
        cmocka_unit_test(test_format_email),
        cmocka_unit_test(test_format_vn_personal_id),
        cmocka_unit_test(test_format_vn_phone),
        cmocka_unit_test(test_birth_registration_valid),
        cmocka_unit_test(test_multiple_errors_with_pointers),
        cmocka_unit_test(test_pointer_escaping),
        cmocka_unit_test(test_errors_null_counts_only),
        cmocka_unit_test(test_check_accepts_valid),
        cmocka_unit_test(test_check_unknown_keywords),
        cmocka_unit_test(test_check_bad_patterns),
        cmocka_unit_test(test_check_wrong_keyword_types),
        cmocka_unit_test(test_check_depth_limit),
        cmocka_unit_test(test_hostile_deep_nesting),
        cmocka_unit_test(test_hostile_huge_strings),
        cmocka_unit_test(test_hostile_many_errors_and_keys),
        cmocka_unit_test(test_fail_closed_on_malformed_schema),
        cmocka_unit_test(test_hostile_pattern_input),
        cmocka_unit_test(test_thread_safety),
        cmocka_unit_test(test_explosive_patterns_refused),
        cmocka_unit_test(test_compile_refuses_bad_schemas),
        cmocka_unit_test(test_process_locale_does_not_matter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
