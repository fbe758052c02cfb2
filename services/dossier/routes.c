/*
 * The dossier service's route table. Common's dispatcher authenticates and
 * parses JSON bodies; who may see a dossier and who may act on it is decided
 * at the data (dossier_view.c, workflow.c), so most routes only require a
 * token here.
 */
#include "dossier.h"

#define API "/api/v1"
#define ANY MC_AUTH_REQUIRED, 0
#define FILERS MC_AUTH_REQUIRED, MC_ROLE_CITIZEN | MC_ROLE_OFFICER | MC_ROLE_AGENCY_ADMIN
/* Lists are per agency or per citizen: a machine client (even one that may
   confirm payments) has no inbox, so it may not list any agency's dossiers. */
#define LISTERS                                                                                   \
    MC_AUTH_REQUIRED, MC_ROLE_CITIZEN | MC_ROLE_OFFICER | MC_ROLE_APPROVER | MC_ROLE_AGENCY_ADMIN | \
                          MC_ROLE_AUDITOR | MC_ROLE_SYSTEM_ADMIN
/* Machine clients further need the scope dossier:events (handle_events.c). */
#define FEED_READERS MC_AUTH_REQUIRED, MC_ROLE_SYSTEM_ADMIN | MC_ROLE_AUDITOR | MC_ROLE_SERVICE
#define BODY MC_ROUTE_JSON_BODY
#define IDEMPOTENT MC_ROUTE_IDEMPOTENT

const struct mc_route dossier_routes[] = {
    {"POST", API "/dossiers", handle_dossier_create, FILERS, BODY | IDEMPOTENT},
    {"GET", API "/dossiers", handle_dossiers_list, LISTERS, 0},
    {"GET", API "/dossiers/{id}", handle_dossier_get, ANY, 0},
    {"PATCH", API "/dossiers/{id}", handle_dossier_update, ANY, BODY},
    {"POST", API "/dossiers/{id}/submit", handle_dossier_submit, ANY, BODY | IDEMPOTENT},
    {"GET", API "/dossiers/{id}/actions", handle_dossier_actions_list, ANY, 0},
    {"POST", API "/dossiers/{id}/actions/{action}", handle_dossier_action, ANY, BODY | IDEMPOTENT},
    {"GET", API "/dossiers/{id}/history", handle_dossier_history, ANY, 0},
    {"GET", API "/dossiers/{id}/documents", handle_documents_list, ANY, 0},
    {"PUT", API "/dossiers/{id}/documents/{slot}", handle_document_upload, ANY, MC_ROUTE_UPLOAD},
    {"GET", API "/dossiers/{id}/documents/{slot}/content", handle_document_content, ANY, 0},
    {"PUT", API "/dossiers/{id}/evaluation", handle_evaluation_put, ANY, BODY},
    {"GET", API "/dossiers/{id}/evaluation", handle_evaluation_get, ANY, 0},
    {"GET", API "/events/dossier", handle_dossier_event_feed, FEED_READERS, 0},
    /* The platform's notifier only (scope dossier:contacts, handle_contacts.c). */
    {"GET", API "/dossiers/{id}/contacts", handle_dossier_contacts, MC_AUTH_REQUIRED, MC_ROLE_SERVICE, 0},
};

const size_t dossier_routes_count = sizeof dossier_routes / sizeof dossier_routes[0];
