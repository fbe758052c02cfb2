/*
 * bench_form_schema: the cost of validating one citizen's form data, and of
 * checking one request body against a field table with patterns, the two
 * validators every filing and edit of a dossier runs.
 *
 * The form schema is shaped like a real procedure's (a dozen fields, four
 * patterns, the Vietnamese formats, a nested list); the field table like
 * the dossier's applicant. Prints microseconds per validation.
 *
 *   build/tests/bench_form_schema [iterations]   (default 20000)
 *
 * For instruction counts rather than time (steadier on a shared machine):
 *   valgrind --tool=callgrind build/tests/bench_form_schema 2000
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "motcua/form_schema.h"
#include "motcua/json_spec.h"

static const char k_schema[] =
    "{\"type\": \"object\", \"additionalProperties\": false,"
    " \"required\": [\"full_name\", \"personal_id\", \"birth_date\", \"phone\", \"address\"],"
    " \"properties\": {"
    "  \"full_name\": {\"type\": \"string\", \"minLength\": 2, \"maxLength\": 100,"
    "                 \"pattern\": \"^[[:alpha:] ]+$\"},"
    "  \"personal_id\": {\"type\": \"string\", \"format\": \"vn-personal-id\"},"
    "  \"birth_date\": {\"type\": \"string\", \"format\": \"date\"},"
    "  \"phone\": {\"type\": \"string\", \"format\": \"vn-phone\"},"
    "  \"email\": {\"type\": \"string\", \"format\": \"email\"},"
    "  \"address\": {\"type\": \"string\", \"minLength\": 5, \"maxLength\": 300},"
    "  \"household_book\": {\"type\": \"string\", \"pattern\": \"^[0-9]{9,12}$\"},"
    "  \"tax_code\": {\"type\": \"string\", \"pattern\": \"^[0-9]{10}(-[0-9]{3})?$\"},"
    "  \"land_parcel\": {\"type\": \"string\", \"pattern\": \"^[A-Z]{2}[0-9]{6}$\"},"
    "  \"reason\": {\"type\": \"string\", \"enum\": [\"new\", \"lost\", \"damaged\", \"changed\"]},"
    "  \"children\": {\"type\": \"array\", \"maxItems\": 10, \"items\": {"
    "     \"type\": \"object\", \"required\": [\"name\", \"birth_date\"], \"properties\": {"
    "       \"name\": {\"type\": \"string\", \"minLength\": 1},"
    "       \"birth_date\": {\"type\": \"string\", \"format\": \"date\"}}}}"
    " }}";

static const char k_form[] =
    "{\"full_name\": \"Nguyễn Thị Minh Khai\", \"personal_id\": \"001190012345\","
    " \"birth_date\": \"1990-05-17\", \"phone\": \"0912 345 678\","
    " \"email\": \"minh.khai@example.vn\", \"address\": \"12 Lê Lợi, Hoàn Kiếm, Hà Nội\","
    " \"household_book\": \"0123456789\", \"tax_code\": \"0101234567-001\","
    " \"land_parcel\": \"HN123456\", \"reason\": \"lost\","
    " \"children\": [{\"name\": \"An\", \"birth_date\": \"2015-01-02\"},"
    "                {\"name\": \"Bình\", \"birth_date\": \"2018-11-30\"}]}";

static const struct mc_field k_applicant[] = {
    {.name = "full_name", .type = MC_F_STRING, .required = true, .min_len = 1, .max_len = 200},
    {.name = "personal_id", .type = MC_F_STRING, .required = true, .pattern = "^[0-9]{12}$"},
    {.name = "tax_code", .type = MC_F_STRING, .pattern = "^[0-9]{10}(-[0-9]{3})?$"},
    {.name = "phone", .type = MC_F_STRING, .pattern = "^\\+?[0-9 .-]{8,20}$"},
    {.name = "email", .type = MC_F_STRING, .pattern = "^[^@ ]+@[^@ ]+\\.[^@ ]+$"},
    {0},
};

static const char k_applicant_body[] =
    "{\"full_name\": \"Nguyễn Văn An\", \"personal_id\": \"001190012345\","
    " \"tax_code\": \"0101234567\", \"phone\": \"+84 912 345 678\", \"email\": \"an@example.vn\"}";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static json_t *load(const char *text)
{
    json_error_t err;
    json_t *v = json_loads(text, 0, &err);
    if (v == NULL) {
        fprintf(stderr, "bench_form_schema: bad JSON: %s\n", err.text);
        exit(1);
    }
    return v;
}

int main(int argc, char **argv)
{
    long iterations = argc > 1 ? atol(argv[1]) : 20000;
    if (iterations <= 0)
        iterations = 20000;
    json_t *schema = load(k_schema);
    json_t *form = load(k_form);
    json_t *body = load(k_applicant_body);
    if (mc_form_schema_check(schema, NULL, NULL) != 0 ||
        mc_form_schema_validate(schema, form, NULL, NULL) != 0 ||
        mc_json_check(body, k_applicant, "", NULL) != 0) {
        fprintf(stderr, "bench_form_schema: the sample data does not validate\n");
        return 1;
    }

    size_t problems = 0;
    double t0 = now_s();
    for (long i = 0; i < iterations; i++)
        problems += mc_form_schema_validate(schema, form, NULL, NULL);
    double t1 = now_s();
    printf("mc_form_schema_validate (schema as JSON): %8.2f us/validation\n",
           (t1 - t0) * 1e6 / (double)iterations);

    mc_form_schema *compiled = mc_form_schema_compile(schema);
    if (compiled == NULL) {
        fprintf(stderr, "bench_form_schema: the sample schema does not compile\n");
        return 1;
    }
    t0 = now_s();
    for (long i = 0; i < iterations; i++)
        problems += mc_form_schema_validate_compiled(compiled, form, NULL, NULL);
    t1 = now_s();
    printf("mc_form_schema_validate_compiled:          %8.2f us/validation\n",
           (t1 - t0) * 1e6 / (double)iterations);
    mc_form_schema_free(compiled);

    json_t *errors = json_array();
    t0 = now_s();
    for (long i = 0; i < iterations; i++)
        problems += mc_json_check(body, k_applicant, "", errors);
    t1 = now_s();
    printf("mc_json_check (4 patterns):                %8.2f us/check\n",
           (t1 - t0) * 1e6 / (double)iterations);

    json_decref(errors);
    json_decref(body);
    json_decref(form);
    json_decref(schema);
    return problems == 0 ? 0 : 1;
}
