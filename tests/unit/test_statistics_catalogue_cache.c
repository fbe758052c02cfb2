/* The statistics service's copies of the catalogue (services/statistics/catalogue_cache.c):
   a request reads the catalogue only when nothing is held; stale copies are read
   again by catalogue_cache_refresh, outside the requests. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "catalogue_cache.h"

static int reads;
static int version = 1;
static bool failing;

static json_t *read_fake(const char *base, const char *key)
{
    assert_string_equal(base, "http://catalogue.test");
    reads++;
    return failing ? NULL : json_pack("{ss si}", "key", key, "version", version);
}

static int version_of(const json_t *v)
{
    return (int)json_integer_value(json_object_get(v, "version"));
}

static json_t *get(struct catalogue_cache *c, const char *key)
{
    json_t *out = NULL;
    assert_int_equal(catalogue_cache_get(c, key, read_fake, &out), MC_OK);
    return out;
}

static void test_a_request_waits_only_for_the_first_read(void **state)
{
    (void)state;
    reads = 0;
    version = 1;
    failing = false;
    struct catalogue_cache *c = catalogue_cache_new("http://catalogue.test", 0); /* always stale */
    json_t *v = get(c, "the agency tree");
    assert_int_equal(reads, 1);
    assert_int_equal(version_of(v), 1);
    json_decref(v);
    version = 2;
    v = get(c, "the agency tree"); /* stale, but held: no read in the request */
    assert_int_equal(reads, 1);
    assert_int_equal(version_of(v), 1);
    json_decref(v);
    /* the refresh reads it again with its own reader; requests then get the new copy */
    assert_int_equal(catalogue_cache_refresh(c, time(NULL)), 1);
    assert_int_equal(reads, 2);
    v = get(c, "the agency tree");
    assert_int_equal(version_of(v), 2);
    json_decref(v);
    catalogue_cache_free(c);
}

static void test_the_refresh_reads_stale_entries_only_and_keeps_a_copy_on_failure(void **state)
{
    (void)state;
    reads = 0;
    version = 1;
    failing = false;
    struct catalogue_cache *c = catalogue_cache_new("http://catalogue.test", 60);
    json_decref(get(c, "a"));
    json_decref(get(c, "b"));
    assert_int_equal(reads, 2);
    assert_int_equal(catalogue_cache_refresh(c, time(NULL)), 0); /* both fresh */
    assert_int_equal(reads, 2);
    failing = true;
    version = 3;
    assert_int_equal(catalogue_cache_refresh(c, time(NULL) + 61), 0);
    assert_int_equal(reads, 4);
    json_t *v = get(c, "a"); /* the copy held */
    assert_int_equal(version_of(v), 1);
    json_decref(v);
    failing = false;
    assert_int_equal(catalogue_cache_refresh(c, time(NULL) + 61), 2);
    v = get(c, "b");
    assert_int_equal(version_of(v), 3);
    json_decref(v);
    /* nothing held and the catalogue down: the caller hears it */
    failing = true;
    json_t *out = NULL;
    assert_int_equal(catalogue_cache_get(c, "c", read_fake, &out), MC_ERR_CATALOGUE_UNAVAILABLE);
    assert_null(out);
    catalogue_cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_request_waits_only_for_the_first_read),
        cmocka_unit_test(test_the_refresh_reads_stale_entries_only_and_keeps_a_copy_on_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
