/*
 * Who may see and act on a dossier, and its JSON (dossier.h).
 *
 * Authorisation is decided here, at the data (ARCHITECTURE.md §3): a citizen
 * sees their own dossiers; staff see the dossiers their agency handles (also
 * those transferred to it) and may read, not act on, those their agency
 * transferred away; auditors and system administrators read everything.
 * A machine client is bound like staff, by its token's `agency` claim, and
 * by its scope: with `dossier:payments` it sees the dossiers its agency
 * handles that have (or had) a payment demand, and only their payment view
 * (dossier_payment_json: no documents, no form data, no identity numbers or
 * contact details), and confirms their payments. Anyone else gets a 404 from
 * the handlers, the same as for a dossier that does not exist.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dossier.h"
#include "dossier_event.h"
#include "workflow.h"

#define PAYMENT_SCOPE "dossier:payments"

static bool chain_has(const json_t *chain, const char *agency)
{
    size_t i;
    const json_t *a;
    json_array_foreach(chain, i, a)
    {
        if (json_is_string(a) && strcmp(json_string_value(a), agency) == 0)
            return true;
    }
    return false;
}

/* A payment client (scope dossier:payments) of the agency handling d, and d
   has (or had) a payment demand: a submitted dossier's, or a draft's that was
   submitted to pay first (it has its code: a late payment still submits it).
   A client without an agency sees nothing: the agency claim is what binds
   it, as it binds staff. */
static bool payment_client_may_see(const mc_principal *p, const struct dossier *d)
{
    /* the platform's payment service collects for every agency: no agency claim,
       its own scope (payment-contract.md) */
    bool platform = p->agency[0] == '\0' && mc_principal_has_scope(p, "dossier:payments.all_agencies");
    return (p->roles & MC_ROLE_SERVICE) != 0 && mc_principal_has_scope(p, PAYMENT_SCOPE) &&
           (platform || (p->agency[0] != '\0' && strcmp(p->agency, d->handling_agency) == 0)) &&
           (d->status != DS_DRAFT || d->code[0] != '\0') && d->fee_amount >= 0;
}

unsigned dossier_actors(const mc_request *req, const struct dossier *d, bool *read_only)
{
    *read_only = false;
    if (!req->authenticated)
        return 0;
    const mc_principal *p = &req->principal;
    unsigned actors = 0;
    if ((p->roles & MC_ROLE_CITIZEN) != 0 && d->owner_sub[0] != '\0' &&
        strcmp(d->owner_sub, p->sub) == 0)
        actors |= ACTOR_OWNER;

    /* a citizen's draft, or one waiting for its fee to be paid first, is not
       the agency's yet */
    bool citizen_draft = (d->status == DS_DRAFT || d->status == DS_AWAITING_SUBMISSION_PAYMENT) &&
                         strcmp(d->filed_by_role, "citizen") == 0;
    unsigned staff = p->roles & (MC_ROLE_OFFICER | MC_ROLE_APPROVER | MC_ROLE_AGENCY_ADMIN);
    if (staff != 0 && p->agency[0] != '\0' && !citizen_draft) {
        if (strcmp(p->agency, d->handling_agency) == 0) {
            if ((p->roles & MC_ROLE_OFFICER) != 0)
                actors |= ACTOR_OFFICER;
            if ((p->roles & MC_ROLE_APPROVER) != 0)
                actors |= ACTOR_APPROVER;
            if ((p->roles & MC_ROLE_AGENCY_ADMIN) != 0)
                actors |= ACTOR_AGENCY_ADMIN;
            if (strcmp(d->filed_by_role, "citizen") != 0)
                actors |= ACTOR_COUNTER;
        } else if (chain_has(d->transfer_chain, p->agency)) {
            *read_only = true;
        }
    }
    if (payment_client_may_see(p, d))
        actors |= ACTOR_SERVICE;
    if ((p->roles & (MC_ROLE_AUDITOR | MC_ROLE_SYSTEM_ADMIN)) != 0 && !citizen_draft && actors == 0)
        *read_only = true;
    return actors;
}

void dossier_etag(const struct dossier *d, char *out, size_t len)
{
    mc_etag_for_revision(out, len, "r", d->revision);
}

static json_t *or_null(json_t *v)
{
    return v != NULL ? json_incref(v) : json_null();
}

static json_t *text_or_null(const char *s)
{
    return s[0] != '\0' ? json_string(s) : json_null();
}

static json_t *number_json(double v)
{
    if ((double)(long long)v == v)
        return json_integer((json_int_t)v);
    return json_real(v);
}

static bool is_overdue(const struct dossier *d)
{
    if (d->due_at == 0)
        return false;
    int64_t end = d->decided_at != 0 ? d->decided_at : (int64_t)time(NULL);
    if (!workflow_status_is_open(d->status) && d->decided_at == 0)
        return false;
    return end > d->due_at;
}

static json_t *dates_json(const struct dossier *d)
{
    return json_pack("{so so so so so so so so so so so so}", "created_at",
                     dossier_time_json(d->created_at), "updated_at", dossier_time_json(d->updated_at),
                     "submitted_at", dossier_time_json(d->submitted_at), "received_at",
                     dossier_time_json(d->received_at), "clock_start_at",
                     dossier_time_json(d->clock_start_at), "due_at", dossier_time_json(d->due_at),
                     "appointment_at", dossier_time_json(d->appointment_at), "paused_since",
                     dossier_time_json(d->paused_since), "supplement_due_at",
                     dossier_time_json(d->supplement_due_at), "decided_at",
                     dossier_time_json(d->decided_at), "returned_at", dossier_time_json(d->returned_at),
                     "finished_at", dossier_time_json(d->finished_at));
}

static json_t *procedure_json(const struct dossier *d)
{
    return json_pack("{ss si ss ss ss}", "code", d->procedure_code, "version", d->procedure_version,
                     "name", d->procedure_name, "sector_code", d->sector_code, "case_code",
                     d->case_code);
}

json_t *dossier_to_json(const struct dossier *d)
{
    json_t *j = json_pack(
        "{ss so si ss sI so ss ss ss so s{so ss} ss so so so so s{so so} so so so so so so sb}",
        "id", d->id, "code", text_or_null(d->code), "status", d->status, "status_name",
        workflow_status_name(d->status), "revision", (json_int_t)d->revision, "procedure",
        procedure_json(d), "channel", d->channel, "agency_code", d->agency_code, "handling_agency",
        d->handling_agency, "transfer_chain", or_null(d->transfer_chain), "time_limit", "value",
        number_json(d->limit_value), "unit", d->limit_unit, "supplement_clock",
        d->supplement_clock, "applicant", or_null(d->applicant), "representative",
        or_null(d->representative), "form_data", or_null(d->form_data), "delivery",
        or_null(d->delivery), "processing", "step_index",
        d->step_index >= 0 ? json_integer(d->step_index) : json_null(), "assignee",
        text_or_null(d->assignee_sub), "outcome", text_or_null(d->outcome), "result",
        or_null(d->result), "missing_items", or_null(d->missing_items), "fee_amount",
        d->fee_amount >= 0 ? json_integer((json_int_t)d->fee_amount) : json_null(), "filed_by_role",
        json_string(d->filed_by_role), "dates", dates_json(d), "overdue", is_overdue(d));
    return j;
}

json_t *dossier_summary_json(const struct dossier *d)
{
    return json_pack("{ss so si ss sI s{ss si ss} ss ss ss so so so so sb}", "id", d->id, "code",
                     text_or_null(d->code), "status", d->status, "status_name",
                     workflow_status_name(d->status), "revision", (json_int_t)d->revision,
                     "procedure", "code", d->procedure_code, "version", d->procedure_version,
                     "name", d->procedure_name, "channel", d->channel, "agency_code",
                     d->agency_code, "handling_agency", d->handling_agency, "applicant_name",
                     json_incref(json_object_get(d->applicant, "full_name") != NULL
                                     ? json_object_get(d->applicant, "full_name")
                                     : json_null()),
                     "assignee", text_or_null(d->assignee_sub), "submitted_at",
                     dossier_time_json(d->submitted_at), "due_at", dossier_time_json(d->due_at),
                     "overdue", is_overdue(d));
}

bool dossier_payment_view_only(unsigned actors, bool read_only_agency)
{
    return actors == ACTOR_SERVICE && !read_only_agency;
}

bool dossier_refuse_payment_view(mc_request *req, unsigned actors, bool read_only_agency)
{
    if (!dossier_payment_view_only(actors, read_only_agency))
        return false;
    mc_reply_error(req, MC_ERR_FORBIDDEN,
                   "a payment client reads the payment view of a dossier (GET /dossiers/{id}) "
                   "and confirms its payment, nothing else");
    return true;
}

json_t *dossier_payment_json(const struct dossier *d)
{
    const json_t *name = json_object_get(d->applicant, "full_name");
    return json_pack("{ss so si ss sI s{ss si ss} ss ss so so s{so so so}}", "id", d->id, "code",
                     text_or_null(d->code), "status", d->status, "status_name",
                     workflow_status_name(d->status), "revision", (json_int_t)d->revision,
                     "procedure", "code", d->procedure_code, "version", d->procedure_version,
                     "name", d->procedure_name, "agency_code", d->agency_code, "handling_agency",
                     d->handling_agency, "fee_amount",
                     d->fee_amount >= 0 ? json_integer((json_int_t)d->fee_amount) : json_null(),
                     "applicant_name", json_is_string(name) ? json_incref((json_t *)name) : json_null(),
                     "dates", "submitted_at", dossier_time_json(d->submitted_at), "received_at",
                     dossier_time_json(d->received_at), "paused_since",
                     dossier_time_json(d->paused_since));
}

json_t *dossier_view_json(const struct dossier *d, unsigned actors, bool read_only_agency)
{
    return dossier_payment_view_only(actors, read_only_agency) ? dossier_payment_json(d)
                                                               : dossier_to_json(d);
}

const char *dossier_actor_name(const mc_principal *p)
{
    unsigned staff = MC_ROLE_OFFICER | MC_ROLE_APPROVER | MC_ROLE_AGENCY_ADMIN |
                     MC_ROLE_SYSTEM_ADMIN | MC_ROLE_AUDITOR;
    if ((p->roles & staff) == 0 || (p->roles & MC_ROLE_CITIZEN) != 0 || p->name[0] == '\0')
        return NULL;
    return p->name;
}

void dossier_history_for_viewer(json_t *items, unsigned actors, bool read_only_agency)
{
    if (actors != ACTOR_OWNER || read_only_agency)
        return; /* staff (and auditors) see who acted; the applicant sees the agency */
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item)
    {
        json_object_set_new(json_object_get(item, "actor"), "name", json_null());
    }
}
