/*
 * The tracking service's route table. The public lookup needs no token (a
 * token, if sent, is still verified); the signed-in timeline checks who may
 * see the dossier at the data (handle_dossiers.c), with the dossier
 * service's rules.
 */
#include "tracking.h"

#define API "/api/v1/tracking"
#define PUBLIC MC_AUTH_NONE, 0
#define SIGNED_IN MC_AUTH_REQUIRED, 0
#define WEBHOOK_OWNERS MC_AUTH_REQUIRED, MC_ROLE_AGENCY_ADMIN | MC_ROLE_SERVICE

const struct mc_route tracking_routes[] = {
    /* Timelines and the public lookup (handle_dossiers.c). */
    {"GET", API "/dossiers/{code}", handle_tracking_dossier_card, PUBLIC, 0},
    {"GET", API "/dossiers/{code}/timeline", handle_tracking_dossier_timeline, SIGNED_IN, 0},
    {"GET", API "/short/{short}", handle_tracking_short_link, PUBLIC, 0},
    /* The inbox of whoever is signed in (handle_notifications.c). */
    {"GET", API "/notifications", handle_notifications_list, SIGNED_IN, 0},
    {"POST", API "/notifications/{id}/read", handle_notification_read, SIGNED_IN, 0},
    {"GET", API "/notification-preferences", handle_notification_preferences_get, SIGNED_IN, 0},
    {"PUT", API "/notification-preferences", handle_notification_preferences_put, SIGNED_IN,
     MC_ROUTE_JSON_BODY},
    /* Webhooks: an agency's administrators and machine clients with scope
       tracking:webhooks, for their own agency (handle_webhooks.c). */
    /* No Idempotency-Key: a replayed answer would have to keep the secret. */
    {"POST", API "/webhooks", handle_webhook_create, WEBHOOK_OWNERS, MC_ROUTE_JSON_BODY},
    {"GET", API "/webhooks", handle_webhooks_list, WEBHOOK_OWNERS, 0},
    {"GET", API "/webhooks/{id}", handle_webhook_get, WEBHOOK_OWNERS, 0},
    {"DELETE", API "/webhooks/{id}", handle_webhook_delete, WEBHOOK_OWNERS, 0},
    {"POST", API "/webhooks/{id}/rotate-secret", handle_webhook_rotate_secret, WEBHOOK_OWNERS, 0},
    {"POST", API "/webhooks/{id}/enable", handle_webhook_enable, WEBHOOK_OWNERS, 0},
    {"GET", API "/webhooks/{id}/deliveries", handle_webhook_deliveries, WEBHOOK_OWNERS, 0},
    {"POST", API "/webhooks/{id}/deliveries/{delivery_id}/redeliver", handle_webhook_redeliver,
     WEBHOOK_OWNERS, 0},
};

const size_t tracking_routes_count = sizeof tracking_routes / sizeof tracking_routes[0];
