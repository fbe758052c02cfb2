/*
 * Reading the catalogue's JSON documents where more than one service needs
 * to: a procedure's time limit for a case and channel, and an agency's office
 * hours as a working calendar. The documents are the catalogue's published
 * shapes (docs/services/catalogue.md).
 */
#ifndef MOTCUA_PROCEDURE_JSON_H
#define MOTCUA_PROCEDURE_JSON_H

#include <jansson.h>
#include <stdbool.h>

#include "motcua/calendar.h"
#include "motcua/error.h"

/*
 * The time limit of one case and channel of a procedure document.
 * case_code NULL means the first case. Returns MC_OK and fills *value and
 * *unit; MC_ERR_CASE_NOT_FOUND when no case has that code;
 * MC_ERR_CHANNEL_NOT_OFFERED when the case lacks the channel; MC_ERR_INTERNAL
 * when the document is malformed.
 */
mc_error mc_procedure_time_limit(const json_t *doc, const char *case_code, const char *channel,
                                 double *value, mc_time_unit *unit);

/* Minutes since midnight of "HH:MM" (00:00..23:59), or -1. */
int mc_minutes_of_day(const char *hhmm);

/*
 * Put an agency's office hours ([{start, end}], 1-4 sessions) and same-day
 * cutoff ("HH:MM") into a calendar that mc_calendar_init_default prepared.
 * Returns false, leaving *cal unchanged, when either is malformed.
 */
bool mc_calendar_set_hours_json(mc_calendar *cal, const json_t *office_hours,
                                const char *same_day_cutoff);

#endif
