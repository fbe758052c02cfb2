/* The answers built from the projection (card_view.h). */
#include "card_view.h"

#include "timeline.h"

/* The card's state members copied into an answer. */
static const char *const card_members[] = {"status", "procedure", "agency_code", "handling_agency",
                                           "channel", "submitted_at", "received_at",
                                           "appointment_at", "outcome", "updated_at", NULL};

json_t *card_view_json(const struct tracked_dossier *d, const json_t *steps, bool full,
                       bool applicant, const char *short_code)
{
    json_t *out = json_pack("{ss ss?}", "code", d->code, "short_code", short_code);
    for (size_t i = 0; card_members[i] != NULL; i++) {
        json_t *v = json_object_get(d->card, card_members[i]);
        json_object_set_new(out, card_members[i], v != NULL ? json_incref(v) : json_null());
    }
    json_t *shown = json_array();
    size_t i;
    const json_t *step;
    json_array_foreach(steps, i, step) {
        json_array_append_new(shown, full ? json_incref((json_t *)step) : timeline_step_public(step));
    }
    json_object_set_new(out, "steps", shown);
    json_object_set_new(out, "applicant",
                        applicant ? json_pack("{s:s?}", "masked_name",
                                              d->masked_name[0] != '\0' ? d->masked_name : NULL)
                                  : json_null());
    json_object_set_new(out, "asked", applicant ? json_incref(d->asked) : json_null());
    return out;
}

char *card_view_public_text(const struct tracked_dossier *d, const json_t *steps,
                            const char *short_code, size_t *len, char etag[MC_BODY_ETAG_MAX])
{
    json_t *body = card_view_json(d, steps, false, false, short_code);
    return body != NULL ? mc_json_text_etag(body, len, etag) : NULL;
}
