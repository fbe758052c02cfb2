/* Unit tests: what stores share from common: typed query parameters, JSON
   rows and keyset pages from a result, the If-Match revision check, and the
   default port table every service and the gateway agree on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "motcua/config.h"
#include "motcua/db.h"
#include "motcua/http.h"

/* ---- typed parameters ---- */

static void params_in_order_with_their_text(void **state)
{
    (void)state;
    mc_db_params p = MC_DB_PARAMS_INIT;
    const char *borrowed = "1.001193";
    json_t *doc = json_pack("{s:[s,s]}", "agency_codes", "A", "B");
    mc_db_add_text(&p, borrowed);
    mc_db_add_int64(&p, -9007199254740993LL);
    mc_db_add_bool(&p, true);
    mc_db_add_bool(&p, false);
    mc_db_add_null(&p);
    mc_db_add_bool_or_null(&p, -1);
    mc_db_add_bool_or_null(&p, 1);
    mc_db_add_json(&p, doc);
    mc_db_add_json(&p, json_null());
    mc_db_add_text(&p, NULL);
    assert_int_equal(p.n, 10);
    assert_false(p.failed);
    assert_ptr_equal(p.values[0], borrowed); /* text is borrowed, not copied */
    assert_string_equal(p.values[1], "-9007199254740993");
    assert_string_equal(p.values[2], "true");
    assert_string_equal(p.values[3], "false");
    assert_null(p.values[4]);
    assert_null(p.values[5]);
    assert_string_equal(p.values[6], "true");
    assert_string_equal(p.values[7], "{\"agency_codes\":[\"A\",\"B\"]}");
    assert_null(p.values[8]); /* JSON null is SQL NULL */
    assert_null(p.values[9]);
    json_decref(doc);
    mc_db_params_clear(&p); /* frees the JSON text (the leak checker would say) */
    assert_int_equal(p.n, 0);
}

static void too_many_params_mark_the_set_failed(void **state)
{
    (void)state;
    mc_db_params p = MC_DB_PARAMS_INIT;
    for (int i = 0; i < MC_DB_MAX_PARAMS; i++)
        mc_db_add_int64(&p, i);
    assert_false(p.failed);
    assert_string_equal(p.values[MC_DB_MAX_PARAMS - 1], "15");
    mc_db_add_text(&p, "one too many");
    assert_true(p.failed);
    assert_int_equal(p.n, MC_DB_MAX_PARAMS);
    mc_db_params_clear(&p);
    assert_false(p.failed);
}

/* ---- JSON rows and pages ---- */

/* A result as libpq would give it: column 0 JSON text, then the keys. */
static PGresult *result_of(int nrows, int ncols, const char *const *cells)
{
    PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
    PGresAttDesc attrs[4];
    static char names[4][4] = {"c0", "c1", "c2", "c3"};
    memset(attrs, 0, sizeof attrs);
    for (int c = 0; c < ncols; c++) {
        attrs[c].name = names[c];
        attrs[c].format = 0;
        attrs[c].typid = 25; /* text */
        attrs[c].typlen = -1;
        attrs[c].atttypmod = -1;
    }
    assert_true(PQsetResultAttrs(res, ncols, attrs));
    for (int r = 0; r < nrows; r++)
        for (int c = 0; c < ncols; c++) {
            const char *v = cells[r * ncols + c];
            assert_true(PQsetvalue(res, r, c, (char *)v, v != NULL ? (int)strlen(v) : -1));
        }
    return res;
}

static void a_full_page_has_next_keys_of_its_last_item(void **state)
{
    (void)state;
    const char *cells[] = {"{\"code\":\"a\"}", "0.5", "a", "{\"code\":\"b\"}", "0.25", "b",
                           "{\"code\":\"c\"}", "0.1",  "c"};
    PGresult *res = result_of(3, 3, cells); /* limit 2 + the one that proves a next page */
    json_t *items = NULL, *next = NULL;
    assert_int_equal(mc_db_page_from(res, 2, "ss", &items, &next), MC_OK);
    assert_int_equal(json_array_size(items), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 1), "code")), "b");
    json_t *expected = json_pack("[s,s]", "0.25", "b");
    assert_true(json_equal(next, expected));
    json_decref(expected);
    json_decref(items);
    json_decref(next);
    PQclear(res);
}

static void the_last_page_has_no_next_keys(void **state)
{
    (void)state;
    const char *cells[] = {"{\"version\":1}", "1", "{\"version\":2}", "2"};
    PGresult *res = result_of(2, 2, cells);
    json_t *items = NULL, *next = NULL;
    assert_int_equal(mc_db_page_from(res, 2, "i", &items, &next), MC_OK);
    assert_int_equal(json_array_size(items), 2);
    assert_null(next);
    json_decref(items);
    PQclear(res);
}

static void integer_keys_stay_integers(void **state)
{
    (void)state;
    const char *cells[] = {"{\"version\":7}", "7", "{\"version\":8}", "8"};
    PGresult *res = result_of(2, 2, cells);
    json_t *items = NULL, *next = NULL;
    assert_int_equal(mc_db_page_from(res, 1, "i", &items, &next), MC_OK);
    assert_true(json_is_integer(json_array_get(next, 0)));
    assert_int_equal(json_integer_value(json_array_get(next, 0)), 7);
    json_decref(items);
    json_decref(next);
    PQclear(res);
}

static void a_row_that_is_not_json_is_an_internal_error(void **state)
{
    (void)state;
    const char *cells[] = {"{\"ok\":true}", "a", "not json", "b"};
    PGresult *res = result_of(2, 2, cells);
    json_t *items = NULL, *next = NULL;
    assert_int_equal(mc_db_page_from(res, 5, "s", &items, &next), MC_ERR_INTERNAL);
    assert_null(items);
    assert_null(next);
    assert_null(mc_db_json_rows(res, 0, 5));
    json_t *first = mc_db_json_rows(res, 0, 1); /* the bad row is past the limit */
    assert_int_equal(json_array_size(first), 1);
    json_decref(first);
    PQclear(res);
}

/* ---- If-Match against a locked row's revision ---- */

static void revision_precondition(void **state)
{
    (void)state;
    assert_int_equal(mc_revision_precondition(-1, 5), MC_OK);  /* If-Match: * */
    assert_int_equal(mc_revision_precondition(5, 5), MC_OK);
    assert_int_equal(mc_revision_precondition(4, 5), MC_ERR_PRECONDITION_FAILED);
    assert_int_equal(mc_revision_precondition(-2, 5), MC_ERR_PRECONDITION_REQUIRED);
    assert_int_equal(mc_revision_precondition(-3, 5), MC_ERR_PRECONDITION_FAILED);
}

/* ---- default ports ---- */

static void default_ports_follow_the_stack_table(void **state)
{
    (void)state;
    /* README, deploy/local/lib.sh and the gateway: catalogue 8101 (it was
       8080, the gateway's own port, in catalogue/main.c), identity 8102,
       dossier 8103. */
    assert_int_equal(mc_service_default_port("catalogue"), 8101);
    assert_int_equal(mc_service_default_port("identity"), 8102);
    assert_int_equal(mc_service_default_port("dossier"), 8103);
    assert_int_equal(mc_service_default_port("statistics"), 8106);
    assert_int_equal(mc_service_default_port("gateway"), 0);
    assert_int_equal(mc_service_default_port(NULL), 0);
    char url[32];
    assert_true(mc_service_default_url("catalogue", url, sizeof url));
    assert_string_equal(url, "http://127.0.0.1:8101"); /* dossier's CATALOGUE_URL */
    assert_false(mc_service_default_url("nope", url, sizeof url));
    assert_string_equal(url, "");
    char small[8];
    assert_false(mc_service_default_url("catalogue", small, sizeof small));
    assert_string_equal(small, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(params_in_order_with_their_text),
        cmocka_unit_test(too_many_params_mark_the_set_failed),
        cmocka_unit_test(a_full_page_has_next_keys_of_its_last_item),
        cmocka_unit_test(the_last_page_has_no_next_keys),
        cmocka_unit_test(integer_keys_stay_integers),
        cmocka_unit_test(a_row_that_is_not_json_is_an_internal_error),
        cmocka_unit_test(revision_precondition),
        cmocka_unit_test(default_ports_follow_the_stack_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
