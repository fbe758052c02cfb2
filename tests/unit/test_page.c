/*
 * Unit tests of mc_page_body_text (common/src/page.c): a page built from item
 * texts that are already compact JSON must be byte for byte what
 * mc_reply_json sends for mc_page_body over the same items (so its ETag and
 * its clients cannot tell the paths apart).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "motcua/http.h"

/* Both bodies for items (JSON texts) and a cursor of keys (JSON text or NULL). */
static void assert_same_body(const char *const *items, size_t n, const char *keys)
{
    json_t *array = json_array();
    const char *texts[8];
    char *compact[8];
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_loads(items[i], 0, NULL);
        assert_non_null(item);
        compact[i] = json_dumps(item, JSON_COMPACT | JSON_PRESERVE_ORDER);
        texts[i] = compact[i];
        json_array_append_new(array, item);
    }
    json_t *body = mc_page_body(array, keys != NULL ? json_loads(keys, 0, NULL) : NULL);
    char *expected = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    size_t len = 0;
    char *got = mc_page_body_text(texts, n, keys != NULL ? json_loads(keys, 0, NULL) : NULL, &len);
    assert_non_null(got);
    assert_string_equal(got, expected);
    assert_int_equal(len, strlen(expected));
    free(got);
    free(expected);
    json_decref(body);
    for (size_t i = 0; i < n; i++)
        free(compact[i]);
}

static void test_empty_page(void **state)
{
    (void)state;
    assert_same_body(NULL, 0, NULL);
}

static void test_items_and_cursor(void **state)
{
    (void)state;
    const char *items[] = {
        "{\"code\": \"1.001\", \"name\": \"Đăng ký khai sinh\", \"channels\": [\"online\"]}",
        "{\"code\":\"2.000815\",\"name\":\"Chứng thực \\\"bản sao\\\"\",\"level\":4,\"x\":null}",
        "{\"code\": \"9.000001\", \"sector\": {\"code\": \"ho-tich\", \"name\": \"Hộ tịch\"}}"};
    assert_same_body(items, 1, NULL);
    assert_same_body(items, 3, "[\"11.545455\", \"9.000001\"]");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_page),
        cmocka_unit_test(test_items_and_cursor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
