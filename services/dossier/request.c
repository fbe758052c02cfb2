/* Helpers shared by the dossier handlers (request.h). No SQL: loading goes
   through the store. */
#include "request.h"

#include <string.h>

#include "motcua/catalogue_client.h"
#include "motcua/json_spec.h"
#include "store.h"

struct dossier_ctx *dossier_ctx(const mc_request *req)
{
    return mc_request_service_ctx(req);
}

const char *dossier_check_not_blank(const json_t *value, const char **code)
{
    const char *s = json_string_value(value);
    if (s != NULL && strspn(s, " \t\r\n") == strlen(s)) {
        *code = "blank";
        return "must not be blank";
    }
    return NULL;
}

const json_t *dossier_find_case(const json_t *procedure, const char *case_code)
{
    const json_t *cases = json_object_get(procedure, "cases");
    if (case_code == NULL)
        return json_array_get(cases, 0);
    size_t i;
    const json_t *c;
    json_array_foreach(cases, i, c)
    {
        if (strcmp(mc_json_str(c, "code", ""), case_code) == 0)
            return c;
    }
    return NULL;
}

const json_t *dossier_check_procedure_choice(const json_t *procedure, const char *agency,
                                             const char *case_code, const char *channel,
                                             double *limit_value, const char **limit_unit,
                                             json_t *errors)
{
    if (!mc_catalogue_procedure_has_agency(procedure, agency))
        mc_errors_add(errors, "/agency_code", "not_offering",
                      "this agency does not handle this procedure");
    const json_t *the_case = dossier_find_case(procedure, case_code);
    if (the_case == NULL) {
        mc_errors_add(errors, "/case_code", "not_found", "the procedure has no case with this code");
        return NULL;
    }
    mc_time_unit unit;
    mc_error rc = mc_catalogue_time_limit(procedure, mc_json_str(the_case, "code", NULL), channel,
                                          limit_value, &unit);
    if (rc == MC_ERR_CHANNEL_NOT_OFFERED) {
        mc_errors_add(errors, "/channel", "not_offered", "this case is not offered on this channel");
        return NULL;
    }
    if (rc != MC_OK) {
        mc_errors_add(errors, "/procedure_code", "unusable",
                      "the procedure's time limit for this case cannot be read");
        return NULL;
    }
    *limit_unit = mc_time_unit_name(unit);
    return the_case;
}

const char *dossier_primary_role(const mc_principal *p)
{
    static const unsigned order[] = {MC_ROLE_CITIZEN,      MC_ROLE_APPROVER, MC_ROLE_OFFICER,
                                     MC_ROLE_AGENCY_ADMIN, MC_ROLE_SYSTEM_ADMIN, MC_ROLE_AUDITOR,
                                     MC_ROLE_SERVICE};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if ((p->roles & order[i]) != 0)
            return mc_role_name(order[i]);
    return "unknown";
}

void dossier_add_allowed_actions(json_t *body, const struct dossier *d, unsigned actors)
{
    const char *names[32];
    size_t n = workflow_allowed(d->status, actors, names, 32);
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, json_string(names[i]));
    json_object_set_new(body, "allowed_actions", list);
}

struct load_ctx {
    const char *id;
    struct dossier *d;
};

static mc_error load_fn(mc_db_conn *conn, void *arg)
{
    struct load_ctx *l = arg;
    return store_dossier_load(conn, l->id, false, l->d);
}

bool dossier_load_for_request(mc_request *req, struct dossier *d, unsigned *actors,
                              bool *read_only_agency)
{
    struct load_ctx l = {mc_path_param(req, "id"), d};
    memset(d, 0, sizeof *d);
    mc_error rc = l.id != NULL ? mc_db_with_conn(mc_request_db(req), load_fn, &l)
                               : MC_ERR_DOSSIER_NOT_FOUND;
    if (rc != MC_OK) {
        dossier_clear(d);
        mc_reply_error(req, rc, NULL);
        return false;
    }
    *actors = dossier_actors(req, d, read_only_agency);
    if (*actors == 0 && !*read_only_agency) {
        dossier_clear(d);
        mc_reply_error(req, MC_ERR_DOSSIER_NOT_FOUND, NULL);
        return false;
    }
    return true;
}
