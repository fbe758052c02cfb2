/*
 * Fuzz target form_schema: mc_form_schema_check + mc_form_schema_validate, and
 * mc_form_schema_compile + mc_form_schema_validate_compiled (common/src/form_schema*.c).
 *
 * Input: SCHEMA NUL INSTANCE. The schema part is parsed with mc_json_parse_strict (as a
 * procedure's form schema arrives in an administrator's request); the instance part with
 * any top-level value allowed. Without a NUL the schema is validated against itself; an
 * instance that does not parse is validated as a NULL instance (reported as "type").
 * The schema is validated whether or not it passed the check: the validator must fail
 * closed on unchecked schemas.
 *
 * Invariants besides memory safety (from motcua/form_schema.h):
 *  - both functions return exactly the number of error objects they append, and the
 *    same count when `errors` is NULL;
 *  - every error is {pointer, code, message} with a valid JSON Pointer prefixed by the
 *    base pointer and a documented code;
 *  - a schema that passed mc_form_schema_check is trusted: validating against it never
 *    reports "invalid_schema" (nor "unsupported_keyword", which only the check reports);
 *  - such a schema compiles, and validating against the compiled schema gives exactly
 *    the same errors; a schema that did not pass does not compile.
 */
#include <jansson.h>

#include "fuzz_util.h"
#include "motcua/form_schema.h"
#include "motcua/json_spec.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    json_object_seed(1);
    return 0;
}

static const char *const k_codes[] = {
    MC_FORM_SCHEMA_E_TYPE,          MC_FORM_SCHEMA_E_REQUIRED,
    MC_FORM_SCHEMA_E_ADDITIONAL_PROPERTY, MC_FORM_SCHEMA_E_ENUM,
    MC_FORM_SCHEMA_E_CONST,         MC_FORM_SCHEMA_E_MIN_LENGTH,
    MC_FORM_SCHEMA_E_MAX_LENGTH,    MC_FORM_SCHEMA_E_PATTERN,
    MC_FORM_SCHEMA_E_MINIMUM,       MC_FORM_SCHEMA_E_MAXIMUM,
    MC_FORM_SCHEMA_E_EXCLUSIVE_MINIMUM, MC_FORM_SCHEMA_E_EXCLUSIVE_MAXIMUM,
    MC_FORM_SCHEMA_E_MIN_ITEMS,     MC_FORM_SCHEMA_E_MAX_ITEMS,
    MC_FORM_SCHEMA_E_FORMAT,        MC_FORM_SCHEMA_E_TOO_DEEP,
    MC_FORM_SCHEMA_E_UNSUPPORTED_KEYWORD, MC_FORM_SCHEMA_E_INVALID_SCHEMA,
};

static bool known_code(const char *code)
{
    for (size_t i = 0; i < sizeof k_codes / sizeof k_codes[0]; i++)
        if (strcmp(code, k_codes[i]) == 0)
            return true;
    return false;
}

/* Checks the shape of every error; returns how many carry `code`. */
static size_t check_errors(const json_t *errors, const char *base, const char *code,
                           const char *what)
{
    size_t base_len = strlen(base), with_code = 0;
    for (size_t i = 0; i < json_array_size(errors); i++) {
        const json_t *e = json_array_get(errors, i);
        const char *ptr = json_string_value(json_object_get(e, "pointer"));
        const char *c = json_string_value(json_object_get(e, "code"));
        const char *msg = json_string_value(json_object_get(e, "message"));
        FUZZ_CHECK(ptr != NULL && c != NULL && msg != NULL,
                   "%s: error %zu is not {pointer, code, message} of strings", what, i);
        FUZZ_CHECK(known_code(c), "%s: undocumented error code \"%s\"", what, c);
        FUZZ_CHECK(*msg != '\0', "%s: empty message for code %s", what, c);
        FUZZ_CHECK(strncmp(ptr, base, base_len) == 0,
                   "%s: pointer \"%s\" does not start with the base \"%s\"", what, ptr, base);
        FUZZ_CHECK(fuzz_json_pointer_ok(ptr), "%s: pointer \"%s\" is not a valid JSON Pointer",
                   what, ptr);
        if (strcmp(c, code) == 0)
            with_code++;
    }
    return with_code;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *sep = memchr(data, 0, size);
    size_t schema_len = sep != NULL ? (size_t)(sep - data) : size;
    json_t *schema = mc_json_parse_strict((const char *)data, schema_len, NULL, 0);
    if (schema == NULL)
        return 0;
    json_t *instance;
    if (sep != NULL)
        instance = json_loadb((const char *)sep + 1, size - schema_len - 1,
                              JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
    else
        instance = json_incref(schema);

    /* The schema check. */
    json_t *errors = json_array();
    size_t n = mc_form_schema_check(schema, "/form_schema", errors);
    FUZZ_CHECK(n == json_array_size(errors),
               "mc_form_schema_check returned %zu but appended %zu errors", n,
               json_array_size(errors));
    check_errors(errors, "/form_schema", "", "check");
    size_t n_null = mc_form_schema_check(schema, NULL, NULL);
    FUZZ_CHECK(n_null == n, "mc_form_schema_check counted %zu without an error array, %zu with",
               n_null, n);
    bool schema_ok = n == 0;
    json_decref(errors);

    /* Validation against it, checked or not. */
    errors = json_array();
    size_t m = mc_form_schema_validate(schema, instance, "/form_data", errors);
    FUZZ_CHECK(m == json_array_size(errors),
               "mc_form_schema_validate returned %zu but appended %zu errors", m,
               json_array_size(errors));
    size_t invalid = check_errors(errors, "/form_data", MC_FORM_SCHEMA_E_INVALID_SCHEMA,
                                  "validate");
    size_t unsupported = check_errors(errors, "/form_data",
                                      MC_FORM_SCHEMA_E_UNSUPPORTED_KEYWORD, "validate");
    FUZZ_CHECK(unsupported == 0, "validate reported unsupported_keyword");
    FUZZ_CHECK(!schema_ok || invalid == 0,
               "the schema passed mc_form_schema_check, yet validation reported %zu "
               "invalid_schema error(s)",
               invalid);
    if (instance == NULL)
        FUZZ_CHECK(m >= 1, "a NULL instance was accepted");
    size_t m_null = mc_form_schema_validate(schema, instance, "", NULL);
    FUZZ_CHECK(m_null == m, "mc_form_schema_validate counted %zu without an error array, %zu with",
               m_null, m);

    /* The compiled schema: made only from a checked schema, and answering the same. */
    mc_form_schema *compiled = mc_form_schema_compile(schema);
    FUZZ_CHECK((compiled != NULL) == schema_ok,
               "mc_form_schema_compile and mc_form_schema_check disagree (check found %zu)", n);
    if (compiled != NULL) {
        json_t *compiled_errors = json_array();
        size_t mc = mc_form_schema_validate_compiled(compiled, instance, "/form_data",
                                                     compiled_errors);
        FUZZ_CHECK(mc == m && json_equal(compiled_errors, errors),
                   "the compiled schema found %zu problem(s), the JSON schema %zu", mc, m);
        json_decref(compiled_errors);
        mc_form_schema_free(compiled);
    }
    json_decref(errors);

    json_decref(instance);
    json_decref(schema);
    return 0;
}
