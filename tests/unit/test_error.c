/* Unit tests: the error registry has a row for every mc_error, at its own
   index (a row out of place would give one error another's status and code). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "motcua/error.h"

static void every_error_has_its_own_row(void **state)
{
    (void)state;
    for (int e = 0; e < (int)MC_ERR__COUNT; e++) {
        const struct mc_error_info *info = mc_error_info((mc_error)e);
        /* A missing row falls back to MC_ERR_INTERNAL's, so this fails too. */
        assert_int_equal(info->error, e);
        assert_non_null(info->code);
        assert_non_null(info->title);
        assert_in_range(info->status, 200, 599);
    }
}

static void codes_are_unique(void **state)
{
    (void)state;
    for (int a = 0; a < (int)MC_ERR__COUNT; a++)
        for (int b = a + 1; b < (int)MC_ERR__COUNT; b++)
            if (strcmp(mc_error_info((mc_error)a)->code, mc_error_info((mc_error)b)->code) == 0)
                fail_msg("errors %d and %d share the code %s", a, b, mc_error_info((mc_error)a)->code);
}

static void rows_match_their_meaning(void **state)
{
    (void)state;
    /* Spot checks across the table: a shifted row would change these. */
    assert_int_equal(mc_error_info(MC_OK)->status, 200);
    assert_string_equal(mc_error_info(MC_ERR_IDEMPOTENCY_IN_PROGRESS)->code, "idempotency.in_progress");
    assert_int_equal(mc_error_info(MC_ERR_DB_UNAVAILABLE)->status, 503);
    assert_string_equal(mc_error_info(MC_ERR_DOSSIER_INCOMPLETE)->code, "dossier.incomplete");
    assert_int_equal(mc_error_info(MC_ERR_DOSSIER_INCOMPLETE)->status, 422);
    assert_string_equal(mc_error_info(MC_ERR_CASE_NOT_FOUND)->code, "catalogue.case_not_found");
}

static void out_of_range_is_internal(void **state)
{
    (void)state;
    assert_int_equal(mc_error_info(MC_ERR__COUNT)->error, MC_ERR_INTERNAL);
    assert_int_equal(mc_error_info((mc_error)-1)->error, MC_ERR_INTERNAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_error_has_its_own_row),
        cmocka_unit_test(codes_are_unique),
        cmocka_unit_test(rows_match_their_meaning),
        cmocka_unit_test(out_of_range_is_internal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
