/* The events' payload and times as JSON (dossier_event.h). */
#include "dossier_event.h"

#include <string.h>

#include "motcua/calendar.h"
#include "motcua/lookup_factor.h"
#include "workflow.h"

static unsigned char lookup_key[MC_LOOKUP_KEY_MAX];
static size_t lookup_key_len;

void dossier_event_set_lookup_key(const unsigned char *key, size_t len)
{
    lookup_key_len = len <= sizeof lookup_key ? len : 0;
    if (lookup_key_len > 0)
        memcpy(lookup_key, key, lookup_key_len);
}

/* The hash of applicant's member `name` as factor `kind`, or null. */
static json_t *factor_hash(const json_t *applicant, const char *name, mc_lookup_factor kind)
{
    char hash[MC_LOOKUP_HASH_LEN + 1];
    const char *value = json_string_value(json_object_get(applicant, name));
    if (lookup_key_len == 0 || value == NULL ||
        !mc_lookup_factor_hash(lookup_key, lookup_key_len, kind, value, hash))
        return json_null();
    return json_string(hash);
}

json_t *dossier_event_applicant_lookup(const json_t *applicant)
{
    char masked[256];
    const char *name = json_string_value(json_object_get(applicant, "full_name"));
    return json_pack("{so so so}", "masked_name",
                     name != NULL && mc_lookup_mask_name(name, masked, sizeof masked)
                         ? json_string(masked)
                         : json_null(),
                     "id_number_hash", factor_hash(applicant, "personal_id", MC_LOOKUP_ID_NUMBER),
                     "phone_last4_hash", factor_hash(applicant, "phone", MC_LOOKUP_PHONE_LAST4));
}

json_t *dossier_time_json(int64_t t)
{
    if (t == 0)
        return json_null();
    char buf[32];
    mc_rfc3339_format(t, DOSSIER_UTC_OFFSET_MIN, buf);
    return json_string(buf);
}

/* v (a new reference), or null when v is NULL. */
static json_t *value_or_null(const json_t *v)
{
    return v != NULL ? json_incref((json_t *)v) : json_null();
}

json_t *dossier_event_data(const struct dossier *d, const char *action, int from, const char *role,
                           const json_t *reasons, const json_t *details, int64_t now)
{
    json_t *data = json_pack(
        "{ss so ss ss ss si ss ss ss si si ss ss so so so so so}", "dossier_id", d->id, "code",
        d->code[0] != '\0' ? json_string(d->code) : json_null(), "agency_code", d->agency_code,
        "handling_agency", d->handling_agency, "procedure_code", d->procedure_code,
        "procedure_version", d->procedure_version, "sector_code", d->sector_code, "channel",
        d->channel, "action", action, "from_status", from, "to_status", d->status, "status_name",
        workflow_status_name(d->status), "actor_role", role, "due_at", dossier_time_json(d->due_at),
        "appointment_at", dossier_time_json(d->appointment_at), "submitted_at",
        dossier_time_json(d->submitted_at), "received_at", dossier_time_json(d->received_at),
        "occurred_at", dossier_time_json(now));
    json_object_set_new(data, "transfer_chain", json_incref(d->transfer_chain));
    /* Every member present, null when it has no value (README, API conventions). */
    json_object_set_new(data, "outcome", d->outcome[0] != '\0' ? json_string(d->outcome) : json_null());
    json_object_set_new(data, "reasons", value_or_null(reasons));
    json_object_set_new(data, "missing_items",
                        value_or_null(d->status == DS_SUPPLEMENT_REQUESTED ? d->missing_items : NULL));
    json_object_set_new(data, "fee_amount",
                        d->fee_amount >= 0 ? json_integer((json_int_t)d->fee_amount) : json_null());
    json_object_set_new(data, "details", value_or_null(json_object_size(details) > 0 ? details : NULL));
    json_object_set_new(data, "document_counts", json_null()); /* dossier_event_set_document_counts */
    /* For the tracking and payment services: who may read the timeline and
       pay (the owning citizen's account), the procedure's name for the public
       card, and the lookup's factors (hashed, never raw). */
    json_object_set_new(data, "owner_sub", d->owner_sub[0] != '\0' ? json_string(d->owner_sub) : json_null());
    json_object_set_new(data, "procedure_name", json_string(d->procedure_name));
    json_object_set_new(data, "applicant_lookup", dossier_event_applicant_lookup(d->applicant));
    return data;
}

bool dossier_event_tells_documents(const char *action)
{
    return strcmp(action, "receive") == 0 || strcmp(action, "approve") == 0 ||
           strcmp(action, "reject") == 0;
}

void dossier_event_set_document_counts(json_t *data, long long application, long long supplement,
                                       long long result)
{
    json_object_set_new(data, "document_counts",
                        json_pack("{sI sI sI}", "application", (json_int_t)application, "supplement",
                                  (json_int_t)supplement, "result", (json_int_t)result));
}
