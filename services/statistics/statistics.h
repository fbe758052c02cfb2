/*
 * The statistics service: report 06a and indicators derived from the dossier
 * event feed only (docs/services/statistics.md).
 *
 * Where things are:
 *   main.c, routes.c      start-up and the route table
 *   consumer.c            the dossier feed into facts and rollups (common's feed consumer)
 *   fact_rules.c          what an event does to a fact and the counters (pure)
 *   report_rules.c        periods, the 06a columns, the on-time rate, the agency
 *                         tree's walks, CSV (pure)
 *   catalogue_cache.c     what is read from the catalogue, kept for a while
 *   catalogue_pages.c     reading every page of a catalogue list
 *   agency_tree.c         the agency tree, from the catalogue
 *   online_procedures.c   the procedures each agency offers online, from the catalogue
 *   catalogue_names.c     sector and procedure names, from the catalogue
 *   request.c             what the report routes share: scope, access, sums
 *   handle_reports.c      GET /statistics/reports/06a and its dossier lists
 *   handle_indicators.c   GET /statistics/indicators/766
 *   handle_series.c       GET /statistics/series
 *   indicator_rules.c     Decision 766 values and scores of a versioned formula (pure)
 *   export_xlsx.c         the 06a workbook
 *   store_facts.c         facts and rollups (writes)
 *   store_reports.c       what reports read
 *   stock_snapshots.c     the month-start stock snapshots' step
 *   store_stocks.c        the snapshots (writes)
 */
#ifndef STATISTICS_H
#define STATISTICS_H

#include <jansson.h>

#include "motcua/feed_consumer.h"
#include "report_rules.h"
#include "store.h"
#include "motcua/http.h"
#include "motcua/server.h"

extern const struct mc_route statistics_routes[];
extern const size_t statistics_routes_count;

struct answer_cache;
struct catalogue_cache;
struct mc_service_token;
struct stock_snapshots;
struct period_memo;

/* What the handlers and the consumer share, set up at start (main.c). */
struct statistics_ctx {
    struct catalogue_cache *catalogue;      /* CATALOGUE_URL, AGENCY_CACHE_SECONDS */
    struct mc_periodic *catalogue_refresh;  /* reads its stale entries again, every second */
    struct mc_service_token *service_token; /* CLIENT_ID: reads the dossier feed */
    mc_feed_consumer *consumer;             /* NULL when no CLIENT_ID is configured */
    struct answer_cache *answers;           /* REPORT_CACHE_ENTRIES; NULL: none */
    struct stock_snapshots *stock_snapshots; /* STOCK_SNAPSHOT_SECONDS */
    struct period_memo *memo;               /* CURRENT_MEMO_MS: current periods' rows; NULL: none */
};

/* The feed consumer's callbacks (consumer.c). */
mc_error statistics_apply_events(mc_db_conn *conn, const json_t *events, void *ctx);
mc_error statistics_resync(mc_db_conn *conn, long long oldest_after, void *ctx);
mc_error statistics_feed_token(void *ctx, bool renew, char *out, size_t out_len);

/* What the report routes read from the query (request.c): the agency
   (checked against the tree) and the period. */
struct report_scope {
    json_t *tree;           /* the agency tree (owned) */
    const char *agency;     /* borrowed from the query */
    struct stat_period period;
    json_t *agencies;       /* the subtree's codes (owned) */
};

/* Read `agency` and `period` (or `from` and `to`) into s, with the problems
   of the other parameters already in `errors` (stolen): false after
   answering (400, 404, 503). */
bool load_scope(mc_request *req, struct report_scope *s, json_t *errors);
void scope_clear(struct report_scope *s);
/* May the caller see more than a root's summary of `agency`? */
bool may_see_detail(const mc_request *req, const json_t *tree, const char *agency);
/* Answer 401 or 403 for `what`. */
void refuse_detail(mc_request *req, const char *what);
/* The rollup sums of the scope, stocks at most `today`: by agency, sector and
   procedure (store_report_sums) when by_procedure, else by agency only
   (store_agency_sums: sector and procedure "", read flat as data grows).
   The rows of a settled period (stat_period_settled) are kept in the answer
   cache and read from it again; those of a current one in the memo
   (period_memo.h), at most CURRENT_MEMO_MS. */
mc_error scope_sums(mc_request *req, const struct report_scope *s, int64_t today, bool by_procedure,
                    store_sums_fn row, void *ctx);
/* The same by agency, sector and procedure for `measure` only, and the other
   measures summed over the scope (one row each, agency, sector and procedure
   ""): what the 766 indicators need, and a tenth of the rows to keep and
   read again. */
mc_error scope_sums_detail(mc_request *req, const struct report_scope *s, int64_t today, int measure,
                           store_sums_fn row, void *ctx);

void handle_report_06a(mc_request *req);
void handle_indicators_766(mc_request *req);
void handle_series(mc_request *req);
void handle_report_06a_dossiers(mc_request *req);

#endif
