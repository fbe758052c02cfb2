/*
 * Unit tests of the catalogue's pure logic: procedure document rules,
 * office hours, normal forms, time-limit lookup and identifier formats
 * (services/catalogue/procedure_rules.c, codes.c).
 */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "codes.h"
#include "motcua/calendar.h"
#include "motcua/json_spec.h"
#include "procedure_rules.h"

/* A complete, valid procedure document (the write shape). */
static const char valid_doc_text[] =
    "{\"code\": \"1.001193\", \"name\": \"Đăng ký khai sinh\", \"sector_code\": \"ho-tich\","
    " \"admin_level\": \"commune\", \"applicant_types\": [\"citizen\"],"
    " \"agency_codes\": [\"000.01.01.H56\", \"000.01.02.H56\"],"
    " \"implementing_agency\": \"Ủy ban nhân dân cấp xã\", \"competent_agency\": null,"
    " \"delegated_agency\": null, \"cooperating_agency\": null, \"description\": \"Mô tả\","
    " \"conditions\": null, \"result\": \"Giấy khai sinh\", \"online_level\": 4,"
    " \"online_scope\": \"full\", \"supplement_clock\": \"restart\","
    " \"legal_basis\": [{\"number\": \"60/2014/QH13\", \"title\": \"Luật Hộ tịch\","
    "                    \"issued_on\": \"2014-11-20\"}],"
    " \"publication_decision\": {\"number\": \"1872/QĐ-BTP\", \"date\": \"2020-10-07\","
    "                            \"summary\": null},"
    " \"cases\": [{"
    "   \"code\": \"default\", \"name\": \"Đăng ký khai sinh\", \"steps\": [\"Nộp tờ khai\"],"
    "   \"channels\": ["
    "     {\"channel\": \"online\", \"time_limit\": {\"value\": 0.5, \"unit\": \"working_days\"},"
    "      \"fees\": [{\"code\": \"LP\", \"name\": \"Lệ phí\", \"amount\": 0, \"description\": "
    "null,"
    "                 \"effective_from\": \"2020-01-01\", \"effective_to\": \"2020-01-01\"}],"
    "      \"fee_collection\": \"after\"},"
    "     {\"channel\": \"in_person\", \"time_limit\": {\"value\": 3, \"unit\": \"calendar_days\"},"
    "      \"fees\": [], \"fee_collection\": \"exempt\"}],"
    "   \"documents\": [{\"code\": \"TK\", \"name\": \"Tờ khai\", \"template_url\": null,"
    "                    \"originals\": 1, \"copies\": 0, \"mandatory\": true,"
    "                    \"description\": null}],"
    "   \"form_schema\": {\"type\": \"object\", \"properties\": {\"dob\": {\"type\": \"string\","
    "                    \"format\": \"date\"}}, \"required\": [\"dob\"]},"
    "   \"processing_steps\": [{\"name\": \"Tiếp nhận\", \"role\": \"officer\","
    "                           \"allowance_hours\": 0.5}]"
    " }, {"
    "   \"code\": \"abroad\", \"name\": \"Ở nước ngoài\", \"steps\": [],"
    "   \"channels\": [{\"channel\": \"postal\", \"time_limit\": {\"value\": 8,"
    "                   \"unit\": \"working_hours\"}, \"fees\": [],"
    "                   \"fee_collection\": \"after\"}],"
    "   \"documents\": [], \"form_schema\": null, \"processing_steps\": []"
    " }]}";

static json_t *load(const char *text)
{
    json_error_t err;
    json_t *v = json_loads(text, JSON_REJECT_DUPLICATES, &err);
    if (v == NULL)
        fail_msg("bad test JSON: %s (line %d col %d)", err.text, err.line, err.column);
    return v;
}

/* The value at a JSON pointer made of simple segments (no escapes). */
static json_t *at(json_t *root, const char *pointer)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", pointer);
    json_t *v = root;
    for (char *seg = strtok(buf, "/"); seg != NULL && v != NULL; seg = strtok(NULL, "/")) {
        if (json_is_array(v))
            v = json_array_get(v, (size_t)strtoul(seg, NULL, 10));
        else
            v = json_object_get(v, seg);
    }
    return v;
}

static bool has_error(const json_t *errors, const char *pointer, const char *code)
{
    size_t i;
    const json_t *e;
    json_array_foreach(errors, i, e)
    {
        if (strcmp(mc_json_str(e, "pointer", ""), pointer) == 0 &&
            (code == NULL || strcmp(mc_json_str(e, "code", ""), code) == 0))
            return true;
    }
    return false;
}

static void print_errors(const json_t *errors)
{
    char *text = json_dumps(errors, JSON_INDENT(1));
    print_message("%s\n", text != NULL ? text : "?");
    free(text);
}

#define assert_error(errors, pointer, code)                                                        \
    do {                                                                                           \
        if (!has_error(errors, pointer, code)) {                                                   \
            print_errors(errors);                                                                  \
            fail_msg("expected error %s at %s", code, pointer);                                    \
        }                                                                                          \
    } while (0)

/* ---- procedure rules ---- */

static void test_valid_document_passes(void **state)
{
    (void)state;
    json_t *doc = load(valid_doc_text);
    json_t *errors = json_array();
    size_t n = catalogue_procedure_check(doc, errors);
    if (n != 0)
        print_errors(errors);
    assert_int_equal(n, 0);
    assert_int_equal(json_array_size(errors), 0);
    /* errors may be NULL: problems are only counted */
    assert_int_equal(catalogue_procedure_check(doc, NULL), 0);
    json_decref(errors);
    json_decref(doc);
}

static void test_duplicates_reported_at_the_repeat(void **state)
{
    (void)state;
    json_t *doc = load(valid_doc_text);
    json_array_append_new(at(doc, "/applicant_types"), json_string("citizen"));
    json_array_append_new(at(doc, "/agency_codes"), json_string("000.01.01.H56"));
    /* a second case with the first case's code */
    json_array_append(at(doc, "/cases"), at(doc, "/cases/0"));
    json_t *errors = json_array();
    size_t n = catalogue_procedure_check(doc, errors);
    assert_error(errors, "/applicant_types/1", CATALOGUE_E_DUPLICATE);
    assert_error(errors, "/agency_codes/2", CATALOGUE_E_DUPLICATE);
    assert_error(errors, "/cases/2/code", CATALOGUE_E_DUPLICATE);
    assert_false(has_error(errors, "/cases/0/code", NULL));
    assert_int_equal(n, 3);
    json_decref(errors);
    json_decref(doc);
}

static void test_channels_distinct_per_case(void **state)
{
    (void)state;
    json_t *doc = load(valid_doc_text);
    json_object_set_new(at(doc, "/cases/0/channels/1"), "channel", json_string("online"));
    /* the same channel in another case is fine */
    json_object_set_new(at(doc, "/cases/1/channels/0"), "channel", json_string("online"));
    json_t *errors = json_array();
    assert_int_equal(catalogue_procedure_check(doc, errors), 1);
    assert_error(errors, "/cases/0/channels/1/channel", CATALOGUE_E_DUPLICATE);
    json_decref(errors);
    json_decref(doc);
}

static void test_calendar_days_must_be_whole(void **state)
{
    (void)state;
    json_t *doc = load(valid_doc_text);
    json_object_set_new(at(doc, "/cases/0/channels/1/time_limit"), "value", json_real(2.5));
    json_t *errors = json_array();
    assert_int_equal(catalogue_procedure_check(doc, errors), 1);
    assert_error(errors, "/cases/0/channels/1/time_limit/value", CATALOGUE_E_NOT_INTEGRAL);
    json_decref(errors);
    /* 3.0 is whole; fractions of working days and hours are fine */
    json_object_set_new(at(doc, "/cases/0/channels/1/time_limit"), "value", json_real(3.0));
    json_object_set_new(at(doc, "/cases/1/channels/0/time_limit"), "value", json_real(1.25));
    assert_int_equal(catalogue_procedure_check(doc, NULL), 0);
    json_decref(doc);
}

static void test_fees_documents_and_steps(void **state)
{
    (void)state;
    json_t *doc = load(valid_doc_text);
    json_t *fees = at(doc, "/cases/0/channels/0/fees");
    json_object_set_new(json_array_get(fees, 0), "effective_to", json_string("2019-12-31"));
    json_array_append_new(fees, load("{\"code\": \"LP\", \"name\": \"Lệ phí 2\", \"amount\": 5,"
                                     " \"description\": null, \"effective_from\": null,"
                                     " \"effective_to\": null}"));
    json_array_append(at(doc, "/cases/0/documents"), at(doc, "/cases/0/documents/0"));
    json_object_set_new(at(doc, "/cases/0/processing_steps/0"), "allowance_hours", json_integer(0));
    json_t *errors = json_array();
    assert_int_equal(catalogue_procedure_check(doc, errors), 4);
    assert_error(errors, "/cases/0/channels/0/fees/0/effective_to", CATALOGUE_E_RANGE);
    assert_error(errors, "/cases/0/channels/0/fees/1/code", CATALOGUE_E_DUPLICATE);
    assert_error(errors, "/cases/0/documents/1/code", CATALOGUE_E_DUPLICATE);
    assert_error(errors, "/cases/0/processing_steps/0/allowance_hours", CATALOGUE_E_NOT_POSITIVE);
    json_decref(errors);
    json_decref(doc);
}

static void test_fee_collection_agrees_with_fees(void **state)
{
    (void)state;
    json_t *doc = load(valid_doc_text);
    json_t *online = at(doc, "/cases/0/channels/0");
    json_t *in_person = at(doc, "/cases/0/channels/1");
    /* Pay first with only a zero fee, or with no fee at all: nothing to pay. */
    json_object_set_new(online, "fee_collection", json_string("before_submission"));
    json_object_set_new(in_person, "fee_collection", json_string("before_submission"));
    json_t *errors = json_array();
    assert_int_equal(catalogue_procedure_check(doc, errors), 2);
    assert_error(errors, "/cases/0/channels/0/fee_collection", CATALOGUE_E_FEE_COLLECTION);
    assert_error(errors, "/cases/0/channels/1/fee_collection", CATALOGUE_E_FEE_COLLECTION);
    json_decref(errors);
    /* A positive fee makes pay first valid; exempt with zero fees is valid. */
    json_object_set_new(at(doc, "/cases/0/channels/0/fees/0"), "amount", json_integer(8000));
    json_object_set_new(in_person, "fee_collection", json_string("exempt"));
    assert_int_equal(catalogue_procedure_check(doc, NULL), 0);
    /* Exempt with a positive fee contradicts itself; "after" fits any fees. */
    json_object_set_new(online, "fee_collection", json_string("exempt"));
    errors = json_array();
    assert_int_equal(catalogue_procedure_check(doc, errors), 1);
    assert_error(errors, "/cases/0/channels/0/fee_collection", CATALOGUE_E_FEE_COLLECTION);
    json_decref(errors);
    json_object_set_new(online, "fee_collection", json_string("after"));
    assert_int_equal(catalogue_procedure_check(doc, NULL), 0);
    json_decref(doc);
}

static void test_form_schema_checked_at_its_pointer(void **state)
{
    (void)state;
    json_t *doc = load(valid_doc_text);
    json_object_set_new(at(doc, "/cases/0/form_schema/properties/dob"), "format",
                        json_string("not-a-format"));
    json_object_set_new(at(doc, "/cases/0/form_schema"), "frobnicate", json_true());
    json_t *errors = json_array();
    size_t n = catalogue_procedure_check(doc, errors);
    assert_true(n >= 2);
    assert_int_equal(n, json_array_size(errors));
    assert_error(errors, "/cases/0/form_schema/properties/dob/format", NULL);
    assert_error(errors, "/cases/0/form_schema/frobnicate", NULL);
    json_decref(errors);
    json_decref(doc);
}

static void test_nullable_members_must_be_present(void **state)
{
    (void)state;
    json_t *doc = load(valid_doc_text);
    json_object_del(doc, "description");
    json_object_del(at(doc, "/cases/0/documents/0"), "template_url");
    json_object_del(at(doc, "/cases/0/channels/0/fees/0"), "effective_to");
    json_object_del(at(doc, "/legal_basis/0"), "issued_on");
    json_object_del(at(doc, "/cases/1"), "form_schema");
    /* members with non-null values are the field table's business */
    json_object_del(doc, "supplement_clock");
    json_t *errors = json_array();
    assert_int_equal(catalogue_procedure_check(doc, errors), 5);
    assert_error(errors, "/description", "required");
    assert_error(errors, "/cases/0/documents/0/template_url", "required");
    assert_error(errors, "/cases/0/channels/0/fees/0/effective_to", "required");
    assert_error(errors, "/legal_basis/0/issued_on", "required");
    assert_error(errors, "/cases/1/form_schema", "required");
    json_decref(errors);
    json_decref(doc);
}

static void test_many_errors_at_once(void **state)
{
    (void)state;
    json_t *doc = load(valid_doc_text);
    json_array_append_new(at(doc, "/applicant_types"), json_string("citizen"));
    json_object_set_new(at(doc, "/cases/1"), "code", json_string("default"));
    json_object_set_new(at(doc, "/cases/0/channels/1"), "channel", json_string("online"));
    json_object_set_new(at(doc, "/cases/0/channels/1/time_limit"), "value", json_real(0.5));
    json_object_set_new(at(doc, "/cases/0/processing_steps/0"), "allowance_hours", json_real(-1));
    json_object_del(doc, "result");
    json_t *errors = json_array();
    size_t n = catalogue_procedure_check(doc, errors);
    assert_int_equal(n, 6);
    assert_int_equal(json_array_size(errors), 6);
    assert_error(errors, "/applicant_types/1", CATALOGUE_E_DUPLICATE);
    assert_error(errors, "/cases/1/code", CATALOGUE_E_DUPLICATE);
    assert_error(errors, "/cases/0/channels/1/channel", CATALOGUE_E_DUPLICATE);
    assert_error(errors, "/cases/0/channels/1/time_limit/value", CATALOGUE_E_NOT_INTEGRAL);
    assert_error(errors, "/cases/0/processing_steps/0/allowance_hours", CATALOGUE_E_NOT_POSITIVE);
    assert_error(errors, "/result", "required");
    json_decref(errors);
    json_decref(doc);
}

static void test_ill_typed_documents_do_not_crash(void **state)
{
    (void)state;
    const char *docs[] = {
        "[]",
        "{}",
        "{\"cases\": 3, \"applicant_types\": {}, \"agency_codes\": [1, 2, 1]}",
        "{\"cases\": [1, \"x\", null, {\"channels\": \"online\", \"documents\": {},"
        " \"processing_steps\": [1, {\"allowance_hours\": \"x\"}], \"form_schema\": []}]}",
        "{\"cases\": [{\"channels\": [1, {\"channel\": 5, \"time_limit\": [],"
        " \"fees\": [{\"effective_from\": \"2020-02-30\", \"effective_to\": \"2020-01-01\"}]}]}]}",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        json_t *doc = load(docs[i]);
        json_t *errors = json_array();
        size_t n = catalogue_procedure_check(doc, errors);
        assert_int_equal(n, json_array_size(errors));
        json_decref(errors);
        json_decref(doc);
    }
    assert_int_equal(catalogue_procedure_check(NULL, NULL), 0);
}

static void test_not_blank(void **state)
{
    (void)state;
    const char *code = NULL;
    json_t *v = json_string("  \t ");
    assert_non_null(catalogue_check_not_blank(v, &code));
    assert_string_equal(code, CATALOGUE_E_BLANK);
    json_decref(v);
    v = json_string("");
    assert_non_null(catalogue_check_not_blank(v, &code));
    json_decref(v);
    v = json_string(" a ");
    assert_null(catalogue_check_not_blank(v, &code));
    json_decref(v);
}

/* ---- office hours ---- */

static size_t hours_problems(const char *text, json_t **errors)
{
    json_t *sessions = load(text);
    *errors = json_array();
    size_t n = catalogue_office_hours_check(sessions, "/office_hours", *errors);
    json_decref(sessions);
    return n;
}

static void test_office_hours(void **state)
{
    (void)state;
    json_t *errors;
    assert_int_equal(hours_problems("[{\"start\":\"07:00\",\"end\":\"11:30\"},"
                                    "{\"start\":\"11:30\",\"end\":\"17:00\"}]",
                                    &errors),
                     0);
    json_decref(errors);

    assert_int_equal(hours_problems("[{\"start\":\"07:00\",\"end\":\"07:00\"}]", &errors), 1);
    assert_error(errors, "/office_hours/0/end", CATALOGUE_E_RANGE);
    json_decref(errors);

    assert_int_equal(hours_problems("[{\"start\":\"07:00\",\"end\":\"11:30\"},"
                                    "{\"start\":\"11:00\",\"end\":\"17:00\"}]",
                                    &errors),
                     1);
    assert_error(errors, "/office_hours/1/start", CATALOGUE_E_OVERLAP);
    json_decref(errors);

    assert_int_equal(hours_problems("[{\"start\":\"13:30\",\"end\":\"17:00\"},"
                                    "{\"start\":\"07:00\",\"end\":\"11:30\"}]",
                                    &errors),
                     1);
    assert_error(errors, "/office_hours/1/start", CATALOGUE_E_ORDER);
    json_decref(errors);

    /* malformed times are the field table's business; no crash, no report */
    assert_int_equal(
        hours_problems("[{\"start\":\"7\"}, 3, {\"start\":\"08:00\",\"end\":\"09:00\"}]", &errors),
        0);
    json_decref(errors);
    assert_int_equal(catalogue_office_hours_check(NULL, "", NULL), 0);
}

static void test_minutes_of_day(void **state)
{
    (void)state;
    assert_int_equal(mc_catalogue_minutes_of_day("00:00"), 0);
    assert_int_equal(mc_catalogue_minutes_of_day("15:00"), 900);
    assert_int_equal(mc_catalogue_minutes_of_day("23:59"), 1439);
    assert_int_equal(mc_catalogue_minutes_of_day("24:00"), -1);
    assert_int_equal(mc_catalogue_minutes_of_day("12:60"), -1);
    assert_int_equal(mc_catalogue_minutes_of_day("7:00"), -1);
    assert_int_equal(mc_catalogue_minutes_of_day("07:000"), -1);
    assert_int_equal(mc_catalogue_minutes_of_day(NULL), -1);
}

static void test_calendar_set_hours(void **state)
{
    (void)state;
    mc_calendar cal;
    mc_calendar_init_default(&cal);
    json_t *hours =
        load("[{\"start\":\"07:30\",\"end\":\"11:30\"},{\"start\":\"13:00\",\"end\":\"16:30\"}]");
    assert_true(mc_catalogue_calendar_set_hours(&cal, hours, "14:00"));
    assert_int_equal(cal.n_sessions, 2);
    assert_int_equal(cal.sessions[0].start_min, 450);
    assert_int_equal(cal.sessions[1].end_min, 990);
    assert_int_equal(cal.same_day_cutoff_min, 840);
    assert_true(mc_calendar_is_valid(&cal));
    json_decref(hours);

    mc_calendar before = cal;
    hours =
        load("[{\"start\":\"13:00\",\"end\":\"16:30\"},{\"start\":\"07:30\",\"end\":\"11:30\"}]");
    assert_false(mc_catalogue_calendar_set_hours(&cal, hours, "15:00"));
    assert_memory_equal(&before, &cal, sizeof cal);
    json_decref(hours);
    hours = load("[]");
    assert_false(mc_catalogue_calendar_set_hours(&cal, hours, "15:00"));
    json_decref(hours);
    hours = load("[{\"start\":\"07:30\",\"end\":\"11:30\"}]");
    assert_false(mc_catalogue_calendar_set_hours(&cal, hours, "25:00"));
    json_decref(hours);
}

/* ---- normal forms ---- */

static void test_normalize_procedure(void **state)
{
    (void)state;
    json_t *doc = load(valid_doc_text);
    json_t *norm = catalogue_procedure_normalize(doc, "1.001193.000.00.00.H56");
    assert_non_null(norm);
    assert_string_equal(mc_json_str(norm, "code", ""), "1.001193.000.00.00.H56");
    /* a complete document keeps every value */
    json_object_set_new(doc, "code", json_string("1.001193.000.00.00.H56"));
    assert_true(json_equal(doc, norm));
    /* members come in the documented order */
    const char *first = json_object_iter_key(json_object_iter(norm));
    assert_string_equal(first, "code");
    /* form schemas are kept exactly, including the order of properties */
    json_t *schema = load("{\"type\":\"object\",\"properties\":{\"z\":{\"type\":\"string\"},"
                          "\"a\":{\"type\":\"string\"}}}");
    json_object_set(at(doc, "/cases/0"), "form_schema", schema);
    json_decref(norm);
    norm = catalogue_procedure_normalize(doc, "1.001193");
    const char *first_prop =
        json_object_iter_key(json_object_iter(at(norm, "/cases/0/form_schema/properties")));
    assert_string_equal(first_prop, "z");
    json_decref(schema);
    json_decref(norm);
    json_decref(doc);
}

static void test_normalize_fills_defaults(void **state)
{
    (void)state;
    json_t *doc = load("{\"name\":\"X\",\"cases\":[{\"code\":\"a\",\"channels\":[{\"channel\":"
                       "\"online\",\"time_limit\":{\"value\":1,\"unit\":\"working_days\"}}],"
                       "\"documents\":[{\"code\":\"TK\",\"name\":\"T\",\"originals\":null}]}],"
                       "\"description\":null}");
    json_t *norm = catalogue_procedure_normalize(doc, "1.000001");
    assert_non_null(norm);
    assert_true(json_is_null(at(norm, "/description")));
    assert_true(json_is_null(at(norm, "/publication_decision")));
    assert_string_equal(json_string_value(at(norm, "/supplement_clock")), "restart");
    assert_int_equal(json_array_size(at(norm, "/legal_basis")), 0);
    assert_int_equal(json_array_size(at(norm, "/cases/0/steps")), 0);
    assert_int_equal(json_array_size(at(norm, "/cases/0/channels/0/fees")), 0);
    assert_string_equal(json_string_value(at(norm, "/cases/0/channels/0/fee_collection")), "after");
    assert_int_equal(json_integer_value(at(norm, "/cases/0/documents/0/originals")), 1);
    assert_int_equal(json_integer_value(at(norm, "/cases/0/documents/0/copies")), 0);
    assert_true(json_is_true(at(norm, "/cases/0/documents/0/mandatory")));
    assert_true(json_is_null(at(norm, "/cases/0/form_schema")));
    json_decref(norm);
    json_decref(doc);

    json_t *agency =
        load("{\"code\":\"000.00.00.H56\",\"name\":\"UBND\",\"admin_level\":\"province\"}");
    norm = catalogue_agency_normalize(agency, "000.00.00.H56");
    assert_true(json_is_null(at(norm, "/parent_code")));
    assert_int_equal(json_array_size(at(norm, "/office_hours")), 2);
    assert_string_equal(json_string_value(at(norm, "/office_hours/1/end")), "17:00");
    assert_string_equal(json_string_value(at(norm, "/same_day_cutoff")), "15:00");
    json_decref(norm);
    json_decref(agency);

    json_t *sector = load("{\"name\":\"Hộ tịch\"}");
    norm = catalogue_sector_normalize(sector, "ho-tich");
    assert_string_equal(json_string_value(at(norm, "/code")), "ho-tich");
    assert_true(json_is_null(at(norm, "/description")));
    json_decref(norm);
    json_decref(sector);
}

/* ---- time limits ---- */

static void test_time_limit_lookup(void **state)
{
    (void)state;
    json_t *doc = load(valid_doc_text);
    double value = -1;
    mc_time_unit unit = MC_UNIT_WORKING_HOURS;
    assert_int_equal(mc_catalogue_time_limit(doc, NULL, "online", &value, &unit), MC_OK);
    assert_true(value == 0.5);
    assert_int_equal(unit, MC_UNIT_WORKING_DAYS);
    assert_int_equal(mc_catalogue_time_limit(doc, "default", "in_person", &value, &unit),
                     MC_OK);
    assert_true(value == 3);
    assert_int_equal(unit, MC_UNIT_CALENDAR_DAYS);
    assert_int_equal(mc_catalogue_time_limit(doc, "abroad", "postal", &value, &unit), MC_OK);
    assert_int_equal(unit, MC_UNIT_WORKING_HOURS);
    assert_int_equal(mc_catalogue_time_limit(doc, "abroad", "online", &value, &unit),
                     MC_ERR_CHANNEL_NOT_OFFERED);
    assert_int_equal(mc_catalogue_time_limit(doc, "nope", "online", &value, &unit),
                     MC_ERR_CASE_NOT_FOUND);
    json_t *broken = load("{\"cases\": []}");
    assert_int_equal(mc_catalogue_time_limit(broken, NULL, "online", &value, &unit),
                     MC_ERR_INTERNAL);
    json_decref(broken);
    json_decref(doc);
}

/* ---- identifier formats: the hand-written matchers agree with the EREs ---- */

static bool ere_matches(const char *pattern, const char *s)
{
    regex_t re;
    assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
    bool ok = regexec(&re, s, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

static const char *const samples[] = {
    "",
    "a",
    "-",
    "ho-tich",
    "ho_tich",
    "Ho-tich",
    "0",
    "9abc-",
    "a--b",
    "default",
    "case_1",
    "000.00.06.H56",
    "000.00.06.h56",
    "000.00.06.H5",
    "0000.00.06.H56",
    "000.00.06.H56.",
    "999.99.99.Z99",
    "000-00-06-H56",
    "1.001193",
    "1.00119",
    "1.0011930",
    "1.001193.",
    "1.001193.000.00.00.H56",
    "1.001193..01",
    "1.001193.01",
    "12.001193",
    "a.001193",
    "1.001193.x_y",
    "1.001193.é",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",  /* 64 */
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 65 */
    "1.001193.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",   /* 64 */
    "1.001193.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",  /* 65 */
};

static void test_code_matchers_agree_with_patterns(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        const char *s = samples[i];
        assert_int_equal(catalogue_is_sector_code(s), ere_matches(CATALOGUE_SECTOR_CODE_RE, s));
        assert_int_equal(catalogue_is_case_code(s), ere_matches(CATALOGUE_CASE_CODE_RE, s));
        assert_int_equal(catalogue_is_agency_code(s), ere_matches(CATALOGUE_AGENCY_CODE_RE, s));
        /* the procedure code also has a length limit outside its pattern */
        assert_int_equal(catalogue_is_procedure_code(s),
                         ere_matches(CATALOGUE_PROCEDURE_CODE_RE, s) &&
                             strlen(s) <= CATALOGUE_PROCEDURE_CODE_MAX);
    }
    assert_true(catalogue_is_procedure_code("1.001193.000.00.00.H56"));
    assert_true(catalogue_is_agency_code("000.00.06.H56"));
    assert_false(catalogue_is_sector_code(NULL));
    assert_true(catalogue_in_list(catalogue_channels, "postal"));
    assert_false(catalogue_in_list(catalogue_channels, "fax"));
    assert_false(catalogue_in_list(catalogue_channels, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_document_passes),
        cmocka_unit_test(test_duplicates_reported_at_the_repeat),
        cmocka_unit_test(test_channels_distinct_per_case),
        cmocka_unit_test(test_calendar_days_must_be_whole),
        cmocka_unit_test(test_fees_documents_and_steps),
        cmocka_unit_test(test_fee_collection_agrees_with_fees),
        cmocka_unit_test(test_form_schema_checked_at_its_pointer),
        cmocka_unit_test(test_nullable_members_must_be_present),
        cmocka_unit_test(test_many_errors_at_once),
        cmocka_unit_test(test_ill_typed_documents_do_not_crash),
        cmocka_unit_test(test_not_blank),
        cmocka_unit_test(test_office_hours),
        cmocka_unit_test(test_minutes_of_day),
        cmocka_unit_test(test_calendar_set_hours),
        cmocka_unit_test(test_normalize_procedure),
        cmocka_unit_test(test_normalize_fills_defaults),
        cmocka_unit_test(test_time_limit_lookup),
        cmocka_unit_test(test_code_matchers_agree_with_patterns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
