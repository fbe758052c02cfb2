/*
 * motcua - the form-schema meta-check: is a schema well-formed and within the supported
 * subset (mc_form_schema_check, and the check part of mc_form_schema_compile)?
 * See motcua/form_schema.h for the contract, docs/form-schema.md for the subset.
 */
#include <regex.h>
#include <stdbool.h>
#include <string.h>

#include "form_schema_internal.h"

enum keyword {
    KW_TYPE,
    KW_PROPERTIES,
    KW_REQUIRED,
    KW_ADDITIONAL_PROPERTIES,
    KW_ENUM,
    KW_CONST,
    KW_MIN_LENGTH,
    KW_MAX_LENGTH,
    KW_PATTERN,
    KW_MINIMUM,
    KW_MAXIMUM,
    KW_EXCLUSIVE_MINIMUM,
    KW_EXCLUSIVE_MAXIMUM,
    KW_ITEMS,
    KW_MIN_ITEMS,
    KW_MAX_ITEMS,
    KW_FORMAT,
    KW_TITLE,
    KW_DESCRIPTION,
    KW_DEFAULT,
    KW_EXAMPLES,
    KW_COMMENT,
    KW_COUNT
};

static const char *const k_keywords[KW_COUNT] = {
    [KW_TYPE] = "type",
    [KW_PROPERTIES] = "properties",
    [KW_REQUIRED] = "required",
    [KW_ADDITIONAL_PROPERTIES] = "additionalProperties",
    [KW_ENUM] = "enum",
    [KW_CONST] = "const",
    [KW_MIN_LENGTH] = "minLength",
    [KW_MAX_LENGTH] = "maxLength",
    [KW_PATTERN] = "pattern",
    [KW_MINIMUM] = "minimum",
    [KW_MAXIMUM] = "maximum",
    [KW_EXCLUSIVE_MINIMUM] = "exclusiveMinimum",
    [KW_EXCLUSIVE_MAXIMUM] = "exclusiveMaximum",
    [KW_ITEMS] = "items",
    [KW_MIN_ITEMS] = "minItems",
    [KW_MAX_ITEMS] = "maxItems",
    [KW_FORMAT] = "format",
    [KW_TITLE] = "title",
    [KW_DESCRIPTION] = "description",
    [KW_DEFAULT] = "default",
    [KW_EXAMPLES] = "examples",
    [KW_COMMENT] = "$comment",
};

static int find_keyword(const char *key, size_t klen)
{
    for (int i = 0; i < KW_COUNT; i++) {
        if (strlen(k_keywords[i]) == klen && memcmp(k_keywords[i], key, klen) == 0)
            return i;
    }
    return -1;
}

static void check_schema(fs_ctx *c, const json_t *s, unsigned depth);

static void check_value_depth(fs_ctx *c, const json_t *v, const char *what)
{
    if (fs_value_too_deep(v, MC_FORM_SCHEMA_MAX_DEPTH))
        fs_report(c, MC_FORM_SCHEMA_E_TOO_DEEP, "%s value is nested more than %d levels deep", what,
               MC_FORM_SCHEMA_MAX_DEPTH);
}

/* enum and examples hold a list of values: each element gets the full depth budget. */
static void check_array_values_depth(fs_ctx *c, const json_t *arr, const char *what)
{
    for (size_t i = 0; i < json_array_size(arr); i++) {
        size_t old = fs_ptr_push_index(&c->ptr, i);
        check_value_depth(c, json_array_get(arr, i), what);
        fs_ptr_pop(&c->ptr, old);
    }
}

static void check_type(fs_ctx *c, const json_t *v)
{
    if (json_is_string(v)) {
        if (!fs_known_type(v))
            fs_report(c, MC_FORM_SCHEMA_E_INVALID_SCHEMA,
                   "type must be one of string, number, integer, boolean, object, array, "
                   "null");
        return;
    }
    if (!json_is_array(v) || json_array_size(v) == 0) {
        fs_report(c, MC_FORM_SCHEMA_E_INVALID_SCHEMA,
               "type must be a type name or a non-empty array of type names");
        return;
    }
    for (size_t i = 0; i < json_array_size(v); i++) {
        const json_t *t = json_array_get(v, i);
        size_t old = fs_ptr_push_index(&c->ptr, i);
        if (!fs_known_type(t)) {
            fs_report(c, MC_FORM_SCHEMA_E_INVALID_SCHEMA,
                   "type must be one of string, number, integer, boolean, object, array, "
                   "null");
        } else {
            for (size_t j = 0; j < i; j++) {
                if (fs_values_equal(json_array_get(v, j), t, 0)) {
                    fs_report(c, MC_FORM_SCHEMA_E_INVALID_SCHEMA, "type names must be unique");
                    break;
                }
            }
        }
        fs_ptr_pop(&c->ptr, old);
    }
}

static void check_required(fs_ctx *c, const json_t *s, const json_t *v)
{
    if (!json_is_array(v)) {
        fs_report(c, MC_FORM_SCHEMA_E_INVALID_SCHEMA, "required must be an array of property names");
        return;
    }
    const json_t *props = json_object_get(s, "properties");
    bool closed = json_is_false(json_object_get(s, "additionalProperties"));
    for (size_t i = 0; i < json_array_size(v); i++) {
        const json_t *name = json_array_get(v, i);
        size_t old = fs_ptr_push_index(&c->ptr, i);
        if (!json_is_string(name)) {
            fs_report(c, MC_FORM_SCHEMA_E_INVALID_SCHEMA, "required entries must be strings");
        } else {
            bool dup = false;
            for (size_t j = 0; j < i && !dup; j++)
                dup = fs_values_equal(json_array_get(v, j), name, 0);
            if (dup)
                fs_report(c, MC_FORM_SCHEMA_E_INVALID_SCHEMA,
                       "required property names must be unique");
            else if (closed &&
                     (!json_is_object(props) ||
                      !json_object_getn(props, json_string_value(name), json_string_length(name))))
                fs_report(c, MC_FORM_SCHEMA_E_INVALID_SCHEMA,
                       "required property is not declared in properties although "
                       "additionalProperties is false, so no data could ever be valid");
        }
        fs_ptr_pop(&c->ptr, old);
    }
}

static bool check_size_keyword(fs_ctx *c, const json_t *v, const char *name)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        fs_report(c, MC_FORM_SCHEMA_E_INVALID_SCHEMA, "%s must be a non-negative integer", name);
        return false;
    }
    return true;
}

/* Cross-keyword consistency: bounds that no value could satisfy. */
static void check_bounds(fs_ctx *c, const json_t *s)
{
    static const struct {
        const char *lo, *hi;
        bool strict; /* true: lo must be < hi; false: lo <= hi */
    } pairs[] = {
        {"minLength", "maxLength", false},     {"minItems", "maxItems", false},
        {"minimum", "maximum", false},         {"exclusiveMinimum", "exclusiveMaximum", true},
        {"minimum", "exclusiveMaximum", true}, {"exclusiveMinimum", "maximum", true},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        const json_t *lo = json_object_get(s, pairs[i].lo);
        const json_t *hi = json_object_get(s, pairs[i].hi);
        if (!json_is_number(lo) || !json_is_number(hi))
            continue;
        int cmp = fs_num_cmp(lo, hi);
        if (cmp > 0 || (pairs[i].strict && cmp == 0))
            fs_report_at(c, pairs[i].lo, MC_FORM_SCHEMA_E_INVALID_SCHEMA,
                      "%s is not compatible with %s: no value could be valid", pairs[i].lo,
                      pairs[i].hi);
    }
}

static void check_keyword(fs_ctx *c, const json_t *s, int kw, const json_t *v, unsigned depth)
{
    const char *name = k_keywords[kw];
    switch ((enum keyword)kw) {
    case KW_TYPE:
        check_type(c, v);
        break;
    case KW_PROPERTIES: {
        if (!json_is_object(v)) {
            fs_report(c, MC_FORM_SCHEMA_E_INVALID_SCHEMA, "properties must be an object");
            break;
        }
        json_t *o = (json_t *)v;
        for (void *it = json_object_iter(o); it; it = json_object_iter_next(o, it)) {
            size_t old =
                fs_ptr_push_key(&c->ptr, json_object_iter_key(it), json_object_iter_key_len(it));
            check_schema(c, json_object_iter_value(it), depth + 1);
            fs_ptr_pop(&c->ptr, old);
        }
        break;
    }
    case KW_REQUIRED:
        check_required(c, s, v);
        break;
    case KW_ADDITIONAL_PROPERTIES:
        if (!json_is_boolean(v))
            fs_report(c, MC_FORM_SCHEMA_E_INVALID_SCHEMA,
                   "additionalProperties must be true or false (schemas are not supported)");
        break;
    case KW_ENUM:
        if (!json_is_array(v) || json_array_size(v) == 0)
            fs_report(c, MC_FORM_SCHEMA_E_INVALID_SCHEMA, "enum must be a non-empty array");
        else
            check_array_values_depth(c, v, name);
        break;
    case KW_CONST:
    case KW_DEFAULT:
        check_value_depth(c, v, name);
        break;
    case KW_EXAMPLES:
        if (!json_is_array(v))
            fs_report(c, MC_FORM_SCHEMA_E_INVALID_SCHEMA, "examples must be an array");
        else
            check_array_values_depth(c, v, name);
        break;
    case KW_MIN_LENGTH:
    case KW_MAX_LENGTH:
    case KW_MIN_ITEMS:
    case KW_MAX_ITEMS:
        check_size_keyword(c, v, name);
        break;
    case KW_MINIMUM:
    case KW_MAXIMUM:
    case KW_EXCLUSIVE_MINIMUM:
    case KW_EXCLUSIVE_MAXIMUM:
        if (!json_is_number(v))
            fs_report(c, MC_FORM_SCHEMA_E_INVALID_SCHEMA, "%s must be a number", name);
        break;
    case KW_PATTERN: {
        regex_t re;
        char why[400];
        if (!fs_pattern_compile(v, &re, why, sizeof why))
            fs_report(c, MC_FORM_SCHEMA_E_INVALID_SCHEMA, "%s", why);
        else if (c->keep_patterns != NULL)
            fs_patterns_add(c->keep_patterns, v, &re);
        else
            regfree(&re);
        break;
    }
    case KW_ITEMS:
        check_schema(c, v, depth + 1);
        break;
    case KW_FORMAT:
        if (!fs_find_format(v))
            fs_report(c, MC_FORM_SCHEMA_E_INVALID_SCHEMA,
                   "format must be one of date, email, vn-personal-id, vn-phone");
        break;
    case KW_TITLE:
    case KW_DESCRIPTION:
    case KW_COMMENT:
        if (!json_is_string(v))
            fs_report(c, MC_FORM_SCHEMA_E_INVALID_SCHEMA, "%s must be a string", name);
        break;
    case KW_COUNT:
        break;
    }
}

static void check_schema(fs_ctx *c, const json_t *s, unsigned depth)
{
    if (depth > MC_FORM_SCHEMA_MAX_DEPTH) {
        fs_report(c, MC_FORM_SCHEMA_E_TOO_DEEP, "schema is nested more than %d levels deep",
               MC_FORM_SCHEMA_MAX_DEPTH);
        return;
    }
    if (!json_is_object(s)) {
        fs_report(c, MC_FORM_SCHEMA_E_INVALID_SCHEMA, "schema must be a JSON object");
        return;
    }
    json_t *o = (json_t *)s;
    for (void *it = json_object_iter(o); it; it = json_object_iter_next(o, it)) {
        const char *key = json_object_iter_key(it);
        size_t klen = json_object_iter_key_len(it);
        size_t old = fs_ptr_push_key(&c->ptr, key, klen);
        int kw = find_keyword(key, klen);
        if (kw < 0)
            fs_report(c, MC_FORM_SCHEMA_E_UNSUPPORTED_KEYWORD,
                   "keyword is not supported by the form-schema subset");
        else
            check_keyword(c, s, kw, json_object_iter_value(it), depth);
        fs_ptr_pop(&c->ptr, old);
    }
    check_bounds(c, s);
}

size_t fs_check(const json_t *schema, const char *base_pointer, json_t *errors,
                struct fs_pattern_set *keep_patterns)
{
    fs_ctx c;
    fs_ctx_init(&c, base_pointer, errors);
    c.keep_patterns = keep_patterns;
    check_schema(&c, schema, 0);
    fs_ctx_clear(&c);
    return c.count;
}

size_t mc_form_schema_check(const json_t *schema, const char *base_pointer, json_t *errors)
{
    return fs_check(schema, base_pointer, errors, NULL);
}
