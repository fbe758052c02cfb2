/* The per-event dispatcher of the dossier feed (projection.h). */
#include "projection.h"

#include <stdlib.h>
#include <string.h>

#include "card_view.h"
#include "lookup_rules.h"
#include "motcua/calendar.h"
#include "motcua/invalidation.h"
#include "motcua/log.h"
#include "timeline.h"

/* Copy data's string member `name` into out; false when it is not a string
   or does not fit (an empty string is kept as ""). */
static bool copy_member(const json_t *data, const char *name, char *out, size_t len, bool required)
{
    const json_t *v = json_object_get(data, name);
    if (!json_is_string(v)) {
        out[0] = '\0';
        return !required && (v == NULL || json_is_null(v));
    }
    if (json_string_length(v) >= len)
        return false;
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return true;
}

bool projection_dossier_from_event(const char *type, const json_t *data, long long sequence,
                                   const struct tracked_dossier *before, struct tracked_dossier *out)
{
    memset(out, 0, sizeof *out);
    /* The applicant's lookup factors: a masked name and keyed hashes, never
       the values (services/dossier/dossier_event.c). */
    const json_t *lookup = json_object_get(data, "applicant_lookup");
    bool ok = copy_member(data, "dossier_id", out->dossier_id, sizeof out->dossier_id, true) &&
              copy_member(data, "code", out->code, sizeof out->code, true) &&
              copy_member(data, "owner_sub", out->owner_sub, sizeof out->owner_sub, false) &&
              copy_member(data, "agency_code", out->agency_code, sizeof out->agency_code, true) &&
              copy_member(data, "handling_agency", out->handling_agency,
                          sizeof out->handling_agency, true) &&
              copy_member(lookup, "masked_name", out->masked_name, sizeof out->masked_name, false) &&
              copy_member(lookup, "id_number_hash", out->id_hash, sizeof out->id_hash, false) &&
              copy_member(lookup, "phone_last4_hash", out->phone_hash, sizeof out->phone_hash, false);
    const json_t *chain = json_object_get(data, "transfer_chain");
    out->transfer_chain = json_is_array(chain) ? json_incref((json_t *)chain) : json_array();
    out->card = ok ? timeline_card(data) : NULL;
    out->asked = ok ? timeline_asked(type, data, before != NULL ? before->asked : NULL) : NULL;
    out->last_sequence = sequence;
    if (out->card == NULL || out->asked == NULL) {
        tracked_dossier_clear(out);
        return false;
    }
    return true;
}

mc_error projection_store_public_card(mc_db_conn *conn, const struct tracking_ctx *ctx,
                                      const char *dossier_id)
{
    struct tracked_dossier d;
    json_t *steps = NULL;
    mc_error rc = store_dossier_find_id(conn, dossier_id, &d, &steps);
    if (rc != MC_OK)
        return rc;
    char short_code[TRACKING_SHORT_LEN + 1], etag[MC_BODY_ETAG_MAX];
    bool has_short = lookup_short_code(ctx->lookup_key, ctx->lookup_key_len, d.dossier_id, short_code);
    size_t len = 0;
    char *text = card_view_public_text(&d, steps, has_short ? short_code : NULL, &len, etag);
    rc = text != NULL ? store_public_card_put(conn, d.dossier_id, d.last_sequence, text, etag,
                                              ctx->key_id)
                      : MC_ERR_INTERNAL;
    free(text);
    json_decref(steps);
    tracked_dossier_clear(&d);
    return rc;
}

/* Is s a UUID in its text form? (The store casts ids to uuid: a malformed one
   would fail the page's transaction again and again.) */
static bool is_uuid(const char *s)
{
    static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
    if (s == NULL || strlen(s) != sizeof shape - 1)
        return false;
    for (size_t i = 0; shape[i] != '\0'; i++) {
        bool hex = (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
                   (s[i] >= 'A' && s[i] <= 'F');
        if (shape[i] == '-' ? s[i] != '-' : !hex)
            return false;
    }
    return true;
}

/* Log an event the projection skips (no personal data: ids and type only). */
static void skip(const json_t *event, const char *why)
{
    const char *id = json_string_value(json_object_get(event, "id"));
    const char *type = json_string_value(json_object_get(event, "type"));
    const char *seq = json_string_value(json_object_get(event, "sequence"));
    mc_log(MC_LOG_WARNING, NULL, "tracking.event_skipped", "event %.64s (%.80s) at %.24s skipped: %s",
           id != NULL ? id : "?", type != NULL ? type : "?", seq != NULL ? seq : "?", why);
}

mc_error projection_apply_event(mc_db_conn *conn, const json_t *event, struct tracking_ctx *ctx)
{
    struct projection_event ev = {
        .id = json_string_value(json_object_get(event, "id")),
        .type = json_string_value(json_object_get(event, "type")),
        .data = json_object_get(event, "data"),
    };
    const char *seq = json_string_value(json_object_get(event, "sequence"));
    ev.sequence = seq != NULL ? strtoll(seq, NULL, 10) : 0;
    ev.dossier_id = json_string_value(json_object_get(ev.data, "dossier_id"));
    if (ev.id == NULL || ev.type == NULL ||
        strncmp(ev.type, TRACKING_EVENT_PREFIX, strlen(TRACKING_EVENT_PREFIX)) != 0) {
        skip(event, "not a dossier event");
        return MC_OK;
    }
    if (!is_uuid(ev.id) || !is_uuid(ev.dossier_id) ||
        !json_is_string(json_object_get(ev.data, "code"))) {
        skip(event, "no dossier id, event id or code");
        return MC_OK;
    }

    struct tracked_dossier before, after;
    bool found = false;
    mc_error rc = store_dossier_lock(conn, ev.dossier_id, &before, &found);
    if (rc != MC_OK)
        return rc;
    if (found && before.last_sequence >= ev.sequence) {
        tracked_dossier_clear(&before); /* applied already (the position check makes this rare) */
        return MC_OK;
    }
    if (!projection_dossier_from_event(ev.type, ev.data, ev.sequence, found ? &before : NULL,
                                       &after)) {
        if (found)
            tracked_dossier_clear(&before);
        skip(event, "the payload lacks what a card needs");
        return MC_OK;
    }
    char short_code[TRACKING_SHORT_LEN + 1];
    bool has_short = lookup_short_code(ctx->lookup_key, ctx->lookup_key_len, after.dossier_id,
                                       short_code);
    rc = store_dossier_put(conn, &after, has_short ? short_code : NULL);
    /* Every instance drops its cached public card of this dossier when this
       transaction commits (card_cache.h); the old code's too, if it changed. */
    if (rc == MC_OK)
        rc = mc_invalidation_send(conn, "tracking", after.code);
    if (rc == MC_OK && found && before.code[0] != '\0' && strcmp(before.code, after.code) != 0)
        rc = mc_invalidation_send(conn, "tracking", before.code);
    bool is_new = true;
    json_t *step = rc == MC_OK ? timeline_step(ev.type, ev.data, found ? before.card : NULL) : NULL;
    if (step != NULL) {
        /* the event's time, for the lag; one PostgreSQL would refuse is left out */
        const char *time = json_string_value(json_object_get(event, "time"));
        int64_t parsed;
        if (time != NULL && mc_rfc3339_parse(time, &parsed) != 0)
            time = NULL;
        rc = store_step_add(conn, after.dossier_id, ev.sequence, ev.id, time, step, &is_new);
        json_decref(step);
    }
    /* The public card's answer, kept in the row for the lookup (card_view.h):
       rebuilt from the card and the steps this transaction leaves. */
    if (rc == MC_OK)
        rc = projection_store_public_card(conn, ctx, after.dossier_id);
    ev.dossier = &after;
    if (rc == MC_OK && is_new) {
        /* The service's other reactions to a new event: each adds its rows
           on conn, in this transaction, so they commit with the position. */
        rc = notify_on_event(conn, &ev);
        if (rc == MC_OK)
            rc = webhook_on_event(conn, &ev);
    }
    if (found)
        tracked_dossier_clear(&before);
    tracked_dossier_clear(&after);
    return rc;
}
