/*
 * The catalogue client: what the services that read procedures (dossier today;
 * payment, tracking and statistics next) take from the catalogue service, over its
 * public REST API (never its database), and the readers of the catalogue's published
 * documents (docs/services/catalogue.md) that more than one service needs, the
 * catalogue itself included.
 *
 * Documents are cached (motcua/catalogue_cache.h) and handed out as references to
 * shared, read-only documents: release each with mc_catalogue_doc_release. A published
 * procedure version is immutable, so it is kept until evicted; the current version of a
 * procedure, agencies and calendar years are kept for `cache_seconds` and then
 * revalidated with If-None-Match, so an unchanged document costs a 304. A procedure
 * document carries the compiled form schema of each case, so a citizen's form data is
 * validated without compiling anything (mc_catalogue_validate_form).
 */
#ifndef MOTCUA_CATALOGUE_CLIENT_H
#define MOTCUA_CATALOGUE_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "motcua/calendar.h"
#include "motcua/catalogue_cache.h"
#include "motcua/error.h"

/* ---- The client (common/src/catalogue_client.c) ---- */

typedef struct mc_catalogue_client mc_catalogue_client;

/* base_url like "http://127.0.0.1:8101" (no trailing slash). NULL when out of memory. */
mc_catalogue_client *mc_catalogue_client_new(const char *base_url, unsigned cache_seconds);
void mc_catalogue_client_free(mc_catalogue_client *c);

/* The current published version of a procedure (a reference: release it).
   MC_ERR_PROCEDURE_NOT_FOUND when the catalogue has none;
   MC_ERR_CATALOGUE_UNAVAILABLE when it cannot be reached and no copy is held. */
mc_error mc_catalogue_procedure_current(mc_catalogue_client *c, const char *code,
                                        const mc_catalogue_doc **out);

/* One published version (a reference: release it); cached until evicted.
   MC_ERR_PROCEDURE_VERSION_NOT_FOUND when the catalogue has none. */
mc_error mc_catalogue_procedure_version(mc_catalogue_client *c, const char *code, int version,
                                        const mc_catalogue_doc **out);

/* An agency (a reference: release it). MC_ERR_AGENCY_NOT_FOUND when unknown. */
mc_error mc_catalogue_agency(mc_catalogue_client *c, const char *code,
                             const mc_catalogue_doc **out);

/* The working calendar of an agency from `from_year` to `to_year`: office hours and
   cutoff of the agency, the days off and extra working days the catalogue lists for
   those years. The date arrays are malloc'd into *cal (free with
   mc_catalogue_calendar_free). */
mc_error mc_catalogue_calendar(mc_catalogue_client *c, const char *agency, int from_year,
                               int to_year, mc_calendar *cal);
void mc_catalogue_calendar_free(mc_calendar *cal);

/*
 * Validate a citizen's form data against the form schema of `the_case` (one of the
 * "cases" of the procedure document), as mc_form_schema_validate does: with the schema
 * compiled when the document was fetched, or, should it not be (a schema that fails the
 * check), against its JSON, which then reports what is malformed. Returns the number of
 * problems appended to `errors`.
 */
size_t mc_catalogue_validate_form(const mc_catalogue_doc *procedure, const json_t *the_case,
                                  const json_t *form_data, const char *base_pointer,
                                  json_t *errors);

/* ---- Readers of catalogue documents (common/src/catalogue_documents.c; pure) ---- */

/* Is `agency` one of the agency_codes (the agencies that implement it) of this
   procedure document? */
bool mc_catalogue_procedure_has_agency(const json_t *procedure, const char *agency);

/*
 * The time limit of one case and channel of a procedure document.
 * case_code NULL means the first case. Returns MC_OK and fills *value and
 * *unit; MC_ERR_CASE_NOT_FOUND when no case has that code;
 * MC_ERR_CHANNEL_NOT_OFFERED when the case lacks the channel; MC_ERR_INTERNAL
 * when the document is malformed.
 */
mc_error mc_catalogue_time_limit(const json_t *procedure, const char *case_code,
                                 const char *channel, double *value, mc_time_unit *unit);

/* Minutes since midnight of "HH:MM" (00:00..23:59), or -1. */
int mc_catalogue_minutes_of_day(const char *hhmm);

/*
 * Put an agency's office hours ([{start, end}], 1-4 sessions) and same-day
 * cutoff ("HH:MM") into a calendar that mc_calendar_init_default prepared.
 * Returns false, leaving *cal unchanged, when either is malformed.
 */
bool mc_catalogue_calendar_set_hours(mc_calendar *cal, const json_t *office_hours,
                                     const char *same_day_cutoff);

#endif
