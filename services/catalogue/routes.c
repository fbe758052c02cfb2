/*
 * The catalogue's route table: every route of docs/services/catalogue.md,
 * with who may call it and how its body is treated. Common's dispatcher
 * authenticates (401 auth.unauthenticated, 403 auth.forbidden by role),
 * parses JSON bodies strictly and honours Idempotency-Key from these flags;
 * finer checks (an agency_admin's subtree) happen in the handlers and store.
 *
 * When two patterns match a path, the one with more literal segments wins,
 * so /calendar/due-date is not taken for /calendar/{year}.
 */
#include "catalogue.h"

#define API "/api/v1"
#define PUBLIC MC_AUTH_NONE, 0
#define SYSTEM_ADMIN MC_AUTH_REQUIRED, MC_ROLE_SYSTEM_ADMIN
#define ADMINS MC_AUTH_REQUIRED, MC_ROLE_SYSTEM_ADMIN | MC_ROLE_AGENCY_ADMIN
#define BODY MC_ROUTE_JSON_BODY
#define CREATE (MC_ROUTE_JSON_BODY | MC_ROUTE_IDEMPOTENT)
/* Public reads whose answer is the same for every caller, served from the
   response cache (never the versions routes: drafts there are shown to
   writers only). */
#define CACHED MC_ROUTE_CACHEABLE

const struct mc_route catalogue_routes[] = {
    {"GET", API "/sectors", handle_sectors_list, PUBLIC, CACHED},
    {"POST", API "/sectors", handle_sector_create, SYSTEM_ADMIN, CREATE},
    {"GET", API "/sectors/{code}", handle_sector_get, PUBLIC, CACHED},
    {"PUT", API "/sectors/{code}", handle_sector_update, SYSTEM_ADMIN, BODY},

    {"GET", API "/agencies", handle_agencies_list, PUBLIC, CACHED},
    {"POST", API "/agencies", handle_agency_create, ADMINS, CREATE},
    {"GET", API "/agencies/{code}", handle_agency_get, PUBLIC, CACHED},
    {"PUT", API "/agencies/{code}", handle_agency_update, ADMINS, BODY},

    {"GET", API "/procedures", handle_procedures_search, PUBLIC, CACHED},
    {"POST", API "/procedures", handle_procedure_create, ADMINS, CREATE},
    {"GET", API "/procedures/{code}", handle_procedure_get, PUBLIC, CACHED},
    {"GET", API "/procedures/{code}/versions", handle_procedure_versions_list, PUBLIC, 0},
    {"GET", API "/procedures/{code}/versions/{version}", handle_procedure_version_get, PUBLIC, 0},
    {"GET", API "/procedures/{code}/draft", handle_procedure_draft_get, ADMINS, 0},
    {"PUT", API "/procedures/{code}/draft", handle_procedure_draft_put, ADMINS, BODY},
    {"DELETE", API "/procedures/{code}/draft", handle_procedure_draft_delete, ADMINS, 0},
    {"POST", API "/procedures/{code}/publish", handle_procedure_publish, ADMINS, 0},

    {"GET", API "/calendar/due-date", handle_calendar_due_date, PUBLIC, CACHED},
    {"GET", API "/calendar/{year}", handle_calendar_year_get, PUBLIC, CACHED},
    {"PUT", API "/calendar/days/{date}", handle_calendar_day_put, SYSTEM_ADMIN, BODY},
    {"DELETE", API "/calendar/days/{date}", handle_calendar_day_delete, SYSTEM_ADMIN, 0},

    {"GET", API "/synonyms", handle_synonyms_list, SYSTEM_ADMIN, 0},
    {"GET", API "/synonyms/{phrase}", handle_synonym_get, SYSTEM_ADMIN, 0},
    {"PUT", API "/synonyms/{phrase}", handle_synonym_put, SYSTEM_ADMIN, BODY},
    {"DELETE", API "/synonyms/{phrase}", handle_synonym_delete, SYSTEM_ADMIN, 0},
};

const size_t catalogue_routes_count = sizeof catalogue_routes / sizeof catalogue_routes[0];
