/*
 * motcua - deadline and calendar engine.
 *
 * Every time limit of an administrative procedure (thời hạn giải quyết) is a number with a
 * unit: working days, calendar days or working hours, possibly "same day". A received
 * dossier gets an appointment date (ngày hẹn trả) computed from that limit, internal steps
 * get their own allowances, and statistics measure early / on time / overdue against the
 * computed due time. All of that is done here, by pure functions:
 *
 *   - no I/O, no allocation, no global or static mutable state: every function is
 *     thread-safe and re-entrant, and results depend only on the arguments;
 *   - time is an int64_t count of seconds since 1970-01-01T00:00:00Z (UTC). The calendar
 *     carries a fixed UTC offset (420 minutes for Asia/Ho_Chi_Minh, which has no daylight
 *     saving time) used to find local dates and office hours;
 *   - arithmetic is done on integer seconds; a fractional time limit (0.5 working day) is
 *     converted once to whole seconds, rounded to the nearest second.
 *
 * The calendar (holidays, compensatory days off, swapped Saturdays) is data maintained by
 * an administrator; this module never guesses holidays (domain reference DOMAIN.md §3-§4).
 *
 * Semantics of mc_calendar_due (the appointment date):
 *
 *  1. Clock start. The clock starts at received_at if that instant lies inside an office
 *     session of a working day; otherwise at the next session opening on a working day
 *     (received on Saturday -> Monday 07:00; at 12:00 -> 13:30; at 17:30 -> next working
 *     day 07:00).
 *
 *  2. Working days, value == 0 ("same day", trong ngày): due at the closing time (end of the
 *     last session) of the clock start's day, unless the clock start's local time of day is
 *     after same_day_cutoff_min (15:00 by default), in which case due at the closing time
 *     of the next working day. Because the rule looks at the clock start, a dossier
 *     received outside office hours is judged at the opening it is moved to: received at
 *     17:30 or on Saturday -> next working day's closing; received at 06:00 or during the
 *     lunch break of a working day -> that day's closing (the clock starts at 07:00 or
 *     13:30, before the cutoff). A dossier received at exactly 15:00:00 is not "after 15:00".
 *
 *  3. Working days, value > 0: value x (total session minutes of a day; 8 hours by default)
 *     working seconds are walked forward from the clock start through the sessions of
 *     working days. The due time is the first instant at which that much working time has
 *     elapsed; so a walk that ends exactly at a session end is due at that session end
 *     (Mon 07:00 + 1 -> Mon 17:00, not Tue 07:00), Mon 09:00 + 1 -> Tue 09:00,
 *     Fri 16:00 + 1 -> Mon 16:00 when Monday is a working day.
 *
 *  4. Working hours: the same walk with value x 3600 seconds (independent of the number of
 *     hours in a day).
 *
 *  5. Calendar days: value must be integral. Due = clock start + value x 24 hours (same
 *     local time of day, the offset is fixed). If that date is not a working day the due
 *     time moves forward to the next working day, same time of day.
 *
 *  6. Pauses ([from, to) intervals in which the clock is stopped: supplement requests,
 *     waiting for a financial obligation). Time inside any pause does not count. For the
 *     working units the walk skips paused time; for calendar days the elapsed time skips
 *     paused time, which pushes the due time forward by the paused seconds that fall
 *     between the clock start and the (pushed) due time; then the due time moves to a
 *     working day as in 5. Pauses may be given in any order and may overlap or repeat:
 *     overlapping time is counted once. A pause entirely before the clock start, or that
 *     begins after the due time has been reached, changes nothing. For "same day", the
 *     working time from the clock start to the same-day closing time is walked with the
 *     pauses, so a pause pushes the due time by the paused working time.
 *
 * Limits: times must lie in [MC_TIME_MIN, MC_TIME_MAX] (years 0001..9999), and a due time
 * must lie within MC_CALENDAR_HORIZON_DAYS (100 years) after received_at; otherwise the
 * functions report invalid input.
 */
#ifndef MOTCUA_CALENDAR_H
#define MOTCUA_CALENDAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the range of supported epoch seconds. */
#define MC_TIME_MIN INT64_C(-62135596800)
#define MC_TIME_MAX INT64_C(253402300799)

/* Returned by mc_calendar_clock_start when there is no answer (invalid input). */
#define MC_TIME_INVALID INT64_MIN

/* How far ahead (in calendar days, about 100 years) a due time may be searched for. */
#define MC_CALENDAR_HORIZON_DAYS 36525

/* Maximum number of office sessions per day. */
#define MC_CALENDAR_MAX_SESSIONS 4

/* A civil (proleptic Gregorian) date; month 1..12, day 1..31. */
typedef struct {
    int year, month, day;
} mc_date;

/* An office session in minutes from local midnight, half-open [start_min, end_min). */
typedef struct {
    int start_min, end_min;
} mc_office_session;

typedef enum { MC_UNIT_WORKING_DAYS, MC_UNIT_CALENDAR_DAYS, MC_UNIT_WORKING_HOURS } mc_time_unit;

/* A period in epoch seconds, half-open [from, to), during which the clock is stopped. */
typedef struct {
    int64_t from, to;
} mc_pause;

/*
 * An agency's working calendar. The struct does not own the date arrays; they must outlive
 * every call that uses the calendar.
 *
 *  sessions / n_sessions: 1..4 sessions, sorted, non-overlapping, within 00:00..24:00
 *      (end_min <= 1440). Default 07:00-11:30 and 13:30-17:00, 8 working hours.
 *  same_day_cutoff_min: minutes from local midnight, 0..1440; default 900 (15:00).
 *  days_off / n_days_off: public holidays, Tết, compensatory and swapped days off. MUST be
 *      sorted ascending (duplicates tolerated): lookups binary-search. A date that falls on
 *      a weekend may be listed; it changes nothing.
 *  extra_working_days / n_extra_working_days: days worked although normally off (the
 *      Saturday worked in exchange for a swapped weekday). MUST be sorted ascending. A date
 *      in this list is a working day even if it is also in days_off.
 *  utc_offset_min: fixed local offset from UTC in minutes, -1439..1439; 420 for Vietnam.
 *
 * A NULL array with a zero count is fine. Functions that take a calendar check it with
 * mc_calendar_is_valid and report invalid input when it fails.
 */
typedef struct {
    mc_office_session sessions[MC_CALENDAR_MAX_SESSIONS];
    size_t n_sessions;
    int same_day_cutoff_min;
    const mc_date *days_off;
    size_t n_days_off;
    const mc_date *extra_working_days;
    size_t n_extra_working_days;
    int utc_offset_min;
} mc_calendar;

/*
 * Fill a calendar with Vietnam's defaults: sessions 07:00-11:30 and 13:30-17:00 (8 working
 * hours), same-day cutoff 15:00, UTC+07:00, and no holidays. Holidays are data maintained by
 * an administrator per year, so the caller sets days_off / extra_working_days afterwards;
 * starting from a known complete state means a forgotten field never holds garbage.
 */
void mc_calendar_init_default(mc_calendar *cal);

/*
 * Check a calendar's structure: session count 1..4, each session non-empty inside the day,
 * sessions sorted without overlap, cutoff inside the day, offset within +-23:59, date
 * arrays non-NULL when their count is non-zero, every listed date valid, and both lists
 * sorted ascending. The due/clock functions call this first, because a wrongly ordered
 * holiday list would otherwise silently break the binary search and produce a wrong
 * appointment date instead of an error. Cost is linear in the list lengths.
 */
bool mc_calendar_is_valid(const mc_calendar *cal);

/*
 * True when d is a real date in years 1..9999 (month lengths and leap years checked). Used
 * everywhere input dates are accepted so that 2025-02-30 never silently becomes 2025-03-02.
 */
bool mc_date_is_valid(mc_date d);

/*
 * Parse a strict "YYYY-MM-DD" (exactly 10 characters, 4-digit year 0001..9999, 2-digit
 * month and day, nothing before or after) and validate it: 2025-02-29 is rejected,
 * 2024-02-29 accepted. Dates come from administrators and API clients; being strict here
 * keeps ambiguous forms ("2025-1-5", trailing text) out of the calendar data. Returns false
 * (and leaves *out untouched) on any error or NULL argument.
 */
bool mc_date_parse(const char *s, mc_date *out);

/*
 * Write d as "YYYY-MM-DD" plus a terminating NUL into out (11 bytes). Intended for valid
 * dates; fields outside their printable width are clamped (year to 0..9999, month and
 * day to 0..99) so the output never overflows the buffer.
 */
void mc_date_format(mc_date d, char out[11]);

/*
 * Days since 1970-01-01 for a civil date (negative before 1970), and the inverse. Day
 * numbers make "next day", comparisons and weekday arithmetic trivial and exact, with no
 * dependence on the C library's time zone state (mktime/localtime are neither pure nor
 * thread-safe). mc_date_to_days is meaningful for valid dates; for others it returns the
 * day number of the normalised date without undefined behaviour. mc_date_from_days clamps
 * absurd inputs so the year always fits in an int.
 */
int64_t mc_date_to_days(mc_date d);
mc_date mc_date_from_days(int64_t days);

/* Day of the week, 0 = Sunday .. 6 = Saturday (1970-01-01 was a Thursday). */
int mc_date_weekday(mc_date d);

/*
 * True when d is a working day of the calendar: listed in extra_working_days (a worked
 * Saturday), or Monday-Friday and not listed in days_off. Both lists are binary-searched,
 * so they must be sorted. Returns false for a NULL calendar or an invalid date.
 */
bool mc_calendar_is_working_day(const mc_calendar *cal, mc_date d);

/*
 * Total length of the day's sessions in seconds (28800 = 8 hours by default): the length
 * of one working day when a limit is expressed in working days. 0 for a NULL calendar.
 */
int64_t mc_calendar_day_seconds(const mc_calendar *cal);

/*
 * When the clock starts for a dossier received at received_at (semantics 1 above):
 * received_at itself if it lies inside a session [start, end) of a working day, otherwise
 * the next session opening on a working day. A dossier logged at 17:00:00 exactly is
 * after closing, so its clock starts at the next opening. Returns MC_TIME_INVALID for an
 * invalid calendar, a time outside [MC_TIME_MIN, MC_TIME_MAX], or when no working session
 * exists within the 100-year horizon.
 */
int64_t mc_calendar_clock_start(const mc_calendar *cal, int64_t received_at);

/*
 * Due time (appointment date) for a time limit of `value` `unit`s on a dossier received at
 * received_at, with the clock stopped during `pauses` (see semantics 1-6 at the top of
 * this file). value is a double >= 0; fractions are allowed for working days and working
 * hours (0.5 working day = 4 working hours by default) and rounded to the nearest second
 * of working time; calendar days must be integral.
 *
 * Returns 0 and stores the due time in *due_at on success. Returns -1 and leaves *due_at
 * untouched on invalid input: NULL calendar/due_at, invalid calendar, negative, NaN or
 * infinite value, non-integral calendar days, unknown unit, pauses == NULL with
 * n_pauses > 0, a pause with to < from (a pause with to == from is empty), received_at
 * outside the supported range, or no due time within 100 years of received_at (including
 * a pause that never ends).
 *
 * Why both restart and extend modes work with this one function: "restart the time limit
 * from the supplement date" is a call with received_at = supplement time and no pauses;
 * "extend the old due date by the paused days" is a call with the original received_at and
 * the pause periods.
 */
int mc_calendar_due(const mc_calendar *cal, int64_t received_at, double value, mc_time_unit unit,
                    const mc_pause *pauses, size_t n_pauses, int64_t *due_at);

/*
 * Working seconds between a and b: the time in [a, b) that lies inside office sessions of
 * working days and outside every pause (overlapping pauses count once). This measures
 * how long a step took and how far past its due time a dossier is, in the same currency
 * the due time was computed in: for any successful mc_calendar_due with a working unit,
 * the working seconds from the clock start to the due time equal the limit in seconds.
 *
 * If a > b the result is the negative of (b, a), so "due minus now" can be measured
 * either way. Returns 0 for an invalid calendar or pauses == NULL with n_pauses > 0; a
 * pause with to <= from is ignored; a and b are clamped to [MC_TIME_MIN, MC_TIME_MAX].
 * Cost does not grow with the length of the interval (whole days are counted
 * arithmetically), only with the number of listed days in it and the number of pauses.
 */
int64_t mc_calendar_working_seconds_between(const mc_calendar *cal, int64_t a, int64_t b,
                                            const mc_pause *pauses, size_t n_pauses);

/*
 * Parse a unit name as stored in the catalogue and exchanged in the API: "working_days",
 * "calendar_days", "working_hours" (exact, case-sensitive). Returns 0 and sets *out, or -1
 * for anything else (including NULL), so unknown units from data are rejected, never
 * defaulted.
 */
int mc_time_unit_parse(const char *s, mc_time_unit *out);

/*
 * The canonical name of a unit (the inverse of mc_time_unit_parse), or NULL for a value
 * that is not a known unit.
 */
const char *mc_time_unit_name(mc_time_unit u);

/*
 * Parse an RFC 3339 date-time, "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)", into
 * epoch seconds. 'T' and 'Z' may be lower case (RFC 3339 allows it); any offset up to
 * +-23:59 is accepted and applied; a fraction of any length is accepted and truncated
 * toward the earlier second (floor), so "…59.9Z" is still that second. Rejected: a space
 * instead of 'T', a missing offset, offsets without a colon, leap second 60, hour 24,
 * invalid dates, trailing characters. Returns 0 and sets *out, or -1.
 */
int mc_rfc3339_parse(const char *s, int64_t *out);

/*
 * Format epoch seconds as RFC 3339 in the given offset (normally the calendar's), e.g.
 * "2025-01-24T09:00:00+07:00"; offset 0 is written "Z". Appointment dates are shown to
 * citizens in local time, and keeping the offset in the string keeps it unambiguous. The
 * offset is clamped to +-23:59 and the local time to years 0001..9999, so the output always
 * fits: at most 25 characters plus NUL.
 */
void mc_rfc3339_format(int64_t t, int utc_offset_min, char out[32]);

#ifdef __cplusplus
}
#endif

#endif /* MOTCUA_CALENDAR_H */
