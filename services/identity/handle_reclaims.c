/*
 * POST /api/v1/personal-id-reclaims: give a personal identification number
 * back to its owner when someone else registered an account with it.
 *
 * Until registration proves identity through the national ID service,
 * anyone can register with another person's number, which then blocks the
 * real owner (one account per number). The owner goes to a counter; the
 * officer (or agency administrator, or a system administrator) checks the
 * ID card in person and files this request with the number and why. The
 * account holding the number loses it, is disabled and flagged (reclaimed
 * at/by/why), its sessions and access tokens are revoked, and the audit
 * trail records who did it, from which agency, when and why (the number
 * only masked). The owner can then register. docs/services/identity.md,
 * "Reclaiming a personal id".
 */
#include <string.h>

#include "identity.h"
#include "identity_rules.h"
#include "store.h"

static const struct mc_field reclaim_fields[] = {
    {.name = "personal_id", .type = MC_F_STRING, .required = true, .max_len = 12},
    {.name = "reason", .type = MC_F_STRING, .required = true, .min_len = 1, .max_len = 500},
    {0}};

/* In the reclaim's transaction: the answer, recorded for Idempotency-Key. */
static mc_error reclaimed(mc_db_conn *conn, json_t *reclaim, void *arg)
{
    return mc_idempotency_record(arg, conn, 201, reclaim, NULL, NULL);
}

void handle_personal_id_reclaim(mc_request *req)
{
    const mc_principal *who_p = &req->principal;
    bool platform = mc_principal_has_any_role(who_p, MC_ROLE_SYSTEM_ADMIN);
    if (!platform && who_p->agency[0] == '\0') {
        mc_reply_error(req, MC_ERR_FORBIDDEN, "only staff of an agency reclaim personal ids");
        return;
    }
    json_t *errors = mc_errors_new();
    mc_json_check(req->body, reclaim_fields, "", errors);
    const char *pid = mc_json_str(req->body, "personal_id", NULL);
    const char *reason = mc_json_str(req->body, "reason", NULL);
    const char *code = NULL, *msg = NULL;
    if (pid != NULL && (msg = identity_check_personal_id(pid, NULL, &code)) != NULL)
        mc_errors_add(errors, "/personal_id", code, msg);
    if (reason != NULL && strspn(reason, " \t\r\n") == strlen(reason) && reason[0] != '\0')
        mc_errors_add(errors, "/reason", "blank", "must not be blank");
    if (!identity_no_errors(req, errors))
        return;
    char masked[16], actor[160], address[64];
    identity_mask_personal_id(pid, masked, sizeof masked);
    identity_actor(req, actor, sizeof actor);
    identity_client_address(req, address, sizeof address);
    struct store_who who = {actor, address};
    json_t *out = NULL;
    mc_error rc = store_personal_id_reclaim(mc_request_db(req), pid, masked, reason,
                                            who_p->agency, &who, reclaimed, req, &out);
    if (rc != MC_OK) {
        mc_reply_error(req, rc,
                       rc == MC_ERR_IDENTITY_ACCOUNT_NOT_FOUND
                           ? "no account holds this personal id: the owner can register"
                           : NULL);
        return;
    }
    mc_reply_created(req, out, NULL, NULL);
}
