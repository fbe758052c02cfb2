/*
 * Pure rules of the catalogue's documents: everything the declarative field
 * tables (json_spec.h) cannot say, the normal form stored in the database,
 * and reading a time limit or office hours back out of a stored document.
 *
 * No I/O, no global state: cmocka tests call these directly
 * (tests/unit/test_catalogue_rules.c). The checks are tolerant of ill-typed
 * input: a member of the wrong type is skipped here because the field table
 * already reports it, so a handler can run both and answer every problem at
 * once.
 */
#ifndef CATALOGUE_PROCEDURE_RULES_H
#define CATALOGUE_PROCEDURE_RULES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "motcua/calendar.h"
#include "motcua/catalogue_client.h"
#include "motcua/error.h"

/* Error codes added by these rules (besides those of mc_form_schema_check). */
#define CATALOGUE_E_DUPLICATE "duplicate"            /* a code/channel/value repeated in a list */
#define CATALOGUE_E_NOT_INTEGRAL "not_integral"      /* calendar days must be whole */
#define CATALOGUE_E_RANGE "range"                    /* an end before its start */
#define CATALOGUE_E_ORDER "order"                    /* office sessions not ascending */
#define CATALOGUE_E_OVERLAP "overlap"                /* office sessions overlapping */
#define CATALOGUE_E_NOT_POSITIVE "exclusive_minimum" /* must be > 0 */
#define CATALOGUE_E_BLANK "blank"                    /* only white space */
/* fee_collection contradicting the fees: pay first without a fee to pay, or
   exempt with a fee above zero. */
#define CATALOGUE_E_FEE_COLLECTION "fee_collection"

/* mc_field_check_fn for strings that must not be blank (only white space). */
const char *catalogue_check_not_blank(const json_t *value, const char **code);

/*
 * Rules of a procedure document (POST /procedures, PUT .../draft body) beyond
 * field types: distinct applicant types and agency codes, unique case codes,
 * distinct channels per case, whole calendar days, unique fee and document
 * codes, fee validity periods not ending before they start, processing
 * allowances > 0, and each case's form_schema checked with
 * mc_form_schema_check at "/cases/<i>/form_schema". Appends one
 * {pointer, code, message} per problem to `errors` (borrowed, may be NULL)
 * and returns how many were found.
 */
size_t catalogue_procedure_check(const json_t *doc, json_t *errors);

/*
 * Office hours [{start, end}, ...] ("HH:MM"): each session must end after it
 * starts, and sessions must be ascending and must not overlap. Pointers are
 * under base_pointer (e.g. "/office_hours"). Returns the number of problems.
 */
size_t catalogue_office_hours_check(const json_t *sessions, const char *base_pointer,
                                    json_t *errors);

/*
 * The stored (and answered) form of a validated procedure document: known
 * members in the documented order, absent optional members filled with their
 * defaults (null, [], supplement_clock "restart", originals 1, copies 0,
 * mandatory true), and "code" set to `code`. Returns a new reference owned by
 * the caller, or NULL when out of memory. `doc` is only read.
 */
json_t *catalogue_procedure_normalize(const json_t *doc, const char *code);

/* The same for an agency body: defaults are office hours 07:00-11:30 and
   13:30-17:00, same_day_cutoff "15:00", null contact fields and parent. */
json_t *catalogue_agency_normalize(const json_t *body, const char *code);

/* The same for a sector body: description defaults to null. */
json_t *catalogue_sector_normalize(const json_t *body, const char *code);

/* The readers of procedure and agency documents other services need too
   (mc_catalogue_time_limit, mc_catalogue_minutes_of_day,
   mc_catalogue_calendar_set_hours) are common's: motcua/catalogue_client.h. */

#endif
