/* The body an event is delivered as (webhook.h, pure). */
#include <stdlib.h>
#include <string.h>

#include "webhook.h"

/* What an agency's system is told about its dossier: the dossier's state
   and what the step says; never the applicant (no name, no lookup factors,
   no owner account). */
static const char *const shared_members[] = {
    "dossier_id",      "code",          "agency_code",   "handling_agency", "procedure_code",
    "procedure_version", "sector_code", "channel",       "action",          "from_status",
    "to_status",       "status_name",   "due_at",        "appointment_at",  "submitted_at",
    "received_at",     "occurred_at",   "transfer_chain", "outcome",        "reasons",
    "missing_items",   "fee_amount",    NULL,
};

char *webhook_payload(const char *event_id, const char *type, const json_t *data)
{
    json_t *shared = json_object();
    if (shared == NULL)
        return NULL;
    for (size_t i = 0; shared_members[i] != NULL; i++) {
        json_t *v = json_object_get(data, shared_members[i]);
        if (json_object_set_new(shared, shared_members[i], v != NULL ? json_deep_copy(v) : json_null()) !=
            0) {
            json_decref(shared);
            return NULL;
        }
    }
    const json_t *occurred = json_object_get(data, "occurred_at");
    json_t *body = json_pack("{ss ss sO so}", "id", event_id, "type", type, "timestamp",
                             json_is_string(occurred) ? occurred : json_null(), "data", shared);
    char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    return text;
}

bool webhook_event_type_valid(const char *type)
{
    const char *prefix = "dossier.dossier.";
    size_t n = strlen(prefix);
    if (type == NULL || strncmp(type, prefix, n) != 0 || strlen(type) > 64 || type[n] == '\0')
        return false;
    for (const char *c = type + n; *c != '\0'; c++)
        if (!((*c >= 'a' && *c <= 'z') || *c == '_'))
            return false;
    return true;
}
