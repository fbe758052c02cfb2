/*
 * GET /events/payment: the payment service's event feed (common's
 * mc_handle_event_feed), for the platform's consumers: system
 * administrators, auditors and machine clients granted `payment:events`.
 */
#include "motcua/events.h"
#include "payment.h"

#define EVENTS_SCOPE "payment:events"

void handle_payment_event_feed(mc_request *req)
{
    const mc_principal *p = &req->principal;
    bool platform_client = mc_principal_has_any_role(p, MC_ROLE_SERVICE) &&
                           mc_principal_has_scope(p, EVENTS_SCOPE) && p->agency[0] == '\0';
    if (!mc_principal_has_any_role(p, MC_ROLE_SYSTEM_ADMIN | MC_ROLE_AUDITOR) && !platform_client) {
        mc_reply_error(req, MC_ERR_FORBIDDEN,
                       "the event feed is read by the platform's consumers (scope payment:events, "
                       "no agency), auditors and system administrators");
        return;
    }
    mc_handle_event_feed(req);
}
