/*
 * GET /dossiers/{id}/contacts: the applicant's e-mail address and phone
 * number, for the platform's notifier (the tracking service) when it sends a
 * citizen a notice. Events carry no contact details; the notifier asks here
 * at send time with its own token and keeps nothing.
 *
 * Read only by machine clients granted `dossier:contacts` that are bound to
 * no agency (a platform service); an agency's system or a person reads the
 * dossier itself, with the dossier's own access rules.
 */
#include "dossier.h"
#include "store.h"

#define CONTACTS_SCOPE "dossier:contacts"

struct contacts_read {
    const char *id;
    struct dossier d;
};

static mc_error load_fn(mc_db_conn *conn, void *arg)
{
    struct contacts_read *r = arg;
    return store_dossier_load(conn, r->id, false, &r->d);
}

/* The string member name of the applicant, or JSON null. */
static json_t *contact_member(const json_t *applicant, const char *name)
{
    const json_t *v = json_object_get(applicant, name);
    return json_is_string(v) && json_string_length(v) > 0 ? json_string(json_string_value(v))
                                                          : json_null();
}

void handle_dossier_contacts(mc_request *req)
{
    const mc_principal *p = &req->principal;
    if (!mc_principal_has_any_role(p, MC_ROLE_SERVICE) || !mc_principal_has_scope(p, CONTACTS_SCOPE) ||
        p->agency[0] != '\0') {
        mc_reply_error(req, MC_ERR_FORBIDDEN,
                       "contact details are read by the platform's notifier (scope dossier:contacts, "
                       "no agency)");
        return;
    }
    struct contacts_read r = {.id = mc_path_param(req, "id")};
    mc_error rc = mc_db_with_conn(mc_request_db(req), load_fn, &r);
    if (rc != MC_OK) {
        mc_reply_error(req, rc, NULL);
        return;
    }
    json_t *body = json_pack("{ss so so ss}", "dossier_id", r.d.id, "email",
                             contact_member(r.d.applicant, "email"), "phone",
                             contact_member(r.d.applicant, "phone"), "language", "vi");
    dossier_clear(&r.d);
    mc_set_header(req, "Cache-Control", "private, no-store");
    mc_reply_json(req, 200, body);
}
