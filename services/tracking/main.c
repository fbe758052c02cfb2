/*
 * motcua-tracking: the dossier feed projected into timelines, the public
 * lookup by dossier code, the signed-in timeline (docs/services/tracking.md).
 *
 * Everything generic is common's mc_service_main; this file reads the
 * service's own settings and starts the dossier feed consumer.
 */
#include <stdlib.h>
#include <string.h>

#include "motcua/config.h"
#include "motcua/log.h"
#include "motcua/lookup_factor.h"
#include "public_cards.h"
#include "rate_limit.h"
#include "tracking.h"

MC_SERVICE_EMBEDDED(tracking); /* services/tracking/meson.build */

struct tracking_ctx *tracking_ctx(const mc_request *req)
{
    return mc_request_service_ctx(req);
}

/* The card listener's callbacks (card_cache.h): a changed dossier's card
   goes; while not listening, no card is trusted, and none kept from before. */
static void card_changed(const char *code, void *p)
{
    struct tracking_ctx *ctx = p;
    card_cache_invalidate(ctx->cards, code);
}

static void cards_reset(bool listening, void *p)
{
    struct tracking_ctx *ctx = p;
    atomic_store(&ctx->cards_trusted, false);
    card_cache_clear(ctx->cards);
    atomic_store(&ctx->cards_trusted, listening);
}

static void ctx_free(struct tracking_ctx *ctx)
{
    if (ctx == NULL)
        return;
    public_cards_refresher_stop(ctx->card_refresher);
    mc_invalidation_listener_stop(ctx->card_listener);
    card_cache_free(ctx->cards);
    mc_feed_consumer_stop(ctx->dossier_feed);
    webhook_workers_stop(ctx->webhook_workers);
    notify_workers_stop(ctx->notify_workers);
    mc_service_token_free(ctx->service_token);
    tracking_rate_limits_free(ctx->limits);
    memset(ctx->lookup_key, 0, sizeof ctx->lookup_key);
    free(ctx);
}

static mc_error tracking_start(mc_app *app)
{
    const char *svc = "tracking";
    struct tracking_ctx *ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL)
        return MC_ERR_INTERNAL;
    bool key_configured = false;
    if (!mc_lookup_key_load(svc, ctx->lookup_key, &ctx->lookup_key_len, &key_configured)) {
        if (key_configured) {
            ctx_free(ctx);
            return MC_ERR_INTERNAL;
        }
        mc_log(MC_LOG_WARNING, NULL, "config.missing",
               "no LOOKUP_KEY_FILE: the lookup accepts no second factor and short links are off");
    }
    lookup_key_id(ctx->lookup_key, ctx->lookup_key_len, ctx->key_id);
    unsigned per_address = 30, per_code = 10, window = 60, feed_enabled = 1, card_entries = 100000;
    bool ok = mc_config_uint(svc, "CARD_CACHE_ENTRIES", 100000, 0, 10000000, &card_entries) &&
              mc_config_uint(svc, "LOOKUP_LIMIT_PER_ADDRESS", 30, 1, 1000000, &per_address) &&
              mc_config_uint(svc, "LOOKUP_LIMIT_PER_CODE", 10, 1, 1000000, &per_code) &&
              mc_config_uint(svc, "LOOKUP_LIMIT_WINDOW_SECONDS", 60, 1, 3600, &window) &&
              mc_config_uint(svc, "FEED_ENABLED", 1, 0, 1, &feed_enabled);
    ctx->limits = ok ? tracking_rate_limits_new(per_address, per_code, window) : NULL;
    if (ctx->limits == NULL) {
        ctx_free(ctx);
        return MC_ERR_INTERNAL;
    }
    if (!notify_settings_load(&ctx->notify) || !webhook_settings_load(&ctx->webhooks)) {
        ctx_free(ctx);
        return MC_ERR_INTERNAL;
    }
    if (card_entries > 0) {
        ctx->cards = card_cache_new(card_entries);
        ctx->card_listener =
            ctx->cards != NULL ? mc_invalidation_listen(mc_config_str(svc, "DATABASE_URL", NULL), svc,
                                                        card_changed, cards_reset, ctx)
                               : NULL;
        if (ctx->card_listener == NULL) {
            mc_log(MC_LOG_ERROR, NULL, "tracking.card_cache", "cannot start the card cache");
            ctx_free(ctx);
            return MC_ERR_INTERNAL;
        }
    }
    mc_app_set_ctx(app, ctx);
    /* Webhook deliveries need no token: they run whatever the feed does; nor
       does rebuilding the stored public cards. */
    ctx->webhook_workers = webhook_workers_start(mc_app_db(app), &ctx->webhooks);
    ctx->card_refresher = public_cards_refresher_start(mc_app_db(app), ctx);
    if (ctx->webhook_workers == NULL || ctx->card_refresher == NULL) {
        mc_app_set_ctx(app, NULL);
        ctx_free(ctx);
        return MC_ERR_INTERNAL;
    }
    if (feed_enabled == 0) {
        mc_log(MC_LOG_WARNING, NULL, "config", "FEED_ENABLED=0: the dossier feed is not consumed");
        return MC_OK;
    }
    bool has_client = false;
    ctx->service_token = mc_service_token_from_config(svc, &has_client);
    if (ctx->service_token == NULL) {
        if (!has_client)
            mc_log(MC_LOG_ERROR, NULL, "config.missing",
                   "no CLIENT_ID: the dossier feed needs the service's machine client "
                   "(scope dossier:events)");
        mc_app_set_ctx(app, NULL);
        ctx_free(ctx);
        return MC_ERR_INTERNAL;
    }
    /* Notifications read the applicant's contact details with the same
       machine client (scope dossier:contacts). */
    ctx->notify_workers = notify_workers_start(mc_app_db(app), ctx->service_token, &ctx->notify);
    if (ctx->notify_workers == NULL || tracking_feed_start(ctx, mc_app_db(app)) != MC_OK) {
        mc_app_set_ctx(app, NULL);
        ctx_free(ctx);
        return MC_ERR_INTERNAL;
    }
    return MC_OK;
}

static void tracking_stop(mc_app *app)
{
    ctx_free(mc_app_ctx(app));
    mc_app_set_ctx(app, NULL);
}

int main(int argc, char **argv)
{
    /* Port: MOTCUA_TRACKING_PORT, else mc_service_default_port (8104). */
    const struct mc_service svc = {
        MC_SERVICE_PARTS(tracking),
        .start = tracking_start,
        .stop = tracking_stop,
    };
    return mc_service_main(&svc, argc, argv);
}
