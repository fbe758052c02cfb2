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

/* POST /personal-id-reclaims body, bound by reclaim_fields. */
struct reclaim_body {
    const char *personal_id, *reason;
};

static const struct mc_field reclaim_fields[] = {
    {.name = "personal_id", .type = MC_F_STRING, .required = true, .max_len = 12,
     MC_BIND(struct reclaim_body, personal_id)},
    {.name = "reason", .type = MC_F_STRING, .required = true, .min_len = 1, .max_len = 500,
     MC_BIND(struct reclaim_body, reason)},
    {0}};

/* The reclaim, its revocations and audit events, and the answer recorded
   for the request's Idempotency-Key: one attempt of an audited write
   (identity_run_audited_write fills who and frees an earlier attempt's out). */
struct reclaim {
    mc_request *req;
    const char *personal_id, *masked_id, *reason, *staff_agency;
    struct store_who who;
    json_t *out;
};

static mc_error reclaim_tx(mc_db_conn *conn, void *p)
{
    struct reclaim *t = p;
    mc_error rc = store_personal_id_reclaim(conn, t->personal_id, t->masked_id, t->reason,
                                            t->staff_agency, &t->who, &t->out);
    return rc == MC_OK ? mc_idempotency_record(t->req, conn, 201, t->out, NULL, NULL) : rc;
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
    struct reclaim_body body = {0};
    mc_json_parse_fields(req->body, reclaim_fields, "", errors, &body);
    const char *pid = body.personal_id;
    const char *reason = body.reason;
    const char *code = NULL, *msg = NULL;
    if (pid != NULL && (msg = identity_check_personal_id(pid, NULL, &code)) != NULL)
        mc_errors_add(errors, "/personal_id", code, msg);
    if (reason != NULL && strspn(reason, " \t\r\n") == strlen(reason) && reason[0] != '\0')
        mc_errors_add(errors, "/reason", "blank", "must not be blank");
    if (!identity_no_errors(req, errors))
        return;
    char masked[16];
    identity_mask_personal_id(pid, masked, sizeof masked);
    struct reclaim t = {.req = req,
                        .personal_id = pid,
                        .masked_id = masked,
                        .reason = reason,
                        .staff_agency = who_p->agency};
    mc_error rc = identity_run_audited_write(req, reclaim_tx, &t, &t.who, &t.out);
    if (rc != MC_OK) {
        mc_reply_error(req, rc,
                       rc == MC_ERR_IDENTITY_ACCOUNT_NOT_FOUND
                           ? "no account holds this personal id: the owner can register"
                           : NULL);
        return;
    }
    mc_reply_created(req, t.out, NULL, NULL);
}
