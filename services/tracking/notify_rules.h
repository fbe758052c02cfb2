/*
 * Which dossier events a citizen is told about, and what the message says
 * (pure). A kind names the template (notification_templates.kind); a
 * legally required notice (the receipt with its appointment, a supplement
 * request, a refusal, an apology with the new date, a stop) goes by SMS even
 * to a citizen who opted out of SMS; the others respect the opt-out.
 */
#ifndef TRACKING_NOTIFY_RULES_H
#define TRACKING_NOTIFY_RULES_H

#include <jansson.h>
#include <stdbool.h>

struct notify_kind {
    const char *event_type; /* "dossier.dossier.received" */
    const char *kind;       /* "received" */
    bool legally_required;
};

/* The kind for an event type, or NULL when the citizen is not told. */
const struct notify_kind *notify_kind_for_event(const char *event_type);

/* The template variables for an event's data (a new object, caller
   decrefs; NULL when out of memory): code, procedure_code, agency_code,
   status_name, appointment_date and supplement_deadline as dd/mm/yyyy,
   missing_items and reasons joined with "; ", amount as "1.500.000 đồng",
   outcome ("approved", "rejected"). A member absent from the event is null. */
json_t *notify_template_vars(const json_t *event_data);

/* "2026-12-03T17:00:00+07:00" as "03/12/2026" into out (11 bytes); false
   when the text does not start with a date. */
bool notify_format_date(const char *rfc3339, char out[11]);

/* amount VND as "1.500.000 đồng" into out (of out_len bytes). */
void notify_format_amount(long long amount, char *out, size_t out_len);

#endif
