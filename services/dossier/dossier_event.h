/*
 * What the dossier's events and history rows say (domain, pure): the event
 * payload every dossier.dossier.* event carries, and times as JSON. The
 * public view of a dossier (dossier_view.c) is presentation and is not used
 * here: an event keeps its shape when the API's view changes.
 */
#ifndef DOSSIER_EVENT_H
#define DOSSIER_EVENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dossier.h"

/* The key of the applicant's lookup factors (motcua/lookup_factor.h), set
   once at start before any event is made (main.c); the bytes are copied.
   Without it the events carry no factor hashes. */
void dossier_event_set_lookup_key(const unsigned char *key, size_t len);

/* The public lookup's part of the applicant (new reference): the masked
   name and the keyed hashes of the ID number and of the phone's last 4
   digits, each null when the applicant gave none (or no key is set). */
json_t *dossier_event_applicant_lookup(const json_t *applicant);

/* RFC 3339 at +07:00, or JSON null for 0 (new reference). */
json_t *dossier_time_json(int64_t t);

/* The payload of an event about d (new reference): what consumers need
   without calling back. `from` is the status before the action, `reasons`
   the action's reasons (or NULL), `details` what the action tells (may be
   empty or NULL). */
json_t *dossier_event_data(const struct dossier *d, const char *action, int from, const char *role,
                           const json_t *reasons, const json_t *details, int64_t now);

/* Do events of `action` tell the dossier's document counts (receive: were
   the documents digitised; approve, reject: was the result issued as a
   file)? The others carry `document_counts` null. */
bool dossier_event_tells_documents(const char *action);

/* Set data's `document_counts` to {application, supplement, result}: the
   dossier's current files of each kind (counts only, never names). */
void dossier_event_set_document_counts(json_t *data, long long application, long long supplement,
                                       long long result);

#endif
