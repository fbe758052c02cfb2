/*
 * The dossier feed consumer (common's motcua/feed_consumer.h): fee demands
 * from `payment_requested` (pay after) and `submission_payment_required`
 * (pay first). Each demand is recorded in the consumer's transaction, with
 * the feed position, so it is recorded exactly once; an event that cannot be
 * a demand (no amount, bad fee items) is logged and skipped, never retried
 * forever.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "motcua/config.h"
#include "motcua/log.h"
#include "payment.h"
#include "payment_rules.h"
#include "store.h"

static mc_error apply(mc_db_conn *conn, const json_t *events, void *arg)
{
    (void)arg;
    size_t i;
    const json_t *event;
    json_array_foreach(events, i, event)
    {
        struct demand d;
        enum demand_read read = demand_from_event(event, &d);
        if (read == DEMAND_INVALID)
            mc_log(MC_LOG_WARNING, NULL, "payment.demand_skipped",
                   "event %s is a fee demand without a usable amount or fee items",
                   json_string_value(json_object_get(event, "id")));
        if (read != DEMAND_OK)
            continue;
        mc_error rc = store_demand_add(conn, &d);
        demand_clear(&d);
        if (rc != MC_OK)
            return rc;
    }
    return MC_OK;
}

/* Events behind the dossier feed's retention are gone: a demand among them
   cannot be rebuilt from the feed. Logged; the dossier service still shows
   the fee, and staff can ask for it again. */
static mc_error resync(mc_db_conn *conn, long long oldest_after, void *arg)
{
    (void)conn;
    (void)arg;
    mc_log(MC_LOG_WARNING, NULL, "payment.feed_gap",
           "dossier events up to %lld were deleted before they were read", oldest_after);
    return MC_OK;
}

static mc_error token(void *arg, bool renew, char *out, size_t len)
{
    struct payment_ctx *ctx = arg;
    if (ctx->token == NULL)
        return MC_ERR_NOT_READY;
    if (renew)
        mc_service_token_invalidate(ctx->token);
    return mc_service_token_get(ctx->token, (int64_t)time(NULL), out, len);
}

mc_feed_consumer *payment_demands_start(struct payment_ctx *ctx, const char *conninfo)
{
    char url[PAYMENT_URL_MAX + 32];
    snprintf(url, sizeof url, "%s/api/v1/events/dossier", ctx->dossier_url);
    unsigned poll_ms = 1000;
    if (!mc_config_uint("payment", "FEED_POLL_MS", 1000, 50, 60000, &poll_ms))
        return NULL;
    mc_feed_consumer_config cfg = {
        .feed = "dossier",
        .url = url,
        .db = ctx->db,
        .conninfo = conninfo,
        .schema = "payment",
        .poll_ms = poll_ms,
        .token = token,
        .apply = apply,
        .resync = resync,
        .ctx = ctx,
    };
    return mc_feed_consumer_start(&cfg);
}
