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

const struct mc_route tracking_routes[] = {
    /* Timelines and the public lookup (handle_dossiers.c). */
    {"GET", API "/dossiers/{code}", handle_tracking_dossier_card, PUBLIC, 0},
    {"GET", API "/dossiers/{code}/timeline", handle_tracking_dossier_timeline, SIGNED_IN, 0},
    {"GET", API "/short/{short}", handle_tracking_short_link, PUBLIC, 0},
    /* Notifications and webhooks: add their routes below. */
};

const size_t tracking_routes_count = sizeof tracking_routes / sizeof tracking_routes[0];
