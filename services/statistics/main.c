/*
 * motcua-statistics: report 06a and indicators from the dossier event feed
 * (docs/services/statistics.md).
 *
 * Everything generic is common's mc_service_main; this file reads the
 * service's own settings, and starts the consumer of the dossier feed
 * (common's feed consumer, with the service's own machine client).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "answer_cache.h"
#include "catalogue_cache.h"
#include "motcua/config.h"
#include "motcua/log.h"
#include "motcua/periodic.h"
#include "motcua/service_token.h"
#include "period_memo.h"
#include "statistics.h"
#include "stock_snapshots.h"

MC_SERVICE_EMBEDDED(statistics); /* services/statistics/meson.build */

static void statistics_free(struct statistics_ctx *ctx)
{
    mc_feed_consumer_stop(ctx->consumer);
    stock_snapshots_stop(ctx->stock_snapshots);
    mc_periodic_stop(ctx->catalogue_refresh);
    mc_service_token_free(ctx->service_token);
    catalogue_cache_free(ctx->catalogue);
    answer_cache_free(ctx->answers);
    period_memo_free(ctx->memo);
    free(ctx);
}

/* The catalogue's copies, read again outside the requests (catalogue_cache.h). */
static void refresh_catalogue(void *catalogue)
{
    catalogue_cache_refresh(catalogue, time(NULL));
}

static mc_error statistics_start(mc_app *app)
{
    const char *svc = "statistics";
    struct statistics_ctx *ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL)
        return MC_ERR_INTERNAL;
    unsigned cache_seconds = 60, poll_ms = 1000, page_limit = 500, answers = 512,
             snapshot_seconds = 60, memo_ms = 1000;
    char catalogue_url[64], dossier_url[64], feed_url[160];
    mc_service_default_url("catalogue", catalogue_url, sizeof catalogue_url);
    mc_service_default_url("dossier", dossier_url, sizeof dossier_url);
    bool ok = mc_config_uint(svc, "AGENCY_CACHE_SECONDS", 60, 0, 86400, &cache_seconds) &&
              mc_config_uint(svc, "FEED_POLL_MS", 1000, 50, 60000, &poll_ms) &&
              mc_config_uint(svc, "FEED_PAGE_LIMIT", 500, 1, 1000, &page_limit) &&
              mc_config_uint(svc, "REPORT_CACHE_ENTRIES", 512, 0, 100000, &answers) &&
              mc_config_uint(svc, "STOCK_SNAPSHOT_SECONDS", 60, 1, 86400, &snapshot_seconds) &&
              mc_config_uint(svc, "CURRENT_MEMO_MS", 1000, 0, 1000, &memo_ms);
    ctx->answers = ok ? answer_cache_new(answers) : NULL;
    ctx->memo = ok ? period_memo_new(memo_ms, 64) : NULL;
    snprintf(feed_url, sizeof feed_url, "%s/api/v1/events/dossier",
             mc_config_str(svc, "DOSSIER_URL", dossier_url));
    ctx->catalogue = ok ? catalogue_cache_new(mc_config_str(svc, "CATALOGUE_URL", catalogue_url),
                                              cache_seconds)
                        : NULL;
    bool has_client = false;
    ctx->service_token = ctx->catalogue != NULL ? mc_service_token_from_config(svc, &has_client) : NULL;
    if (ctx->catalogue == NULL || (has_client && ctx->service_token == NULL)) {
        statistics_free(ctx);
        return MC_ERR_INTERNAL;
    }
    ctx->stock_snapshots = stock_snapshots_start(mc_app_db(app), snapshot_seconds);
    ctx->catalogue_refresh = mc_periodic_start(1, refresh_catalogue, ctx->catalogue);
    if (ctx->stock_snapshots == NULL || ctx->catalogue_refresh == NULL) {
        statistics_free(ctx);
        return MC_ERR_INTERNAL;
    }
    if (has_client) {
        mc_feed_consumer_config cfg = {
            .feed = "dossier",
            .url = feed_url,
            .db = mc_app_db(app),
            .conninfo = mc_config_str(svc, "DATABASE_URL", NULL),
            .schema = svc,
            .page_limit = page_limit,
            .poll_ms = poll_ms,
            .token = statistics_feed_token,
            .apply = statistics_apply_events,
            .resync = statistics_resync,
            .ctx = ctx,
        };
        ctx->consumer = mc_feed_consumer_start(&cfg);
        if (ctx->consumer == NULL) {
            statistics_free(ctx);
            return MC_ERR_INTERNAL;
        }
    } else {
        mc_log(MC_LOG_WARNING, NULL, "config.missing",
               "no CLIENT_ID: the dossier feed is not read, the reports do not move");
    }
    mc_app_set_ctx(app, ctx);
    return MC_OK;
}

static void statistics_stop(mc_app *app)
{
    struct statistics_ctx *ctx = mc_app_ctx(app);
    if (ctx == NULL)
        return;
    statistics_free(ctx);
    mc_app_set_ctx(app, NULL);
}

int main(int argc, char **argv)
{
    /* Port: MOTCUA_STATISTICS_PORT, else mc_service_default_port (8106). */
    const struct mc_service svc = {
        MC_SERVICE_PARTS(statistics),
        .start = statistics_start,
        .stop = statistics_stop,
    };
    return mc_service_main(&svc, argc, argv);
}
