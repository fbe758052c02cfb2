/*
 * Unit tests for the deadline/calendar engine (common/src/calendar.c).
 *
 * Expected due times are computed by hand; the comment above each case shows the
 * arithmetic. Default office hours: 07:00-11:30 (4.5 h) and 13:30-17:00 (3.5 h), so one
 * working day (WD) = 8 h; same-day cutoff 15:00; all local times are +07:00.
 *
 * Test holiday data (only what these tests need, as given in the module brief):
 *   2025-01-01 Wed          New Year
 *   2025-01-25..02-02       Tết, Sat 25 Jan - Sun 2 Feb; listed in full as an administrator
 *                           would, weekend days included (they change nothing); the
 *                           working days lost are Mon 27 - Fri 31 Jan
 *   2025-04-07 Mon          Hùng Kings day
 *   2025-04-30 Wed, 05-01 Thu   Reunification day, Labour day
 *   2025-05-02 Fri          swapped day off, worked on Sat 2025-04-26 (extra working day)
 *   2025-09-01 Mon, 09-02 Tue   National day
 *   2026-01-01 Thu          New Year (Fri 2026-01-02 assumed to be a working day)
 *
 * Weekday anchors used below: 2025-01-01 is a Wednesday, so Fri 24 Jan, Mon 3 Feb;
 * Tue 1 Apr, so Sat 26 Apr, Tue 29 Apr, Mon 5 May; Sat 1 Mar, so Mon 10 Mar .. Fri 14 Mar,
 * Mon 17 Mar (a plain week with no holidays); Wed 31 Dec 2025, Thu 1 Jan 2026.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "motcua/calendar.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static const mc_date VN_DAYS_OFF[] = {
    {2025, 1, 1},  {2025, 1, 25}, {2025, 1, 26}, {2025, 1, 27}, {2025, 1, 28}, {2025, 1, 29},
    {2025, 1, 30}, {2025, 1, 31}, {2025, 2, 1},  {2025, 2, 2},  {2025, 4, 7},  {2025, 4, 30},
    {2025, 5, 1},  {2025, 5, 2},  {2025, 9, 1},  {2025, 9, 2},  {2026, 1, 1},
};
static const mc_date VN_EXTRA[] = {{2025, 4, 26}};

static mc_calendar vn_cal(void)
{
    mc_calendar c;
    mc_calendar_init_default(&c);
    c.days_off = VN_DAYS_OFF;
    c.n_days_off = N_ELEMS(VN_DAYS_OFF);
    c.extra_working_days = VN_EXTRA;
    c.n_extra_working_days = N_ELEMS(VN_EXTRA);
    return c;
}

/* Parse an RFC 3339 literal used by a test (failing the test if it does not parse). */
static int64_t T(const char *s)
{
    int64_t t = 0;
    assert_int_equal(mc_rfc3339_parse(s, &t), 0);
    return t;
}

static mc_pause P(const char *from, const char *to)
{
    mc_pause p = {T(from), T(to)};
    return p;
}

/* Due time for `recv`, formatted in +07:00, compared with the hand-computed `expect`. */
#define ASSERT_DUE(cal, recv, value, unit, pauses, np, expect)                                     \
    do {                                                                                           \
        int64_t due_ = 0;                                                                          \
        char buf_[32];                                                                             \
        assert_int_equal(mc_calendar_due((cal), T(recv), (value), (unit), (pauses), (np), &due_),  \
                         0);                                                                       \
        mc_rfc3339_format(due_, 420, buf_);                                                        \
        assert_string_equal(buf_, (expect));                                                       \
    } while (0)

#define ASSERT_DUE_FAILS(cal, recv, value, unit, pauses, np)                                       \
    do {                                                                                           \
        int64_t due_ = 12345;                                                                      \
        assert_int_equal(mc_calendar_due((cal), (recv), (value), (unit), (pauses), (np), &due_),   \
                         -1);                                                                      \
        assert_int_equal(due_, 12345); /* untouched on error */                                    \
    } while (0)

#define ASSERT_CLOCK_START(cal, recv, expect)                                                      \
    do {                                                                                           \
        char buf_[32];                                                                             \
        mc_rfc3339_format(mc_calendar_clock_start((cal), T(recv)), 420, buf_);                     \
        assert_string_equal(buf_, (expect));                                                       \
    } while (0)

#define WD MC_UNIT_WORKING_DAYS
#define WH MC_UNIT_WORKING_HOURS
#define CD MC_UNIT_CALENDAR_DAYS

/* ------------------------------------------------------------------------------------ */

static void test_init_default(void **state)
{
    (void)state;
    mc_calendar c;
    memset(&c, 0x5a, sizeof c); /* garbage must be overwritten */
    mc_calendar_init_default(&c);
    assert_int_equal(c.n_sessions, 2);
    assert_int_equal(c.sessions[0].start_min, 420);
    assert_int_equal(c.sessions[0].end_min, 690);
    assert_int_equal(c.sessions[1].start_min, 810);
    assert_int_equal(c.sessions[1].end_min, 1020);
    assert_int_equal(c.same_day_cutoff_min, 900);
    assert_int_equal(c.utc_offset_min, 420);
    assert_null(c.days_off);
    assert_int_equal(c.n_days_off, 0);
    assert_null(c.extra_working_days);
    assert_int_equal(c.n_extra_working_days, 0);
    assert_true(mc_calendar_is_valid(&c));
    /* 4.5 h + 3.5 h = 8 h = 28800 s */
    assert_int_equal(mc_calendar_day_seconds(&c), 28800);
}

static void test_calendar_is_valid(void **state)
{
    (void)state;
    mc_calendar c = vn_cal();
    assert_true(mc_calendar_is_valid(&c));
    assert_false(mc_calendar_is_valid(NULL));

    mc_calendar bad = c;
    bad.n_sessions = 0;
    assert_false(mc_calendar_is_valid(&bad));
    bad = c;
    bad.n_sessions = 5;
    assert_false(mc_calendar_is_valid(&bad));
    bad = c;
    bad.sessions[1].start_min = 600; /* overlaps 07:00-11:30 */
    assert_false(mc_calendar_is_valid(&bad));
    bad = c;
    bad.sessions[1].end_min = 1441;
    assert_false(mc_calendar_is_valid(&bad));
    bad = c;
    bad.sessions[0].end_min = bad.sessions[0].start_min; /* empty session */
    assert_false(mc_calendar_is_valid(&bad));
    bad = c;
    bad.same_day_cutoff_min = -1;
    assert_false(mc_calendar_is_valid(&bad));
    bad = c;
    bad.utc_offset_min = 1440;
    assert_false(mc_calendar_is_valid(&bad));
    bad = c;
    bad.days_off = NULL; /* count still 17 */
    assert_false(mc_calendar_is_valid(&bad));

    static const mc_date unsorted[] = {{2025, 5, 1}, {2025, 4, 30}};
    bad = c;
    bad.days_off = unsorted;
    bad.n_days_off = 2;
    assert_false(mc_calendar_is_valid(&bad));

    static const mc_date invalid_date[] = {{2025, 2, 29}};
    bad = c;
    bad.extra_working_days = invalid_date;
    bad.n_extra_working_days = 1;
    assert_false(mc_calendar_is_valid(&bad));

    static const mc_date dup[] = {{2025, 4, 30}, {2025, 4, 30}, {2025, 5, 1}};
    mc_calendar ok = c;
    ok.days_off = dup; /* duplicates tolerated */
    ok.n_days_off = 3;
    assert_true(mc_calendar_is_valid(&ok));
}

static void test_date_parse(void **state)
{
    (void)state;
    mc_date d = {0, 0, 0};
    assert_true(mc_date_parse("2025-01-24", &d));
    assert_int_equal(d.year, 2025);
    assert_int_equal(d.month, 1);
    assert_int_equal(d.day, 24);
    assert_true(mc_date_parse("2024-02-29", &d)); /* 2024 is a leap year */
    assert_int_equal(d.month, 2);
    assert_int_equal(d.day, 29);
    assert_true(mc_date_parse("2000-02-29", &d)); /* divisible by 400: leap */
    assert_true(mc_date_parse("0001-01-01", &d));
    assert_true(mc_date_parse("9999-12-31", &d));

    mc_date keep = {1, 2, 3};
    const char *bad[] = {
        "2025-02-29", /* 2025 is not a leap year */
        "1900-02-29", /* divisible by 100, not 400: not leap */
        "2025-04-31",
        "2025-13-01",
        "2025-00-10",
        "2025-01-00",
        "2025-01-32",
        "0000-01-01",
        "2025-1-24",
        "2025-01-4",
        "25-01-24",
        "2025/01/24",
        "2025-01-24 ",
        " 2025-01-24",
        "2025-01-24T00:00:00Z",
        "",
        "abcd-ef-gh",
        "2025-01-2x",
    };
    for (size_t i = 0; i < N_ELEMS(bad); i++) {
        d = keep;
        assert_false(mc_date_parse(bad[i], &d));
        assert_int_equal(d.year, 1); /* untouched on error */
    }
    assert_false(mc_date_parse(NULL, &d));
    assert_false(mc_date_parse("2025-01-24", NULL));

    assert_true(mc_date_is_valid((mc_date){2024, 2, 29}));
    assert_false(mc_date_is_valid((mc_date){2025, 2, 29}));
    assert_false(mc_date_is_valid((mc_date){10000, 1, 1}));
}

static void test_date_format(void **state)
{
    (void)state;
    char buf[11];
    mc_date_format((mc_date){2025, 1, 24}, buf);
    assert_string_equal(buf, "2025-01-24");
    mc_date_format((mc_date){1, 2, 3}, buf);
    assert_string_equal(buf, "0001-02-03");
    mc_date_format((mc_date){99999, 123, -5}, buf); /* clamped, never overflows */
    assert_string_equal(buf, "9999-99-00");

    mc_date d;
    assert_true(mc_date_parse("2024-02-29", &d));
    mc_date_format(d, buf);
    assert_string_equal(buf, "2024-02-29");
}

static void test_date_days_and_weekday(void **state)
{
    (void)state;
    /* Anchors computed independently:
       1970-01-01 = day 0; 1969-12-31 = day -1;
       2000-03-01: 30 years x 365 + 7 leap days (72..96) = 10957, + 31 (Jan) + 29 (Feb) = 11017;
       2025-01-24: 55 x 365 + 14 leap days (72..2024) = 20089, + 23 = 20112
                   (20112 x 86400 = 1737676800 = 2025-01-24T00:00:00Z). */
    assert_int_equal(mc_date_to_days((mc_date){1970, 1, 1}), 0);
    assert_int_equal(mc_date_to_days((mc_date){1969, 12, 31}), -1);
    assert_int_equal(mc_date_to_days((mc_date){2000, 3, 1}), 11017);
    assert_int_equal(mc_date_to_days((mc_date){2025, 1, 24}), 20112);
    /* MC_TIME_MIN / 86400 and (MC_TIME_MAX + 1) / 86400 - 1 */
    assert_int_equal(mc_date_to_days((mc_date){1, 1, 1}), -719162);
    assert_int_equal(mc_date_to_days((mc_date){9999, 12, 31}), 2932896);

    mc_date d = mc_date_from_days(20112);
    assert_int_equal(d.year, 2025);
    assert_int_equal(d.month, 1);
    assert_int_equal(d.day, 24);
    d = mc_date_from_days(-1);
    assert_int_equal(d.year, 1969);
    assert_int_equal(d.month, 12);
    assert_int_equal(d.day, 31);

    /* Weekday: 0 = Sunday. 1970-01-01 was a Thursday; (20112 + 4) mod 7 = 5 = Friday. */
    assert_int_equal(mc_date_weekday((mc_date){1970, 1, 1}), 4);
    assert_int_equal(mc_date_weekday((mc_date){1969, 12, 28}), 0);
    assert_int_equal(mc_date_weekday((mc_date){2025, 1, 24}), 5);
    assert_int_equal(mc_date_weekday((mc_date){2025, 4, 26}), 6);
    assert_int_equal(mc_date_weekday((mc_date){2025, 12, 31}), 3);
    assert_int_equal(mc_date_weekday((mc_date){2026, 1, 1}), 4);

    /* Every day of years 0001..9999: from_days is the inverse of to_days, each date is
       valid and is the calendar successor of the previous one. */
    mc_date prev = mc_date_from_days(-719163); /* 0000-12-31 */
    assert_int_equal(prev.year, 0);
    for (int64_t n = -719162; n <= 2932896; n++) {
        mc_date cur = mc_date_from_days(n);
        bool ok = mc_date_is_valid(cur) && mc_date_to_days(cur) == n;
        if (cur.day != 1)
            ok = ok && cur.day == prev.day + 1 && cur.month == prev.month && cur.year == prev.year;
        else if (cur.month != 1)
            ok = ok && cur.month == prev.month + 1 && cur.year == prev.year;
        else
            ok = ok && prev.month == 12 && prev.day == 31 && cur.year == prev.year + 1;
        if (!ok)
            fail_msg("day %lld -> %d-%d-%d", (long long)n, cur.year, cur.month, cur.day);
        prev = cur;
    }
}

static void test_is_working_day(void **state)
{
    (void)state;
    mc_calendar c = vn_cal();
    assert_true(mc_calendar_is_working_day(&c, (mc_date){2025, 4, 26}));  /* swapped Sat */
    assert_false(mc_calendar_is_working_day(&c, (mc_date){2025, 4, 27})); /* Sunday */
    assert_false(mc_calendar_is_working_day(&c, (mc_date){2025, 5, 2}));  /* swapped Fri */
    assert_false(mc_calendar_is_working_day(&c, (mc_date){2025, 4, 30}));
    assert_false(mc_calendar_is_working_day(&c, (mc_date){2025, 5, 1}));
    assert_false(mc_calendar_is_working_day(&c, (mc_date){2025, 5, 3})); /* Saturday */
    assert_true(mc_calendar_is_working_day(&c, (mc_date){2025, 5, 5}));
    assert_true(mc_calendar_is_working_day(&c, (mc_date){2025, 1, 24}));
    assert_false(mc_calendar_is_working_day(&c, (mc_date){2025, 1, 25}));
    assert_false(mc_calendar_is_working_day(&c, (mc_date){2025, 1, 27})); /* Tết */
    assert_false(mc_calendar_is_working_day(&c, (mc_date){2025, 1, 31})); /* Tết */
    assert_false(mc_calendar_is_working_day(&c, (mc_date){2025, 2, 2}));
    assert_true(mc_calendar_is_working_day(&c, (mc_date){2025, 2, 3}));
    assert_true(mc_calendar_is_working_day(&c, (mc_date){2025, 12, 31}));
    assert_false(mc_calendar_is_working_day(&c, (mc_date){2026, 1, 1}));
    assert_true(mc_calendar_is_working_day(&c, (mc_date){2026, 1, 2}));
    assert_true(mc_calendar_is_working_day(&c, (mc_date){2025, 3, 10}));
    assert_false(mc_calendar_is_working_day(&c, (mc_date){2025, 2, 29})); /* invalid */
    assert_false(mc_calendar_is_working_day(NULL, (mc_date){2025, 3, 10}));

    /* A date in both lists is a working day: the extra list wins. */
    static const mc_date both[] = {{2025, 3, 12}, {2025, 3, 15}};
    mc_calendar c2;
    mc_calendar_init_default(&c2);
    c2.days_off = both;
    c2.n_days_off = 2;
    c2.extra_working_days = both;
    c2.n_extra_working_days = 2;
    assert_true(mc_calendar_is_working_day(&c2, (mc_date){2025, 3, 12}));
    assert_true(mc_calendar_is_working_day(&c2, (mc_date){2025, 3, 15}));
    /* No holiday data: a plain Monday-Friday week. */
    mc_calendar plain;
    mc_calendar_init_default(&plain);
    assert_true(mc_calendar_is_working_day(&plain, (mc_date){2025, 1, 27}));
    assert_false(mc_calendar_is_working_day(&plain, (mc_date){2025, 4, 26}));
}

static void test_clock_start(void **state)
{
    (void)state;
    mc_calendar c = vn_cal();
    /* inside a session: itself */
    ASSERT_CLOCK_START(&c, "2025-03-10T09:00:00+07:00", "2025-03-10T09:00:00+07:00");
    ASSERT_CLOCK_START(&c, "2025-03-10T07:00:00+07:00", "2025-03-10T07:00:00+07:00");
    ASSERT_CLOCK_START(&c, "2025-03-10T16:59:59+07:00", "2025-03-10T16:59:59+07:00");
    /* before opening: 07:00 the same day */
    ASSERT_CLOCK_START(&c, "2025-03-10T06:00:00+07:00", "2025-03-10T07:00:00+07:00");
    /* lunch break (11:30 is already outside [07:00, 11:30)): 13:30 */
    ASSERT_CLOCK_START(&c, "2025-03-10T11:30:00+07:00", "2025-03-10T13:30:00+07:00");
    ASSERT_CLOCK_START(&c, "2025-03-10T12:00:00+07:00", "2025-03-10T13:30:00+07:00");
    ASSERT_CLOCK_START(&c, "2025-03-10T13:29:59+07:00", "2025-03-10T13:30:00+07:00");
    /* closing time 17:00 and later: next working day 07:00 */
    ASSERT_CLOCK_START(&c, "2025-03-10T17:00:00+07:00", "2025-03-11T07:00:00+07:00");
    ASSERT_CLOCK_START(&c, "2025-03-10T17:30:00+07:00", "2025-03-11T07:00:00+07:00");
    /* Saturday -> Monday 07:00 */
    ASSERT_CLOCK_START(&c, "2025-03-15T09:00:00+07:00", "2025-03-17T07:00:00+07:00");
    /* input in UTC: 2025-03-10T23:30Z = Tue 11 Mar 06:30 local -> 07:00 */
    ASSERT_CLOCK_START(&c, "2025-03-10T23:30:00Z", "2025-03-11T07:00:00+07:00");
    /* Fri 24 Jan 2025 after closing: Sat 25 .. Sun 2 Feb off -> Mon 3 Feb 07:00 */
    ASSERT_CLOCK_START(&c, "2025-01-24T17:00:00+07:00", "2025-02-03T07:00:00+07:00");
    /* during Tết */
    ASSERT_CLOCK_START(&c, "2025-01-28T09:00:00+07:00", "2025-02-03T07:00:00+07:00");
    /* Fri 25 Apr evening -> the worked Saturday 26 Apr */
    ASSERT_CLOCK_START(&c, "2025-04-25T18:00:00+07:00", "2025-04-26T07:00:00+07:00");
    /* Tue 29 Apr evening: 30 Apr, 1 May, 2 May off, 3-4 May weekend -> Mon 5 May */
    ASSERT_CLOCK_START(&c, "2025-04-29T18:00:00+07:00", "2025-05-05T07:00:00+07:00");

    mc_calendar bad = c;
    bad.n_sessions = 0;
    assert_true(mc_calendar_clock_start(&bad, T("2025-03-10T09:00:00+07:00")) == MC_TIME_INVALID);
    assert_true(mc_calendar_clock_start(NULL, 0) == MC_TIME_INVALID);
    assert_true(mc_calendar_clock_start(&c, MC_TIME_MAX + 1) == MC_TIME_INVALID);
}

static void test_due_tet_2025(void **state)
{
    (void)state;
    mc_calendar c = vn_cal();

    /* Fri 24 Jan 10:00 + 1 WD (8 h):
       Fri 10:00-11:30 = 1.5 h, 13:30-17:00 = 3.5 h -> 5 h used, 3 h left;
       Sat 25 Jan .. Sun 2 Feb off; Mon 3 Feb 07:00 + 3 h = 10:00. */
    ASSERT_DUE(&c, "2025-01-24T10:00:00+07:00", 1, WD, NULL, 0, "2025-02-03T10:00:00+07:00");

    /* Thu 23 Jan 14:00 + 3 WD (24 h):
       Thu 14:00-17:00 = 3 h -> 21 h left; Fri 24 = 8 h -> 13 h left;
       Tết; Mon 3 Feb = 8 h -> 5 h left;
       Tue 4 Feb 07:00-11:30 = 4.5 h -> 0.5 h left; 13:30 + 0.5 h = 14:00. */
    ASSERT_DUE(&c, "2025-01-23T14:00:00+07:00", 3, WD, NULL, 0, "2025-02-04T14:00:00+07:00");

    /* Same day, received Fri 24 Jan 16:00: after the 15:00 cutoff -> closing time of the
       next working day, Mon 3 Feb 17:00. */
    ASSERT_DUE(&c, "2025-01-24T16:00:00+07:00", 0, WD, NULL, 0, "2025-02-03T17:00:00+07:00");
    /* Same day before the cutoff -> Fri 24 Jan 17:00. */
    ASSERT_DUE(&c, "2025-01-24T14:59:00+07:00", 0, WD, NULL, 0, "2025-01-24T17:00:00+07:00");
    /* Exactly 15:00:00 is not "after 15:00"; one second later is. */
    ASSERT_DUE(&c, "2025-01-24T15:00:00+07:00", 0, WD, NULL, 0, "2025-01-24T17:00:00+07:00");
    ASSERT_DUE(&c, "2025-01-24T15:00:01+07:00", 0, WD, NULL, 0, "2025-02-03T17:00:00+07:00");

    /* Received during Tết, Tue 28 Jan 09:00: clock starts Mon 3 Feb 07:00;
       + 1 WD = 07:00-11:30 (4.5 h) + 13:30-17:00 (3.5 h) -> ends exactly at 17:00. */
    ASSERT_DUE(&c, "2025-01-28T09:00:00+07:00", 1, WD, NULL, 0, "2025-02-03T17:00:00+07:00");

    /* Fri 24 Jan 16:00 + 2 working hours: Fri 16:00-17:00 = 1 h; Mon 3 Feb 07:00 + 1 h. */
    ASSERT_DUE(&c, "2025-01-24T16:00:00+07:00", 2, WH, NULL, 0, "2025-02-03T08:00:00+07:00");

    /* Wed 22 Jan 09:00 + 10 calendar days = Sat 1 Feb 09:00 (off), Sun 2 Feb (off)
       -> Mon 3 Feb 09:00. */
    ASSERT_DUE(&c, "2025-01-22T09:00:00+07:00", 10, CD, NULL, 0, "2025-02-03T09:00:00+07:00");
    /* Wed 22 Jan 09:00 + 5 calendar days = Mon 27 Jan (Tết) -> ... -> Mon 3 Feb 09:00. */
    ASSERT_DUE(&c, "2025-01-22T09:00:00+07:00", 5, CD, NULL, 0, "2025-02-03T09:00:00+07:00");
}

static void test_due_swapped_weekend(void **state)
{
    (void)state;
    mc_calendar c = vn_cal();

    /* Tue 29 Apr 10:00 + 2 WD (16 h):
       Tue 10:00-11:30 = 1.5 h + 13:30-17:00 = 3.5 h -> 5 h used, 11 h left;
       Wed 30 Apr, Thu 1 May holidays, Fri 2 May swapped off, Sat 3 / Sun 4 weekend;
       Mon 5 May = 8 h -> 3 h left; Tue 6 May 07:00 + 3 h = 10:00.
       (Mon 5 May 10:00 is the due time for ONE working day: 5 h + 3 h = 8 h, below.) */
    ASSERT_DUE(&c, "2025-04-29T10:00:00+07:00", 2, WD, NULL, 0, "2025-05-06T10:00:00+07:00");
    ASSERT_DUE(&c, "2025-04-29T10:00:00+07:00", 1, WD, NULL, 0, "2025-05-05T10:00:00+07:00");

    /* Fri 25 Apr 10:00 + 1 WD: Fri 5 h, 3 h left; Sat 26 Apr is worked: 07:00 + 3 h. */
    ASSERT_DUE(&c, "2025-04-25T10:00:00+07:00", 1, WD, NULL, 0, "2025-04-26T10:00:00+07:00");
    /* Received on the worked Saturday 09:00 + 1 WD: Sat 09:00-11:30 2.5 h + 3.5 h = 6 h,
       2 h left; Sun off; Mon 28 Apr 07:00 + 2 h = 09:00. */
    ASSERT_DUE(&c, "2025-04-26T09:00:00+07:00", 1, WD, NULL, 0, "2025-04-28T09:00:00+07:00");
    /* Same day, Fri 25 Apr 16:00 (after cutoff) -> next working day = Sat 26 Apr 17:00. */
    ASSERT_DUE(&c, "2025-04-25T16:00:00+07:00", 0, WD, NULL, 0, "2025-04-26T17:00:00+07:00");
    /* Mon 21 Apr 10:00 + 5 calendar days = Sat 26 Apr 10:00, a working day: stays. */
    ASSERT_DUE(&c, "2025-04-21T10:00:00+07:00", 5, CD, NULL, 0, "2025-04-26T10:00:00+07:00");
    /* Fri 25 Apr 10:00 + 5 calendar days = Wed 30 Apr (holiday); Thu 1 May holiday;
       Fri 2 May swapped off; Sat 3, Sun 4 weekend -> Mon 5 May 10:00. */
    ASSERT_DUE(&c, "2025-04-25T10:00:00+07:00", 5, CD, NULL, 0, "2025-05-05T10:00:00+07:00");
}

static void test_due_year_end(void **state)
{
    (void)state;
    mc_calendar c = vn_cal();
    /* Wed 31 Dec 2025 14:00 + 2 WD (16 h):
       Wed 14:00-17:00 = 3 h -> 13 h left; Thu 1 Jan 2026 holiday;
       Fri 2 Jan = 8 h -> 5 h left; Sat 3, Sun 4 weekend;
       Mon 5 Jan 07:00-11:30 = 4.5 h -> 0.5 h left; 13:30 + 0.5 h = 14:00. */
    ASSERT_DUE(&c, "2025-12-31T14:00:00+07:00", 2, WD, NULL, 0, "2026-01-05T14:00:00+07:00");
    /* + 1 WD: Wed 3 h, 5 h left; Fri 2 Jan 07:00-11:30 4.5 h, 0.5 h left -> 14:00. */
    ASSERT_DUE(&c, "2025-12-31T14:00:00+07:00", 1, WD, NULL, 0, "2026-01-02T14:00:00+07:00");
    /* Same day received Wed 31 Dec 16:00 (after cutoff) -> Fri 2 Jan 17:00. */
    ASSERT_DUE(&c, "2025-12-31T16:00:00+07:00", 0, WD, NULL, 0, "2026-01-02T17:00:00+07:00");
    /* Mon 22 Dec 2025 10:00 + 10 calendar days = Thu 1 Jan 2026 (holiday) -> Fri 2 Jan. */
    ASSERT_DUE(&c, "2025-12-22T10:00:00+07:00", 10, CD, NULL, 0, "2026-01-02T10:00:00+07:00");
}

static void test_due_outside_hours(void **state)
{
    (void)state;
    mc_calendar c = vn_cal();
    /* Received Sat 15 Mar 09:00: clock starts Mon 17 Mar 07:00; + 8 h
       = 4.5 h (to 11:30) + 3.5 h (13:30-17:00): ends exactly at a session end -> 17:00. */
    ASSERT_DUE(&c, "2025-03-15T09:00:00+07:00", 1, WD, NULL, 0, "2025-03-17T17:00:00+07:00");
    /* Received Mon 10 Mar 12:00 (lunch): clock 13:30; Mon 13:30-17:00 = 3.5 h, 4.5 h left;
       Tue 07:00 + 4.5 h = 11:30, the end of the morning session (not 13:30). */
    ASSERT_DUE(&c, "2025-03-10T12:00:00+07:00", 1, WD, NULL, 0, "2025-03-11T11:30:00+07:00");
    /* Received Mon 06:00: clock 07:00; + 8 h -> Mon 17:00. */
    ASSERT_DUE(&c, "2025-03-10T06:00:00+07:00", 1, WD, NULL, 0, "2025-03-10T17:00:00+07:00");
    /* Received Mon 17:30: clock Tue 07:00; + 8 h -> Tue 17:00. */
    ASSERT_DUE(&c, "2025-03-10T17:30:00+07:00", 1, WD, NULL, 0, "2025-03-11T17:00:00+07:00");

    /* The brief's three reference examples:
       Mon 07:00 + 1 WD -> Mon 17:00; Mon 09:00 + 1 WD: Mon 2.5 h + 3.5 h = 6 h, Tue
       07:00 + 2 h = 09:00; Fri 16:00 + 1 WD: Fri 1 h, Mon 07:00-11:30 4.5 h, 13:30 + 2.5 h
       = 16:00. */
    ASSERT_DUE(&c, "2025-03-10T07:00:00+07:00", 1, WD, NULL, 0, "2025-03-10T17:00:00+07:00");
    ASSERT_DUE(&c, "2025-03-10T09:00:00+07:00", 1, WD, NULL, 0, "2025-03-11T09:00:00+07:00");
    ASSERT_DUE(&c, "2025-03-14T16:00:00+07:00", 1, WD, NULL, 0, "2025-03-17T16:00:00+07:00");

    /* Same day: the clock start decides. Saturday -> Mon 07:00 -> Mon 17:00; lunch 12:00 ->
       13:30 (before 15:00) -> that day 17:00; 06:00 -> 07:00 -> that day 17:00;
       17:30 -> Tue 07:00 -> Tue 17:00; Sunday evening -> Mon 17:00. */
    ASSERT_DUE(&c, "2025-03-15T09:00:00+07:00", 0, WD, NULL, 0, "2025-03-17T17:00:00+07:00");
    ASSERT_DUE(&c, "2025-03-10T12:00:00+07:00", 0, WD, NULL, 0, "2025-03-10T17:00:00+07:00");
    ASSERT_DUE(&c, "2025-03-10T06:00:00+07:00", 0, WD, NULL, 0, "2025-03-10T17:00:00+07:00");
    ASSERT_DUE(&c, "2025-03-10T17:30:00+07:00", 0, WD, NULL, 0, "2025-03-11T17:00:00+07:00");
    ASSERT_DUE(&c, "2025-03-16T20:00:00+07:00", 0, WD, NULL, 0, "2025-03-17T17:00:00+07:00");
    /* Same day received Fri 14 Mar 15:30 -> next working day Mon 17 Mar 17:00. */
    ASSERT_DUE(&c, "2025-03-14T15:30:00+07:00", 0, WD, NULL, 0, "2025-03-17T17:00:00+07:00");

    /* Input given in UTC: 2025-03-10T02:00:00Z = Mon 09:00 local -> Tue 09:00 local. */
    ASSERT_DUE(&c, "2025-03-10T02:00:00Z", 1, WD, NULL, 0, "2025-03-11T09:00:00+07:00");
}

static void test_due_working_hours(void **state)
{
    (void)state;
    mc_calendar c = vn_cal();
    /* Mon 10:00 + 4 h: 10:00-11:30 = 1.5 h, 2.5 h left; 13:30 + 2.5 h = 16:00. */
    ASSERT_DUE(&c, "2025-03-10T10:00:00+07:00", 4, WH, NULL, 0, "2025-03-10T16:00:00+07:00");
    /* Fri 16:00 + 8 h: Fri 1 h; Mon 07:00-11:30 4.5 h; 13:30 + 2.5 h = 16:00. */
    ASSERT_DUE(&c, "2025-03-14T16:00:00+07:00", 8, WH, NULL, 0, "2025-03-17T16:00:00+07:00");
    /* Mon 07:00 + 4.5 h ends exactly at the morning session's end: 11:30. */
    ASSERT_DUE(&c, "2025-03-10T07:00:00+07:00", 4.5, WH, NULL, 0, "2025-03-10T11:30:00+07:00");
    /* Mon 11:00 + 1.5 h: 0.5 h to 11:30, 1 h from 13:30 -> 14:30. */
    ASSERT_DUE(&c, "2025-03-10T11:00:00+07:00", 1.5, WH, NULL, 0, "2025-03-10T14:30:00+07:00");
    /* Mon 11:20 + 0.25 h (15 min): 10 min to 11:30, 5 min from 13:30 -> 13:35. */
    ASSERT_DUE(&c, "2025-03-10T11:20:00+07:00", 0.25, WH, NULL, 0, "2025-03-10T13:35:00+07:00");
    /* 0 working hours: due at the clock start (12:00 -> 13:30). */
    ASSERT_DUE(&c, "2025-03-10T12:00:00+07:00", 0, WH, NULL, 0, "2025-03-10T13:30:00+07:00");
    /* 40 h = 5 WD from Mon 07:00 = Mon..Fri -> Fri 14 Mar 17:00. */
    ASSERT_DUE(&c, "2025-03-10T07:00:00+07:00", 40, WH, NULL, 0, "2025-03-14T17:00:00+07:00");

    /* An agency open only 08:00-12:00 (4 h a day): a working day is 4 h, a working hour
       is still 1 h. Mon 08:00 + 8 h = Mon 4 h + Tue 4 h -> Tue 12:00;
       Mon 10:00 + 1 WD (4 h) = Mon 2 h + Tue 08:00 + 2 h -> Tue 10:00. */
    mc_calendar mornings = c;
    mornings.sessions[0].start_min = 480;
    mornings.sessions[0].end_min = 720;
    mornings.n_sessions = 1;
    assert_int_equal(mc_calendar_day_seconds(&mornings), 14400);
    ASSERT_DUE(&mornings, "2025-03-10T08:00:00+07:00", 8, WH, NULL, 0, "2025-03-11T12:00:00+07:00");
    ASSERT_DUE(&mornings, "2025-03-10T10:00:00+07:00", 1, WD, NULL, 0, "2025-03-11T10:00:00+07:00");
}

static void test_due_calendar_days(void **state)
{
    (void)state;
    mc_calendar c = vn_cal();
    /* Mon 10 Mar 09:00 + 3 days = Thu 13 Mar 09:00 (working day). */
    ASSERT_DUE(&c, "2025-03-10T09:00:00+07:00", 3, CD, NULL, 0, "2025-03-13T09:00:00+07:00");
    /* + 5 days = Sat 15 Mar -> next working day Mon 17 Mar, same time 09:00. */
    ASSERT_DUE(&c, "2025-03-10T09:00:00+07:00", 5, CD, NULL, 0, "2025-03-17T09:00:00+07:00");
    /* + 6 days = Sun 16 Mar -> Mon 17 Mar 09:00. */
    ASSERT_DUE(&c, "2025-03-10T09:00:00+07:00", 6, CD, NULL, 0, "2025-03-17T09:00:00+07:00");
    /* + 7 days = Mon 17 Mar 09:00. */
    ASSERT_DUE(&c, "2025-03-10T09:00:00+07:00", 7, CD, NULL, 0, "2025-03-17T09:00:00+07:00");
    /* Received Sat 15 Mar 09:00: clock Mon 17 Mar 07:00 + 3 days = Thu 20 Mar 07:00. */
    ASSERT_DUE(&c, "2025-03-15T09:00:00+07:00", 3, CD, NULL, 0, "2025-03-20T07:00:00+07:00");
    /* 0 calendar days: the clock start itself (12:00 -> 13:30). */
    ASSERT_DUE(&c, "2025-03-10T12:00:00+07:00", 0, CD, NULL, 0, "2025-03-10T13:30:00+07:00");
    /* Mon 24 Mar 2025 10:00 + 14 days = Mon 7 Apr (Hùng Kings day) -> Tue 8 Apr 10:00. */
    ASSERT_DUE(&c, "2025-03-24T10:00:00+07:00", 14, CD, NULL, 0, "2025-04-08T10:00:00+07:00");
    /* Calendar days must be integral. */
    ASSERT_DUE_FAILS(&c, T("2025-03-10T09:00:00+07:00"), 1.5, CD, NULL, 0);
}

static void test_due_fractional(void **state)
{
    (void)state;
    mc_calendar c = vn_cal();
    /* 0.5 WD = 4 h. Mon 07:00 + 4 h = 11:00. */
    ASSERT_DUE(&c, "2025-03-10T07:00:00+07:00", 0.5, WD, NULL, 0, "2025-03-10T11:00:00+07:00");
    /* Mon 10:00 + 4 h: 1.5 h to 11:30, 13:30 + 2.5 h = 16:00. */
    ASSERT_DUE(&c, "2025-03-10T10:00:00+07:00", 0.5, WD, NULL, 0, "2025-03-10T16:00:00+07:00");
    /* Fri 15:00 + 4 h: Fri 2 h; Mon 07:00 + 2 h = 09:00. */
    ASSERT_DUE(&c, "2025-03-14T15:00:00+07:00", 0.5, WD, NULL, 0, "2025-03-17T09:00:00+07:00");
    /* 1.25 WD = 10 h from Mon 07:00: Mon 8 h; Tue 07:00 + 2 h = 09:00. */
    ASSERT_DUE(&c, "2025-03-10T07:00:00+07:00", 1.25, WD, NULL, 0, "2025-03-11T09:00:00+07:00");
    /* 0.1 WD = 0.1 x 28800 = 2880 s = 48 min (the double product 2880.0000000000005 is
       rounded to the nearest second) -> 07:48:00. */
    ASSERT_DUE(&c, "2025-03-10T07:00:00+07:00", 0.1, WD, NULL, 0, "2025-03-10T07:48:00+07:00");
    /* 1/3 WD = 9600 s = 2 h 40 min -> 09:40:00. */
    ASSERT_DUE(&c, "2025-03-10T07:00:00+07:00", 1.0 / 3.0, WD, NULL, 0,
               "2025-03-10T09:40:00+07:00");
    /* 0.0001 WD = 2.88 s -> 3 s -> 07:00:03 (not "same day"). */
    ASSERT_DUE(&c, "2025-03-10T07:00:00+07:00", 0.0001, WD, NULL, 0, "2025-03-10T07:00:03+07:00");
    /* 0.5 WD on the eve of Tết: Fri 24 Jan 2025 15:00: Fri 2 h; Mon 3 Feb 07:00 + 2 h. */
    ASSERT_DUE(&c, "2025-01-24T15:00:00+07:00", 0.5, WD, NULL, 0, "2025-02-03T09:00:00+07:00");
}

static void test_due_pauses_working(void **state)
{
    (void)state;
    mc_calendar c = vn_cal();

    /* Baseline Mon 10 Mar 09:00 + 3 WD (24 h): Mon 6 h (18 left), Tue 8 (10), Wed 8 (2),
       Thu 07:00 + 2 h = Thu 13 Mar 09:00. */
    ASSERT_DUE(&c, "2025-03-10T09:00:00+07:00", 3, WD, NULL, 0, "2025-03-13T09:00:00+07:00");

    /* A 2-day pause Tue 11 00:00 .. Thu 13 00:00 (Tue and Wed do not count):
       Mon 6 h (18 left), Thu 8 (10), Fri 8 (2), weekend, Mon 17 Mar 07:00 + 2 h = 09:00. */
    mc_pause two_days[] = {P("2025-03-11T00:00:00+07:00", "2025-03-13T00:00:00+07:00")};
    ASSERT_DUE(&c, "2025-03-10T09:00:00+07:00", 3, WD, two_days, 1, "2025-03-17T09:00:00+07:00");

    /* The same two days as overlapping, nested, duplicated and unordered pauses: overlap
       counts once, so the result is identical. */
    mc_pause overlapping[] = {
        P("2025-03-11T12:00:00+07:00", "2025-03-13T00:00:00+07:00"),
        P("2025-03-11T00:00:00+07:00", "2025-03-12T12:00:00+07:00"),
        P("2025-03-11T08:00:00+07:00", "2025-03-11T09:00:00+07:00"), /* nested */
        P("2025-03-11T00:00:00+07:00", "2025-03-12T12:00:00+07:00"), /* duplicate */
    };
    ASSERT_DUE(&c, "2025-03-10T09:00:00+07:00", 3, WD, overlapping, N_ELEMS(overlapping),
               "2025-03-17T09:00:00+07:00");
    /* Adjacent pauses Tue and Wed chain into one. */
    mc_pause adjacent[] = {
        P("2025-03-12T00:00:00+07:00", "2025-03-13T00:00:00+07:00"),
        P("2025-03-11T00:00:00+07:00", "2025-03-12T00:00:00+07:00"),
    };
    ASSERT_DUE(&c, "2025-03-10T09:00:00+07:00", 3, WD, adjacent, 2, "2025-03-17T09:00:00+07:00");

    /* Pauses that do not matter: entirely before receipt, after the due time, starting
       exactly at the due time, and empty (from == to). */
    mc_pause irrelevant[] = {
        P("2025-03-07T09:00:00+07:00", "2025-03-07T12:00:00+07:00"),
        P("2025-03-14T09:00:00+07:00", "2025-03-14T12:00:00+07:00"),
        P("2025-03-13T09:00:00+07:00", "2025-03-13T10:00:00+07:00"),
        P("2025-03-11T09:00:00+07:00", "2025-03-11T09:00:00+07:00"),
    };
    ASSERT_DUE(&c, "2025-03-10T09:00:00+07:00", 3, WD, irrelevant, N_ELEMS(irrelevant),
               "2025-03-13T09:00:00+07:00");

    /* A pause inside a day: Mon 07:00 + 1 WD, paused Mon 10:00-14:00.
       Counted Mon: 07:00-10:00 = 3 h, 14:00-17:00 = 3 h -> 6 h, 2 h left;
       Tue 07:00 + 2 h = 09:00. */
    mc_pause midday[] = {P("2025-03-10T10:00:00+07:00", "2025-03-10T14:00:00+07:00")};
    ASSERT_DUE(&c, "2025-03-10T07:00:00+07:00", 1, WD, midday, 1, "2025-03-11T09:00:00+07:00");

    /* A pause covering the clock start: received Mon 09:00, paused 08:00-10:00, + 1 WD:
       Mon 10:00-11:30 1.5 h + 3.5 h = 5 h, 3 h left; Tue 07:00 + 3 h = 10:00. */
    mc_pause over_start[] = {P("2025-03-10T08:00:00+07:00", "2025-03-10T10:00:00+07:00")};
    ASSERT_DUE(&c, "2025-03-10T09:00:00+07:00", 1, WD, over_start, 1, "2025-03-11T10:00:00+07:00");

    /* Only paused WORKING time matters: pause Fri 14 00:00 .. Mon 17 00:00 (3 calendar
       days, 1 working day). Mon 10 09:00 + 4 WD (32 h): Mon 6 (26 left), Tue 8 (18),
       Wed 8 (10), Thu 8 (2), Fri paused, Mon 17 Mar 07:00 + 2 h = 09:00.
       (Without the pause: Fri 14 Mar 09:00.) */
    mc_pause friday[] = {P("2025-03-14T00:00:00+07:00", "2025-03-17T00:00:00+07:00")};
    ASSERT_DUE(&c, "2025-03-10T09:00:00+07:00", 4, WD, NULL, 0, "2025-03-14T09:00:00+07:00");
    ASSERT_DUE(&c, "2025-03-10T09:00:00+07:00", 4, WD, friday, 1, "2025-03-17T09:00:00+07:00");

    /* Working hours: Mon 10:00 + 4 h, paused 13:30-14:30: 1.5 h morning (2.5 left),
       14:30 + 2.5 h = 17:00, exactly the closing time. */
    mc_pause hour[] = {P("2025-03-10T13:30:00+07:00", "2025-03-10T14:30:00+07:00")};
    ASSERT_DUE(&c, "2025-03-10T10:00:00+07:00", 4, WH, hour, 1, "2025-03-10T17:00:00+07:00");

    /* Same day with a pause: received Mon 08:00 -> closing Mon 17:00 = 3.5 h + 3.5 h = 7 h
       of working time. Paused 10:00-14:00: 08:00-10:00 2 h (5 left), 14:00-17:00 3 h
       (2 left), Tue 07:00 + 2 h = 09:00. A pause after closing changes nothing. */
    ASSERT_DUE(&c, "2025-03-10T08:00:00+07:00", 0, WD, midday, 1, "2025-03-11T09:00:00+07:00");
    mc_pause evening[] = {P("2025-03-10T18:00:00+07:00", "2025-03-10T20:00:00+07:00")};
    ASSERT_DUE(&c, "2025-03-10T08:00:00+07:00", 0, WD, evening, 1, "2025-03-10T17:00:00+07:00");

    /* Tết-length pause over working days: received Mon 10 Mar 09:00 + 1 WD, paused
       Mon 10:00 .. Fri 14 10:00. Mon 09:00-10:00 = 1 h (7 left); Fri 10:00-11:30 1.5 h +
       3.5 h = 5 h (2 left); Mon 17 Mar 07:00 + 2 h = 09:00. */
    mc_pause week[] = {P("2025-03-10T10:00:00+07:00", "2025-03-14T10:00:00+07:00")};
    ASSERT_DUE(&c, "2025-03-10T09:00:00+07:00", 1, WD, week, 1, "2025-03-17T09:00:00+07:00");

    /* A pause that never ends: no due time within 100 years. */
    mc_pause open[] = {{T("2025-03-10T10:00:00+07:00"), INT64_MAX}};
    ASSERT_DUE_FAILS(&c, T("2025-03-10T09:00:00+07:00"), 1, WD, open, 1);
}

static void test_due_pauses_calendar_days(void **state)
{
    (void)state;
    mc_calendar c = vn_cal();
    /* Baseline: Mon 10 Mar 09:00 + 3 days = Thu 13 Mar 09:00. */
    /* A 1-day pause Tue 09:00 .. Wed 09:00 pushes it 24 h: Fri 14 Mar 09:00. */
    mc_pause one_day[] = {P("2025-03-11T09:00:00+07:00", "2025-03-12T09:00:00+07:00")};
    ASSERT_DUE(&c, "2025-03-10T09:00:00+07:00", 3, CD, one_day, 1, "2025-03-14T09:00:00+07:00");
    /* A 6-hour pause Tue 10:00-16:00: Thu 13 Mar 09:00 + 6 h = 15:00. */
    mc_pause six_hours[] = {P("2025-03-11T10:00:00+07:00", "2025-03-11T16:00:00+07:00")};
    ASSERT_DUE(&c, "2025-03-10T09:00:00+07:00", 3, CD, six_hours, 1, "2025-03-13T15:00:00+07:00");
    /* Overlapping pauses whose union is Tue 09:00 .. Wed 09:00 (24 h, not 24 + 12 + 1). */
    mc_pause overlapping[] = {
        P("2025-03-11T21:00:00+07:00", "2025-03-12T09:00:00+07:00"),
        P("2025-03-11T09:00:00+07:00", "2025-03-12T09:00:00+07:00"),
        P("2025-03-11T12:00:00+07:00", "2025-03-11T13:00:00+07:00"),
    };
    ASSERT_DUE(&c, "2025-03-10T09:00:00+07:00", 3, CD, overlapping, 3, "2025-03-14T09:00:00+07:00");
    /* A 2-day pause Tue 00:00 .. Thu 00:00: Thu 13 + 2 days = Sat 15 Mar 09:00
       -> Mon 17 Mar 09:00. */
    mc_pause two_days[] = {P("2025-03-11T00:00:00+07:00", "2025-03-13T00:00:00+07:00")};
    ASSERT_DUE(&c, "2025-03-10T09:00:00+07:00", 3, CD, two_days, 1, "2025-03-17T09:00:00+07:00");
    /* A pause starting after the due time has been reached, or exactly at it, does not
       move it. */
    mc_pause later[] = {P("2025-03-14T10:00:00+07:00", "2025-03-14T12:00:00+07:00")};
    ASSERT_DUE(&c, "2025-03-10T09:00:00+07:00", 3, CD, later, 1, "2025-03-13T09:00:00+07:00");
    mc_pause at_due[] = {P("2025-03-13T09:00:00+07:00", "2025-03-13T12:00:00+07:00")};
    ASSERT_DUE(&c, "2025-03-10T09:00:00+07:00", 3, CD, at_due, 1, "2025-03-13T09:00:00+07:00");
}

static void test_due_invalid(void **state)
{
    (void)state;
    mc_calendar c = vn_cal();
    int64_t recv = T("2025-03-10T09:00:00+07:00");
    int64_t due = 0;

    ASSERT_DUE_FAILS(&c, recv, -1.0, WD, NULL, 0);
    ASSERT_DUE_FAILS(&c, recv, -0.5, WH, NULL, 0);
    ASSERT_DUE_FAILS(&c, recv, -1.0, CD, NULL, 0);
    ASSERT_DUE_FAILS(&c, recv, NAN, WD, NULL, 0);
    ASSERT_DUE_FAILS(&c, recv, NAN, CD, NULL, 0);
    ASSERT_DUE_FAILS(&c, recv, INFINITY, WD, NULL, 0);
    ASSERT_DUE_FAILS(&c, recv, INFINITY, CD, NULL, 0);
    ASSERT_DUE_FAILS(&c, recv, 1, (mc_time_unit)99, NULL, 0);
    ASSERT_DUE_FAILS(&c, recv, 1, (mc_time_unit)-1, NULL, 0);
    ASSERT_DUE_FAILS(&c, recv, 2.5, CD, NULL, 0);
    /* More than 100 years: 30000 WD need about 115 years; 1e12 hours; 36526 days. */
    ASSERT_DUE_FAILS(&c, recv, 30000, WD, NULL, 0);
    ASSERT_DUE_FAILS(&c, recv, 1e12, WH, NULL, 0);
    ASSERT_DUE_FAILS(&c, recv, 1e300, WD, NULL, 0);
    ASSERT_DUE_FAILS(&c, recv, 36526, CD, NULL, 0);
    /* ... while large limits inside the horizon work. */
    assert_int_equal(mc_calendar_due(&c, recv, 20000, WD, NULL, 0, &due), 0);
    assert_int_equal(mc_calendar_due(&c, recv, 36000, CD, NULL, 0, &due), 0);
    /* Received time outside the supported range. */
    ASSERT_DUE_FAILS(&c, MC_TIME_MAX + 1, 1, WD, NULL, 0);
    ASSERT_DUE_FAILS(&c, MC_TIME_MIN - 1, 1, WD, NULL, 0);
    ASSERT_DUE_FAILS(&c, INT64_MIN, 1, WD, NULL, 0);
    /* Due beyond year 9999. */
    ASSERT_DUE_FAILS(&c, T("9999-12-31T09:00:00+07:00"), 5, WD, NULL, 0);
    /* Bad pointers / pauses. */
    ASSERT_DUE_FAILS(NULL, recv, 1, WD, NULL, 0);
    assert_int_equal(mc_calendar_due(&c, recv, 1, WD, NULL, 0, NULL), -1);
    ASSERT_DUE_FAILS(&c, recv, 1, WD, NULL, 1);
    mc_pause inverted[] = {P("2025-03-11T00:00:00+07:00", "2025-03-10T00:00:00+07:00")};
    ASSERT_DUE_FAILS(&c, recv, 1, WD, inverted, 1);
    /* Invalid calendar: unsorted holidays would break the binary search, so refuse. */
    static const mc_date unsorted[] = {{2025, 5, 1}, {2025, 4, 30}};
    mc_calendar bad = c;
    bad.days_off = unsorted;
    bad.n_days_off = 2;
    ASSERT_DUE_FAILS(&bad, recv, 1, WD, NULL, 0);
    bad = c;
    bad.n_sessions = 0;
    ASSERT_DUE_FAILS(&bad, recv, 1, WD, NULL, 0);
}

static void test_working_seconds_between(void **state)
{
    (void)state;
    mc_calendar c = vn_cal();
#define BETWEEN(a, b, p, n) mc_calendar_working_seconds_between(&c, T(a), T(b), (p), (n))
    /* Mon 07:00 .. 17:00 = 4.5 h + 3.5 h = 8 h = 28800 s. */
    assert_int_equal(BETWEEN("2025-03-10T07:00:00+07:00", "2025-03-10T17:00:00+07:00", NULL, 0),
                     28800);
    /* Mon 09:00 .. Tue 09:00 = 6 h + 2 h = 8 h. */
    assert_int_equal(BETWEEN("2025-03-10T09:00:00+07:00", "2025-03-11T09:00:00+07:00", NULL, 0),
                     28800);
    /* Lunch break only: 0; 11:00 .. 14:00 = 0.5 h + 0.5 h = 3600 s. */
    assert_int_equal(BETWEEN("2025-03-10T11:30:00+07:00", "2025-03-10T13:30:00+07:00", NULL, 0), 0);
    assert_int_equal(BETWEEN("2025-03-10T11:00:00+07:00", "2025-03-10T14:00:00+07:00", NULL, 0),
                     3600);
    /* Weekend only: 0. */
    assert_int_equal(BETWEEN("2025-03-15T00:00:00+07:00", "2025-03-17T00:00:00+07:00", NULL, 0), 0);
    /* Across Tết: Fri 24 Jan 10:00 .. Mon 3 Feb 10:00 = 5 h + 3 h = 8 h. */
    assert_int_equal(BETWEEN("2025-01-24T10:00:00+07:00", "2025-02-03T10:00:00+07:00", NULL, 0),
                     28800);
    /* Thu 23 Jan 14:00 .. Tue 4 Feb 14:00 = 3 + 8 + 8 + 5 = 24 h = 86400 s. */
    assert_int_equal(BETWEEN("2025-01-23T14:00:00+07:00", "2025-02-04T14:00:00+07:00", NULL, 0),
                     86400);
    /* Tue 29 Apr 10:00 .. Tue 6 May 10:00 = 5 + 8 (Mon 5 May) + 3 = 16 h = 57600 s. */
    assert_int_equal(BETWEEN("2025-04-29T10:00:00+07:00", "2025-05-06T10:00:00+07:00", NULL, 0),
                     57600);
    /* Fri 25 Apr 07:00 .. Mon 28 Apr 07:00 = Fri 8 h + worked Sat 26 Apr 8 h = 57600 s. */
    assert_int_equal(BETWEEN("2025-04-25T07:00:00+07:00", "2025-04-28T07:00:00+07:00", NULL, 0),
                     57600);
    /* The whole of 2025: 365 days = 52 weeks + Wed 1 Jan -> 52 x 5 + 1 = 261 weekdays;
       weekday days off: 1 Jan, 27-31 Jan (5), 7 Apr, 30 Apr, 1 May, 2 May, 1 Sep, 2 Sep
       = 12 (the listed Tết weekend days 25-26 Jan, 1-2 Feb were off anyway); plus the
       worked Sat 26 Apr: 261 - 12 + 1 = 250 days x 28800 = 7200000 s. */
    assert_int_equal(BETWEEN("2025-01-01T00:00:00+07:00", "2026-01-01T00:00:00+07:00", NULL, 0),
                     7200000);

    /* Odd but valid data: a weekday listed as an extra working day (and also as a day off)
       is simply a working day, counted once; a listed Saturday adds a day.
       Mon 10 .. Mon 17 Mar = Mon-Fri 5 days + Sat 15 = 6 x 8 h = 172800 s. */
    {
        static const mc_date extra[] = {{2025, 3, 10}, {2025, 3, 15}};
        static const mc_date off[] = {{2025, 3, 10}, {2025, 3, 16}};
        mc_calendar odd;
        mc_calendar_init_default(&odd);
        odd.extra_working_days = extra;
        odd.n_extra_working_days = 2;
        odd.days_off = off;
        odd.n_days_off = 2;
        assert_int_equal(mc_calendar_working_seconds_between(&odd, T("2025-03-10T00:00:00+07:00"),
                                                             T("2025-03-17T00:00:00+07:00"), NULL,
                                                             0),
                         172800);
        /* Same count across a whole month so the arithmetic (not per-day) path is used:
           March 2025 has 21 weekdays + Sat 15 = 22 days x 8 h = 633600 s. */
        assert_int_equal(mc_calendar_working_seconds_between(&odd, T("2025-03-01T00:00:00+07:00"),
                                                             T("2025-04-01T00:00:00+07:00"), NULL,
                                                             0),
                         633600);
    }

    /* Duplicated list entries count once. Days off {30 Apr, 30 Apr, 1 May}:
       Mon 28 Apr .. Mon 5 May = Mon 28, Tue 29, Fri 2 May = 3 x 8 h = 86400 s.
       Extra days {26 Apr, 26 Apr}: Mon 21 .. Mon 28 Apr = 5 weekdays + Sat 26 = 172800 s. */
    {
        static const mc_date dup_off[] = {{2025, 4, 30}, {2025, 4, 30}, {2025, 5, 1}};
        static const mc_date dup_extra[] = {{2025, 4, 26}, {2025, 4, 26}};
        mc_calendar dup;
        mc_calendar_init_default(&dup);
        dup.days_off = dup_off;
        dup.n_days_off = 3;
        dup.extra_working_days = dup_extra;
        dup.n_extra_working_days = 2;
        assert_int_equal(mc_calendar_working_seconds_between(&dup, T("2025-04-28T00:00:00+07:00"),
                                                             T("2025-05-05T00:00:00+07:00"), NULL,
                                                             0),
                         86400);
        assert_int_equal(mc_calendar_working_seconds_between(&dup, T("2025-04-21T00:00:00+07:00"),
                                                             T("2025-04-28T00:00:00+07:00"), NULL,
                                                             0),
                         172800);
    }

    /* Pauses: Mon 07:00 .. Tue 17:00 = 16 h; paused Mon 10:00-14:00 covers 1.5 h + 0.5 h
       = 2 h of working time -> 14 h = 50400 s; overlapping copies count once. */
    mc_pause midday[] = {
        P("2025-03-10T10:00:00+07:00", "2025-03-10T14:00:00+07:00"),
        P("2025-03-10T12:00:00+07:00", "2025-03-10T13:00:00+07:00"),
        P("2025-03-10T10:00:00+07:00", "2025-03-10T11:00:00+07:00"),
        P("2025-03-10T11:00:00+07:00", "2025-03-10T14:00:00+07:00"),
    };
    assert_int_equal(BETWEEN("2025-03-10T07:00:00+07:00", "2025-03-11T17:00:00+07:00", midday, 1),
                     50400);
    assert_int_equal(BETWEEN("2025-03-10T07:00:00+07:00", "2025-03-11T17:00:00+07:00", midday, 4),
                     50400);
    /* A pause sticking out of the interval only counts its inside part: Mon 12:00 .. 17:00
       is 3.5 h of work; the pause covers 13:30-14:00 of it -> 3 h = 10800 s. */
    assert_int_equal(BETWEEN("2025-03-10T12:00:00+07:00", "2025-03-10T17:00:00+07:00", midday, 1),
                     10800);
    /* A pause covering everything: 0. Inverted pauses are ignored. */
    mc_pause all[] = {{INT64_MIN, INT64_MAX}};
    assert_int_equal(BETWEEN("2025-03-10T07:00:00+07:00", "2025-03-11T17:00:00+07:00", all, 1), 0);
    mc_pause inverted[] = {P("2025-03-11T00:00:00+07:00", "2025-03-10T00:00:00+07:00")};
    assert_int_equal(BETWEEN("2025-03-10T07:00:00+07:00", "2025-03-11T17:00:00+07:00", inverted, 1),
                     57600);

    /* Reversed order gives the negative; equal ends give 0. */
    assert_int_equal(BETWEEN("2025-03-11T09:00:00+07:00", "2025-03-10T09:00:00+07:00", NULL, 0),
                     -28800);
    assert_int_equal(BETWEEN("2025-03-10T09:00:00+07:00", "2025-03-10T09:00:00+07:00", NULL, 0), 0);
    /* Invalid input: 0. */
    assert_int_equal(BETWEEN("2025-03-10T07:00:00+07:00", "2025-03-11T17:00:00+07:00", NULL, 1), 0);
    assert_int_equal(mc_calendar_working_seconds_between(NULL, 0, 100000, NULL, 0), 0);
    /* Huge range: answered arithmetically (no per-day loop), clamped to the supported range. */
    mc_calendar plain;
    mc_calendar_init_default(&plain);
    /* 1970-01-05 (Mon) .. 1970-01-12 (Mon) local = 5 x 8 h; as whole weeks scale, 1000 weeks
       from Mon 1970-01-05 = 5000 working days = 144000000 s. */
    int64_t mon = (4 * 86400) - 7 * 3600; /* 1970-01-05T00:00:00+07:00 */
    assert_int_equal(
        mc_calendar_working_seconds_between(&plain, mon, mon + 1000 * 7 * 86400, NULL, 0),
        INT64_C(144000000));
    assert_true(mc_calendar_working_seconds_between(&plain, INT64_MIN, INT64_MAX, NULL, 0) > 0);
#undef BETWEEN
}

/* ------------------------------------------------------------------------------------ */
/* Cross-checks between independent code paths (deterministic pseudo-random cases).     */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rng(void)
{
    rng_state = rng_state * 6364136223846793005u + 1442695040888963407u;
    return rng_state >> 33;
}

static int64_t rng_range(int64_t lo, int64_t hi) /* inclusive */
{
    return lo + (int64_t)(rng() % (uint64_t)(hi - lo + 1));
}

/*
 * For random receipts (Dec 2024 .. Jan 2026, through Tết, the swapped April weekend and
 * the year end), random limits and random pauses: the working seconds from the clock start
 * to the due time equal the limit in seconds, and one second earlier is one second short
 * (the due time is the FIRST instant at which the limit is used up). This ties the
 * day-walking due computation to the arithmetic between-measure.
 */
static void test_due_between_consistency(void **state)
{
    (void)state;
    mc_calendar c = vn_cal();
    int64_t lo = T("2024-12-20T00:00:00+07:00");
    int64_t hi = T("2026-01-20T00:00:00+07:00");
    for (int i = 0; i < 3000; i++) {
        int64_t recv = rng_range(lo, hi);
        mc_time_unit unit = rng() % 2 ? WD : WH;
        double value =
            unit == WD ? (double)rng_range(1, 80) / 8.0 : (double)rng_range(1, 200) / 4.0;
        mc_pause p[3];
        size_t np = (size_t)rng_range(0, 3);
        for (size_t k = 0; k < np; k++) {
            p[k].from = recv + rng_range(-3 * 86400, 20 * 86400);
            p[k].to = p[k].from + rng_range(0, 5 * 86400);
        }
        int64_t due = 0;
        assert_int_equal(mc_calendar_due(&c, recv, value, unit, p, np, &due), 0);
        int64_t start = mc_calendar_clock_start(&c, recv);
        int64_t need = llround(value * (unit == WD ? 28800.0 : 3600.0));
        assert_true(due > start);
        assert_int_equal(mc_calendar_working_seconds_between(&c, start, due, p, np), need);
        assert_int_equal(mc_calendar_working_seconds_between(&c, start, due - 1, p, np), need - 1);
        /* Receipt to clock start is never working time. */
        assert_int_equal(mc_calendar_working_seconds_between(&c, recv, start, NULL, 0), 0);
    }
}

/* Reference implementation: count minute by minute. */
static int64_t brute_between(const mc_calendar *c, int64_t a, int64_t b, const mc_pause *p,
                             size_t np)
{
    int64_t total = 0;
    for (int64_t t = a; t < b; t += 60) {
        int64_t local = t + 7 * 3600;
        int64_t day = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
        int64_t min = (local - day * 86400) / 60;
        if (!mc_calendar_is_working_day(c, mc_date_from_days(day)))
            continue;
        bool in_session = (min >= 420 && min < 690) || (min >= 810 && min < 1020);
        bool paused = false;
        for (size_t k = 0; k < np; k++)
            if (p[k].from <= t && t < p[k].to)
                paused = true;
        if (in_session && !paused)
            total += 60;
    }
    return total;
}

static void test_between_brute_force(void **state)
{
    (void)state;
    mc_calendar c = vn_cal();
    const char *windows[] = {"2025-01-15T00:00:00+07:00", "2025-04-20T00:00:00+07:00",
                             "2025-12-24T00:00:00+07:00"};
    for (int i = 0; i < 240; i++) {
        int64_t base = T(windows[i % 3]);
        int64_t a = base + 60 * rng_range(0, 14 * 1440);
        int64_t b = a + 60 * rng_range(0, 10 * 1440);
        mc_pause p[3];
        size_t np = (size_t)rng_range(0, 3);
        for (size_t k = 0; k < np; k++) {
            p[k].from = a + 60 * rng_range(-1440, 10 * 1440);
            p[k].to = p[k].from + 60 * rng_range(0, 3 * 1440);
        }
        assert_int_equal(mc_calendar_working_seconds_between(&c, a, b, p, np),
                         brute_between(&c, a, b, p, np));
    }
}

/* ------------------------------------------------------------------------------------ */

static void test_time_unit(void **state)
{
    (void)state;
    mc_time_unit u = MC_UNIT_CALENDAR_DAYS;
    assert_int_equal(mc_time_unit_parse("working_days", &u), 0);
    assert_int_equal(u, MC_UNIT_WORKING_DAYS);
    assert_int_equal(mc_time_unit_parse("calendar_days", &u), 0);
    assert_int_equal(u, MC_UNIT_CALENDAR_DAYS);
    assert_int_equal(mc_time_unit_parse("working_hours", &u), 0);
    assert_int_equal(u, MC_UNIT_WORKING_HOURS);
    u = MC_UNIT_WORKING_HOURS;
    assert_int_equal(mc_time_unit_parse("Working_Days", &u), -1);
    assert_int_equal(mc_time_unit_parse("working_days ", &u), -1);
    assert_int_equal(mc_time_unit_parse("days", &u), -1);
    assert_int_equal(mc_time_unit_parse("", &u), -1);
    assert_int_equal(mc_time_unit_parse(NULL, &u), -1);
    assert_int_equal(mc_time_unit_parse("working_days", NULL), -1);
    assert_int_equal(u, MC_UNIT_WORKING_HOURS); /* untouched */

    assert_string_equal(mc_time_unit_name(MC_UNIT_WORKING_DAYS), "working_days");
    assert_string_equal(mc_time_unit_name(MC_UNIT_CALENDAR_DAYS), "calendar_days");
    assert_string_equal(mc_time_unit_name(MC_UNIT_WORKING_HOURS), "working_hours");
    assert_null(mc_time_unit_name((mc_time_unit)42));
    /* Round trip. */
    mc_time_unit all[] = {MC_UNIT_WORKING_DAYS, MC_UNIT_CALENDAR_DAYS, MC_UNIT_WORKING_HOURS};
    for (size_t i = 0; i < N_ELEMS(all); i++) {
        assert_int_equal(mc_time_unit_parse(mc_time_unit_name(all[i]), &u), 0);
        assert_int_equal(u, all[i]);
    }
}

static void test_rfc3339_parse(void **state)
{
    (void)state;
    /* 2025-01-24T09:00:00+07:00 = 02:00Z = 20112 x 86400 + 2 x 3600 = 1737684000. */
    const int64_t t0 = INT64_C(1737684000);
    const char *same[] = {
        "2025-01-24T09:00:00+07:00",
        "2025-01-24T02:00:00Z",
        "2025-01-24t02:00:00z",
        "2025-01-23T21:00:00-05:00",
        "2025-01-24T07:30:00+05:30",
        "2025-01-24T02:00:00+00:00",
        "2025-01-24T02:00:00-00:00",
        "2025-01-24T02:00:00.5Z",
        "2025-01-24T09:00:00.999999999+07:00",
        "2025-01-24T02:00:00.000Z",
    };
    for (size_t i = 0; i < N_ELEMS(same); i++) {
        int64_t t = 0;
        assert_int_equal(mc_rfc3339_parse(same[i], &t), 0);
        assert_int_equal(t, t0);
    }
    int64_t t = 0;
    assert_int_equal(mc_rfc3339_parse("1970-01-01T00:00:00Z", &t), 0);
    assert_int_equal(t, 0);
    assert_int_equal(mc_rfc3339_parse("1970-01-01T07:00:00+07:00", &t), 0);
    assert_int_equal(t, 0);
    /* Fractions round toward the earlier second, also before 1970. */
    assert_int_equal(mc_rfc3339_parse("1969-12-31T23:59:59.999Z", &t), 0);
    assert_int_equal(t, -1);
    assert_int_equal(mc_rfc3339_parse("2024-02-29T12:00:00Z", &t), 0);
    assert_int_equal(t, INT64_C(1709208000));
    assert_int_equal(mc_rfc3339_parse("0001-01-01T00:00:00Z", &t), 0);
    assert_true(t == MC_TIME_MIN);
    assert_int_equal(mc_rfc3339_parse("9999-12-31T23:59:59Z", &t), 0);
    assert_true(t == MC_TIME_MAX);
    /* The offset is applied even when it crosses a date boundary: 2025-03-11T06:30+07:00
       is 2025-03-10T23:30Z. */
    assert_int_equal(mc_rfc3339_parse("2025-03-11T06:30:00+07:00", &t), 0);
    int64_t t2 = 0;
    assert_int_equal(mc_rfc3339_parse("2025-03-10T23:30:00Z", &t2), 0);
    assert_true(t == t2);

    const char *bad[] = {
        "",
        "2025-01-24",
        "2025-01-24T09:00:00",       /* no offset */
        "2025-01-24 09:00:00+07:00", /* space instead of T */
        "2025-01-24T09:00:00+0700",  /* offset without colon */
        "2025-01-24T09:00:00+07",    /* short offset */
        "2025-01-24T09:00+07:00",    /* no seconds */
        "2025-01-24T24:00:00Z",      /* hour 24 */
        "2025-01-24T09:60:00Z",
        "2025-01-24T09:00:60Z", /* leap second */
        "2025-02-29T09:00:00Z", /* not a leap year */
        "2025-13-01T09:00:00Z",
        "2025-01-24T09:00:00.Z", /* empty fraction */
        "2025-01-24T09:00:00,5Z",
        "2025-01-24T09:00:00Zx", /* trailing text */
        "2025-01-24T09:00:00+07:00 ",
        "2025-01-24T09:00:00+24:00",
        "2025-01-24T09:00:00+07:60",
        "2025-1-24T09:00:00Z",
        "20250124T090000Z",
        "+2025-01-24T09:00:00Z",
        "2025-01-24T9:00:00Z",
        "2025-01-24T09:00:00UTC",
    };
    for (size_t i = 0; i < N_ELEMS(bad); i++) {
        t = 777;
        if (mc_rfc3339_parse(bad[i], &t) != -1)
            fail_msg("accepted invalid \"%s\"", bad[i]);
        assert_int_equal(t, 777); /* untouched */
    }
    assert_int_equal(mc_rfc3339_parse(NULL, &t), -1);
    assert_int_equal(mc_rfc3339_parse("2025-01-24T02:00:00Z", NULL), -1);
}

static void test_rfc3339_format(void **state)
{
    (void)state;
    char buf[32];
    const int64_t t0 = INT64_C(1737684000); /* 2025-01-24T02:00:00Z */
    mc_rfc3339_format(t0, 420, buf);
    assert_string_equal(buf, "2025-01-24T09:00:00+07:00");
    mc_rfc3339_format(t0, 0, buf);
    assert_string_equal(buf, "2025-01-24T02:00:00Z");
    mc_rfc3339_format(t0, -300, buf);
    assert_string_equal(buf, "2025-01-23T21:00:00-05:00");
    mc_rfc3339_format(t0, 330, buf);
    assert_string_equal(buf, "2025-01-24T07:30:00+05:30");
    mc_rfc3339_format(-1, 0, buf);
    assert_string_equal(buf, "1969-12-31T23:59:59Z");
    mc_rfc3339_format(0, 420, buf);
    assert_string_equal(buf, "1970-01-01T07:00:00+07:00");
    mc_rfc3339_format(MC_TIME_MAX, 0, buf);
    assert_string_equal(buf, "9999-12-31T23:59:59Z");
    mc_rfc3339_format(MC_TIME_MIN, 0, buf);
    assert_string_equal(buf, "0001-01-01T00:00:00Z");
    /* Out-of-range inputs are clamped, never overflow the buffer. */
    mc_rfc3339_format(INT64_MAX, 420, buf);
    assert_string_equal(buf, "9999-12-31T23:59:59+07:00");
    mc_rfc3339_format(INT64_MIN, -1439, buf);
    assert_string_equal(buf, "0001-01-01T00:00:00-23:59");
    mc_rfc3339_format(t0, 100000, buf);
    assert_string_equal(buf, "2025-01-25T01:59:00+23:59");
    /* A UTC evening is already the next local day in +07:00. */
    mc_rfc3339_format(INT64_C(1741649400), 420, buf); /* 2025-03-10T23:30:00Z */
    assert_string_equal(buf, "2025-03-11T06:30:00+07:00");

    /* Round trips over the whole range and several offsets. */
    const int offsets[] = {420, 0, -300, 330, 345, -1439, 1439};
    for (int64_t t = MC_TIME_MIN + 2 * 86400; t < MC_TIME_MAX - 2 * 86400;
         t += INT64_C(987654321)) {
        for (size_t i = 0; i < N_ELEMS(offsets); i++) {
            int64_t back = 0;
            mc_rfc3339_format(t, offsets[i], buf);
            assert_int_equal(mc_rfc3339_parse(buf, &back), 0);
            assert_true(back == t);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_default),
        cmocka_unit_test(test_calendar_is_valid),
        cmocka_unit_test(test_date_parse),
        cmocka_unit_test(test_date_format),
        cmocka_unit_test(test_date_days_and_weekday),
        cmocka_unit_test(test_is_working_day),
        cmocka_unit_test(test_clock_start),
        cmocka_unit_test(test_due_tet_2025),
        cmocka_unit_test(test_due_swapped_weekend),
        cmocka_unit_test(test_due_year_end),
        cmocka_unit_test(test_due_outside_hours),
        cmocka_unit_test(test_due_working_hours),
        cmocka_unit_test(test_due_calendar_days),
        cmocka_unit_test(test_due_fractional),
        cmocka_unit_test(test_due_pauses_working),
        cmocka_unit_test(test_due_pauses_calendar_days),
        cmocka_unit_test(test_due_invalid),
        cmocka_unit_test(test_working_seconds_between),
        cmocka_unit_test(test_due_between_consistency),
        cmocka_unit_test(test_between_brute_force),
        cmocka_unit_test(test_time_unit),
        cmocka_unit_test(test_rfc3339_parse),
        cmocka_unit_test(test_rfc3339_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
