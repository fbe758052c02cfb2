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

/*
 * The watcher's flags (watch.c). It warns about the appointment: what the
 * applicant was told, equal to the legal due date until an apology moves it
 * later (due_at itself never moves for an apology: it stays the measure of
 * on-time statistics). A dossier is flagged "due soon" when the appointment
 * is less than the warning window away, "overdue" once it has passed, each
 * once. When the appointment moves (an apology, a supplement restarting or
 * extending the clock, a payment wait extending it), a flag that no longer
 * holds is cleared so the watcher can raise it again for the new date:
 * overdue when the new appointment is not past; due soon when it is beyond
 * the window, or when the dossier stops being overdue (the new date then
 * gets its own warning). A flag that still holds is kept: one event per
 * situation, not one per change.
 */
enum deadline_flag {
    DEADLINE_FLAG_OVERDUE = 1u << 0,
    DEADLINE_FLAG_DUE_SOON = 1u << 1,
};

/* The warning window of DUE_SOON_WORKING_HOURS, in seconds: measured in
   calendar time (working hours x 3), an early warning, not a legal limit. */
int64_t deadline_due_soon_window(unsigned due_soon_working_hours);

/* The flags of d to clear now that its appointment moved from `before` to
   d->appointment_at (DEADLINE_FLAG_* bits; 0 when it did not move). `soon`
   is now + the warning window. */
unsigned deadline_flags_to_clear(const struct dossier *d, int64_t before, int64_t now,
                                 int64_t soon);

#endif
