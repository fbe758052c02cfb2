/*
 * motcua - validation of a citizen's form data against a form schema
 * (mc_form_schema_validate, mc_form_schema_validate_compiled). Reports every violation
 * with a JSON Pointer into the data; fails closed on a malformed keyword. See
 * motcua/form_schema.h for the contract.
 */
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "form_schema_internal.h"

static void malformed(fs_ctx *c, const char *keyword)
{
    fs_report(c, MC_FORM_SCHEMA_E_INVALID_SCHEMA,
           "cannot be validated: the schema keyword %s is malformed", keyword);
}

/* Reads a non-negative integer keyword. Returns 0 if absent, 1 if present and valid,
   -1 if malformed (already reported). */
static int get_size(fs_ctx *c, const json_t *s, const char *name, json_int_t *out)
{
    const json_t *v = json_object_get(s, name);
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        malformed(c, name);
        return -1;
    }
    *out = json_integer_value(v);
    return 1;
}

static const char *plural(json_int_t n)
{
    return n == 1 ? "" : "s";
}

static void validate_type(fs_ctx *c, const json_t *t, const json_t *inst)
{
    if (json_is_string(t)) {
        if (!fs_known_type(t)) {
            malformed(c, "type");
        } else if (!fs_type_matches(json_string_value(t), inst)) {
            fs_report(c, MC_FORM_SCHEMA_E_TYPE, "must be %s", fs_type_phrase(json_string_value(t)));
        }
        return;
    }
    if (!json_is_array(t) || json_array_size(t) == 0) {
        malformed(c, "type");
        return;
    }
    char list[256];
    size_t used = 0;
    list[0] = '\0';
    for (size_t i = 0; i < json_array_size(t); i++) {
        const json_t *e = json_array_get(t, i);
        if (!fs_known_type(e)) {
            malformed(c, "type");
            return;
        }
        if (fs_type_matches(json_string_value(e), inst))
            return;
        if (used < sizeof list) {
            int n = snprintf(list + used, sizeof list - used, "%s%s", i ? " or " : "",
                             fs_type_phrase(json_string_value(e)));
            if (n > 0)
                used += (size_t)n;
        }
    }
    fs_report(c, MC_FORM_SCHEMA_E_TYPE, "must be %s", list);
}

/* 1 if the string matches the "pattern" node `pat`, 0 if not, -1 if the pattern is
   malformed. A compiled schema's patterns were compiled once by mc_form_schema_compile();
   a bare JSON schema's are compiled here, per use. */
static int pattern_matches(const fs_ctx *c, const json_t *pat, const char *str, size_t bytes)
{
    const regex_t *compiled = c->compiled != NULL ? fs_compiled_pattern(c->compiled, pat) : NULL;
    if (compiled != NULL)
        return fs_pattern_matches(compiled, str, bytes);
    regex_t re;
    char why[400];
    if (!fs_pattern_compile(pat, &re, why, sizeof why))
        return -1;
    bool matched = fs_pattern_matches(&re, str, bytes);
    regfree(&re);
    return matched;
}

static void validate_string(fs_ctx *c, const json_t *s, const json_t *inst)
{
    const char *str = json_string_value(inst);
    size_t bytes = json_string_length(inst);
    json_int_t lim;

    int has_min = get_size(c, s, "minLength", &lim);
    size_t chars = fs_utf8_length(str, bytes);
    if (has_min > 0 && (json_int_t)chars < lim)
        fs_report(c, MC_FORM_SCHEMA_E_MIN_LENGTH,
               "must be at least %" JSON_INTEGER_FORMAT " character%s", lim, plural(lim));
    if (get_size(c, s, "maxLength", &lim) > 0 && (json_int_t)chars > lim)
        fs_report(c, MC_FORM_SCHEMA_E_MAX_LENGTH,
               "must be at most %" JSON_INTEGER_FORMAT " character%s", lim, plural(lim));

    const json_t *pat = json_object_get(s, "pattern");
    if (pat) {
        int matched = pattern_matches(c, pat, str, bytes);
        if (matched < 0)
            malformed(c, "pattern");
        else if (!matched)
            fs_report(c, MC_FORM_SCHEMA_E_PATTERN, "does not match the required pattern");
    }

    const json_t *fmt = json_object_get(s, "format");
    if (fmt) {
        const fs_format *f = fs_find_format(fmt);
        if (!f)
            malformed(c, "format");
        else if (!f->fn(str, bytes))
            fs_report(c, MC_FORM_SCHEMA_E_FORMAT, "%s", f->message);
    }
}

static void validate_number(fs_ctx *c, const json_t *s, const json_t *inst)
{
    static const struct {
        const char *keyword;
        const char *code;
        const char *phrase;
        int kind; /* 0: inst < limit is bad, 1: inst > limit, 2: inst <= limit, 3: >= */
    } bounds[] = {
        {"minimum", MC_FORM_SCHEMA_E_MINIMUM, "must be at least", 0},
        {"maximum", MC_FORM_SCHEMA_E_MAXIMUM, "must be at most", 1},
        {"exclusiveMinimum", MC_FORM_SCHEMA_E_EXCLUSIVE_MINIMUM, "must be greater than", 2},
        {"exclusiveMaximum", MC_FORM_SCHEMA_E_EXCLUSIVE_MAXIMUM, "must be less than", 3},
    };
    for (size_t i = 0; i < sizeof bounds / sizeof bounds[0]; i++) {
        const json_t *lim = json_object_get(s, bounds[i].keyword);
        if (!lim)
            continue;
        if (!json_is_number(lim)) {
            malformed(c, bounds[i].keyword);
            continue;
        }
        int cmp = fs_num_cmp(inst, lim);
        bool bad;
        switch (bounds[i].kind) {
        case 0:
            bad = cmp < 0;
            break;
        case 1:
            bad = cmp > 0;
            break;
        case 2:
            bad = cmp <= 0;
            break;
        default:
            bad = cmp >= 0;
            break;
        }
        if (bad) {
            char num[64];
            fs_format_number(lim, num, sizeof num);
            fs_report(c, bounds[i].code, "%s %s", bounds[i].phrase, num);
        }
    }
}

static void validate_node(fs_ctx *c, const json_t *s, const json_t *inst, unsigned depth);

static void validate_object(fs_ctx *c, const json_t *s, const json_t *inst, unsigned depth)
{
    const json_t *req = json_object_get(s, "required");
    if (req) {
        if (!json_is_array(req)) {
            malformed(c, "required");
        } else {
            for (size_t i = 0; i < json_array_size(req); i++) {
                const json_t *name = json_array_get(req, i);
                if (!json_is_string(name)) {
                    malformed(c, "required");
                    break;
                }
                const char *k = json_string_value(name);
                size_t klen = json_string_length(name);
                if (!json_object_getn(inst, k, klen)) {
                    size_t old = fs_ptr_push_key(&c->ptr, k, klen);
                    fs_report(c, MC_FORM_SCHEMA_E_REQUIRED, "is required");
                    fs_ptr_pop(&c->ptr, old);
                }
            }
        }
    }

    const json_t *props = json_object_get(s, "properties");
    if (props && !json_is_object(props)) {
        malformed(c, "properties");
        props = NULL;
    }
    if (props) {
        json_t *o = (json_t *)props;
        for (void *it = json_object_iter(o); it; it = json_object_iter_next(o, it)) {
            const char *k = json_object_iter_key(it);
            size_t klen = json_object_iter_key_len(it);
            const json_t *child = json_object_getn(inst, k, klen);
            if (!child)
                continue;
            size_t old = fs_ptr_push_key(&c->ptr, k, klen);
            validate_node(c, json_object_iter_value(it), child, depth + 1);
            fs_ptr_pop(&c->ptr, old);
        }
    }

    const json_t *addl = json_object_get(s, "additionalProperties");
    if (addl && !json_is_boolean(addl)) {
        malformed(c, "additionalProperties");
    } else if (json_is_false(addl)) {
        json_t *o = (json_t *)inst;
        for (void *it = json_object_iter(o); it; it = json_object_iter_next(o, it)) {
            const char *k = json_object_iter_key(it);
            size_t klen = json_object_iter_key_len(it);
            if (props && json_object_getn(props, k, klen))
                continue;
            size_t old = fs_ptr_push_key(&c->ptr, k, klen);
            fs_report(c, MC_FORM_SCHEMA_E_ADDITIONAL_PROPERTY, "is not an allowed field");
            fs_ptr_pop(&c->ptr, old);
        }
    }
}

static void validate_array(fs_ctx *c, const json_t *s, const json_t *inst, unsigned depth)
{
    json_int_t lim;
    json_int_t size = (json_int_t)json_array_size(inst);
    if (get_size(c, s, "minItems", &lim) > 0 && size < lim)
        fs_report(c, MC_FORM_SCHEMA_E_MIN_ITEMS, "must have at least %" JSON_INTEGER_FORMAT " item%s",
               lim, plural(lim));
    if (get_size(c, s, "maxItems", &lim) > 0 && size > lim)
        fs_report(c, MC_FORM_SCHEMA_E_MAX_ITEMS, "must have at most %" JSON_INTEGER_FORMAT " item%s",
               lim, plural(lim));

    const json_t *items = json_object_get(s, "items");
    if (!items)
        return;
    for (size_t i = 0; i < json_array_size(inst); i++) {
        size_t old = fs_ptr_push_index(&c->ptr, i);
        validate_node(c, items, json_array_get(inst, i), depth + 1);
        fs_ptr_pop(&c->ptr, old);
    }
}

static void validate_node(fs_ctx *c, const json_t *s, const json_t *inst, unsigned depth)
{
    if (depth > MC_FORM_SCHEMA_MAX_DEPTH) {
        fs_report(c, MC_FORM_SCHEMA_E_TOO_DEEP, "is nested more than %d levels deep",
               MC_FORM_SCHEMA_MAX_DEPTH);
        return;
    }
    if (!json_is_object(s)) {
        fs_report(c, MC_FORM_SCHEMA_E_INVALID_SCHEMA,
               "cannot be validated: the schema is not a JSON object");
        return;
    }

    const json_t *t = json_object_get(s, "type");
    if (t)
        validate_type(c, t, inst);

    const json_t *cst = json_object_get(s, "const");
    if (cst && !fs_values_equal(cst, inst, MC_FORM_SCHEMA_MAX_DEPTH))
        fs_report(c, MC_FORM_SCHEMA_E_CONST, "must be equal to the required value");

    const json_t *en = json_object_get(s, "enum");
    if (en) {
        if (!json_is_array(en)) {
            malformed(c, "enum");
        } else {
            bool found = false;
            for (size_t i = 0; i < json_array_size(en) && !found; i++)
                found = fs_values_equal(json_array_get(en, i), inst, MC_FORM_SCHEMA_MAX_DEPTH);
            if (!found)
                fs_report(c, MC_FORM_SCHEMA_E_ENUM, "must be one of the allowed values");
        }
    }

    if (json_is_string(inst))
        validate_string(c, s, inst);
    else if (json_is_number(inst))
        validate_number(c, s, inst);
    else if (json_is_object(inst))
        validate_object(c, s, inst, depth);
    else if (json_is_array(inst))
        validate_array(c, s, inst, depth);
}

static size_t validate(const json_t *schema, const mc_form_schema *compiled,
                       const json_t *instance, const char *base_pointer, json_t *errors)
{
    fs_ctx c;
    fs_ctx_init(&c, base_pointer, errors);
    c.compiled = compiled;
    if (!instance)
        fs_report(&c, MC_FORM_SCHEMA_E_TYPE, "is missing");
    else
        validate_node(&c, schema, instance, 0);
    fs_ctx_clear(&c);
    return c.count;
}

size_t mc_form_schema_validate(const json_t *schema, const json_t *instance,
                               const char *base_pointer, json_t *errors)
{
    return validate(schema, NULL, instance, base_pointer, errors);
}

size_t mc_form_schema_validate_compiled(const mc_form_schema *fs, const json_t *instance,
                                        const char *base_pointer, json_t *errors)
{
    return validate(mc_form_schema_json(fs), fs, instance, base_pointer, errors);
}
