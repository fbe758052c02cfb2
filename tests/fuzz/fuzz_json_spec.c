/*
 * Fuzz target json_spec: mc_json_parse_strict + mc_json_check (common/src/json_spec.c).
 *
 * Input: a request body (any bytes). It is parsed strictly; a parsed document is checked
 * against a field table shaped like a real dossier submission: nested objects, an array
 * of objects with a unique "code", arrays of arrays, enums, patterns, dates, times of
 * day, numeric ranges, nullable fields, free-form objects and a custom check.
 *
 * Invariants besides memory safety:
 *  - a failed parse leaves a NUL-terminated message in the error buffer;
 *  - mc_json_check returns exactly the number of error objects it appended (it promises
 *    to report EVERY problem), each {pointer, code, message} with a string pointer that
 *    is a valid JSON Pointer starting with the base pointer, and non-empty code/message;
 *  - the same document checks the same way twice (no hidden state).
 */
#include <jansson.h>

#include "fuzz_util.h"
#include "motcua/json_spec.h"

static const char *const k_kinds[] = {"birth_registration", "marriage_registration",
                                      "residence_confirmation", NULL};
static const char *const k_channels[] = {"online", "counter", "post", NULL};

static const char *check_even(const json_t *v, const char **code)
{
    if (json_integer_value(v) % 2 != 0) {
        *code = "odd";
        return "must be an even number of copies";
    }
    return NULL;
}

static const struct mc_field k_address[] = {
    {.name = "province", .type = MC_F_STRING, .required = true, .min_len = 2, .max_len = 3,
     .pattern = "^[0-9]{2,3}$"},
    {.name = "ward", .type = MC_F_STRING, .max_len = 100},
    {.name = "line", .type = MC_F_STRING, .required = true, .min_len = 1, .max_len = 200},
    {0},
};

static const struct mc_field k_applicant[] = {
    {.name = "full_name", .type = MC_F_STRING, .required = true, .min_len = 1, .max_len = 120},
    {.name = "personal_id", .type = MC_F_STRING, .required = true, .pattern = "^[0-9]{12}$"},
    {.name = "birth_date", .type = MC_F_DATE, .required = true},
    {.name = "email", .type = MC_F_STRING, .nullable = true, .max_len = 254,
     .pattern = "^[^@[:space:]]+@[^@[:space:]]+\\.[[:alpha:]]{2,}$"},
    {.name = "address", .type = MC_F_OBJECT, .required = true, .fields = k_address},
    {0},
};

static const struct mc_field k_document[] = {
    {.name = "code", .type = MC_F_STRING, .required = true, .min_len = 1, .max_len = 32,
     .pattern = "^[A-Z][A-Z0-9_-]*$"},
    {.name = "pages", .type = MC_F_INTEGER, .has_range = true, .min = 1, .max = 500},
    {.name = "original", .type = MC_F_BOOLEAN},
    {.name = "issued_on", .type = MC_F_DATE, .nullable = true},
    {0},
};
static const struct mc_field k_document_item = {.type = MC_F_OBJECT, .fields = k_document};

static const struct mc_field k_hours_item = {.type = MC_F_TIME_OF_DAY};
static const struct mc_field k_tag_item = {.type = MC_F_STRING, .min_len = 1, .max_len = 32};
static const struct mc_field k_cell = {.type = MC_F_INTEGER, .has_range = true, .min = -9,
                                       .max = 9};
static const struct mc_field k_row = {.type = MC_F_ARRAY, .max_len = 8, .item = &k_cell};

static const struct mc_field k_fields[] = {
    {.name = "procedure_code", .type = MC_F_STRING, .required = true, .min_len = 3,
     .max_len = 64, .pattern = "^[0-9]\\.[0-9]{6}(\\.[0-9]{3})?$"},
    {.name = "kind", .type = MC_F_STRING, .required = true, .enum_values = k_kinds},
    {.name = "channel", .type = MC_F_STRING, .nullable = true, .enum_values = k_channels},
    {.name = "applicant", .type = MC_F_OBJECT, .required = true, .fields = k_applicant},
    {.name = "documents", .type = MC_F_ARRAY, .required = true, .min_len = 1, .max_len = 20,
     .item = &k_document_item, .unique_key_item = true},
    {.name = "received_on", .type = MC_F_DATE, .required = true},
    {.name = "office_hours", .type = MC_F_ARRAY, .max_len = 4, .item = &k_hours_item},
    {.name = "opens_at", .type = MC_F_TIME_OF_DAY},
    {.name = "fee", .type = MC_F_NUMBER, .has_range = true, .min = 0, .max = 1e9},
    {.name = "copies", .type = MC_F_INTEGER, .has_range = true, .min = 1, .max = 10,
     .check = check_even},
    {.name = "priority", .type = MC_F_BOOLEAN, .nullable = true},
    {.name = "extra", .type = MC_F_OBJECT},
    {.name = "note", .type = MC_F_ANY},
    {.name = "tags", .type = MC_F_ARRAY, .max_len = 10, .item = &k_tag_item},
    {.name = "grid", .type = MC_F_ARRAY, .max_len = 8, .item = &k_row},
    {.name = "a/b~c", .type = MC_F_STRING, .nullable = true},
    {0},
};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    json_object_seed(1); /* deterministic hashing, so reproducers reproduce */
    return 0;
}

static void check_errors(const json_t *errors, size_t start, const char *base)
{
    size_t base_len = strlen(base);
    for (size_t i = start; i < json_array_size(errors); i++) {
        const json_t *e = json_array_get(errors, i);
        const char *ptr = json_string_value(json_object_get(e, "pointer"));
        const char *code = json_string_value(json_object_get(e, "code"));
        const char *msg = json_string_value(json_object_get(e, "message"));
        FUZZ_CHECK(json_is_object(e) && json_object_size(e) == 3, "error %zu is not {pointer, code, message}", i);
        FUZZ_CHECK(ptr != NULL && code != NULL && msg != NULL, "error %zu has a non-string member", i);
        FUZZ_CHECK(*code != '\0' && *msg != '\0', "error %zu has an empty code or message", i);
        FUZZ_CHECK(strncmp(ptr, base, base_len) == 0, "pointer \"%s\" does not start with the base \"%s\"", ptr, base);
        FUZZ_CHECK(fuzz_json_pointer_ok(ptr), "pointer \"%s\" is not a valid JSON Pointer", ptr);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[200];
    memset(err, 'x', sizeof err);
    json_t *doc = mc_json_parse_strict((const char *)data, size, err, sizeof err);
    if (doc == NULL) {
        FUZZ_CHECK(memchr(err, '\0', sizeof err) != NULL, "parse error message not terminated");
        FUZZ_CHECK(err[0] != '\0', "empty parse error message");
        return 0;
    }

    static const char *const bases[] = {"", "/dossier"};
    for (size_t b = 0; b < sizeof bases / sizeof bases[0]; b++) {
        json_t *errors = mc_errors_new();
        FUZZ_CHECK(errors != NULL, "mc_errors_new failed");
        size_t n = mc_json_check(doc, k_fields, bases[b], errors);
        FUZZ_CHECK(n == json_array_size(errors),
                   "mc_json_check returned %zu problems but appended %zu error objects (base \"%s\")",
                   n, json_array_size(errors), bases[b]);
        check_errors(errors, 0, bases[b]);

        json_t *again = mc_errors_new();
        size_t n2 = mc_json_check(doc, k_fields, bases[b], again);
        FUZZ_CHECK(n2 == n && json_equal(errors, again), "a second check gave other errors");
        json_decref(again);
        json_decref(errors);
    }

    /* The accessors must tolerate whatever the document holds. */
    (void)mc_json_str(doc, "kind", NULL);
    (void)mc_json_int(doc, "copies", -1);
    (void)mc_json_num(doc, "fee", -1.0);
    (void)mc_json_bool(doc, "priority", false);
    json_decref(doc);
    return 0;
}
