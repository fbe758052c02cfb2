/*
 * GET /events/dossier: the event feed (common's mc_handle_event_feed), for
 * the platform's consumers only.
 *
 * The feed carries every agency's dossiers (no personal data, but which
 * agency handles what, when, and how late). It is read by system
 * administrators, auditors and machine clients granted `dossier:events` that
 * are bound to no agency (tracking, payment, statistics). An agency's own
 * system (a client with an `agency` claim, such as its payment client) reads
 * its dossiers through the dossiers API, bound to its agency, never the
 * whole feed.
 */
#include "dossier.h"
#include "motcua/events.h"

#define EVENTS_SCOPE "dossier:events"

void handle_dossier_event_feed(mc_request *req)
{
    const mc_principal *p = &req->principal;
    bool platform_client = mc_principal_has_any_role(p, MC_ROLE_SERVICE) &&
                           mc_principal_has_scope(p, EVENTS_SCOPE) && p->agency[0] == '\0';
    if (!mc_principal_has_any_role(p, MC_ROLE_SYSTEM_ADMIN | MC_ROLE_AUDITOR) && !platform_client) {
        mc_reply_error(req, MC_ERR_FORBIDDEN,
                       "the event feed is read by the platform's consumers (scope dossier:events, "
                       "no agency), auditors and system administrators");
        return;
    }
    mc_handle_event_feed(req);
}
