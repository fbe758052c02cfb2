/* Choosing and filling notification templates (notify_template.h). */
#include "notify_template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct notify_template *notify_template_choose(const struct notify_template *candidates, size_t n,
                                                     const char *agency, const char *lang)
{
    /* Preference order: (agency, lang), (agency, vi), ("", lang), ("", vi). */
    const char *agencies[2] = {agency != NULL ? agency : "", ""};
    const char *langs[2] = {lang != NULL ? lang : NOTIFY_DEFAULT_LANG, NOTIFY_DEFAULT_LANG};
    for (size_t a = 0; a < 2; a++)
        for (size_t l = 0; l < 2; l++)
            for (size_t i = 0; i < n; i++)
                if (strcmp(candidates[i].agency_code, agencies[a]) == 0 &&
                    strcmp(candidates[i].lang, langs[l]) == 0)
                    return &candidates[i];
    return NULL;
}

struct text_buf {
    char *s;
    size_t len, cap;
};

static bool append(struct text_buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *grown = realloc(b->s, cap);
        if (grown == NULL)
            return false;
        b->s = grown;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
    return true;
}

static void set_bad(char *bad, size_t bad_len, const char *name, size_t n)
{
    if (bad_len > 0)
        snprintf(bad, bad_len, "%.*s", (int)n, name);
}

char *notify_render(const char *text, const json_t *vars, char *bad, size_t bad_len)
{
    struct text_buf b = {0};
    if (bad_len > 0)
        bad[0] = '\0';
    if (!append(&b, "", 0))
        return NULL;
    const char *p = text;
    for (;;) {
        const char *open = strstr(p, "{{");
        if (open == NULL) {
            if (!append(&b, p, strlen(p)))
                goto fail;
            return b.s;
        }
        if (!append(&b, p, (size_t)(open - p)))
            goto fail;
        const char *name = open + 2;
        const char *close = strstr(name, "}}");
        if (close == NULL) {
            set_bad(bad, bad_len, open, strlen(open));
            goto fail;
        }
        size_t n = (size_t)(close - name);
        char key[64];
        if (n == 0 || n >= sizeof key) {
            set_bad(bad, bad_len, name, n);
            goto fail;
        }
        memcpy(key, name, n);
        key[n] = '\0';
        const json_t *v = json_object_get(vars, key);
        if (v == NULL) {
            set_bad(bad, bad_len, name, n);
            goto fail;
        }
        if (json_is_string(v)) {
            if (!append(&b, json_string_value(v), json_string_length(v)))
                goto fail;
        } else if (json_is_integer(v)) {
            char num[32];
            int w = snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
            if (!append(&b, num, (size_t)w))
                goto fail;
        } else if (!json_is_null(v)) {
            set_bad(bad, bad_len, name, n);
            goto fail;
        }
        p = close + 2;
    }
fail:
    free(b.s);
    return NULL;
}
