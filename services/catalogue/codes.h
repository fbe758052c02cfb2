/*
 * Identifier formats of the catalogue (docs/services/catalogue.md) and the
 * closed vocabularies (admin levels, channels, ...).
 *
 * Each format exists twice on purpose: as a POSIX ERE for the declarative
 * field tables (json_spec.h compiles `pattern`), and as a hand-written matcher
 * for path and query parameters, which are checked on every read and must be
 * cheap. tests/unit/test_catalogue_rules.c checks that both agree. The store
 * also pastes some of them into SQL literals (PostgreSQL reads them the same
 * way), so they contain no quote.
 */
#ifndef CATALOGUE_CODES_H
#define CATALOGUE_CODES_H

#include <stdbool.h>

#define CATALOGUE_SECTOR_CODE_RE "^[a-z0-9][a-z0-9-]{0,63}$"
#define CATALOGUE_AGENCY_CODE_RE "^[0-9]{3}\\.[0-9]{2}\\.[0-9]{2}\\.[A-Z][0-9]{2}$"
#define CATALOGUE_PROCEDURE_CODE_RE "^[0-9]\\.[0-9]{6}(\\.[0-9A-Za-z]+)*$"
#define CATALOGUE_CASE_CODE_RE "^[a-z0-9][a-z0-9_-]{0,63}$"
/* Codes of required documents and fee items inside a procedure ("TK", "LP"). */
#define CATALOGUE_ITEM_CODE_RE "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"

/* Longest procedure code (national code + local suffixes). */
#define CATALOGUE_PROCEDURE_CODE_MAX 64

bool catalogue_is_sector_code(const char *s);
bool catalogue_is_agency_code(const char *s);
bool catalogue_is_procedure_code(const char *s);
bool catalogue_is_case_code(const char *s);

/* NULL-terminated vocabularies, usable as mc_field.enum_values. */
extern const char *const catalogue_admin_levels[];      /* central, province, district, commune */
extern const char *const catalogue_channels[];          /* online, in_person, postal */
extern const char *const catalogue_applicant_types[];   /* citizen, business, organisation */
extern const char *const catalogue_online_scopes[];     /* full, partial, none */
extern const char *const catalogue_supplement_clocks[]; /* restart, extend */
/* When a channel's fees are collected: after (requested while processing),
   before_submission (paid to submit), exempt. */
extern const char *const catalogue_fee_collections[];
extern const char *const catalogue_time_units[]; /* working_days, calendar_days, working_hours */
extern const char *const catalogue_step_roles[]; /* officer, approver, agency_admin */
extern const char *const catalogue_day_kinds[];  /* day_off, working_day */

/* Is s one of the NULL-terminated list's values? false for s == NULL. */
bool catalogue_in_list(const char *const *list, const char *s);

#endif
