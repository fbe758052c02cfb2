/* The statistics service's pure rules: events into facts and counters
   (fact_rules.c), periods, the 06a columns, the agency tree, CSV
   (report_rules.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fact_rules.h"
#include "indicator_rules.h"
#include "motcua/calendar.h"
#include "report_rules.h"

/* ---- A little world: the counters every delta ever written adds up to ---- */

#define LEDGER_MAX 512
static struct stat_delta ledger[LEDGER_MAX];
static size_t ledger_n;

static int64_t day(const char *ymd)
{
    mc_date d;
    assert_true(mc_date_parse(ymd, &d));
    return mc_date_to_days(d);
}

static void record(const struct stat_deltas *out)
{
    for (size_t i = 0; i < out->n; i++) {
        assert_true(ledger_n < LEDGER_MAX);
        ledger[ledger_n++] = out->items[i];
    }
}

/* The sum of an agency's measure over days in [first, last]. */
static long long sum(const char *agency, enum stat_measure m, int64_t first, int64_t last)
{
    long long total = 0;
    for (size_t i = 0; i < ledger_n; i++)
        if (ledger[i].measure == m && strcmp(ledger[i].agency, agency) == 0 &&
            ledger[i].day >= first && ledger[i].day <= last)
            total += ledger[i].value;
    return total;
}

static long long stock(const char *agency, enum stat_measure m, int64_t at)
{
    return sum(agency, m, INT64_MIN + 1, at);
}

static int64_t earliest_change(void)
{
    int64_t e = INT64_MAX;
    for (size_t i = 0; i < ledger_n; i++)
        if (ledger[i].day < e)
            e = ledger[i].day;
    return e;
}

static struct stat_event ev(const char *agency, int from, int to, const char *on, const char *due)
{
    struct stat_event e = {0};
    static long long seq;
    e.sequence = ++seq;
    snprintf(e.type, sizeof e.type, "dossier.dossier.x");
    snprintf(e.dossier_id, sizeof e.dossier_id, "5b8f7e2c-3a41-4d7e-9c2a-6f1e0d3b7a55");
    snprintf(e.agency, sizeof e.agency, "%s", agency);
    snprintf(e.procedure, sizeof e.procedure, "2.000488");
    snprintf(e.sector, sizeof e.sector, "tu-phap");
    snprintf(e.channel, sizeof e.channel, "online");
    e.from_status = from;
    e.to_status = to;
    e.day = day(on);
    e.due_day = due != NULL ? day(due) : STAT_NO_DAY;
    e.evaluation_total = -1;
    return e;
}

/* Apply e and check that no change is dated before the event's day. */
static void apply(struct stat_fact *f, struct stat_event e)
{
    struct stat_deltas out = {0};
    assert_true(stat_fact_apply(f, &e, &out));
    for (size_t i = 0; i < out.n; i++) {
        assert_true(out.items[i].day >= e.day); /* closed periods stay closed */
        assert_int_not_equal(out.items[i].value, 0);
    }
    record(&out);
}

static int reset(void **state)
{
    (void)state;
    ledger_n = 0;
    return 0;
}

#define A "000.00.06.H56"
#define B "000.00.07.H56"

static void test_received_then_early(void **state)
{
    (void)state;
    struct stat_fact f = {0};
    apply(&f, ev(A, 0, 1, "2026-11-02", NULL));
    apply(&f, ev(A, 1, 2, "2026-11-03", "2026-11-10"));
    apply(&f, ev(A, 2, 4, "2026-11-04", "2026-11-10"));
    assert_int_equal(stock(A, M_OPEN_WITHIN, day("2026-11-05")), 1);
    apply(&f, ev(A, 4, 9, "2026-11-06", "2026-11-10"));
    assert_int_equal(sum(A, M_RECEIVED_ONLINE, day("2026-11-01"), day("2026-11-30")), 1);
    assert_int_equal(sum(A, M_RESOLVED_EARLY, day("2026-11-01"), day("2026-11-30")), 1);
    /* The crossing scheduled for the 10th was taken back: nothing stays in stock. */
    assert_int_equal(stock(A, M_OPEN_WITHIN, day("2026-12-31")), 0);
    assert_int_equal(stock(A, M_OPEN_OVERDUE, day("2026-12-31")), 0);
    assert_string_equal(f.timeliness, "early");
    assert_false(f.open);
}

static void test_on_time_and_overdue_by_day(void **state)
{
    (void)state;
    struct stat_fact on = {0}, late = {0};
    apply(&on, ev(A, 1, 2, "2026-11-03", "2026-11-10"));
    apply(&on, ev(A, 2, 9, "2026-11-10", "2026-11-10"));
    assert_string_equal(on.timeliness, "on_time");
    apply(&late, ev(A, 1, 2, "2026-11-03", "2026-11-10"));
    /* At the end of the 10th it is still open: in progress, overdue. */
    assert_int_equal(stock(A, M_OPEN_OVERDUE, day("2026-11-10")), 1);
    assert_int_equal(stock(A, M_OPEN_WITHIN, day("2026-11-09")), 2); /* both, on the 9th */
    apply(&late, ev(A, 2, 9, "2026-12-02", "2026-11-10"));
    assert_string_equal(late.timeliness, "overdue");
    /* November's end still shows it overdue in progress; December resolves it. */
    assert_int_equal(stock(A, M_OPEN_OVERDUE, day("2026-11-30")), 1);
    assert_int_equal(stock(A, M_OPEN_OVERDUE, day("2026-12-02")), 0);
    assert_int_equal(sum(A, M_RESOLVED_OVERDUE, day("2026-12-01"), day("2026-12-31")), 1);
    assert_int_equal(sum(A, M_RESOLVED_ON_TIME, day("2026-11-01"), day("2026-11-30")), 1);
}

static void test_apology_keeps_the_legal_due_date(void **state)
{
    (void)state;
    struct stat_fact f = {0};
    apply(&f, ev(A, 1, 2, "2026-11-03", "2026-11-10"));
    /* An apology names a new appointment; due_at (the legal date) is unchanged. */
    struct stat_event apology = ev(A, 4, 4, "2026-11-09", "2026-11-10");
    snprintf(apology.action, sizeof apology.action, "apologize");
    apply(&f, apology);
    apply(&f, ev(A, 4, 9, "2026-11-12", "2026-11-10"));
    assert_string_equal(f.timeliness, "overdue");
}

static void test_transfer_moves_the_stock(void **state)
{
    (void)state;
    struct stat_fact f = {0};
    apply(&f, ev(A, 1, 2, "2026-11-03", "2026-11-20"));
    apply(&f, ev(B, 2, 4, "2026-11-05", "2026-11-20"));
    assert_int_equal(stock(A, M_OPEN_WITHIN, day("2026-11-04")), 1);
    assert_int_equal(stock(A, M_OPEN_WITHIN, day("2026-11-30")), 0);
    assert_int_equal(stock(A, M_OPEN_OVERDUE, day("2026-11-30")), 0);
    assert_int_equal(stock(B, M_OPEN_OVERDUE, day("2026-11-30")), 1);
    assert_int_equal(sum(A, M_TRANSFERRED_OUT, day("2026-11-01"), day("2026-11-30")), 1);
    assert_int_equal(sum(B, M_TRANSFERRED_IN, day("2026-11-01"), day("2026-11-30")), 1);
    apply(&f, ev(B, 4, 9, "2026-11-19", "2026-11-20"));
    assert_int_equal(sum(B, M_RESOLVED_EARLY, day("2026-11-01"), day("2026-11-30")), 1);
    assert_int_equal(sum(A, M_RECEIVED_ONLINE, day("2026-11-01"), day("2026-11-30")), 1);
    assert_int_equal(stock(B, M_OPEN_WITHIN, day("2026-12-30")) + stock(B, M_OPEN_OVERDUE, day("2026-12-30")), 0);
}

static void test_withdrawn_stopped_refused_supplement(void **state)
{
    (void)state;
    struct stat_fact w = {0}, s = {0}, r = {0};
    apply(&w, ev(A, 1, 2, "2026-11-03", "2026-11-20"));
    apply(&w, ev(A, 2, 7, "2026-11-04", "2026-11-20"));
    apply(&w, ev(A, 7, 8, "2026-11-05", "2026-11-20"));
    assert_string_equal(w.closed_kind, "withdrawn");
    apply(&s, ev(A, 1, 2, "2026-11-03", "2026-11-20"));
    apply(&s, ev(A, 2, 5, "2026-11-04", NULL)); /* the clock pauses */
    assert_int_equal(stock(A, M_AWAITING_SUPPLEMENT, day("2026-11-04")), 1);
    apply(&s, ev(A, 5, 8, "2026-11-25", NULL));
    assert_int_equal(stock(A, M_AWAITING_SUPPLEMENT, day("2026-11-30")), 0);
    apply(&r, ev(A, 1, 3, "2026-11-03", NULL));
    assert_int_equal(sum(A, M_WITHDRAWN, day("2026-11-01"), day("2026-11-30")), 1);
    assert_int_equal(sum(A, M_STOPPED, day("2026-11-01"), day("2026-11-30")), 1);
    assert_int_equal(sum(A, M_REFUSED, day("2026-11-01"), day("2026-11-30")), 1);
    assert_int_equal(sum(A, M_RECEIVED_ONLINE, day("2026-11-01"), day("2026-11-30")), 2);
    assert_int_equal(stock(A, M_OPEN_WITHIN, day("2026-11-30")) + stock(A, M_OPEN_OVERDUE, day("2026-11-30")), 0);
}

static void test_a_replayed_event_and_a_resolved_dossier_count_once(void **state)
{
    (void)state;
    struct stat_fact f = {0};
    struct stat_event received = ev(A, 1, 2, "2026-11-03", "2026-11-20");
    apply(&f, received);
    struct stat_deltas again = {0};
    assert_false(stat_fact_apply(&f, &received, &again)); /* the feed read again from 0 */
    assert_int_equal(again.n, 0);
    apply(&f, ev(A, 4, 9, "2026-11-05", "2026-11-20"));
    apply(&f, ev(A, 9, 9, "2026-11-06", "2026-11-20")); /* e.g. an evaluation */
    apply(&f, ev(A, 9, 10, "2026-11-07", "2026-11-20"));
    assert_int_equal(sum(A, M_RESOLVED_EARLY, day("2026-11-01"), day("2026-11-30")), 1);
    assert_int_equal(sum(A, M_RETURNED, day("2026-11-01"), day("2026-11-30")), 1);
    assert_true(earliest_change() >= day("2026-11-03"));
}

/* A payment confirmation of a fee demand, online (a provider) or at the counter. */
static struct stat_event paid(const char *action, int from, int to, const char *on, long long fee,
                              bool online)
{
    struct stat_event e = ev(A, from, to, on, "2026-11-20");
    snprintf(e.action, sizeof e.action, "%s", action);
    e.fee_amount = fee;
    e.paid_online = online;
    return e;
}

static void test_fees_paid_online_once_per_dossier_by_the_payment_day(void **state)
{
    (void)state;
    struct stat_fact f = {0};
    apply(&f, ev(A, 1, 2, "2026-11-03", "2026-11-20"));
    apply(&f, paid("request_payment", 4, 6, "2026-11-04", 50000, false));
    apply(&f, paid("confirm_payment", 6, 4, "2026-11-06", 50000, true));
    apply(&f, paid("confirm_payment", 6, 4, "2026-11-07", 50000, true)); /* a second demand */
    assert_int_equal(sum(A, M_FEES_PAID, day("2026-11-06"), day("2026-11-06")), 1);
    assert_int_equal(sum(A, M_FEES_PAID, day("2026-11-01"), day("2026-11-30")), 1);
    assert_int_equal(sum(A, M_FEES_PAID_ONLINE, day("2026-11-01"), day("2026-11-30")), 1);
    assert_true(f.fee_paid);

    /* paid at the counter (no provider): a fee paid, not online */
    struct stat_fact g = {0};
    apply(&g, ev(A, 1, 2, "2026-11-03", "2026-11-20"));
    apply(&g, paid("confirm_payment", 6, 4, "2026-11-08", 20000, false));
    /* pay first, online, before it is even received */
    struct stat_fact h = {0};
    apply(&h, paid("confirm_submission_payment", 11, 1, "2026-11-09", 30000, true));
    /* exempt: a zero demand confirmed is no fee */
    struct stat_fact z = {0};
    apply(&z, paid("confirm_payment", 6, 4, "2026-11-09", 0, true));
    assert_int_equal(sum(A, M_FEES_PAID, day("2026-11-01"), day("2026-11-30")), 3);
    assert_int_equal(sum(A, M_FEES_PAID_ONLINE, day("2026-11-01"), day("2026-11-30")), 2);
}

static void test_digitised_receipts_and_electronic_results(void **state)
{
    (void)state;
    struct stat_fact f = {0}, g = {0}, old = {0};
    struct stat_event e = ev(A, 1, 2, "2026-11-03", "2026-11-20");
    e.documents_known = true;
    e.application_files = 2;
    apply(&f, e);
    e.application_files = 0; /* filed at the counter, nothing scanned */
    apply(&g, e);
    apply(&old, ev(A, 1, 2, "2026-11-03", "2026-11-20")); /* an event without counts */
    assert_int_equal(sum(A, M_RECEIVED_DOCUMENTS_KNOWN, day("2026-11-03"), day("2026-11-03")), 2);
    assert_int_equal(sum(A, M_RECEIVED_DIGITISED, day("2026-11-03"), day("2026-11-03")), 1);

    struct stat_event decided = ev(A, 4, 9, "2026-11-10", "2026-11-20");
    decided.documents_known = true;
    decided.application_files = 2;
    decided.result_files = 1;
    apply(&f, decided);
    decided.result_files = 0;
    apply(&g, decided);
    apply(&old, ev(A, 4, 9, "2026-11-10", "2026-11-20"));
    assert_int_equal(sum(A, M_RESOLVED_DOCUMENTS_KNOWN, day("2026-11-10"), day("2026-11-10")), 2);
    assert_int_equal(sum(A, M_RESOLVED_ELECTRONIC, day("2026-11-10"), day("2026-11-10")), 1);
    /* a later event telling a result file does not count the decision again */
    struct stat_event later = ev(A, 4, 9, "2026-11-11", "2026-11-20");
    later.documents_known = true;
    later.result_files = 1;
    apply(&g, later);
    assert_int_equal(sum(A, M_RESOLVED_ELECTRONIC, day("2026-11-01"), day("2026-11-30")), 1);
}

static void test_event_parse(void **state)
{
    (void)state;
    json_t *event = json_loads(
        "{\"id\":\"x\",\"sequence\":\"42\",\"type\":\"dossier.dossier.evaluated\",\"data\":{"
        "\"dossier_id\":\"5b8f7e2c-3a41-4d7e-9c2a-6f1e0d3b7a55\",\"code\":null,"
        "\"handling_agency\":\"" A "\",\"procedure_code\":\"1.001193\",\"sector_code\":\"ho-tich\","
        "\"channel\":\"postal\",\"action\":\"evaluate\",\"from_status\":10,\"to_status\":10,"
        "\"due_at\":\"2026-11-30T23:30:00+07:00\",\"occurred_at\":\"2026-11-30T17:30:00Z\","
        "\"outcome\":\"approved\",\"details\":{\"total\":17,\"satisfaction\":\"very_satisfied\"}}}",
        0, NULL);
    struct stat_event e;
    const char *reason = NULL;
    assert_true(stat_event_parse(event, &e, &reason));
    assert_int_equal(e.sequence, 42);
    /* 17:30 UTC is 00:30 the next day in Vietnam. */
    assert_int_equal(e.day, day("2026-12-01"));
    assert_int_equal(e.due_day, day("2026-11-30"));
    assert_int_equal(e.evaluation_total, 17);
    assert_string_equal(e.satisfaction, "very_satisfied");
    assert_false(e.documents_known);
    assert_true(e.fee_amount == -1 && !e.paid_online);
    json_t *data = json_object_get(event, "data");
    json_object_set_new(data, "fee_amount", json_integer(50000));
    json_object_set_new(data, "document_counts",
                        json_pack("{si si si}", "application", 3, "supplement", 0, "result", 1));
    json_object_set_new(data, "details",
                        json_pack("{ss ss}", "provider", "vnpay", "paid_at", "2026-11-30T17:30:00Z"));
    assert_true(stat_event_parse(event, &e, &reason));
    assert_true(e.documents_known && e.application_files == 3 && e.result_files == 1);
    assert_true(e.fee_amount == 50000 && e.paid_online);
    json_object_set_new(data, "details", json_pack("{si}", "amount", 50000)); /* staff's confirmation */
    assert_true(stat_event_parse(event, &e, &reason));
    assert_false(e.paid_online);
    json_object_del(json_object_get(event, "data"), "handling_agency");
    assert_false(stat_event_parse(event, &e, &reason));
    json_decref(event);
}

static void test_periods(void **state)
{
    (void)state;
    struct stat_period p;
    assert_true(stat_period_parse("2026-11", &p));
    assert_int_equal(p.first, day("2026-11-01"));
    assert_int_equal(p.last, day("2026-11-30"));
    assert_true(stat_period_parse("2028-02", &p));
    assert_int_equal(p.last, day("2028-02-29"));
    assert_true(stat_period_parse("2026-Q4", &p));
    assert_int_equal(p.first, day("2026-10-01"));
    assert_int_equal(p.last, day("2026-12-31"));
    assert_true(stat_period_parse("2026", &p));
    assert_int_equal(p.last - p.first, 364);
    assert_false(stat_period_parse("2026-13", &p));
    assert_false(stat_period_parse("2026-Q5", &p));
    assert_false(stat_period_parse("26-11", &p));
    assert_false(stat_period_parse("2026-11-01", &p));
    assert_false(stat_period_parse("", &p));
    assert_true(stat_period_from_range("2026-11-05", "2026-11-05", &p));
    assert_false(stat_period_from_range("2026-11-06", "2026-11-05", &p));
    assert_false(stat_period_from_range("2000-01-01", "2026-11-05", &p));
}

static void test_series_buckets(void **state)
{
    (void)state;
    assert_int_equal(stat_bucket_start(day("2025-03-17"), STAT_DAY), day("2025-03-17"));
    assert_int_equal(stat_bucket_start(day("2025-03-17"), STAT_MONTH), day("2025-03-01"));
    assert_int_equal(stat_bucket_start(day("2024-02-29"), STAT_MONTH), day("2024-02-01"));
    assert_int_equal(stat_bucket_start(day("2025-12-31"), STAT_MONTH), day("2025-12-01"));
}

static void test_columns_and_rate(void **state)
{
    (void)state;
    struct stat_sums s = {0};
    s.period[M_RECEIVED_ONLINE] = 7;
    s.period[M_RECEIVED_OFFLINE] = 3;
    s.at_start[M_OPEN_WITHIN] = 2;
    s.at_start[M_OPEN_OVERDUE] = 1;
    s.period[M_RESOLVED_EARLY] = 4;
    s.period[M_RESOLVED_ON_TIME] = 2;
    s.period[M_RESOLVED_OVERDUE] = 1;
    s.period[M_WITHDRAWN] = 1;
    s.at_end[M_OPEN_WITHIN] = 3;
    s.at_end[M_OPEN_OVERDUE] = 1;
    json_t *c = stat_06a_columns(&s);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(c, "received"), "total")), 10);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(c, "received"), "carried_over")), 3);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(c, "resolved"), "total")), 7);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(c, "in_progress"), "total")), 4);
    /* (3 + 4 + 2 + 1) / (10 + 1 + 1) */
    double rate = json_real_value(json_object_get(c, "on_time_rate"));
    assert_true(rate > 10.0 / 12.0 - 1e-9 && rate < 10.0 / 12.0 + 1e-9);
    json_decref(c);
    struct stat_sums empty = {0};
    c = stat_06a_columns(&empty);
    assert_true(json_is_null(json_object_get(c, "on_time_rate")));
    json_decref(c);
}

static void test_tree(void **state)
{
    (void)state;
    json_t *t = json_loads("{\"P\":{\"parent\":null,\"name\":\"Province\"},"
                           "\"D1\":{\"parent\":\"P\"},\"D2\":{\"parent\":\"P\"},"
                           "\"C1\":{\"parent\":\"D1\"},\"X\":{\"parent\":\"Y\"},"
                           "\"L1\":{\"parent\":\"L2\"},\"L2\":{\"parent\":\"L1\"}}",
                           0, NULL);
    assert_true(stat_tree_contains(t, "P", "C1"));
    assert_true(stat_tree_contains(t, "D1", "D1"));
    assert_false(stat_tree_contains(t, "D2", "C1"));
    assert_false(stat_tree_contains(t, "L1", "Q"));
    assert_false(stat_tree_contains(t, "P", "L1")); /* a cycle ends the walk */
    assert_string_equal(stat_tree_child_toward(t, "P", "C1"), "D1");
    assert_string_equal(stat_tree_child_toward(t, "P", "P"), "P");
    assert_null(stat_tree_child_toward(t, "D2", "C1"));
    assert_true(stat_tree_is_root(t, "P"));
    assert_false(stat_tree_is_root(t, "D1"));
    json_t *sub = stat_tree_subtree(t, "D1");
    assert_int_equal(json_array_size(sub), 2);
    json_decref(sub);
    json_decref(t);
}

static void test_csv(void **state)
{
    (void)state;
    struct stat_sums s = {0};
    s.period[M_RECEIVED_ONLINE] = 5;
    s.period[M_RESOLVED_ON_TIME] = 2;
    json_t *row = stat_06a_columns(&s);
    json_object_set_new(row, "key", json_string("D1"));
    json_object_set_new(row, "name", json_string("Sở \"Tư pháp\""));
    json_t *report = json_pack("{so s[o]}", "totals", stat_06a_columns(&s), "rows", row);
    size_t len = 0;
    char *csv = stat_06a_csv(report, &len);
    assert_non_null(csv);
    assert_memory_equal(csv, "\xEF\xBB\xBF", 3);
    assert_non_null(strstr(csv, "\"Sở \"\"Tư pháp\"\"\",5,5,0,0,2,0,2,0,0,0,0,0,0,0,0,100.00\r\n"));
    assert_non_null(strstr(csv, "\"Tổng cộng\",5,5,"));
    assert_int_equal(strlen(csv), len);
    free(csv);
    json_decref(report);
}

static void test_766_scores_follow_the_formula(void **state)
{
    (void)state;
    struct stat_sums s = {0};
    s.period[M_RECEIVED_ONLINE] = 6;
    s.period[M_RECEIVED_OFFLINE] = 4;
    s.period[M_RESOLVED_EARLY] = 3;
    s.period[M_RESOLVED_OVERDUE] = 1;
    s.period[M_EVALUATIONS] = 4;
    s.period[M_EVALUATION_POINTS] = 60;
    s.period[M_VERY_SATISFIED] = 1;
    s.period[M_SATISFIED] = 2;
    json_t *values = stat_766_values(&s, NULL);
    assert_true(json_is_null(json_object_get(values, "online_procedures_with_dossiers_share")));
    assert_true(json_is_null(json_object_get(values, "digitised_share")));
    assert_true(json_real_value(json_object_get(values, "online_filing_share")) == 0.6);
    assert_true(json_real_value(json_object_get(values, "on_time_share")) == 0.75);
    assert_true(json_real_value(json_object_get(values, "satisfied_share")) == 0.75);
    assert_true(json_real_value(json_object_get(values, "average_points")) == 15.0);
    assert_true(json_is_null(json_object_get(values, "paid_online_share")));
    json_t *formula = json_loads(
        "{\"groups\":[{\"code\":\"timeliness\",\"weight\":20,\"indicators\":"
        "[{\"code\":\"on_time_share\",\"target\":1.0}]},"
        "{\"code\":\"online\",\"weight\":12,\"indicators\":[{\"code\":\"online_filing_share\","
        "\"target\":{\"province\":0.9,\"commune\":0.6}},{\"code\":\"paid_online_share\",\"target\":1}]},"
        "{\"code\":\"digitisation\",\"weight\":22,\"indicators\":[{\"code\":\"digitised_share\",\"target\":1}]}]}",
        0, NULL);
    assert_non_null(formula);
    json_t *province = stat_766_scores(formula, values, "province");
    json_t *commune = stat_766_scores(formula, values, "commune");
    /* 20 x 0.75 + 12 x (0.6 / 0.9), the unmeasured payment skipped; digitisation unscored */
    double p = json_real_value(json_object_get(province, "score"));
    assert_true(p > 15.0 + 8.0 - 1e-9 && p < 15.0 + 8.0 + 1e-9);
    double c = json_real_value(json_object_get(commune, "score"));
    assert_true(c > 15.0 + 12.0 - 1e-9 && c < 15.0 + 12.0 + 1e-9); /* the commune target is met */
    assert_true(json_real_value(json_object_get(province, "weight_measured")) == 32.0);
    json_t *digitisation = json_array_get(json_object_get(province, "groups"), 2);
    assert_true(json_is_null(json_object_get(digitisation, "score")));
    json_t *bad = json_loads("{\"groups\":[{\"code\":\"x\",\"weight\":1,\"indicators\":[{\"code\":\"y\"}]}]}", 0, NULL);
    assert_null(stat_766_scores(bad, values, "province"));
    json_decref(bad);
    json_decref(province);
    json_decref(commune);
    json_decref(formula);
    json_decref(values);
}

static void test_766_values_of_the_new_indicators(void **state)
{
    (void)state;
    struct stat_sums s = {0};
    s.period[M_FEES_PAID] = 4;
    s.period[M_FEES_PAID_ONLINE] = 3;
    s.period[M_RECEIVED_DOCUMENTS_KNOWN] = 5;
    s.period[M_RECEIVED_DIGITISED] = 4;
    s.period[M_RESOLVED_DOCUMENTS_KNOWN] = 2;
    s.period[M_RESOLVED_ELECTRONIC] = 1;
    /* A offers two procedures online and received a dossier of one; B offers
       one and received an online dossier of a procedure it does not offer online. */
    json_t *offered = json_pack("{s[ss] s[s]}", A, "1.001193", "1.000894", B, "2.000488");
    json_t *active = json_pack("{s{sb} s{sb}}", A, "1.001193", 1, B, "9.999999", 1);
    struct stat_online_procedures online = stat_online_procedures_count(offered, active);
    assert_int_equal(online.offered, 3);
    assert_int_equal(online.with_dossiers, 1);
    json_t *v = stat_766_values(&s, &online);
    assert_true(json_real_value(json_object_get(v, "paid_online_share")) == 0.75);
    assert_true(json_real_value(json_object_get(v, "digitised_share")) == 0.8);
    assert_true(json_real_value(json_object_get(v, "electronic_results_share")) == 0.5);
    double share = json_real_value(json_object_get(v, "online_procedures_with_dossiers_share"));
    assert_true(share > 1.0 / 3 - 1e-12 && share < 1.0 / 3 + 1e-12);
    /* nothing offered online: no share */
    json_t *nothing = json_object();
    struct stat_online_procedures none = stat_online_procedures_count(nothing, active);
    json_decref(nothing);
    json_t *w = stat_766_values(&s, &none);
    assert_true(json_is_null(json_object_get(w, "online_procedures_with_dossiers_share")));
    json_decref(w);
    json_decref(v);
    json_decref(offered);
    json_decref(active);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_received_then_early, reset),
        cmocka_unit_test_setup(test_on_time_and_overdue_by_day, reset),
        cmocka_unit_test_setup(test_apology_keeps_the_legal_due_date, reset),
        cmocka_unit_test_setup(test_transfer_moves_the_stock, reset),
        cmocka_unit_test_setup(test_withdrawn_stopped_refused_supplement, reset),
        cmocka_unit_test_setup(test_a_replayed_event_and_a_resolved_dossier_count_once, reset),
        cmocka_unit_test_setup(test_fees_paid_online_once_per_dossier_by_the_payment_day, reset),
        cmocka_unit_test_setup(test_digitised_receipts_and_electronic_results, reset),
        cmocka_unit_test(test_event_parse),
        cmocka_unit_test(test_766_values_of_the_new_indicators),
        cmocka_unit_test(test_periods),
        cmocka_unit_test(test_series_buckets),
        cmocka_unit_test(test_columns_and_rate),
        cmocka_unit_test(test_tree),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_766_scores_follow_the_formula),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
