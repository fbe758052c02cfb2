/* An event into the citizen's inbox and the outbox (notify.h), inside the
   projection's transaction. */
#include <stdlib.h>
#include <string.h>

#include "motcua/log.h"
#include "notify.h"
#include "notify_rules.h"
#include "notify_template.h"
#include "projection.h"

/* The candidates of rows (borrowed) as notify_template structs (malloc'd). */
static struct notify_template *candidates_of(const json_t *rows, size_t *n)
{
    *n = json_array_size(rows);
    struct notify_template *c = calloc(*n > 0 ? *n : 1, sizeof *c);
    if (c == NULL)
        return NULL;
    size_t i;
    const json_t *row;
    json_array_foreach (rows, i, row) {
        c[i].agency_code = json_string_value(json_object_get(row, "agency_code"));
        c[i].lang = json_string_value(json_object_get(row, "lang"));
        c[i].subject = json_string_value(json_object_get(row, "subject"));
        c[i].body = json_string_value(json_object_get(row, "body"));
        c[i].sms = json_string_value(json_object_get(row, "sms"));
        if (c[i].agency_code == NULL || c[i].lang == NULL || c[i].subject == NULL ||
            c[i].body == NULL || c[i].sms == NULL) {
            free(c);
            return NULL;
        }
    }
    return c;
}

struct rendered {
    char *title, *body, *sms;
};

static void rendered_free(struct rendered *r)
{
    free(r->title);
    free(r->body);
    free(r->sms);
    memset(r, 0, sizeof *r);
}

/* Fill t with vars; false (logged, without personal data) when t names a
   placeholder that does not exist (an agency's override with a typo). */
static bool render(const struct notify_template *t, const json_t *vars, const char *kind,
                   struct rendered *out)
{
    char bad[64] = "";
    out->title = notify_render(t->subject, vars, bad, sizeof bad);
    out->body = out->title != NULL ? notify_render(t->body, vars, bad, sizeof bad) : NULL;
    out->sms = out->body != NULL ? notify_render(t->sms, vars, bad, sizeof bad) : NULL;
    if (out->sms != NULL)
        return true;
    mc_log(MC_LOG_ERROR, NULL, "tracking.template_invalid",
           "template %s of agency '%s' (%s) has an unknown placeholder '%s'", kind, t->agency_code,
           t->lang, bad);
    rendered_free(out);
    return false;
}

mc_error notify_on_event(mc_db_conn *conn, const struct projection_event *ev)
{
    const struct notify_kind *kind = notify_kind_for_event(ev->type);
    if (kind == NULL)
        return MC_OK;
    json_t *rows = NULL;
    mc_error rc = store_templates_of_kind(conn, kind->kind, &rows);
    if (rc != MC_OK)
        return rc;
    size_t n = 0;
    struct notify_template *candidates = candidates_of(rows, &n);
    json_t *vars = notify_template_vars(ev->data);
    const char *agency = ev->dossier->handling_agency;
    struct rendered text = {0};
    if (candidates == NULL || vars == NULL) {
        rc = MC_ERR_INTERNAL;
    } else {
        /* The agency's wording, else the default one (an agency's broken
           override must not cost the citizen the notice). */
        const struct notify_template *t = notify_template_choose(candidates, n, agency,
                                                                 NOTIFY_DEFAULT_LANG);
        bool ok = t != NULL && render(t, vars, kind->kind, &text);
        if (!ok && t != NULL && t->agency_code[0] != '\0') {
            t = notify_template_choose(candidates, n, "", NOTIFY_DEFAULT_LANG);
            ok = t != NULL && render(t, vars, kind->kind, &text);
        }
        if (!ok) {
            mc_log(MC_LOG_ERROR, NULL, "tracking.template_missing",
                   "no usable template for %s: event %s not notified", kind->kind, ev->id);
        } else {
            struct notification_new nn = {
                .event_id = ev->id,
                .dossier_id = ev->dossier->dossier_id,
                .dossier_code = ev->dossier->code,
                .recipient_sub = ev->dossier->owner_sub[0] != '\0' ? ev->dossier->owner_sub : NULL,
                .agency_code = agency,
                .kind = kind->kind,
                .legally_required = kind->legally_required,
                .title = text.title,
                .body = text.body,
                .sms_text = text.sms,
                .with_deliveries = true,
            };
            bool added = false;
            rc = store_notification_add(conn, &nn, &added);
        }
    }
    rendered_free(&text);
    json_decref(vars);
    free(candidates);
    json_decref(rows);
    return rc;
}
