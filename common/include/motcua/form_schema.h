/*
 * motcua - form-schema validator.
 *
 * A procedure (thủ tục hành chính) publishes a form schema describing the data a
 * citizen must submit online. The schema language is a small, documented subset of
 * JSON Schema 2020-12; docs/form-schema.md is the reference shared with the frontends.
 *
 * Entry points:
 *   - mc_form_schema_check()    validates a schema itself (run when an administrator
 *                               saves a procedure, so broken schemas never reach citizens);
 *   - mc_form_schema_compile()  checks a schema and compiles its patterns once, into an
 *                               mc_form_schema kept as long as the schema is used (the
 *                               catalogue client keeps one per case of a procedure);
 *   - mc_form_schema_validate_compiled() validates a citizen's form data against it and
 *                               reports every violation, each with a JSON Pointer into
 *                               the submitted document so a frontend can mark the field;
 *   - mc_form_schema_validate() the same against a bare JSON schema, compiling its
 *                               patterns on every call (for one-off validations).
 *
 * All functions are reentrant and thread-safe: they keep no global mutable state, only
 * read the schema and instance, and write solely to the caller's `errors` array. Several
 * threads may validate against the same schema or compiled schema at the same time as
 * long as nobody modifies the schema meanwhile (jansson reference counts are not touched
 * by validation). Patterns are compiled and matched under one fixed locale (C.UTF-8),
 * never the process locale, so results do not depend on how the process was started.
 *
 * Error objects have the shape {"pointer": "...", "code": "...", "message": "..."}.
 * Codes are stable snake_case identifiers (see MC_FORM_SCHEMA_E_* below); messages are
 * plain English intended for logs and as a fallback for display, not for parsing.
 */
#ifndef MOTCUA_FORM_SCHEMA_H
#define MOTCUA_FORM_SCHEMA_H

#include <stddef.h>

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Maximum nesting of subschemas ("properties"/"items") below the root schema, and the
   maximum nesting of arrays/objects inside "const", "enum", "default" and "examples"
   values. Deeper input is reported with code "too_deep" instead of being recursed into,
   so hostile input can never exhaust the stack. */
#define MC_FORM_SCHEMA_MAX_DEPTH 32

/* Longest accepted "pattern" value, in bytes. */
#define MC_FORM_SCHEMA_MAX_PATTERN_LEN 512

/* Longest string (in bytes) that will be matched against a "pattern"; longer strings are
   reported as a "pattern" violation without running the regular expression. Form fields
   that carry a pattern (IDs, codes, numbers) are short; this bounds matching cost. */
#define MC_FORM_SCHEMA_MAX_PATTERN_INPUT 65536

/* Stable error codes (the "code" member of each error object). */
#define MC_FORM_SCHEMA_E_TYPE "type"
#define MC_FORM_SCHEMA_E_REQUIRED "required"
#define MC_FORM_SCHEMA_E_ADDITIONAL_PROPERTY "additional_property"
#define MC_FORM_SCHEMA_E_ENUM "enum"
#define MC_FORM_SCHEMA_E_CONST "const"
#define MC_FORM_SCHEMA_E_MIN_LENGTH "min_length"
#define MC_FORM_SCHEMA_E_MAX_LENGTH "max_length"
#define MC_FORM_SCHEMA_E_PATTERN "pattern"
#define MC_FORM_SCHEMA_E_MINIMUM "minimum"
#define MC_FORM_SCHEMA_E_MAXIMUM "maximum"
#define MC_FORM_SCHEMA_E_EXCLUSIVE_MINIMUM "exclusive_minimum"
#define MC_FORM_SCHEMA_E_EXCLUSIVE_MAXIMUM "exclusive_maximum"
#define MC_FORM_SCHEMA_E_MIN_ITEMS "min_items"
#define MC_FORM_SCHEMA_E_MAX_ITEMS "max_items"
#define MC_FORM_SCHEMA_E_FORMAT "format"
#define MC_FORM_SCHEMA_E_TOO_DEEP "too_deep"
#define MC_FORM_SCHEMA_E_UNSUPPORTED_KEYWORD "unsupported_keyword"
#define MC_FORM_SCHEMA_E_INVALID_SCHEMA "invalid_schema"

/*
 * Check that `schema` is well-formed and only uses the supported subset.
 *
 * Why: an administrator edits a procedure's form schema; it is checked once when saved so
 * that mc_form_schema_validate() can later trust it and so that frontends, which implement
 * the same subset, never see keywords they would silently ignore. Unknown keywords are
 * rejected ("unsupported_keyword") rather than ignored, because an ignored constraint
 * would let invalid citizen data through. Invalid regular expressions, keywords with the
 * wrong JSON type, contradictory bounds (e.g. minLength > maxLength), unknown formats and
 * excessive nesting ("too_deep") are reported too.
 *
 * Each problem is appended to `errors` as a new object
 * {"pointer": "<JSON Pointer into the schema, prefixed by base_pointer>", "code": "...",
 *  "message": "..."}. `base_pointer` is copied verbatim in front of every pointer (pass ""
 * or NULL for none, or e.g. "/form_schema" when the schema is embedded in a larger
 * document); it must itself be a valid JSON Pointer.
 *
 * Ownership: `schema` is only read (borrowed). `errors` is a jansson array owned by the
 * caller; this function appends new references it creates and never steals or frees
 * anything of the caller's. `errors` may be NULL (or not an array), in which case problems
 * are only counted.
 *
 * Returns the number of problems found (0 means the schema is acceptable). If memory runs
 * out while building an error object, the problem is still counted.
 */
size_t mc_form_schema_check(const json_t *schema, const char *base_pointer, json_t *errors);

/* A schema that passed mc_form_schema_check, with its patterns compiled. */
typedef struct mc_form_schema mc_form_schema;

/*
 * Check `schema` (as mc_form_schema_check) and compile every "pattern" in it once.
 * Returns NULL when the schema has any problem (call mc_form_schema_check for the list)
 * or memory runs out. The result holds a reference to `schema`, which must not be
 * modified while the result lives; free it with mc_form_schema_free. It is immutable:
 * any number of threads may validate against it at once.
 */
mc_form_schema *mc_form_schema_compile(const json_t *schema);
void mc_form_schema_free(mc_form_schema *fs);

/* The JSON schema a compiled schema was made from (borrowed; NULL for NULL). */
const json_t *mc_form_schema_json(const mc_form_schema *fs);

/*
 * mc_form_schema_validate() against a compiled schema: the same answers, without
 * compiling any pattern. `fs` must not be NULL.
 */
size_t mc_form_schema_validate_compiled(const mc_form_schema *fs, const json_t *instance,
                                        const char *base_pointer, json_t *errors);

/*
 * Validate `instance` (a citizen's form data) against a schema that passed
 * mc_form_schema_check().
 *
 * Why: the backend must never trust the frontend's own validation; this is the
 * authoritative check before a dossier (hồ sơ) is accepted. Every violation is reported,
 * not just the first, so the citizen can fix all fields in one round trip.
 *
 * Each violation is appended to `errors` as a new object
 * {"pointer": "<JSON Pointer into the instance, prefixed by base_pointer>", "code": "...",
 *  "message": "..."}, e.g. {"pointer": "/form_data/children/2/birth_date", "code":
 * "format", ...} when base_pointer is "/form_data". A missing required property is
 * reported at the pointer of the missing property itself (e.g.
 * "/form_data/mother/full_name") so a frontend can mark that field. Pass "" or NULL as
 * base_pointer when the instance is the whole document.
 *
 * The function fails closed: if it meets a malformed keyword value in an unchecked schema
 * it reports "invalid_schema" at the instance location instead of accepting the data;
 * nesting deeper than MC_FORM_SCHEMA_MAX_DEPTH is reported as "too_deep". Unknown
 * keywords are ignored here (mc_form_schema_check() is where they are rejected). A NULL
 * instance is reported as a "type" violation.
 *
 * Ownership: `schema` and `instance` are only read (borrowed). `errors` is a jansson
 * array owned by the caller; new error objects are appended to it and nothing of the
 * caller's is stolen or freed. `errors` may be NULL (or not an array), in which case violations are
 * only counted (useful for a yes/no answer).
 *
 * Returns the number of violations found (0 means the instance is valid).
 */
size_t mc_form_schema_validate(const json_t *schema, const json_t *instance,
                               const char *base_pointer, json_t *errors);

#ifdef __cplusplus
}
#endif

#endif /* MOTCUA_FORM_SCHEMA_H */
