/*
 * The tracking service: the dossier event feed projected into per-dossier
 * timelines, the public lookup by dossier code and the signed-in timeline
 * (docs/services/tracking.md).
 *
 * Where things are:
 *   main.c                start-up: settings, the feed consumer
 *   routes.c              the route table
 *   feed.c                the dossier feed consumer's callbacks (token, apply, resync)
 *   projection.c          one event into the projection: the per-event dispatcher
 *   timeline.c            what an event says to a citizen: labels, card, step (pure)
 *   lookup_rules.c        dossier codes, short codes, second factors (pure)
 *   handle_dossiers.c     GET /tracking/dossiers/{code}[/timeline], GET /t/{short}
 *   card_cache.c          the public cards kept in memory (pure)
 *   card_view.c           the public card and timeline answers (pure)
 *   public_cards.c        rebuilds the stored public cards (missing, or another key)
 *   rate_limit.c          the in-service rate limits of the public lookup
 *   store_dossiers.c      every SQL statement of the projection
 */
#ifndef TRACKING_H
#define TRACKING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "motcua/feed_consumer.h"
#include "card_cache.h"
#include "lookup_rules.h"
#include "motcua/http.h"
#include "motcua/invalidation.h"
#include "motcua/server.h"
#include "motcua/service_token.h"
#include "notify.h"
#include "webhook.h"

extern const struct mc_route tracking_routes[];
extern const size_t tracking_routes_count;

/* The keyed-hash key of the applicants' second factors (LOOKUP_KEY_FILE),
   shared with the dossier service, which hashes them into its events. */
#define TRACKING_LOOKUP_KEY_MAX 64

struct tracking_rate_limits;

/* What the handlers and the consumer share, set up at start (main.c). */
struct tracking_ctx {
    mc_service_token *service_token;  /* the service's own machine client (dossier:events) */
    mc_feed_consumer *dossier_feed;   /* NULL when FEED_ENABLED=0 */
    unsigned char lookup_key[TRACKING_LOOKUP_KEY_MAX];
    size_t lookup_key_len;
    char key_id[TRACKING_KEY_ID_LEN + 1]; /* lookup_key_id: what stored public cards depend on */
    struct tracking_rate_limits *limits;
    /* Deliveries (notify_worker.c, webhook_worker.c); workers NULL when off. */
    struct notify_settings notify;
    struct webhook_settings webhooks;
    notify_workers *notify_workers;
    webhook_workers *webhook_workers;
    /* The public cards (card_cache.h): NULL when CARD_CACHE_ENTRIES=0. Used
       only while card_listener listens (cards_trusted), since invalidations
       sent while it is away are lost. */
    card_cache *cards;
    mc_invalidation_listener *card_listener;
    atomic_bool cards_trusted;
    /* Rebuilds the stored public cards that are missing or were built with
       another key (public_cards.h); idle once a pass found none. */
    struct public_cards_refresher *card_refresher;
};

struct tracking_ctx *tracking_ctx(const mc_request *req);

/* ---- feed.c ---- */

/* Start the dossier feed consumer (settings in docs/services/tracking.md). */
mc_error tracking_feed_start(struct tracking_ctx *ctx, mc_db_pool *db);

/* ---- handlers ---- */
void handle_tracking_dossier_card(mc_request *req);
void handle_tracking_dossier_timeline(mc_request *req);
void handle_tracking_short_link(mc_request *req);
void handle_notifications_list(mc_request *req);
void handle_notification_read(mc_request *req);
void handle_notification_preferences_get(mc_request *req);
void handle_notification_preferences_put(mc_request *req);
void handle_webhook_create(mc_request *req);
void handle_webhooks_list(mc_request *req);
void handle_webhook_get(mc_request *req);
void handle_webhook_delete(mc_request *req);
void handle_webhook_rotate_secret(mc_request *req);
void handle_webhook_enable(mc_request *req);
void handle_webhook_deliveries(mc_request *req);
void handle_webhook_redeliver(mc_request *req);

#endif
