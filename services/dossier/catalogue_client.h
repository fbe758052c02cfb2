/*
 * What the dossier service reads from the catalogue, over its public REST API
 * (never its database): procedure versions, agencies and the calendar.
 *
 * Copies are kept in memory. A published procedure version is immutable, so
 * it is kept until evicted; the current version of a procedure, agencies and
 * calendar years are kept for a short time (CATALOGUE_CACHE_SECONDS) and then
 * revalidated with If-None-Match, so an unchanged document costs a 304.
 */
#ifndef DOSSIER_CATALOGUE_CLIENT_H
#define DOSSIER_CATALOGUE_CLIENT_H

#include <jansson.h>
#include <stdbool.h>

#include "motcua/calendar.h"
#include "motcua/error.h"

struct catalogue_client;

/* base_url like "http://127.0.0.1:8101" (no trailing slash). */
struct catalogue_client *catalogue_client_new(const char *base_url, unsigned cache_seconds);
void catalogue_client_free(struct catalogue_client *c);

/* The current published version of a procedure (new reference).
   MC_ERR_PROCEDURE_NOT_FOUND when the catalogue has none;
   MC_ERR_CATALOGUE_UNAVAILABLE (503) when the catalogue cannot be reached
   or answers with an error, and no copy is held. */
mc_error catalogue_procedure_current(struct catalogue_client *c, const char *code, json_t **out);

/* One published version (new reference); cached until evicted. */
mc_error catalogue_procedure_version(struct catalogue_client *c, const char *code, int version,
                                     json_t **out);

/* Is `agency` one of the agency_codes (the agencies that implement it) of
   this procedure document? */
bool catalogue_procedure_has_agency(const json_t *procedure, const char *agency);

/* An agency (new reference). MC_ERR_AGENCY_NOT_FOUND when unknown. */
mc_error catalogue_agency(struct catalogue_client *c, const char *code, json_t **out);

/* The working calendar of an agency from `from_year` to `to_year`: office
   hours and cutoff of the agency, the days off and extra working days the
   catalogue lists for those years. The date arrays are malloc'd into *cal
   (free with catalogue_calendar_free). */
mc_error catalogue_calendar(struct catalogue_client *c, const char *agency, int from_year,
                            int to_year, mc_calendar *cal);
void catalogue_calendar_free(mc_calendar *cal);

#endif
