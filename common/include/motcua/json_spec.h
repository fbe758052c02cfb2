/*
 * Strict JSON parsing and declarative request validation.
 *
 * A handler declares the fields it accepts as a table of struct mc_field next
 * to itself and calls mc_json_check(), which walks the whole body and reports
 * EVERY problem (missing field, wrong type, out of range, unknown field) as
 * {pointer, code, message} with a JSON Pointer into the request, so a frontend
 * can mark each bad field at once. Parsing rejects duplicate keys.
 *
 * A field may also bind: name a member of a C struct (MC_BIND) and
 * mc_json_parse_fields() fills it from the body as it checks it, so a
 * handler reads its fields as typed variables, never again by name (a
 * mistyped name there would silently give the fallback). GNU Taler's specs
 * hold a target pointer per field and are built on the stack at each call;
 * ours stay static tables next to their handler, so a field names its
 * member by offset and the call names the struct:
 *
 *     struct transfer_body { const char *to_agency; long long amount; };
 *     static const struct mc_field transfer_fields[] = {
 *         {.name = "to_agency", .type = MC_F_STRING, .required = true,
 *          MC_BIND(struct transfer_body, to_agency)},
 *         {.name = "amount", .type = MC_F_INTEGER, MC_BIND(struct transfer_body, amount)},
 *         {0}};
 *     struct transfer_body b = {.amount = -1};  // absent members keep these
 *     if (mc_json_parse_fields(req->body, transfer_fields, "", errors, &b) > 0) ...
 */
#ifndef MOTCUA_JSON_SPEC_H
#define MOTCUA_JSON_SPEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum mc_field_type {
    MC_F_END = 0, /* terminates a field table */
    MC_F_STRING,
    MC_F_INTEGER,
    MC_F_NUMBER,
    MC_F_BOOLEAN,
    MC_F_OBJECT, /* nested: `fields` describes it; or free-form when `fields` is NULL */
    MC_F_ARRAY,  /* items: `item` describes each element */
    MC_F_DATE,   /* string YYYY-MM-DD, a real date */
    MC_F_TIME_OF_DAY, /* string HH:MM, 00:00..23:59 */
    MC_F_ANY,
};

struct mc_field;

/* The C type a bound field is written as (chosen by MC_BIND from the
   member's declared type). */
enum mc_bind_kind {
    MC_BIND_NONE = 0,
    MC_BIND_STRING,  /* const char *: MC_F_STRING, MC_F_DATE, MC_F_TIME_OF_DAY */
    MC_BIND_INTEGER, /* long long: MC_F_INTEGER */
    MC_BIND_NUMBER,  /* double: MC_F_NUMBER, MC_F_INTEGER */
    MC_BIND_BOOLEAN, /* bool: MC_F_BOOLEAN */
    MC_BIND_JSON,    /* const json_t *: any type (objects, arrays) */
};

/* Bind a field to `member` of the struct `type` (inside a field initialiser).
   The member's type picks how the value is written; a type without a
   binding does not compile. Strings and JSON values are borrowed from the
   parsed body: they live as long as it. Members of a nested object's table
   bind into the same struct. */
#define MC_BIND(type, member)                                                                    \
    .bind_offset = offsetof(type, member),                                                       \
    .bind = _Generic(((type *)0)->member,                                                        \
                     const char *: MC_BIND_STRING,                                               \
                     long long: MC_BIND_INTEGER,                                                 \
                     double: MC_BIND_NUMBER,                                                     \
                     bool: MC_BIND_BOOLEAN,                                                      \
                     const json_t *: MC_BIND_JSON)

/* A custom check for one value. Return NULL when valid, else set *code and
   return a message (static string). */
typedef const char *(*mc_field_check_fn)(const json_t *value, const char **code);

struct mc_field {
    const char *name;             /* object member name (ignored for array item specs) */
    enum mc_field_type type;
    bool required;
    bool nullable;                /* JSON null accepted (and treated as absent) */
    size_t min_len, max_len;      /* strings: Unicode code points; arrays: items; 0 = no limit */
    double min, max;              /* numbers/integers; used when has_range */
    bool has_range;
    const char *const *enum_values; /* strings: NULL-terminated allowed values */
    const char *pattern;          /* strings: POSIX ERE, anchored by the caller ("^...$") */
    mc_field_check_fn check;      /* extra check, run after the above */
    const struct mc_field *fields; /* MC_F_OBJECT: member table ending with {0} */
    const struct mc_field *item;   /* MC_F_ARRAY: spec of each element (a single struct) */
    bool unique_key_item;          /* MC_F_ARRAY of objects: member "code" must be unique */
    enum mc_bind_kind bind;        /* set by MC_BIND: where mc_json_parse_fields writes the value */
    size_t bind_offset;
};

/* Parse a request body strictly (UTF-8, one JSON value, duplicate keys rejected).
   Returns a new reference or NULL; on NULL, *err_message (static or the
   caller-provided buffer) describes the problem with line/column. */
json_t *mc_json_parse_strict(const char *buf, size_t len, char *err_buf, size_t err_buf_len);

/* A fresh error list (a JSON array) to collect problems into. */
json_t *mc_errors_new(void);
/* Append {pointer, code, message} to an error list. */
void mc_errors_add(json_t *errors, const char *pointer, const char *code, const char *message);
/* Append "<base>/<escaped name>" pointer text into out (RFC 6901 escaping of ~ and /). */
void mc_pointer_join(char *out, size_t out_len, const char *base, const char *name);
void mc_pointer_join_index(char *out, size_t out_len, const char *base, size_t index);

/* Validate `value` (expected object) against a field table; appends every
   problem to `errors` under `base_pointer` ("" for the document root).
   Returns the number of problems added. */
size_t mc_json_check(const json_t *value, const struct mc_field *fields, const char *base_pointer,
                     json_t *errors);

/* mc_json_check(), writing each bound field that is present, not null and of
   its type into `target` (see MC_BIND). A member absent, null or of another
   type leaves its target as the caller initialised it: that is the default.
   When problems were found, a bound value may be one of them (too long, not
   in the enum ...): use it then only for further checks, so that every
   problem is reported at once, never to act. Returns the number of problems
   added to `errors`. */
size_t mc_json_parse_fields(const json_t *value, const struct mc_field *fields,
                            const char *base_pointer, json_t *errors, void *target);

/* Complete a request object that is stored and answered back as sent (a dossier's
   applicant): every member of `fields` that is absent and not required is added as
   null, and present objects whose field has its own `fields` are completed the same
   way, so that the answer carries every documented member (README, API conventions:
   `null` when empty, never missing). Only after mc_json_check found no problem.
   Does nothing when `obj` is not an object. */
void mc_json_fill_nulls(json_t *obj, const struct mc_field *fields);

/* Accessors that tolerate absent/null members (return fallback). */
const char *mc_json_str(const json_t *obj, const char *key, const char *fallback);
long long mc_json_int(const json_t *obj, const char *key, long long fallback);
double mc_json_num(const json_t *obj, const char *key, double fallback);
bool mc_json_bool(const json_t *obj, const char *key, bool fallback);

/* Number of Unicode code points in a valid UTF-8 string. */
size_t mc_utf8_length(const char *s);

#endif
