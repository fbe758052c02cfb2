/*
 * motcua - deadline and calendar engine. See motcua/calendar.h for the semantics.
 *
 * Implementation notes:
 *  - All times are int64_t epoch seconds; "local" seconds are epoch seconds shifted by the
 *    calendar's fixed offset, and a "day number" is floor(local / 86400), i.e. days since
 *    1970-01-01 in local time. No libc time functions are used (they depend on global TZ
 *    state).
 *  - Pause bounds supplied by callers are clamped to a window slightly larger than every
 *    time this module handles, so differences between times never overflow.
 *  - The due-time walk visits free working segments one by one (at most a few per day over
 *    at most 100 years); the between-measure counts whole days arithmetically. The two are
 *    independent implementations of the same notion, which the unit tests cross-check.
 */
#include "motcua/calendar.h"

#include <math.h>
#include <string.h>

#define SECS_PER_DAY INT64_C(86400)
#define HORIZON_SECS ((int64_t)MC_CALENDAR_HORIZON_DAYS * SECS_PER_DAY)

/* Window into which pause bounds are clamped: covers every instant this module computes. */
#define PAUSE_LO (MC_TIME_MIN - 4 * SECS_PER_DAY)
#define PAUSE_HI (MC_TIME_MAX + HORIZON_SECS + 4 * SECS_PER_DAY)

/* ------------------------------------------------------------------------------------ */
/* Integer helpers                                                                      */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
    return a - floor_div(a, b) * b;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* ------------------------------------------------------------------------------------ */
/* Dates                                                                                */

static bool is_leap_year(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_length(int64_t y, int m)
{
    static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12)
        return 0;
    if (m == 2 && is_leap_year(y))
        return 29;
    return len[m - 1];
}

bool mc_date_is_valid(mc_date d)
{
    if (d.year < 1 || d.year > 9999)
        return false;
    if (d.month < 1 || d.month > 12)
        return false;
    return d.day >= 1 && d.day <= month_length(d.year, d.month);
}

/* Howard Hinnant's days_from_civil, in int64_t so that no intermediate overflows. */
int64_t mc_date_to_days(mc_date d)
{
    int64_t y = d.year;
    int64_t m = d.month;
    int64_t dd = d.day;
    y -= (m <= 2) ? 1 : 0;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;                                   /* [0, 399] */
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + dd - 1; /* [0, 365] if valid */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

/* Howard Hinnant's civil_from_days. */
mc_date mc_date_from_days(int64_t days)
{
    /* Keep the year within int: 7e11 days is about 1.9e9 years. */
    int64_t z = clamp64(days, INT64_C(-700000000000), INT64_C(700000000000)) + 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;                                      /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100); /* [0, 365] */
    int64_t mp = (5 * doy + 2) / 153;                      /* [0, 11] */
    int64_t d = doy - (153 * mp + 2) / 5 + 1;              /* [1, 31] */
    int64_t m = mp < 10 ? mp + 3 : mp - 9;                 /* [1, 12] */
    if (m <= 2)
        y++;
    mc_date out = {(int)y, (int)m, (int)d};
    return out;
}

static int weekday_of_day(int64_t day)
{
    return (int)floor_mod(day + 4, 7); /* 1970-01-01 (day 0) was a Thursday */
}

int mc_date_weekday(mc_date d)
{
    return weekday_of_day(mc_date_to_days(d));
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Reads exactly n digits; stops at the first non-digit (including NUL), never reads past it. */
static bool read_digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* Parses "YYYY-MM-DD" at s without looking at what follows. */
static bool parse_date_prefix(const char *s, mc_date *out)
{
    mc_date d;
    if (!read_digits(s, 4, &d.year) || s[4] != '-' || !read_digits(s + 5, 2, &d.month) ||
        s[7] != '-' || !read_digits(s + 8, 2, &d.day))
        return false;
    if (!mc_date_is_valid(d))
        return false;
    *out = d;
    return true;
}

bool mc_date_parse(const char *s, mc_date *out)
{
    mc_date d;
    if (s == NULL || out == NULL)
        return false;
    if (!parse_date_prefix(s, &d) || s[10] != '\0')
        return false;
    *out = d;
    return true;
}

static void put_digits(char *p, int64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (char)('0' + (int)(v % 10));
        v /= 10;
    }
}

static void write_date(char *p, mc_date d)
{
    put_digits(p, clamp64(d.year, 0, 9999), 4);
    p[4] = '-';
    put_digits(p + 5, clamp64(d.month, 0, 99), 2);
    p[7] = '-';
    put_digits(p + 8, clamp64(d.day, 0, 99), 2);
}

void mc_date_format(mc_date d, char out[11])
{
    write_date(out, d);
    out[10] = '\0';
}

/* ------------------------------------------------------------------------------------ */
/* Calendar structure                                                                   */

void mc_calendar_init_default(mc_calendar *cal)
{
    if (cal == NULL)
        return;
    memset(cal, 0, sizeof *cal);
    cal->sessions[0].start_min = 7 * 60;       /* 07:00 */
    cal->sessions[0].end_min = 11 * 60 + 30;   /* 11:30 */
    cal->sessions[1].start_min = 13 * 60 + 30; /* 13:30 */
    cal->sessions[1].end_min = 17 * 60;        /* 17:00 */
    cal->n_sessions = 2;
    cal->same_day_cutoff_min = 15 * 60; /* 15:00 */
    cal->days_off = NULL;
    cal->n_days_off = 0;
    cal->extra_working_days = NULL;
    cal->n_extra_working_days = 0;
    cal->utc_offset_min = 7 * 60; /* Asia/Ho_Chi_Minh, no DST */
}

static bool date_list_is_valid(const mc_date *list, size_t n)
{
    if (n == 0)
        return true;
    if (list == NULL)
        return false;
    int64_t prev = INT64_MIN;
    for (size_t i = 0; i < n; i++) {
        if (!mc_date_is_valid(list[i]))
            return false;
        int64_t v = mc_date_to_days(list[i]);
        if (v < prev)
            return false;
        prev = v;
    }
    return true;
}

bool mc_calendar_is_valid(const mc_calendar *cal)
{
    if (cal == NULL)
        return false;
    if (cal->n_sessions < 1 || cal->n_sessions > MC_CALENDAR_MAX_SESSIONS)
        return false;
    int prev_end = 0;
    for (size_t i = 0; i < cal->n_sessions; i++) {
        const mc_office_session *s = &cal->sessions[i];
        if (s->start_min < prev_end || s->end_min <= s->start_min || s->end_min > 1440)
            return false;
        prev_end = s->end_min;
    }
    if (cal->same_day_cutoff_min < 0 || cal->same_day_cutoff_min > 1440)
        return false;
    if (cal->utc_offset_min < -1439 || cal->utc_offset_min > 1439)
        return false;
    return date_list_is_valid(cal->days_off, cal->n_days_off) &&
           date_list_is_valid(cal->extra_working_days, cal->n_extra_working_days);
}

int64_t mc_calendar_day_seconds(const mc_calendar *cal)
{
    int64_t total = 0;
    if (cal == NULL || cal->n_sessions > MC_CALENDAR_MAX_SESSIONS)
        return 0;
    for (size_t i = 0; i < cal->n_sessions; i++)
        total += (int64_t)(cal->sessions[i].end_min - cal->sessions[i].start_min) * 60;
    return total;
}

/* First index whose day number is >= day (list sorted ascending). */
static size_t lower_bound_day(const mc_date *list, size_t n, int64_t day)
{
    size_t lo = 0, hi = n;
    if (list == NULL)
        return 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (mc_date_to_days(list[mid]) < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool date_list_contains(const mc_date *list, size_t n, int64_t day)
{
    if (list == NULL || n == 0)
        return false;
    size_t i = lower_bound_day(list, n, day);
    return i < n && mc_date_to_days(list[i]) == day;
}

static bool is_weekday(int wd)
{
    return wd >= 1 && wd <= 5;
}

static bool working_day_num(const mc_calendar *cal, int64_t day)
{
    if (date_list_contains(cal->extra_working_days, cal->n_extra_working_days, day))
        return true;
    if (date_list_contains(cal->days_off, cal->n_days_off, day))
        return false;
    return is_weekday(weekday_of_day(day));
}

bool mc_calendar_is_working_day(const mc_calendar *cal, mc_date d)
{
    if (cal == NULL || !mc_date_is_valid(d))
        return false;
    return working_day_num(cal, mc_date_to_days(d));
}

/* Number of working days in the day-number range [d1, d2), d1 <= d2, in O(k log n). */
static int64_t count_working_days(const mc_calendar *cal, int64_t d1, int64_t d2)
{
    int64_t n = d2 - d1;
    if (n <= 0)
        return 0;
    int64_t weeks = n / 7;
    int64_t count = weeks * 5;
    int wd = weekday_of_day(d1); /* weekday of d1 + 7 * weeks is the same */
    for (int64_t k = 0; k < n % 7; k++)
        if (is_weekday((wd + (int)k) % 7))
            count++;

    /* Weekdays that are days off (unless also listed as extra working days). */
    if (cal->days_off != NULL) {
        int64_t prev = INT64_MIN;
        for (size_t i = lower_bound_day(cal->days_off, cal->n_days_off, d1); i < cal->n_days_off;
             i++) {
            int64_t v = mc_date_to_days(cal->days_off[i]);
            if (v >= d2)
                break;
            if (v == prev)
                continue;
            prev = v;
            if (is_weekday(weekday_of_day(v)) &&
                !date_list_contains(cal->extra_working_days, cal->n_extra_working_days, v))
                count--;
        }
    }
    /* Weekend days that are worked. */
    if (cal->extra_working_days != NULL) {
        int64_t prev = INT64_MIN;
        for (size_t i = lower_bound_day(cal->extra_working_days, cal->n_extra_working_days, d1);
             i < cal->n_extra_working_days; i++) {
            int64_t v = mc_date_to_days(cal->extra_working_days[i]);
            if (v >= d2)
                break;
            if (v == prev)
                continue;
            prev = v;
            if (!is_weekday(weekday_of_day(v)))
                count++;
        }
    }
    return count;
}

/* ------------------------------------------------------------------------------------ */
/* Local time                                                                           */

static int64_t offset_secs(const mc_calendar *cal)
{
    return (int64_t)cal->utc_offset_min * 60;
}

/* Local day number of epoch time t. */
static int64_t day_of(const mc_calendar *cal, int64_t t)
{
    return floor_div(t + offset_secs(cal), SECS_PER_DAY);
}

/* Epoch time of local day `day` at `min` minutes after local midnight. */
static int64_t at_minute(const mc_calendar *cal, int64_t day, int min)
{
    return day * SECS_PER_DAY + (int64_t)min * 60 - offset_secs(cal);
}

static int64_t closing_time(const mc_calendar *cal, int64_t day)
{
    return at_minute(cal, day, cal->sessions[cal->n_sessions - 1].end_min);
}

/* First working day strictly after `day`, within the horizon. */
static bool next_working_day(const mc_calendar *cal, int64_t day, int64_t *out)
{
    for (int64_t k = 1; k <= MC_CALENDAR_HORIZON_DAYS; k++) {
        if (working_day_num(cal, day + k)) {
            *out = day + k;
            return true;
        }
    }
    return false;
}

/* Clock start for t: t if inside a session of a working day, else the next opening. */
static bool clock_start(const mc_calendar *cal, int64_t t, int64_t *out)
{
    int64_t first = day_of(cal, t);
    for (int64_t day = first; day <= first + MC_CALENDAR_HORIZON_DAYS; day++) {
        if (!working_day_num(cal, day))
            continue;
        for (size_t i = 0; i < cal->n_sessions; i++) {
            int64_t ss = at_minute(cal, day, cal->sessions[i].start_min);
            int64_t se = at_minute(cal, day, cal->sessions[i].end_min);
            if (t < se) {
                *out = t >= ss ? t : ss;
                return true;
            }
        }
    }
    return false;
}

/* ------------------------------------------------------------------------------------ */
/* Pauses                                                                               */

/* If t lies inside a pause, move it to that pause's end; repeat (chains of overlapping
   or adjacent pauses). Returns the first unpaused instant >= t. */
static int64_t skip_paused(const mc_pause *p, size_t n, int64_t t)
{
    bool moved = true;
    while (moved) {
        moved = false;
        for (size_t i = 0; i < n; i++) {
            int64_t from = clamp64(p[i].from, PAUSE_LO, PAUSE_HI);
            int64_t to = clamp64(p[i].to, PAUSE_LO, PAUSE_HI);
            if (from <= t && t < to) {
                t = to;
                moved = true;
            }
        }
    }
    return t;
}

/* Earliest start of a non-empty pause strictly after t, or `limit` if none is earlier. */
static int64_t next_pause_start(const mc_pause *p, size_t n, int64_t t, int64_t limit)
{
    int64_t r = limit;
    for (size_t i = 0; i < n; i++) {
        int64_t from = clamp64(p[i].from, PAUSE_LO, PAUSE_HI);
        int64_t to = clamp64(p[i].to, PAUSE_LO, PAUSE_HI);
        if (from < to && from > t && from < r)
            r = from;
    }
    return r;
}

/* ------------------------------------------------------------------------------------ */
/* Walks                                                                                */

/*
 * The first maximal free segment [*s, *e) of working time (inside a session of a working
 * day, outside every pause) with *s >= t and *s < limit. Returns false if none.
 */
static bool next_free_segment(const mc_calendar *cal, const mc_pause *p, size_t np, int64_t t,
                              int64_t limit, int64_t *s, int64_t *e)
{
    int64_t last = day_of(cal, limit);
    for (int64_t day = day_of(cal, t); day <= last; day++) {
        if (working_day_num(cal, day)) {
            for (size_t i = 0; i < cal->n_sessions; i++) {
                int64_t ss = at_minute(cal, day, cal->sessions[i].start_min);
                int64_t se = at_minute(cal, day, cal->sessions[i].end_min);
                if (se <= t)
                    continue;
                int64_t cur = skip_paused(p, np, max64(ss, t));
                if (cur >= se) {
                    t = max64(t, cur); /* a long pause may jump many days ahead */
                    continue;
                }
                if (cur >= limit)
                    return false;
                *s = cur;
                *e = next_pause_start(p, np, cur, se);
                return true;
            }
        }
        if (day_of(cal, t) > day + 1)
            day = day_of(cal, t) - 1;
    }
    return false;
}

/* Walk `need` seconds of free working time from `start`; due must be <= limit. */
static int walk_working(const mc_calendar *cal, int64_t start, int64_t need, const mc_pause *p,
                        size_t np, int64_t limit, int64_t *out)
{
    int64_t t = start;
    for (;;) {
        int64_t s, e;
        if (!next_free_segment(cal, p, np, t, limit, &s, &e))
            return -1;
        if (need <= e - s) {
            int64_t due = s + need;
            if (due > limit)
                return -1;
            *out = due;
            return 0;
        }
        need -= e - s;
        t = e;
    }
}

/* Walk `need` seconds of unpaused wall-clock time from `start`; due must be <= limit. */
static int walk_elapsed(const mc_pause *p, size_t np, int64_t start, int64_t need, int64_t limit,
                        int64_t *out)
{
    int64_t t = start;
    for (;;) {
        t = skip_paused(p, np, t);
        if (t > limit)
            return -1;
        int64_t nf = next_pause_start(p, np, t, PAUSE_HI);
        if (need <= nf - t) {
            int64_t due = t + need;
            if (due > limit)
                return -1;
            *out = due;
            return 0;
        }
        need -= nf - t;
        t = nf;
    }
}

/* Working seconds of local day `day` that fall in [a, b). */
static int64_t day_part(const mc_calendar *cal, int64_t day, int64_t a, int64_t b)
{
    int64_t total = 0;
    if (!working_day_num(cal, day))
        return 0;
    for (size_t i = 0; i < cal->n_sessions; i++) {
        int64_t ss = max64(at_minute(cal, day, cal->sessions[i].start_min), a);
        int64_t se = min64(at_minute(cal, day, cal->sessions[i].end_min), b);
        if (se > ss)
            total += se - ss;
    }
    return total;
}

/* Working seconds in [a, b) ignoring pauses, a <= b, independent of b - a. */
static int64_t plain_between(const mc_calendar *cal, int64_t a, int64_t b)
{
    if (a >= b)
        return 0;
    int64_t da = day_of(cal, a);
    int64_t db = day_of(cal, b);
    if (da == db)
        return day_part(cal, da, a, b);
    int64_t total = day_part(cal, da, a, b) + day_part(cal, db, a, b);
    if (db - da > 1)
        total += count_working_days(cal, da + 1, db) * mc_calendar_day_seconds(cal);
    return total;
}

/* ------------------------------------------------------------------------------------ */
/* Public engine                                                                        */

int64_t mc_calendar_clock_start(const mc_calendar *cal, int64_t received_at)
{
    int64_t out;
    if (!mc_calendar_is_valid(cal) || received_at < MC_TIME_MIN || received_at > MC_TIME_MAX)
        return MC_TIME_INVALID;
    if (!clock_start(cal, received_at, &out) || out > MC_TIME_MAX)
        return MC_TIME_INVALID;
    return out;
}

static int due_same_day(const mc_calendar *cal, int64_t start, const mc_pause *p, size_t np,
                        int64_t limit, int64_t *out)
{
    int64_t day = day_of(cal, start);
    int64_t tod = start - at_minute(cal, day, 0);
    if (tod > (int64_t)cal->same_day_cutoff_min * 60) {
        if (!next_working_day(cal, day, &day))
            return -1;
    }
    int64_t closing = closing_time(cal, day);
    if (np == 0) {
        if (closing > limit)
            return -1;
        *out = closing;
        return 0;
    }
    /* Stretch the remaining working time of the day over the pauses. */
    return walk_working(cal, start, plain_between(cal, start, closing), p, np, limit, out);
}

int mc_calendar_due(const mc_calendar *cal, int64_t received_at, double value, mc_time_unit unit,
                    const mc_pause *pauses, size_t n_pauses, int64_t *due_at)
{
    int64_t start, due;
    int rc;

    if (due_at == NULL || !mc_calendar_is_valid(cal))
        return -1;
    if (n_pauses > 0 && pauses == NULL)
        return -1;
    for (size_t i = 0; i < n_pauses; i++)
        if (pauses[i].to < pauses[i].from)
            return -1;
    if (!isfinite(value) || value < 0.0) /* NaN is not finite */
        return -1;
    if (received_at < MC_TIME_MIN || received_at > MC_TIME_MAX)
        return -1;

    int64_t limit = min64(received_at + HORIZON_SECS, MC_TIME_MAX);
    if (!clock_start(cal, received_at, &start) || start > limit)
        return -1;

    switch (unit) {
    case MC_UNIT_WORKING_DAYS:
    case MC_UNIT_WORKING_HOURS: {
        double unit_secs =
            unit == MC_UNIT_WORKING_DAYS ? (double)mc_calendar_day_seconds(cal) : 3600.0;
        if (unit == MC_UNIT_WORKING_DAYS && value == 0.0) {
            rc = due_same_day(cal, start, pauses, n_pauses, limit, &due);
            break;
        }
        /* More working time than there are seconds in the horizon can never fit. */
        double need_d = value * unit_secs;
        if (need_d > (double)HORIZON_SECS)
            return -1;
        int64_t need = (int64_t)llround(need_d);
        rc = walk_working(cal, start, need, pauses, n_pauses, limit, &due);
        break;
    }
    case MC_UNIT_CALENDAR_DAYS: {
        if (value != floor(value) || value > (double)MC_CALENDAR_HORIZON_DAYS)
            return -1;
        int64_t days = (int64_t)value;
        rc = walk_elapsed(pauses, n_pauses, start, days * SECS_PER_DAY, limit, &due);
        if (rc == 0) {
            /* Never due on a day off: same local time of day on the next working day. */
            int64_t day = day_of(cal, due);
            if (!working_day_num(cal, day)) {
                int64_t tod = due - at_minute(cal, day, 0);
                if (!next_working_day(cal, day, &day))
                    return -1;
                due = at_minute(cal, day, 0) + tod;
                if (due > limit)
                    return -1;
            }
        }
        break;
    }
    default:
        return -1;
    }
    if (rc != 0)
        return -1;
    *due_at = due;
    return 0;
}

int64_t mc_calendar_working_seconds_between(const mc_calendar *cal, int64_t a, int64_t b,
                                            const mc_pause *pauses, size_t n_pauses)
{
    if (!mc_calendar_is_valid(cal) || (n_pauses > 0 && pauses == NULL))
        return 0;
    a = clamp64(a, MC_TIME_MIN, MC_TIME_MAX);
    b = clamp64(b, MC_TIME_MIN, MC_TIME_MAX);
    if (a > b)
        return -mc_calendar_working_seconds_between(cal, b, a, pauses, n_pauses);

    int64_t total = plain_between(cal, a, b);
    /* Subtract the working time inside the union of the pauses, one merged run at a time. */
    int64_t cur = a;
    while (cur < b) {
        int64_t run_start = skip_paused(pauses, n_pauses, cur) > cur
                                ? cur
                                : next_pause_start(pauses, n_pauses, cur, b);
        if (run_start >= b)
            break;
        int64_t run_end = min64(skip_paused(pauses, n_pauses, run_start), b);
        total -= plain_between(cal, run_start, run_end);
        cur = run_end;
    }
    return total;
}

/* ------------------------------------------------------------------------------------ */
/* Units                                                                                */

int mc_time_unit_parse(const char *s, mc_time_unit *out)
{
    if (s == NULL || out == NULL)
        return -1;
    if (strcmp(s, "working_days") == 0)
        *out = MC_UNIT_WORKING_DAYS;
    else if (strcmp(s, "calendar_days") == 0)
        *out = MC_UNIT_CALENDAR_DAYS;
    else if (strcmp(s, "working_hours") == 0)
        *out = MC_UNIT_WORKING_HOURS;
    else
        return -1;
    return 0;
}

const char *mc_time_unit_name(mc_time_unit u)
{
    switch (u) {
    case MC_UNIT_WORKING_DAYS:
        return "working_days";
    case MC_UNIT_CALENDAR_DAYS:
        return "calendar_days";
    case MC_UNIT_WORKING_HOURS:
        return "working_hours";
    }
    return NULL;
}

/* ------------------------------------------------------------------------------------ */
/* RFC 3339                                                                             */

int mc_rfc3339_parse(const char *s, int64_t *out)
{
    mc_date d;
    int hh, mm, ss;
    int64_t offset = 0;

    if (s == NULL || out == NULL)
        return -1;
    if (!parse_date_prefix(s, &d))
        return -1;
    if ((s[10] != 'T' && s[10] != 't') || !read_digits(s + 11, 2, &hh) || s[13] != ':' ||
        !read_digits(s + 14, 2, &mm) || s[16] != ':' || !read_digits(s + 17, 2, &ss))
        return -1;
    if (hh > 23 || mm > 59 || ss > 59)
        return -1;

    const char *p = s + 19;
    if (*p == '.') {
        p++;
        if (!is_digit(*p))
            return -1;
        while (is_digit(*p))
            p++; /* truncated: the instant is within this second */
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        int sign = *p == '-' ? -1 : 1;
        if (!read_digits(p + 1, 2, &oh) || p[3] != ':' || !read_digits(p + 4, 2, &om))
            return -1;
        if (oh > 23 || om > 59)
            return -1;
        offset = (int64_t)sign * ((int64_t)oh * 3600 + (int64_t)om * 60);
        p += 6;
    } else {
        return -1;
    }
    if (*p != '\0')
        return -1;

    *out = mc_date_to_days(d) * SECS_PER_DAY + (int64_t)hh * 3600 + (int64_t)mm * 60 + (int64_t)ss -
           offset;
    return 0;
}

void mc_rfc3339_format(int64_t t, int utc_offset_min, char out[32])
{
    int64_t off = clamp64(utc_offset_min, -1439, 1439);
    int64_t local =
        clamp64(t, MC_TIME_MIN - 2 * SECS_PER_DAY, MC_TIME_MAX + 2 * SECS_PER_DAY) + off * 60;
    local = clamp64(local, MC_TIME_MIN, MC_TIME_MAX); /* years 0001..9999 */
    int64_t day = floor_div(local, SECS_PER_DAY);
    int64_t sod = local - day * SECS_PER_DAY;

    write_date(out, mc_date_from_days(day));
    out[10] = 'T';
    put_digits(out + 11, sod / 3600, 2);
    out[13] = ':';
    put_digits(out + 14, sod / 60 % 60, 2);
    out[16] = ':';
    put_digits(out + 17, sod % 60, 2);
    if (off == 0) {
        out[19] = 'Z';
        out[20] = '\0';
        return;
    }
    int64_t aoff = off < 0 ? -off : off;
    out[19] = off < 0 ? '-' : '+';
    put_digits(out + 20, aoff / 60, 2);
    out[22] = ':';
    put_digits(out + 23, aoff % 60, 2);
    out[25] = '\0';
}
