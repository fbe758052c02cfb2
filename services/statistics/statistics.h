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
 *   agency_tree.c         the agency tree read from the catalogue, cached
 *   handle_reports.c      GET /statistics/reports/06a and its dossier lists
 *   store_facts.c         facts and rollups (writes)
 *   store_reports.c       what reports read
 */
#ifndef STATISTICS_H
#define STATISTICS_H

#include <jansson.h>

#include "motcua/feed_consumer.h"
#include "motcua/http.h"
#include "motcua/server.h"

extern const struct mc_route statistics_routes[];
extern const size_t statistics_routes_count;

struct agency_tree;
struct mc_service_token;

/* What the handlers and the consumer share, set up at start (main.c). */
struct statistics_ctx {
    struct agency_tree *agencies;           /* CATALOGUE_URL, AGENCY_CACHE_SECONDS */
    struct mc_service_token *service_token; /* CLIENT_ID: reads the dossier feed */
    mc_feed_consumer *consumer;             /* NULL when no CLIENT_ID is configured */
};

/* The feed consumer's callbacks (consumer.c). */
mc_error statistics_apply_events(mc_db_conn *conn, const json_t *events, void *ctx);
mc_error statistics_resync(mc_db_conn *conn, long long oldest_after, void *ctx);
mc_error statistics_feed_token(void *ctx, bool renew, char *out, size_t out_len);

void handle_report_06a(mc_request *req);
void handle_report_06a_dossiers(mc_request *req);

#endif
