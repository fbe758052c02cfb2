/* Every page of a catalogue list (catalogue_pages.h). */
#include "catalogue_pages.h"

#include <stdio.h>
#include <string.h>

#include "motcua/http_client.h"

#define PAGE_BYTES_MAX (4u << 20)
#define PAGES_MAX 1000 /* 100,000 items at 100 a page */
#define TIMEOUT_S 5

bool catalogue_code_url_safe(const char *code)
{
    return code[0] != '\0' &&
           strspn(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_") ==
               strlen(code);
}

bool catalogue_read_all(const char *base, const char *path_query, catalogue_item_fn item, void *ctx)
{
    char cursor[512] = "";
    for (int page = 0; page < PAGES_MAX; page++) {
        char url[1536];
        /* Cursors are URL-safe base64; anything else is not followed. */
        if (strspn(cursor, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=") !=
            strlen(cursor))
            return false;
        int n = snprintf(url, sizeof url, "%s%s%s%s", base, path_query,
                         cursor[0] != '\0' ? "&cursor=" : "", cursor);
        if (n < 0 || (size_t)n >= sizeof url)
            return false;
        struct mc_http_result r = {0};
        mc_error rc = mc_http_get(url, NULL, NULL, TIMEOUT_S, PAGE_BYTES_MAX, &r);
        json_t *doc = rc == MC_OK && r.status == 200 && r.body != NULL
                          ? json_loads(r.body, 0, NULL)
                          : NULL;
        mc_http_result_free(&r);
        const json_t *items = json_object_get(doc, "items");
        if (!json_is_array(items)) {
            json_decref(doc);
            return false;
        }
        size_t i;
        const json_t *it;
        json_array_foreach(items, i, it)
            item(ctx, it);
        const char *next = json_string_value(json_object_get(doc, "next_cursor"));
        bool done = next == NULL, fits = next != NULL && strlen(next) < sizeof cursor;
        if (fits)
            snprintf(cursor, sizeof cursor, "%s", next);
        json_decref(doc);
        if (done)
            return true;
        if (!fits)
            return false;
    }
    return false;
}
