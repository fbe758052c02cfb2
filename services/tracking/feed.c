/*
 * The dossier feed consumer (common's motcua/feed_consumer.h): the service's
 * own token, each page's events handed one by one to the projection's
 * dispatcher inside the consumer's transaction, and the 410 resync.
 */
#include <stdio.h>
#include <time.h>

#include "motcua/config.h"
#include "motcua/log.h"
#include "projection.h"
#include "store.h"
#include "tracking.h"

static mc_error feed_token(void *p, bool renew, char *out, size_t out_len)
{
    struct tracking_ctx *ctx = p;
    if (renew)
        mc_service_token_invalidate(ctx->service_token);
    return mc_service_token_get(ctx->service_token, (int64_t)time(NULL), out, out_len);
}

static mc_error feed_apply(mc_db_conn *conn, const json_t *events, void *p)
{
    size_t i;
    const json_t *event;
    json_array_foreach(events, i, event) {
        mc_error rc = projection_apply_event(conn, event, p);
        if (rc != MC_OK)
            return rc;
    }
    return MC_OK;
}

/* The events up to oldest_after are gone (the dossier service's retention,
   EVENTS_RETENTION_DAYS, passed while this service was down). Every dossier
   event carries the dossier's whole current state (status, agencies, dates,
   what is asked, the applicant's lookup factors), so the next event of a
   dossier corrects its card whatever was missed; only the missed steps
   cannot be rebuilt (the dossier service's API offers no feed-wide history
   to a machine client). The gap is recorded, and logged, so an operator
   knows which positions were never seen. */
static mc_error feed_resync(mc_db_conn *conn, long long oldest_after, void *p)
{
    (void)p;
    mc_log(MC_LOG_WARNING, NULL, "tracking.feed_gap",
           "dossier feed positions up to %lld expired before they were consumed", oldest_after);
    return store_feed_gap_add(conn, "dossier", oldest_after);
}

mc_error tracking_feed_start(struct tracking_ctx *ctx, mc_db_pool *db)
{
    const char *svc = "tracking";
    char dossier_url[64], feed_url[512];
    mc_service_default_url("dossier", dossier_url, sizeof dossier_url);
    const char *base = mc_config_str(svc, "DOSSIER_URL", dossier_url);
    int n = snprintf(feed_url, sizeof feed_url, "%s/api/v1/events/dossier", base);
    unsigned poll_ms = 200, page_limit = 100;
    if (n < 0 || (size_t)n >= sizeof feed_url ||
        !mc_config_uint(svc, "FEED_POLL_MS", 200, 10, 60000, &poll_ms) ||
        !mc_config_uint(svc, "FEED_PAGE_LIMIT", 100, 1, 1000, &page_limit)) {
        mc_log(MC_LOG_ERROR, NULL, "config.invalid", "DOSSIER_URL, FEED_POLL_MS or FEED_PAGE_LIMIT");
        return MC_ERR_INTERNAL;
    }
    mc_feed_consumer_config cfg = {
        .feed = "dossier",
        .url = feed_url,
        .db = db,
        .conninfo = mc_config_str(svc, "DATABASE_URL", NULL),
        .schema = svc,
        .page_limit = page_limit,
        .poll_ms = poll_ms,
        .token = feed_token,
        .apply = feed_apply,
        .resync = feed_resync,
        .ctx = ctx,
    };
    ctx->dossier_feed = mc_feed_consumer_start(&cfg);
    return ctx->dossier_feed != NULL ? MC_OK : MC_ERR_INTERNAL;
}
