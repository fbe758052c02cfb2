/*
 * Strict JSON parsing and declarative request validation.
 *
 * A handler declares the fields it accepts as a table of struct mc_field next
 * to itself and calls mc_json_check(), which walks the whole body and reports
 * EVERY problem (missing field, wrong type, out of range, unknown field) as
 * {pointer, code, message} with a JSON Pointer into the request, so a frontend
 * can mark each bad field at once. Parsing rejects duplicate keys.
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
