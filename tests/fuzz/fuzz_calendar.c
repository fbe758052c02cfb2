/*
 * Fuzz target calendar: mc_rfc3339_parse, mc_date_parse and mc_calendar_due (with
 * mc_calendar_clock_start and mc_calendar_working_seconds_between as cross-checks) of
 * common/src/calendar.c.
 *
 * Input: RFC3339 NUL DATE NUL PARAMS, where RFC3339 and DATE are text handed to the
 * parsers and PARAMS are binary little-endian fields (missing bytes read as 0):
 *
 *   u8  flags   bit0: received time from the RFC 3339 text when it parses
 *               bit1: received time is the raw i64 below (else 2020-01-01 + u32 seconds)
 *               bit2: fuzzed calendar structure (sessions, cutoff, offset)
 *               bit3: value is the raw double below (else u16 / 8)
 *               bits4-5: unit (3 = an invalid enum value)
 *               bit6: raw pause bounds (else offsets from the received time)
 *               bit7: the calendar also lists extra working days
 *   i64 received, f64 value, u8 number of pauses (mod 9), per pause 2 x i64,
 *   then for a fuzzed calendar: u8 sessions (mod 5), 2 x u16 per session, u16 cutoff,
 *   u16 offset (mapped to -1500..1500).
 * The calendar carries real Vietnamese days off 2024-2026 (Tết, Hùng Kings, 30/4, 1/5,
 * 2/9, compensatory days) and worked Saturdays.
 *
 * Invariants besides memory safety, from the contract in motcua/calendar.h:
 *  - a parsed date is valid, formats back to the same 10 characters and survives
 *    days -> date; a parsed RFC 3339 time in range formats and parses back to itself;
 *  - a successful due time is at or after the clock start and within the horizon; for a
 *    working unit with value > 0 the working seconds from the clock start to the due
 *    time (same pauses) equal the limit in seconds; a calendar-day due time and a
 *    same-day due time without pauses fall on a working day (the latter at closing time);
 *  - working_seconds_between is antisymmetric and additive over adjacent intervals.
 */
#include <math.h>

#include "fuzz_util.h"
#include "motcua/calendar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define D(y, m, d) {y, m, d}
static const mc_date k_days_off[] = {
    D(2024, 1, 1),  D(2024, 2, 8),  D(2024, 2, 9),  D(2024, 2, 10), D(2024, 2, 11),
    D(2024, 2, 12), D(2024, 2, 13), D(2024, 2, 14), D(2024, 4, 18), D(2024, 4, 29),
    D(2024, 4, 30), D(2024, 5, 1),  D(2024, 9, 2),  D(2024, 9, 3),  D(2025, 1, 1),
    D(2025, 1, 25), D(2025, 1, 26), D(2025, 1, 27), D(2025, 1, 28), D(2025, 1, 29),
    D(2025, 1, 30), D(2025, 1, 31), D(2025, 2, 1),  D(2025, 2, 2),  D(2025, 4, 7),
    D(2025, 4, 30), D(2025, 5, 1),  D(2025, 5, 2),  D(2025, 5, 2), /* duplicate: tolerated */
    D(2025, 9, 1),  D(2025, 9, 2),  D(2026, 1, 1),  D(2026, 1, 2),  D(2026, 2, 14),
    D(2026, 2, 15), D(2026, 2, 16), D(2026, 2, 17), D(2026, 2, 18), D(2026, 2, 19),
    D(2026, 2, 20), D(2026, 2, 21), D(2026, 2, 22), D(2026, 4, 27), D(2026, 4, 30),
    D(2026, 5, 1),  D(2026, 9, 1),  D(2026, 9, 2),
};
static const mc_date k_extra_working[] = {
    D(2024, 5, 4), D(2025, 4, 26), D(2026, 1, 10), D(2026, 2, 21), /* also listed off */
};
#undef D

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
#define SECS_PER_DAY INT64_C(86400)
#define HORIZON_SECS ((int64_t)MC_CALENDAR_HORIZON_DAYS * SECS_PER_DAY)

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if (a % b != 0 && ((a < 0) != (b < 0)))
        q--;
    return q;
}

/* Local date of epoch time t in the calendar's offset. */
static mc_date local_date(const mc_calendar *cal, int64_t t)
{
    return mc_date_from_days(floor_div(t + (int64_t)cal->utc_offset_min * 60, SECS_PER_DAY));
}

static void fuzz_dates(const char *text)
{
    mc_date d = {-7, -7, -7};
    if (!mc_date_parse(text, &d)) {
        FUZZ_CHECK(d.year == -7 && d.month == -7 && d.day == -7,
                   "mc_date_parse failed but wrote *out");
        return;
    }
    FUZZ_CHECK(mc_date_is_valid(d), "mc_date_parse accepted the invalid date \"%s\"", text);
    char out[11];
    mc_date_format(d, out);
    FUZZ_CHECK(strcmp(out, text) == 0, "mc_date_parse(\"%s\") formats back as \"%s\"", text, out);
    mc_date back = mc_date_from_days(mc_date_to_days(d));
    FUZZ_CHECK(back.year == d.year && back.month == d.month && back.day == d.day,
               "days round trip of %s gave %04d-%02d-%02d", text, back.year, back.month,
               back.day);
    int wd = mc_date_weekday(d);
    FUZZ_CHECK(wd >= 0 && wd <= 6, "weekday %d", wd);
}

static bool fuzz_rfc3339(const char *text, int64_t *t_out)
{
    int64_t t = 12345;
    if (mc_rfc3339_parse(text, &t) != 0) {
        FUZZ_CHECK(t == 12345, "mc_rfc3339_parse failed but wrote *out");
        return false;
    }
    /* Years 0001..9999 of local time, offsets up to +-23:59. */
    FUZZ_CHECK(t >= MC_TIME_MIN - SECS_PER_DAY && t <= MC_TIME_MAX + SECS_PER_DAY,
               "mc_rfc3339_parse(\"%s\") = %lld is out of range", text, (long long)t);
    static const int offsets[] = {0, 420, -330, 1439};
    for (size_t i = 0; i < N_OF(offsets); i++) {
        int64_t local = t + (int64_t)offsets[i] * 60;
        if (local < MC_TIME_MIN || local > MC_TIME_MAX)
            continue;
        char buf[32];
        int64_t back = 0;
        mc_rfc3339_format(t, offsets[i], buf);
        FUZZ_CHECK(strlen(buf) <= 25, "formatted \"%s\" is too long", buf);
        FUZZ_CHECK(mc_rfc3339_parse(buf, &back) == 0 && back == t,
                   "\"%s\" -> %lld -> \"%s\" (offset %d) -> %lld", text, (long long)t, buf,
                   offsets[i], (long long)back);
    }
    *t_out = t;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Split RFC3339 NUL DATE NUL PARAMS. */
    const uint8_t *end = data + size;
    const uint8_t *z1 = memchr(data, 0, size);
    const uint8_t *p2 = z1 != NULL ? z1 + 1 : end;
    const uint8_t *z2 = p2 < end ? memchr(p2, 0, (size_t)(end - p2)) : NULL;
    const uint8_t *p3 = z2 != NULL ? z2 + 1 : end;
    char *rfc = fuzz_strndup(data, (size_t)((z1 != NULL ? z1 : end) - data));
    char *date = fuzz_strndup(p2, (size_t)((z2 != NULL ? z2 : end) - p2));

    fuzz_dates(date);
    int64_t parsed = 0;
    bool have_parsed = fuzz_rfc3339(rfc, &parsed);
    free(rfc);
    free(date);

    fuzz_reader r = {p3, (size_t)(end - p3)};
    uint8_t flags = fuzz_u8(&r);
    int64_t received = fuzz_i64(&r);
    if (!(flags & 2))
        received = INT64_C(1577836800) + (int64_t)((uint64_t)received & 0xffffffffu) % (10 * 366 * SECS_PER_DAY);
    if ((flags & 1) && have_parsed)
        received = parsed;
    double value = fuzz_double(&r);
    if (!(flags & 8)) {
        uint64_t bits;
        memcpy(&bits, &value, sizeof bits);
        value = (double)(bits & 0xffffu) / 8.0;
    }
    static const mc_time_unit units[] = {MC_UNIT_WORKING_DAYS, MC_UNIT_CALENDAR_DAYS,
                                         MC_UNIT_WORKING_HOURS, (mc_time_unit)7};
    mc_time_unit unit = units[(flags >> 4) & 3];

    mc_pause pauses[8];
    size_t n_pauses = fuzz_u8(&r) % 9;
    for (size_t i = 0; i < n_pauses; i++) {
        int64_t a = fuzz_i64(&r), b = fuzz_i64(&r);
        if (flags & 64) {
            pauses[i].from = a;
            pauses[i].to = b;
        } else {
            /* within about +-68 years of the received time, up to ~48 days long */
            int32_t off;
            uint32_t ua = (uint32_t)a;
            memcpy(&off, &ua, sizeof off);
            int64_t base = received < MC_TIME_MIN ? MC_TIME_MIN
                           : received > MC_TIME_MAX ? MC_TIME_MAX : received;
            pauses[i].from = base + off;
            pauses[i].to = pauses[i].from + (int64_t)((uint64_t)b % (48 * SECS_PER_DAY));
        }
    }

    mc_calendar cal;
    mc_calendar_init_default(&cal);
    cal.days_off = k_days_off;
    cal.n_days_off = N_OF(k_days_off);
    if (flags & 128) {
        cal.extra_working_days = k_extra_working;
        cal.n_extra_working_days = N_OF(k_extra_working);
    }
    if (flags & 4) {
        cal.n_sessions = fuzz_u8(&r) % (MC_CALENDAR_MAX_SESSIONS + 1);
        for (size_t i = 0; i < MC_CALENDAR_MAX_SESSIONS; i++) {
            cal.sessions[i].start_min = fuzz_u16(&r) % 1500;
            cal.sessions[i].end_min = fuzz_u16(&r) % 1500;
        }
        cal.same_day_cutoff_min = fuzz_u16(&r) % 1500;
        cal.utc_offset_min = (int)(fuzz_u16(&r) % 3001) - 1500;
    }
    bool cal_ok = mc_calendar_is_valid(&cal);

    int64_t due = INT64_C(-4242);
    int rc = mc_calendar_due(&cal, received, value, unit, pauses, n_pauses, &due);
    int64_t start = mc_calendar_clock_start(&cal, received);
    if (rc != 0) {
        FUZZ_CHECK(due == INT64_C(-4242), "mc_calendar_due failed but wrote *due_at");
    } else {
        FUZZ_CHECK(cal_ok, "mc_calendar_due succeeded on an invalid calendar");
        FUZZ_CHECK(start != MC_TIME_INVALID, "due succeeded but the clock start is invalid");
        FUZZ_CHECK(due >= start, "due %lld before the clock start %lld", (long long)due,
                   (long long)start);
        FUZZ_CHECK(due <= received + HORIZON_SECS && due <= MC_TIME_MAX,
                   "due %lld beyond the horizon of received %lld", (long long)due,
                   (long long)received);
        if (unit != MC_UNIT_CALENDAR_DAYS && value > 0.0) {
            double unit_secs = unit == MC_UNIT_WORKING_DAYS
                                   ? (double)mc_calendar_day_seconds(&cal)
                                   : 3600.0;
            int64_t need = (int64_t)llround(value * unit_secs);
            int64_t got =
                mc_calendar_working_seconds_between(&cal, start, due, pauses, n_pauses);
            FUZZ_CHECK(got == need,
                       "received %lld value %.17g unit %d: clock start %lld, due %lld, but "
                       "%lld working seconds between them instead of %lld",
                       (long long)received, value, (int)unit, (long long)start, (long long)due,
                       (long long)got, (long long)need);
        }
        if (unit == MC_UNIT_CALENDAR_DAYS) {
            FUZZ_CHECK(mc_calendar_is_working_day(&cal, local_date(&cal, due)),
                       "calendar-day due time %lld is not on a working day", (long long)due);
            if (n_pauses == 0)
                FUZZ_CHECK(due - start >= (int64_t)value * SECS_PER_DAY &&
                               (due - start) % SECS_PER_DAY == 0,
                           "calendar-day due %lld vs start %lld, value %g", (long long)due,
                           (long long)start, value);
        }
        if (unit == MC_UNIT_WORKING_DAYS && value == 0.0 && n_pauses == 0) {
            int64_t close_s = (int64_t)cal.sessions[cal.n_sessions - 1].end_min * 60;
            int64_t opened = due - close_s; /* local midnight of the closing day, in epoch */
            int64_t local = opened + (int64_t)cal.utc_offset_min * 60;
            FUZZ_CHECK(local - floor_div(local, SECS_PER_DAY) * SECS_PER_DAY == 0,
                       "same-day due %lld is not at closing time", (long long)due);
            FUZZ_CHECK(mc_calendar_is_working_day(&cal, local_date(&cal, opened)),
                       "same-day due %lld is not on a working day", (long long)due);
        }
    }

    /* The between measure: antisymmetric and additive. */
    int64_t a = start != MC_TIME_INVALID ? start : received;
    if (cal_ok && a >= MC_TIME_MIN && a <= MC_TIME_MAX) {
        int64_t b = a + (int64_t)(fuzz_u32(&r) % (400 * SECS_PER_DAY));
        int64_t c = b + (int64_t)(fuzz_u32(&r) % (400 * SECS_PER_DAY));
        if (a >= MC_TIME_MIN && c <= MC_TIME_MAX) {
            int64_t ab = mc_calendar_working_seconds_between(&cal, a, b, pauses, n_pauses);
            int64_t bc = mc_calendar_working_seconds_between(&cal, b, c, pauses, n_pauses);
            int64_t ac = mc_calendar_working_seconds_between(&cal, a, c, pauses, n_pauses);
            int64_t ca = mc_calendar_working_seconds_between(&cal, c, a, pauses, n_pauses);
            FUZZ_CHECK(ab >= 0 && bc >= 0, "negative working time %lld %lld", (long long)ab,
                       (long long)bc);
            FUZZ_CHECK(ab + bc == ac, "between(a,b) %lld + between(b,c) %lld != between(a,c) %lld "
                       "(a %lld b %lld c %lld)", (long long)ab, (long long)bc, (long long)ac,
                       (long long)a, (long long)b, (long long)c);
            FUZZ_CHECK(ca == -ac, "between(c,a) %lld != -between(a,c) %lld", (long long)ca,
                       (long long)ac);
        }
    }
    return 0;
}
