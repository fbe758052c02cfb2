/*
 * The statistics service's store: every SQL statement (facts and rollups).
 * Each function runs on the connection it is given (docs/architecture.md,
 * "Stores and transactions"); the caller owns the connection and any
 * transaction.
 */
#ifndef STATISTICS_STORE_H
#define STATISTICS_STORE_H

#include <jansson.h>

#include "fact_rules.h"
#include "motcua/db.h"
#include "report_rules.h"

/* The fact of dossier_id, locked for update (inside a transaction), into *f;
   f->exists false when there is none. */
mc_error store_fact_get_for_update(mc_db_conn *conn, const char *dossier_id, struct stat_fact *f);
/* Insert or replace the fact f. */
mc_error store_fact_put(mc_db_conn *conn, const struct stat_fact *f);
/* Add d->value to its rollup counter. */
mc_error store_rollup_add(mc_db_conn *conn, const struct stat_delta *d);
/* Move how far the dossier feed is counted to epoch seconds `at` (never back). */
mc_error store_applied_until_advance(mc_db_conn *conn, int64_t at);
/* How far the dossier feed is counted (epoch seconds), 0 when nothing was. */
mc_error store_applied_until(mc_db_conn *conn, int64_t *at);

/* The rollup sums of the agencies (a JSON array of codes, borrowed) for the
   period: flows within it, stocks up to start_day (the day before it starts,
   or today) and end_day (its last day, or today). `row` is called once per
   agency, sector, procedure and measure with a sum. */
typedef void (*store_sums_fn)(void *ctx, const char *agency, const char *sector,
                              const char *procedure, int measure, long long period,
                              long long at_start, long long at_end);
mc_error store_report_sums(mc_db_conn *conn, const json_t *agencies, const struct stat_period *p,
                           int64_t start_stock_day, int64_t end_stock_day, store_sums_fn row,
                           void *ctx);

/* The same sums per agency, from the agency rollups (migration 0004): the cost
   follows the agencies and the months, not the dossiers or the procedures.
   `row` gets "" for sector and procedure. */
mc_error store_agency_sums(mc_db_conn *conn, const json_t *agencies, const struct stat_period *p,
                           int64_t start_stock_day, int64_t end_stock_day, store_sums_fn row,
                           void *ctx);

/* Month-start stock snapshots (migration 0006). Write the snapshot of every
   month up to `month` (a first day, settled: stat_stock_snapshot_month) that
   has none, in the caller's transaction, serialised with the feed consumer's
   pages; *months: how many months were marked complete. */
mc_error store_stock_snapshots_write(mc_db_conn *conn, int64_t month, long long *months);
/* A stock delta dated `day` was counted: the snapshots of the months after it
   are no longer complete (they are written again by the snapshot step). */
mc_error store_stock_snapshots_forget_after(mc_db_conn *conn, int64_t day);

/* The daily sums of `measures` (names, a JSON array, borrowed) of the
   agencies for days first..last: `row` once per day and measure. */
typedef void (*store_daily_fn)(void *ctx, int64_t day, int measure, long long value);
mc_error store_daily_sums(mc_db_conn *conn, const json_t *agencies, int64_t first, int64_t last,
                          const json_t *measures, store_daily_fn row, void *ctx);

/* The Decision 766 formula valid on `day` (the latest valid_from not after
   it) into *formula (new reference) and version (len bytes);
   MC_ERR_NOT_FOUND when none is. */
mc_error store_formula_for_day(mc_db_conn *conn, int64_t day, json_t **formula, char *version,
                               size_t len);

/* Which dossiers a 06a number counts (a flow of the period). */
enum store_dossier_list { LIST_RECEIVED, LIST_RESOLVED, LIST_CLOSED };
struct store_dossier_query {
    enum store_dossier_list list;
    const json_t *agencies;     /* borrowed JSON array of codes */
    struct stat_period period;
    const char *filter;         /* channel class ("online"/"offline"), timeliness, closed kind; or NULL */
    const char *after_id;       /* keyset cursor, or NULL */
};
/* A page of {dossier_id, code, agency_code, procedure_code} by dossier id. */
mc_error store_report_dossiers(mc_db_conn *conn, const struct store_dossier_query *q, unsigned limit,
                               json_t **items, json_t **next_keys);

#endif
