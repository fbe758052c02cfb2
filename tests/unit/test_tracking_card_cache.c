/*
 * Unit tests of the tracking service's public card cache
 * (services/tracking/card_cache.c): hits and misses, exact invalidation by
 * code, the version check that refuses a card read before a racing
 * invalidation, clearing, and the bound with the clock's eviction.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "card_cache.h"

#define CODE_A "000.00.06.H56-250303-0001"
#define CODE_B "000.00.06.H56-250303-0002"

static bool get_text(card_cache *c, const char *code, char *out, size_t out_len, char *etag)
{
    char *body = NULL;
    size_t len = 0;
    char tag[CARD_CACHE_ETAG_MAX];
    if (!card_cache_get(c, code, &body, &len, tag))
        return false;
    assert_int_equal(strlen(body), len);
    snprintf(out, out_len, "%s", body);
    if (etag != NULL)
        strcpy(etag, tag);
    free(body);
    return true;
}

static void put(card_cache *c, const char *code, const char *body)
{
    assert_true(card_cache_put(c, code, body, strlen(body), "\"e\"", card_cache_version(c, code)));
}

static void test_off_when_capacity_is_zero(void **state)
{
    (void)state;
    assert_null(card_cache_new(0));
    char text[32];
    assert_false(get_text(NULL, CODE_A, text, sizeof text, NULL));
    assert_false(card_cache_put(NULL, CODE_A, "{}", 2, "\"e\"", 0));
    card_cache_invalidate(NULL, CODE_A);
    card_cache_clear(NULL);
    card_cache_free(NULL);
}

static void test_hit_miss_and_bytes(void **state)
{
    (void)state;
    card_cache *c = card_cache_new(100);
    assert_non_null(c);
    char text[64], etag[CARD_CACHE_ETAG_MAX];
    assert_false(get_text(c, CODE_A, text, sizeof text, NULL));
    assert_true(card_cache_put(c, CODE_A, "{\"status\":1}", 12, "\"abc\"",
                               card_cache_version(c, CODE_A)));
    assert_true(get_text(c, CODE_A, text, sizeof text, etag));
    assert_string_equal(text, "{\"status\":1}");
    assert_string_equal(etag, "\"abc\"");
    assert_false(get_text(c, CODE_B, text, sizeof text, NULL));
    /* a second put replaces the card */
    put(c, CODE_A, "{\"status\":2}");
    assert_true(get_text(c, CODE_A, text, sizeof text, NULL));
    assert_string_equal(text, "{\"status\":2}");
    size_t entries;
    uint64_t hits, misses;
    card_cache_stats(c, &entries, &hits, &misses);
    assert_int_equal(entries, 1);
    assert_int_equal(hits, 2);
    assert_int_equal(misses, 2);
    card_cache_free(c);
}

static void test_invalidate_drops_that_code_only(void **state)
{
    (void)state;
    card_cache *c = card_cache_new(100);
    put(c, CODE_A, "{\"a\":1}");
    put(c, CODE_B, "{\"b\":1}");
    card_cache_invalidate(c, CODE_A);
    char text[64];
    assert_false(get_text(c, CODE_A, text, sizeof text, NULL));
    assert_true(get_text(c, CODE_B, text, sizeof text, NULL));
    assert_string_equal(text, "{\"b\":1}");
    card_cache_free(c);
}

static void test_a_card_read_before_an_invalidation_is_not_kept(void **state)
{
    (void)state;
    card_cache *c = card_cache_new(100);
    /* a reader notes the version, reads the database (the old state) ... */
    uint64_t before = card_cache_version(c, CODE_A);
    /* ... the projection commits a change of this dossier meanwhile ... */
    card_cache_invalidate(c, CODE_A);
    /* ... and the old card must not be kept */
    assert_false(card_cache_put(c, CODE_A, "{\"old\":1}", 9, "\"e\"", before));
    char text[64];
    assert_false(get_text(c, CODE_A, text, sizeof text, NULL));
    /* a reader that starts after the invalidation keeps its card */
    put(c, CODE_A, "{\"new\":1}");
    assert_true(get_text(c, CODE_A, text, sizeof text, NULL));
    assert_string_equal(text, "{\"new\":1}");
    /* clearing refuses every put begun before it */
    before = card_cache_version(c, CODE_B);
    card_cache_clear(c);
    assert_false(card_cache_put(c, CODE_B, "{}", 2, "\"e\"", before));
    assert_false(get_text(c, CODE_A, text, sizeof text, NULL));
    size_t entries;
    uint64_t hits, misses;
    card_cache_stats(c, &entries, &hits, &misses);
    assert_int_equal(entries, 0);
    card_cache_free(c);
}

static void test_refuses_what_it_cannot_hold(void **state)
{
    (void)state;
    card_cache *c = card_cache_new(10);
    char long_code[80];
    memset(long_code, 'A', sizeof long_code - 1);
    long_code[sizeof long_code - 1] = '\0';
    assert_false(card_cache_put(c, long_code, "{}", 2, "\"e\"", card_cache_version(c, long_code)));
    assert_false(card_cache_put(c, "", "{}", 2, "\"e\"", card_cache_version(c, "")));
    char long_etag[100];
    memset(long_etag, 'e', sizeof long_etag - 1);
    long_etag[sizeof long_etag - 1] = '\0';
    assert_false(card_cache_put(c, CODE_A, "{}", 2, long_etag, card_cache_version(c, CODE_A)));
    card_cache_free(c);
}

/* Never more cards than the capacity (rounded up to the 64 stripes), and a
   card read since the hand last passed outlives one that was not. */
static void test_bounded_with_clock_eviction(void **state)
{
    (void)state;
    card_cache *c = card_cache_new(64); /* one slot per stripe */
    char code[64], text[64];
    for (int i = 0; i < 5000; i++) {
        snprintf(code, sizeof code, "000.00.06.H56-250303-%04d", i);
        put(c, code, "{}");
    }
    size_t entries;
    uint64_t hits, misses;
    card_cache_stats(c, &entries, &hits, &misses);
    assert_true(entries <= 64);
    assert_true(entries > 0);
    card_cache_free(c);

    /* two slots per stripe: fill one stripe's two slots, read one, add a third code of
       that stripe; the one read stays, the other goes */
    c = card_cache_new(128);
    char same_stripe[3][64];
    int found = 0;
    /* a stripe's version moves with any invalidation in it: a code is in the first
       code's stripe when invalidating it moves the first code's version */
    snprintf(same_stripe[found++], 64, "000.00.06.H56-250303-00000");
    for (int i = 1; found < 3 && i < 100000; i++) {
        snprintf(code, sizeof code, "000.00.06.H56-250303-%05d", i);
        uint64_t first = card_cache_version(c, same_stripe[0]);
        card_cache_invalidate(c, code);
        if (card_cache_version(c, same_stripe[0]) != first)
            snprintf(same_stripe[found++], 64, "%s", code);
    }
    assert_int_equal(found, 3);
    put(c, same_stripe[0], "{\"n\":0}");
    put(c, same_stripe[1], "{\"n\":1}");
    assert_true(get_text(c, same_stripe[0], text, sizeof text, NULL)); /* referenced */
    put(c, same_stripe[2], "{\"n\":2}");
    assert_true(get_text(c, same_stripe[0], text, sizeof text, NULL));
    assert_string_equal(text, "{\"n\":0}");
    assert_false(get_text(c, same_stripe[1], text, sizeof text, NULL));
    assert_true(get_text(c, same_stripe[2], text, sizeof text, NULL));
    card_cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_off_when_capacity_is_zero),
        cmocka_unit_test(test_hit_miss_and_bytes),
        cmocka_unit_test(test_invalidate_drops_that_code_only),
        cmocka_unit_test(test_a_card_read_before_an_invalidation_is_not_kept),
        cmocka_unit_test(test_refuses_what_it_cannot_hold),
        cmocka_unit_test(test_bounded_with_clock_eviction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
