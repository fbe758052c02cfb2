/*
 * Strict JSON parsing and the declarative field checker.
 */
#include "motcua/json_spec.h"

#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <regex.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "motcua/calendar.h"
#include "regex_fixed_locale.h"

json_t *mc_json_parse_strict(const char *buf, size_t len, char *err_buf, size_t err_buf_len)
{
    json_error_t jerr;
    /* JSON_REJECT_DUPLICATES: {"a":1,"a":2} is ambiguous and rejected.
       JSON_DECODE_ANY: a bare scalar is valid JSON (RFC 8259); it then
       fails the field check with a 422 at pointer "" rather than a 400.
       JSON_ALLOW_NUL is not set: "\u0000" inside strings is refused, so a
       value can never be silently cut short in C strings or in PostgreSQL. */
    json_t *value = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (value == NULL && err_buf != NULL && err_buf_len > 0)
        snprintf(err_buf, err_buf_len, "%s (line %d, column %d)", jerr.text, jerr.line,
                 jerr.column);
    return value;
}

json_t *mc_errors_new(void)
{
    return json_array();
}

void mc_errors_add(json_t *errors, const char *pointer, const char *code, const char *message)
{
    json_t *e = json_pack("{ss ss ss}", "pointer", pointer, "code", code, "message", message);
    /* A pointer quoting invalid UTF-8 from the request must not make the
       error vanish: it is reported at the document root instead. */
    if (e == NULL)
        e = json_pack("{ss ss ss}", "pointer", "", "code", code, "message", message);
    json_array_append_new(errors, e);
}

void mc_pointer_join(char *out, size_t out_len, const char *base, const char *name)
{
    size_t n = (size_t)snprintf(out, out_len, "%s/", base);
    if (n >= out_len)
        n = out_len - 1;
    for (const char *c = name; *c != '\0' && n + 3 < out_len; c++) {
        /* When the pointer does not fit, cut it before a whole UTF-8
           character, never inside one. */
        unsigned char lead = (unsigned char)*c;
        size_t clen = lead < 0x80 ? 1 : (lead >= 0xF0 ? 4 : (lead >= 0xE0 ? 3 : 2));
        if (clen > 1) {
            if (n + clen + 1 > out_len)
                break;
            size_t k = 0;
            while (k < clen && c[k] != '\0')
                out[n++] = c[k++];
            c += k - 1; /* the loop's c++ moves past the character */
            continue;
        }
        if (*c == '~') {
            out[n++] = '~';
            out[n++] = '0';
        } else if (*c == '/') {
            out[n++] = '~';
            out[n++] = '1';
        } else {
            out[n++] = *c;
        }
    }
    if (n < out_len)
        out[n] = '\0';
    else if (out_len > 0)
        out[out_len - 1] = '\0';
}

void mc_pointer_join_index(char *out, size_t out_len, const char *base, size_t index)
{
    snprintf(out, out_len, "%s/%zu", base, index);
}

size_t mc_utf8_length(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
        if ((*p & 0xC0) != 0x80)
            n++;
    return n;
}

static const char *type_name(enum mc_field_type type)
{
    switch (type) {
    case MC_F_STRING:
    case MC_F_DATE:
    case MC_F_TIME_OF_DAY:
        return "string";
    case MC_F_INTEGER:
        return "integer";
    case MC_F_NUMBER:
        return "number";
    case MC_F_BOOLEAN:
        return "boolean";
    case MC_F_OBJECT:
        return "object";
    case MC_F_ARRAY:
        return "array";
    default:
        return "value";
    }
}

static bool type_matches(const json_t *v, enum mc_field_type type)
{
    switch (type) {
    case MC_F_STRING:
    case MC_F_DATE:
    case MC_F_TIME_OF_DAY:
        return json_is_string(v);
    case MC_F_INTEGER:
        return json_is_integer(v);
    case MC_F_NUMBER:
        return json_is_number(v);
    case MC_F_BOOLEAN:
        return json_is_boolean(v);
    case MC_F_OBJECT:
        return json_is_object(v);
    case MC_F_ARRAY:
        return json_is_array(v);
    default:
        return true;
    }
}

/*
 * Field patterns are compiled once per process, on first use, and kept: they
 * come from the services' static field tables, so there are a few dozen at
 * most (PATTERN_SLOTS bounds them; past it a pattern is compiled per use).
 * Compiling one costs more than the rest of a request's field check (see
 * tests/bench/form_schema.c). Patterns are compiled and matched under the
 * fixed locale of regex_fixed_locale.h, never the process locale.
 *
 * The table is read without a lock: a slot goes from NULL to a finished,
 * never-modified entry exactly once (a release store, read with acquire),
 * and entries are never removed. Writers take the mutex.
 */
#define PATTERN_SLOTS 256

struct compiled_pattern {
    char *source;
    bool valid; /* false: regcomp refused it, which matches nothing */
    regex_t re;
};

static _Atomic(struct compiled_pattern *) g_patterns[PATTERN_SLOTS];
static pthread_mutex_t g_patterns_mu = PTHREAD_MUTEX_INITIALIZER;

/* The slot holding `pattern`, or the first empty slot of its probe sequence,
   or NULL when the table is full. *found tells which. */
static _Atomic(struct compiled_pattern *) *pattern_slot(const char *pattern, bool *found)
{
    size_t start = (size_t)(mc_fnv1a(pattern) % PATTERN_SLOTS);
    for (size_t i = 0; i < PATTERN_SLOTS; i++) {
        _Atomic(struct compiled_pattern *) *slot = &g_patterns[(start + i) % PATTERN_SLOTS];
        struct compiled_pattern *e = atomic_load_explicit(slot, memory_order_acquire);
        if (e == NULL || strcmp(e->source, pattern) == 0) {
            *found = e != NULL;
            return slot;
        }
    }
    *found = false;
    return NULL;
}

/* The compiled pattern (compiling it on first use), or NULL when the table is
   full or memory runs out. */
static const struct compiled_pattern *pattern_compiled(const char *pattern)
{
    bool found;
    _Atomic(struct compiled_pattern *) *slot = pattern_slot(pattern, &found);
    if (found)
        return atomic_load_explicit(slot, memory_order_acquire);
    pthread_mutex_lock(&g_patterns_mu);
    slot = pattern_slot(pattern, &found); /* another thread may have added it */
    struct compiled_pattern *e = NULL;
    if (found) {
        e = atomic_load_explicit(slot, memory_order_acquire);
    } else if (slot != NULL && (e = calloc(1, sizeof *e)) != NULL) {
        e->source = strdup(pattern);
        if (e->source == NULL) {
            free(e);
            e = NULL;
        } else {
            e->valid = mc_regex_compile(&e->re, pattern, NULL, 0) == 0;
            atomic_store_explicit(slot, e, memory_order_release);
        }
    }
    pthread_mutex_unlock(&g_patterns_mu);
    return e;
}

static bool pattern_matches(const char *pattern, const char *s)
{
    const struct compiled_pattern *e = pattern_compiled(pattern);
    if (e != NULL)
        return e->valid && mc_regex_matches(&e->re, s);
    regex_t re; /* table full or out of memory: compile for this use */
    if (mc_regex_compile(&re, pattern, NULL, 0) != 0)
        return false;
    bool ok = mc_regex_matches(&re, s);
    regfree(&re);
    return ok;
}

static bool has_control_chars(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
        if (*p < 0x20 && *p != '\n' && *p != '\r' && *p != '\t')
            return true;
    return false;
}

static bool valid_time_of_day(const char *s)
{
    return strlen(s) == 5 && s[0] >= '0' && s[0] <= '2' && s[1] >= '0' && s[1] <= '9' &&
           s[2] == ':' && s[3] >= '0' && s[3] <= '5' && s[4] >= '0' && s[4] <= '9' &&
           (s[0] - '0') * 10 + (s[1] - '0') < 24;
}

static size_t check_value(const json_t *v, const struct mc_field *f, const char *pointer,
                          json_t *errors, char *msg, size_t msg_len, unsigned char *target);
static size_t check_object(const json_t *value, const struct mc_field *fields,
                           const char *base_pointer, json_t *errors, unsigned char *target);

static size_t check_string(const json_t *v, const struct mc_field *f, const char *pointer,
                           json_t *errors, char *msg, size_t msg_len)
{
    const char *s = json_string_value(v);
    size_t len = mc_utf8_length(s);
    if (f->type == MC_F_DATE) {
        mc_date d;
        if (!mc_date_parse(s, &d)) {
            mc_errors_add(errors, pointer, "format", "must be a date YYYY-MM-DD");
            return 1;
        }
        return 0;
    }
    if (f->type == MC_F_TIME_OF_DAY) {
        if (!valid_time_of_day(s)) {
            mc_errors_add(errors, pointer, "format", "must be a time of day HH:MM");
            return 1;
        }
        return 0;
    }
    if (has_control_chars(s)) {
        mc_errors_add(errors, pointer, "control_characters", "must not contain control characters");
        return 1;
    }
    if (f->min_len > 0 && len < f->min_len) {
        snprintf(msg, msg_len, f->min_len == 1 ? "must not be empty" : "must be at least %zu characters",
                 f->min_len);
        mc_errors_add(errors, pointer, "min_length", msg);
        return 1;
    }
    if (f->max_len > 0 && len > f->max_len) {
        snprintf(msg, msg_len, "must be at most %zu characters", f->max_len);
        mc_errors_add(errors, pointer, "max_length", msg);
        return 1;
    }
    if (f->enum_values != NULL) {
        bool found = false;
        size_t n = 0;
        for (const char *const *e = f->enum_values; *e != NULL; e++, n++)
            if (strcmp(*e, s) == 0)
                found = true;
        if (!found) {
            size_t used = (size_t)snprintf(msg, msg_len, "must be one of:");
            for (const char *const *e = f->enum_values; *e != NULL && used < msg_len; e++)
                used += (size_t)snprintf(msg + used, msg_len - used, " %s", *e);
            mc_errors_add(errors, pointer, "enum", msg);
            return 1;
        }
    }
    if (f->pattern != NULL && !pattern_matches(f->pattern, s)) {
        snprintf(msg, msg_len, "must match %s", f->pattern);
        mc_errors_add(errors, pointer, "pattern", msg);
        return 1;
    }
    return 0;
}

static size_t check_number(const json_t *v, const struct mc_field *f, const char *pointer,
                           json_t *errors, char *msg, size_t msg_len)
{
    double d = json_number_value(v);
    if (!isfinite(d)) {
        mc_errors_add(errors, pointer, "type", "must be a finite number");
        return 1;
    }
    if (f->has_range && d < f->min) {
        snprintf(msg, msg_len, "must be at least %g", f->min);
        mc_errors_add(errors, pointer, "minimum", msg);
        return 1;
    }
    if (f->has_range && d > f->max) {
        snprintf(msg, msg_len, "must be at most %g", f->max);
        mc_errors_add(errors, pointer, "maximum", msg);
        return 1;
    }
    return 0;
}

static size_t check_array(const json_t *v, const struct mc_field *f, const char *pointer,
                          json_t *errors, char *msg, size_t msg_len)
{
    size_t n = json_array_size(v);
    if (f->min_len > 0 && n < f->min_len) {
        snprintf(msg, msg_len, "must have at least %zu item%s", f->min_len, f->min_len == 1 ? "" : "s");
        mc_errors_add(errors, pointer, "min_items", msg);
        return 1;
    }
    if (f->max_len > 0 && n > f->max_len) {
        snprintf(msg, msg_len, "must have at most %zu items", f->max_len);
        mc_errors_add(errors, pointer, "max_items", msg);
        return 1;
    }
    size_t problems = 0;
    if (f->item != NULL) {
        char child[512];
        for (size_t i = 0; i < n; i++) {
            mc_pointer_join_index(child, sizeof child, pointer, i);
            problems +=
                check_value(json_array_get(v, i), f->item, child, errors, msg, msg_len, NULL);
        }
    }
    if (f->unique_key_item && problems == 0) {
        for (size_t i = 0; i < n; i++) {
            const char *ci = mc_json_str(json_array_get(v, i), "code", NULL);
            for (size_t j = 0; ci != NULL && j < i; j++) {
                const char *cj = mc_json_str(json_array_get(v, j), "code", NULL);
                if (cj != NULL && strcmp(ci, cj) == 0) {
                    char child[512], ptr[600];
                    mc_pointer_join_index(child, sizeof child, pointer, i);
                    mc_pointer_join(ptr, sizeof ptr, child, "code");
                    mc_errors_add(errors, ptr, "duplicate", "duplicates an earlier item's code");
                    problems++;
                    break;
                }
            }
        }
    }
    return problems;
}

/* Check one value against its field; members of a nested object bind into
   target (NULL: nothing binds). */
static size_t check_value(const json_t *v, const struct mc_field *f, const char *pointer,
                          json_t *errors, char *msg, size_t msg_len, unsigned char *target)
{
    if (json_is_null(v)) {
        if (f->nullable)
            return 0;
        snprintf(msg, msg_len, "must be a%s %s, not null",
                 f->type == MC_F_OBJECT || f->type == MC_F_ARRAY || f->type == MC_F_INTEGER ? "n" : "",
                 type_name(f->type));
        mc_errors_add(errors, pointer, f->required ? "required" : "type", msg);
        return 1;
    }
    if (!type_matches(v, f->type)) {
        snprintf(msg, msg_len, "must be %s %s",
                 f->type == MC_F_OBJECT || f->type == MC_F_ARRAY || f->type == MC_F_INTEGER ? "an" : "a",
                 type_name(f->type));
        mc_errors_add(errors, pointer, "type", msg);
        return 1;
    }
    size_t problems = 0;
    switch (f->type) {
    case MC_F_STRING:
    case MC_F_DATE:
    case MC_F_TIME_OF_DAY:
        problems = check_string(v, f, pointer, errors, msg, msg_len);
        break;
    case MC_F_INTEGER:
    case MC_F_NUMBER:
        problems = check_number(v, f, pointer, errors, msg, msg_len);
        break;
    case MC_F_OBJECT:
        if (f->fields != NULL)
            problems = check_object(v, f->fields, pointer, errors, target);
        break;
    case MC_F_ARRAY:
        problems = check_array(v, f, pointer, errors, msg, msg_len);
        break;
    default:
        break;
    }
    if (problems == 0 && f->check != NULL) {
        const char *code = "invalid";
        const char *message = f->check(v, &code);
        if (message != NULL) {
            mc_errors_add(errors, pointer, code, message);
            problems++;
        }
    }
    return problems;
}

/* Does a field's type fit the C type it binds to? */
static bool bind_fits(const struct mc_field *f)
{
    switch (f->bind) {
    case MC_BIND_STRING:
        return f->type == MC_F_STRING || f->type == MC_F_DATE || f->type == MC_F_TIME_OF_DAY;
    case MC_BIND_INTEGER:
        return f->type == MC_F_INTEGER;
    case MC_BIND_NUMBER:
        return f->type == MC_F_NUMBER || f->type == MC_F_INTEGER;
    case MC_BIND_BOOLEAN:
        return f->type == MC_F_BOOLEAN;
    case MC_BIND_JSON:
    case MC_BIND_NONE:
        return true;
    }
    return false;
}

/* Write a non-null value of its field's type into the bound member of target. */
static void bind_value(const json_t *v, const struct mc_field *f, unsigned char *target)
{
    /* A binding that does not fit its field is a mistake in the table:
       caught by the first test that parses it. */
    assert(bind_fits(f));
    void *at = target + f->bind_offset;
    switch (f->bind) {
    case MC_BIND_STRING: {
        const char *s = json_string_value(v);
        memcpy(at, &s, sizeof s);
        break;
    }
    case MC_BIND_INTEGER: {
        long long i = (long long)json_integer_value(v);
        memcpy(at, &i, sizeof i);
        break;
    }
    case MC_BIND_NUMBER: {
        double d = json_number_value(v);
        memcpy(at, &d, sizeof d);
        break;
    }
    case MC_BIND_BOOLEAN: {
        bool b = json_is_true(v);
        memcpy(at, &b, sizeof b);
        break;
    }
    case MC_BIND_JSON:
        memcpy(at, &v, sizeof v);
        break;
    case MC_BIND_NONE:
        break;
    }
}

static size_t check_object(const json_t *value, const struct mc_field *fields,
                           const char *base_pointer, json_t *errors, unsigned char *target)
{
    char msg[512];
    if (!json_is_object(value)) {
        mc_errors_add(errors, base_pointer, "type", "must be an object");
        return 1;
    }
    size_t problems = 0;
    char pointer[512];
    for (const struct mc_field *f = fields; f->type != MC_F_END; f++) {
        const json_t *v = json_object_get(value, f->name);
        mc_pointer_join(pointer, sizeof pointer, base_pointer, f->name);
        if (v == NULL || (json_is_null(v) && f->nullable)) {
            if (f->required && v == NULL) {
                mc_errors_add(errors, pointer, "required", "is required");
                problems++;
            } else if (f->required) {
                mc_errors_add(errors, pointer, "required", "is required and must not be null");
                problems++;
            }
            continue;
        }
        problems += check_value(v, f, pointer, errors, msg, sizeof msg, target);
        /* Bound once of the right type, its other problems notwithstanding:
           a handler's own checks that depend on it still run and report
           theirs, all in one answer (mc_json_parse_fields). */
        if (target != NULL && f->bind != MC_BIND_NONE && !json_is_null(v) &&
            type_matches(v, f->type))
            bind_value(v, f, target);
    }
    /* Unknown members are rejected: a typo in a field name must not be
       silently ignored (the client would believe the value was saved). */
    const char *key;
    const json_t *member;
    json_object_foreach((json_t *)value, key, member) {
        bool known = false;
        for (const struct mc_field *f = fields; f->type != MC_F_END; f++)
            if (strcmp(f->name, key) == 0) {
                known = true;
                break;
            }
        if (!known) {
            mc_pointer_join(pointer, sizeof pointer, base_pointer, key);
            mc_errors_add(errors, pointer, "unknown_field", "is not a known field");
            problems++;
        }
    }
    return problems;
}

size_t mc_json_check(const json_t *value, const struct mc_field *fields, const char *base_pointer,
                     json_t *errors)
{
    return check_object(value, fields, base_pointer, errors, NULL);
}

size_t mc_json_parse_fields(const json_t *value, const struct mc_field *fields,
                            const char *base_pointer, json_t *errors, void *target)
{
    return check_object(value, fields, base_pointer, errors, target);
}

void mc_json_fill_nulls(json_t *obj, const struct mc_field *fields)
{
    if (!json_is_object(obj) || fields == NULL)
        return;
    for (const struct mc_field *f = fields; f->name != NULL; f++) {
        json_t *v = json_object_get(obj, f->name);
        if (v == NULL) {
            if (!f->required)
                json_object_set_new(obj, f->name, json_null());
        } else if (f->type == MC_F_OBJECT && f->fields != NULL) {
            mc_json_fill_nulls(v, f->fields);
        }
    }
}

const char *mc_json_str(const json_t *obj, const char *key, const char *fallback)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : fallback;
}

long long mc_json_int(const json_t *obj, const char *key, long long fallback)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_integer(v) ? json_integer_value(v) : fallback;
}

double mc_json_num(const json_t *obj, const char *key, double fallback)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_number(v) ? json_number_value(v) : fallback;
}

bool mc_json_bool(const json_t *obj, const char *key, bool fallback)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_boolean(v) ? json_is_true(v) : fallback;
}
