/*
 * motcua - form-schema validator (a documented subset of JSON Schema 2020-12): what its
 * parts share, and the compiled schema.
 *
 * See common/include/motcua/form_schema.h for the API contract and docs/form-schema.md
 * for the subset understood by both this code and the frontends. The validator is split
 * by job; form_schema_internal.h lists the files.
 *
 * Design notes:
 *   - No global or static mutable state: all tables are const, and every call carries its
 *     own context (error array, running count, JSON Pointer buffer).
 *   - A compiled schema (mc_form_schema_compile) keeps a reference to its JSON and every
 *     pattern compiled once, sorted by the address of the pattern's JSON string, so that
 *     validation finds a pattern by binary search and never runs regcomp.
 *   - Recursion only follows subschemas ("properties", "items") and is bounded by
 *     MC_FORM_SCHEMA_MAX_DEPTH; value comparison ("const", "enum") is bounded the same
 *     way. Hostile documents therefore cannot exhaust the stack.
 *   - Character classification is done by hand (not <ctype.h>) so that results do not
 *     depend on the process locale.
 */
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "form_schema_internal.h"

/* Number of Unicode code points in a UTF-8 byte string: every byte that is not a
   continuation byte (10xxxxxx) starts a code point. jansson guarantees valid UTF-8. */
size_t fs_utf8_length(const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        if (((unsigned char)s[i] & 0xC0U) != 0x80U)
            count++;
    }
    return count;
}

/* ------------------------------------------------------------------------------------ */
/* JSON Pointer buffer.                                                                  */

static bool ptr_reserve(pointer_buf *p, size_t extra)
{
    if (extra > SIZE_MAX - p->len - 1)
        return false;
    size_t need = p->len + extra + 1;
    if (need <= p->cap)
        return true;
    size_t cap = p->cap ? p->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *nb = realloc(p->buf, cap);
    if (!nb)
        return false;
    p->buf = nb;
    p->cap = cap;
    return true;
}

static void ptr_init(pointer_buf *p, const char *base)
{
    p->buf = NULL;
    p->len = 0;
    p->cap = 0;
    size_t n = base ? strlen(base) : 0;
    if (ptr_reserve(p, n)) {
        if (n)
            memcpy(p->buf, base, n);
        p->len = n;
        p->buf[n] = '\0';
    }
}

static void ptr_free(pointer_buf *p)
{
    free(p->buf);
    p->buf = NULL;
    p->len = p->cap = 0;
}

/* Appends "/<key>" with RFC 6901 escaping ('~' -> "~0", '/' -> "~1"). Returns the
   previous length, to be handed to fs_ptr_pop(). On allocation failure nothing is appended
   (the reported pointer then names the parent, which is the best we can do). */
size_t fs_ptr_push_key(pointer_buf *p, const char *key, size_t klen)
{
    size_t old = p->len;
    size_t extra = 1;
    for (size_t i = 0; i < klen; i++)
        extra += (key[i] == '~' || key[i] == '/') ? 2 : 1;
    if (!ptr_reserve(p, extra))
        return old;
    char *o = p->buf + p->len;
    *o++ = '/';
    for (size_t i = 0; i < klen; i++) {
        if (key[i] == '~') {
            *o++ = '~';
            *o++ = '0';
        } else if (key[i] == '/') {
            *o++ = '~';
            *o++ = '1';
        } else {
            *o++ = key[i];
        }
    }
    p->len += extra;
    p->buf[p->len] = '\0';
    return old;
}

size_t fs_ptr_push_cstr(pointer_buf *p, const char *key)
{
    return fs_ptr_push_key(p, key, strlen(key));
}

size_t fs_ptr_push_index(pointer_buf *p, size_t index)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%zu", index);
    return fs_ptr_push_key(p, tmp, n > 0 ? (size_t)n : 0);
}

void fs_ptr_pop(pointer_buf *p, size_t old)
{
    if (p->buf && old <= p->len) {
        p->len = old;
        p->buf[old] = '\0';
    }
}

/* ------------------------------------------------------------------------------------ */
/* Error reporting.                                                                      */

void fs_ctx_init(fs_ctx *c, const char *base_pointer, json_t *errors)
{
    c->errors = json_is_array(errors) ? errors : NULL;
    c->count = 0;
    c->keep_patterns = NULL;
    c->compiled = NULL;
    ptr_init(&c->ptr, base_pointer);
}

void fs_ctx_clear(fs_ctx *c)
{
    ptr_free(&c->ptr);
}

void fs_report(fs_ctx *c, const char *code, const char *fmt, ...)
{
    c->count++;
    if (!c->errors)
        return;

    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        msg[0] = '\0';

    json_t *ptr = c->ptr.buf ? json_stringn(c->ptr.buf, c->ptr.len) : NULL;
    if (!ptr) /* invalid UTF-8 in a key or out of memory: degrade, never drop */
        ptr = json_string("");
    json_t *err = json_object();
    if (!err) {
        json_decref(ptr);
        return;
    }
    json_object_set_new(err, "pointer", ptr);
    json_object_set_new(err, "code", json_string(code));
    json_object_set_new(err, "message", json_string(msg));
    json_array_append_new(c->errors, err);
}

/* Reports at "<current pointer>/<keyword>" (used by the schema check). */
void fs_report_at(fs_ctx *c, const char *keyword, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        msg[0] = '\0';
    size_t old = fs_ptr_push_cstr(&c->ptr, keyword);
    fs_report(c, code, "%s", msg);
    fs_ptr_pop(&c->ptr, old);
}

/* ------------------------------------------------------------------------------------ */
/* Numbers and equality.                                                                 */

/* Exact comparison of an integer with a double (no precision loss for large values). */
static int cmp_int_real(json_int_t i, double d)
{
    if (d >= 0x1p63)
        return -1;
    if (d < -0x1p63)
        return 1;
    json_int_t t = (json_int_t)d; /* truncation toward zero; fits, see range checks */
    if (i < t)
        return -1;
    if (i > t)
        return 1;
    double frac = d - (double)t; /* exact */
    return frac > 0 ? -1 : (frac < 0 ? 1 : 0);
}

/* Compares two JSON numbers mathematically (1 == 1.0). jansson never stores NaN/inf. */
int fs_num_cmp(const json_t *a, const json_t *b)
{
    if (json_is_integer(a) && json_is_integer(b)) {
        json_int_t x = json_integer_value(a), y = json_integer_value(b);
        return x < y ? -1 : (x > y ? 1 : 0);
    }
    if (json_is_real(a) && json_is_real(b)) {
        double x = json_real_value(a), y = json_real_value(b);
        return x < y ? -1 : (x > y ? 1 : 0);
    }
    if (json_is_integer(a))
        return cmp_int_real(json_integer_value(a), json_real_value(b));
    return -cmp_int_real(json_integer_value(b), json_real_value(a));
}

/* JSON Schema equality: numbers compare mathematically, objects ignore key order.
   `remaining` bounds the container nesting walked; deeper values compare unequal. */
bool fs_values_equal(const json_t *a, const json_t *b, unsigned remaining)
{
    if (json_is_number(a) && json_is_number(b))
        return fs_num_cmp(a, b) == 0;
    if (json_typeof(a) != json_typeof(b))
        return false;
    switch (json_typeof(a)) {
    case JSON_STRING:
        return json_string_length(a) == json_string_length(b) &&
               memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
    case JSON_TRUE:
    case JSON_FALSE:
    case JSON_NULL:
        return true;
    case JSON_ARRAY: {
        if (remaining == 0 || json_array_size(a) != json_array_size(b))
            return false;
        for (size_t i = 0; i < json_array_size(a); i++) {
            if (!fs_values_equal(json_array_get(a, i), json_array_get(b, i), remaining - 1))
                return false;
        }
        return true;
    }
    case JSON_OBJECT: {
        if (remaining == 0 || json_object_size(a) != json_object_size(b))
            return false;
        json_t *oa = (json_t *)a;
        for (void *it = json_object_iter(oa); it; it = json_object_iter_next(oa, it)) {
            const json_t *other =
                json_object_getn(b, json_object_iter_key(it), json_object_iter_key_len(it));
            if (!other || !fs_values_equal(json_object_iter_value(it), other, remaining - 1))
                return false;
        }
        return true;
    }
    default:
        return false;
    }
}

/* True if `v` nests arrays/objects more than `remaining` levels deep. */
bool fs_value_too_deep(const json_t *v, unsigned remaining)
{
    if (json_is_array(v)) {
        if (remaining == 0)
            return true;
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (fs_value_too_deep(json_array_get(v, i), remaining - 1))
                return true;
        }
    } else if (json_is_object(v)) {
        if (remaining == 0)
            return true;
        json_t *o = (json_t *)v;
        for (void *it = json_object_iter(o); it; it = json_object_iter_next(o, it)) {
            if (fs_value_too_deep(json_object_iter_value(it), remaining - 1))
                return true;
        }
    }
    return false;
}

/* Formats a schema number for a message, locale independently ("100", "0.5"). */
void fs_format_number(const json_t *n, char *out, size_t outlen)
{
    if (json_is_integer(n)) {
        snprintf(out, outlen, "%" JSON_INTEGER_FORMAT, json_integer_value(n));
        return;
    }
    double d = json_real_value(n);
    if (d > -1e15 && d < 1e15 && cmp_int_real((json_int_t)d, d) == 0) {
        snprintf(out, outlen, "%" JSON_INTEGER_FORMAT, (json_int_t)d);
        return;
    }
    char *s = json_dumps(n, JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
    snprintf(out, outlen, "%s", s ? s : "the limit");
    free(s);
}

/* ------------------------------------------------------------------------------------ */
/* Types.                                                                                */

static const char *const k_types[] = {"string", "number", "integer", "boolean",
                                      "object", "array",  "null"};

bool fs_known_type(const json_t *t)
{
    if (!json_is_string(t))
        return false;
    for (size_t i = 0; i < sizeof k_types / sizeof k_types[0]; i++) {
        if (strcmp(json_string_value(t), k_types[i]) == 0 &&
            json_string_length(t) == strlen(k_types[i]))
            return true;
    }
    return false;
}

/* "integer" only matches numbers that jansson parsed as integers: 3 is an integer, 3.0
   is not (documented in docs/form-schema.md). */
bool fs_type_matches(const char *t, const json_t *v)
{
    if (strcmp(t, "string") == 0)
        return json_is_string(v);
    if (strcmp(t, "number") == 0)
        return json_is_number(v);
    if (strcmp(t, "integer") == 0)
        return json_is_integer(v);
    if (strcmp(t, "boolean") == 0)
        return json_is_boolean(v);
    if (strcmp(t, "object") == 0)
        return json_is_object(v);
    if (strcmp(t, "array") == 0)
        return json_is_array(v);
    if (strcmp(t, "null") == 0)
        return json_is_null(v);
    return false;
}

const char *fs_type_phrase(const char *t)
{
    if (strcmp(t, "string") == 0)
        return "a string";
    if (strcmp(t, "number") == 0)
        return "a number";
    if (strcmp(t, "integer") == 0)
        return "an integer";
    if (strcmp(t, "boolean") == 0)
        return "true or false";
    if (strcmp(t, "object") == 0)
        return "an object";
    if (strcmp(t, "array") == 0)
        return "an array";
    return "null";
}

/* ------------------------------------------------------------------------------------ */
/* The compiled schema.                                                                  */

struct mc_form_schema {
    json_t *schema;              /* a reference; only ever read */
    struct fs_pattern *patterns; /* sorted by node address */
    size_t n_patterns;
};

void fs_patterns_add(struct fs_pattern_set *set, const json_t *node, regex_t *re)
{
    if (set->count == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 8;
        struct fs_pattern *grown = realloc(set->items, cap * sizeof *grown);
        if (grown == NULL) {
            set->failed = true;
            regfree(re);
            return;
        }
        set->items = grown;
        set->cap = cap;
    }
    set->items[set->count].node = node;
    set->items[set->count].re = *re;
    set->count++;
}

static int pattern_order(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)((const struct fs_pattern *)a)->node;
    uintptr_t y = (uintptr_t)((const struct fs_pattern *)b)->node;
    return x < y ? -1 : x > y;
}

static void patterns_free(struct fs_pattern *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        regfree(&items[i].re);
    free(items);
}

mc_form_schema *mc_form_schema_compile(const json_t *schema)
{
    struct fs_pattern_set set = {0};
    if (schema == NULL || fs_check(schema, NULL, NULL, &set) != 0 || set.failed) {
        patterns_free(set.items, set.count);
        return NULL;
    }
    mc_form_schema *fs = calloc(1, sizeof *fs);
    if (fs == NULL) {
        patterns_free(set.items, set.count);
        return NULL;
    }
    /* The reference keeps the schema (and so the pattern nodes the table is keyed by)
       alive as long as `fs`; the schema itself is never written to. */
    fs->schema = json_incref((json_t *)schema);
    if (set.count > 1)
        qsort(set.items, set.count, sizeof *set.items, pattern_order);
    fs->patterns = set.items;
    fs->n_patterns = set.count;
    return fs;
}

void mc_form_schema_free(mc_form_schema *fs)
{
    if (fs == NULL)
        return;
    patterns_free(fs->patterns, fs->n_patterns);
    json_decref(fs->schema);
    free(fs);
}

const json_t *mc_form_schema_json(const mc_form_schema *fs)
{
    return fs != NULL ? fs->schema : NULL;
}

const regex_t *fs_compiled_pattern(const mc_form_schema *fs, const json_t *node)
{
    if (fs->n_patterns == 0)
        return NULL;
    struct fs_pattern key = {.node = node};
    const struct fs_pattern *found =
        bsearch(&key, fs->patterns, fs->n_patterns, sizeof key, pattern_order);
    return found != NULL ? &found->re : NULL;
}
