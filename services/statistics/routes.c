/*
 * The statistics service's route table. The reports are public routes: the
 * province's summary is published by portals, and who may see more (an
 * agency's detail, the dossiers behind a number) is decided by the handler
 * from the token, when one is sent (handle_reports.c).
 */
#include "statistics.h"

#define API "/api/v1/statistics"
#define PUBLIC MC_AUTH_NONE, 0

const struct mc_route statistics_routes[] = {
    {"GET", API "/reports/06a", handle_report_06a, PUBLIC, 0},
    {"GET", API "/reports/06a/dossiers", handle_report_06a_dossiers, MC_AUTH_REQUIRED, 0, 0},
    {"GET", API "/indicators/766", handle_indicators_766, PUBLIC, 0},
    {"GET", API "/series", handle_series, PUBLIC, 0},
};

const size_t statistics_routes_count = sizeof statistics_routes / sizeof statistics_routes[0];
