/*
 * The clock of a dossier (DOMAIN.md §4): the due date computed at reception
 * from the procedure's time limit for the channel, paused while waiting for a
 * supplement or for payment, restarted or extended after a supplement
 * depending on the procedure's `supplement_clock`, and the supplement
 * deadline. Pure: the calendar comes in as an argument (common's engine,
 * filled from the catalogue), `now` too.
 */
#ifndef DOSSIER_DEADLINES_H
#define DOSSIER_DEADLINES_H

#include <stdbool.h>
#include <stdint.h>

#include "dossier.h"
#include "motcua/calendar.h"

/* Reception: start the clock at now, compute due_at and appointment_at.
   False when the limit or the calendar is unusable. */
bool deadline_start(struct dossier *d, const mc_calendar *cal, int64_t now);

/* A wait for the applicant begins (supplement, payment): the clock stops. */
void deadline_pause(struct dossier *d, int64_t now);

/* The wait is over. restart: the whole time limit runs again from now (the
   usual setting after a supplement); else the pause is added and the due
   date moves by the paused working time. Only when the clock was started. */
bool deadline_resume(struct dossier *d, const mc_calendar *cal, int64_t now, bool restart);

/* The deadline for a supplement: `working_days` working days from now. 0 on
   error. */
int64_t deadline_supplement_due(const mc_calendar *cal, int64_t now, unsigned working_days);

/* The range of calendar years a computation from `from` may reach: the year
   of `from` and the next two (time limits are days to months). */
void deadline_years(int64_t from, int *first_year, int *last_year);

#endif
