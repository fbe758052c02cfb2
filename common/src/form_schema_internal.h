/*
 * What the files of the form-schema validator share (libmotcua only):
 *
 *   form_schema.c           error reporting with JSON Pointers, number comparison and
 *                           equality, type names, and the compiled schema object;
 *   form_schema_pattern.c   "pattern": what a safe pattern is, compiling and matching;
 *   form_schema_format.c    "format": date, email, vn-personal-id, vn-phone;
 *   form_schema_check.c     the meta-check of a schema (mc_form_schema_check);
 *   form_schema_validate.c  validation of form data (mc_form_schema_validate*).
 *
 * No global mutable state anywhere: every call carries its own context.
 */
#ifndef MOTCUA_FORM_SCHEMA_INTERNAL_H
#define MOTCUA_FORM_SCHEMA_INTERNAL_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#include "motcua/form_schema.h"

/* ---- Small character helpers (locale independent, not <ctype.h>). ---- */

static inline bool fs_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static inline bool fs_is_alnum(char c)
{
    return fs_is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* ---- JSON Pointer buffer (form_schema.c). ---- */

typedef struct {
    char *buf;
    size_t len;
    size_t cap;
} pointer_buf;

/* Appends "/<key>" (RFC 6901 escaping); returns the length to hand to fs_ptr_pop(). On
   allocation failure nothing is appended (the pointer then names the parent). */
size_t fs_ptr_push_key(pointer_buf *p, const char *key, size_t klen);
size_t fs_ptr_push_cstr(pointer_buf *p, const char *key);
size_t fs_ptr_push_index(pointer_buf *p, size_t index);
void fs_ptr_pop(pointer_buf *p, size_t old);

/* ---- Patterns compiled for a schema (form_schema.c). ---- */

/* One compiled "pattern" of a schema, keyed by the pattern's JSON string node. */
struct fs_pattern {
    const json_t *node;
    regex_t re;
};

/* Patterns gathered while a schema is checked (grown by fs_patterns_add). */
struct fs_pattern_set {
    struct fs_pattern *items;
    size_t count, cap;
    bool failed; /* out of memory: the set is incomplete */
};

/* Takes ownership of `re` (regfree()d when the set is freed, or now on failure). */
void fs_patterns_add(struct fs_pattern_set *set, const json_t *node, regex_t *re);

/* The compiled pattern for this "pattern" node of the compiled schema, or NULL. */
const regex_t *fs_compiled_pattern(const mc_form_schema *fs, const json_t *node);

/* ---- Error reporting (form_schema.c). ---- */

typedef struct {
    json_t *errors; /* caller-owned array, may be NULL */
    size_t count;
    pointer_buf ptr;
    /* mc_form_schema_check: where to keep compiled patterns (NULL: free them) */
    struct fs_pattern_set *keep_patterns;
    /* validation: the compiled schema being validated against (NULL: compile per use) */
    const mc_form_schema *compiled;
} fs_ctx;

void fs_ctx_init(fs_ctx *c, const char *base_pointer, json_t *errors);
void fs_ctx_clear(fs_ctx *c);

/* Appends {pointer, code, message} at the current pointer and counts it. */
__attribute__((format(printf, 3, 4))) void fs_report(fs_ctx *c, const char *code,
                                                     const char *fmt, ...);
/* The same at "<current pointer>/<keyword>". */
__attribute__((format(printf, 4, 5))) void fs_report_at(fs_ctx *c, const char *keyword,
                                                        const char *code, const char *fmt, ...);

/* ---- Numbers, equality, types (form_schema.c). ---- */

/* Compares two JSON numbers mathematically (1 == 1.0). */
int fs_num_cmp(const json_t *a, const json_t *b);
/* JSON Schema equality, walking at most `remaining` container levels. */
bool fs_values_equal(const json_t *a, const json_t *b, unsigned remaining);
/* True if `v` nests arrays/objects more than `remaining` levels deep. */
bool fs_value_too_deep(const json_t *v, unsigned remaining);
/* A schema number for a message, locale independently ("100", "0.5"). */
void fs_format_number(const json_t *n, char *out, size_t outlen);

bool fs_known_type(const json_t *t);
bool fs_type_matches(const char *t, const json_t *v);
const char *fs_type_phrase(const char *t);

/* Number of code points in a UTF-8 byte string. */
size_t fs_utf8_length(const char *s, size_t n);

/* ---- Formats (form_schema_format.c). ---- */

typedef struct {
    const char *name;
    bool (*fn)(const char *s, size_t n);
    const char *message;
} fs_format;

/* The format a "format" value names, or NULL. */
const fs_format *fs_find_format(const json_t *f);

/* ---- The meta-check (form_schema_check.c). ---- */

/* mc_form_schema_check(), keeping every compiled pattern in `keep_patterns` when it is
   not NULL. Returns the number of problems. */
size_t fs_check(const json_t *schema, const char *base_pointer, json_t *errors,
                struct fs_pattern_set *keep_patterns);

/* ---- Patterns (form_schema_pattern.c). ---- */

/* Checks that a "pattern" value is safe and supported, and compiles it under the fixed
   locale into `re` (the caller regfree()s it on success). On failure writes the reason
   into why[whylen] and returns false. */
bool fs_pattern_compile(const json_t *pat, regex_t *re, char *why, size_t whylen);

/* Does the string `s` (`n` bytes) match the compiled pattern? Strings longer than
   MC_FORM_SCHEMA_MAX_PATTERN_INPUT or with an embedded NUL never match. */
bool fs_pattern_matches(const regex_t *re, const char *s, size_t n);

#endif
