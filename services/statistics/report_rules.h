/*
 * Report 06a from rollup sums (pure, no I/O): the period a request names, the
 * form's columns from the counters, the on-time rate by the legal formula
 * (DOMAIN.md §5), the agency tree's drill-down, and the CSV export.
 */
#ifndef STATISTICS_REPORT_RULES_H
#define STATISTICS_REPORT_RULES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fact_rules.h"

/* A period: day numbers (fact_rules.h), both ends included. */
struct stat_period {
    int64_t first, last;
};

/* Longest range a report covers (days). */
#define STAT_PERIOD_MAX_DAYS 3700

/* "2026-11" (a month), "2026-Q4" (a quarter) or "2026" (a year). False when
   it is none of them. */
bool stat_period_parse(const char *s, struct stat_period *out);
/* from and to as YYYY-MM-DD, from <= to, at most STAT_PERIOD_MAX_DAYS days. */
bool stat_period_from_range(const char *from, const char *to, struct stat_period *out);

/* The sums of one group of rollup rows for a period ending today or earlier:
   flows within the period, stocks at the period's start (before its first day)
   and at its end (its last day, or today when it has not ended). */
struct stat_sums {
    long long period[M_COUNT];
    long long at_start[M_COUNT];
    long long at_end[M_COUNT];
};

void stat_sums_add(struct stat_sums *into, const struct stat_sums *s);

/* The 06a columns of sums (a new object): received {total, online,
   in_person_postal, carried_over}, resolved {total, early, on_time, overdue},
   in_progress {total, within_deadline, overdue}, withdrawn, stopped, refused,
   returned, awaiting_supplement, transferred_in, transferred_out and
   on_time_rate (null when nothing counts). */
json_t *stat_06a_columns(const struct stat_sums *s);

/* The legal on-time rate: (in progress within deadline + early + on time +
   withdrawn) / (those + resolved overdue + in progress overdue); -1 when the
   denominator is 0. */
double stat_on_time_rate(const struct stat_sums *s);

/* ---- Where the agency-level sums are read (store_agency_sums) ----

   Whole months from the monthly rollups, the days of a partly covered month from
   the daily ones. Day numbers; a month is named by its first day. */
struct stat_read_plan {
    /* The period's whole months: month starts in [months_from, months_to), empty
       when equal; the period's other days are read from the daily rollups. */
    int64_t months_from, months_to;
    /* A stock at the end of day X is the sum of its deltas of the months before
       stat_stock_bound(X) and of the days from that bound to X. */
    int64_t start_bound, end_bound;
};

/* The first day of the month after `day` when `day` is its month's last (the
   whole month is then read as a month), else the first day of its month. */
int64_t stat_stock_bound(int64_t day);

/* The plan of a period whose stocks are counted at start_stock_day and
   end_stock_day (store_report_sums). */
struct stat_read_plan stat_read_plan(const struct stat_period *p, int64_t start_stock_day,
                                     int64_t end_stock_day);

/* ---- Settled periods (the answer cache) ---- */

/* Slack for commit-order skew: an event committed after one that occurred
   later occurred at most this long before it. */
#define STAT_SETTLE_SLACK_SECONDS 300

/* Has period p settled, so that its report can never change: it ended before
   today and before the day of applied_until (epoch seconds of the latest event
   counted, 0 for none) minus the slack? Every counter change is dated on its
   event's day or later, and later events occur after applied_until minus
   the slack. */
bool stat_period_settled(const struct stat_period *p, int64_t today, int64_t applied_until);

/* The latest month (its first day) whose month-start stock snapshot may be
   written: every day before it has settled (stat_period_settled), so no
   later event can change a stock delta dated before it. STAT_NO_DAY when no
   month has (nothing counted yet). */
int64_t stat_stock_snapshot_month(int64_t today, int64_t applied_until);

/* ---- Time series ---- */

enum stat_interval { STAT_DAY, STAT_MONTH };

/* The first day of the bucket (a day, or its month) holding `day`. */
int64_t stat_bucket_start(int64_t day, enum stat_interval interval);

/* ---- The agency tree: `agencies` is an object code -> {"parent": code|null, "name": ...} ---- */

/* Is `code` `ancestor` or below it? (a cycle or a depth over 32 is "no") */
bool stat_tree_contains(const json_t *agencies, const char *ancestor, const char *code);
/* The codes of ancestor's subtree, itself included (a new array, sorted as the object iterates). */
json_t *stat_tree_subtree(const json_t *agencies, const char *ancestor);
/* The direct child of `ancestor` on the way down to `code`, or ancestor itself
   when code is ancestor (borrowed: a key of agencies); NULL when code is not
   below it. */
const char *stat_tree_child_toward(const json_t *agencies, const char *ancestor, const char *code);
bool stat_tree_is_root(const json_t *agencies, const char *code);

/* ---- Exports: the form's layout ---- */

/* One cell of a row after its label: where its value is in the columns
   (group, member or NULL), the label of its group (the first header row,
   merged over consecutive cells of the same group) and its own (the second
   row; NULL for a single cell spanning both rows). The last is the on-time
   rate in percent. */
struct stat_06a_cell {
    const char *group, *member;
    const char *group_label, *label;
};
extern const struct stat_06a_cell stat_06a_cells[];
extern const size_t stat_06a_cells_count;
extern const char *const stat_06a_label_header; /* over the rows' labels */
extern const char *const stat_06a_total_label;  /* the totals row's label */

/* Cell i of columns (stat_06a_columns); the rate in percent, -1 when null. */
double stat_06a_cell_value(const json_t *columns, size_t i);
/* A row's label: the agency's name, else its key. */
const char *stat_06a_row_label(const json_t *row);

/* CSV (UTF-8 with a BOM, so that Excel keeps Vietnamese intact). */

/* The 06a report (as answered in JSON: rows and totals) as CSV, malloc'd,
   *len bytes. NULL when out of memory. */
char *stat_06a_csv(const json_t *report, size_t *len);

#endif
