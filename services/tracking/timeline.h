/*
 * What a dossier event says to a citizen (pure, no I/O): the statuses and
 * steps in plain Vietnamese and English, the public card's state, the step
 * an event adds to the timeline and what is asked of the applicant. Input
 * is the `data` of a dossier.dossier.* event (services/dossier/dossier_event.c);
 * only the members named here are kept, so nothing about officers (the
 * assignee, the actor's name) ever reaches the projection.
 */
#ifndef TRACKING_TIMELINE_H
#define TRACKING_TIMELINE_H

#include <jansson.h>
#include <stdbool.h>

#define TRACKING_EVENT_PREFIX "dossier.dossier."

/* The labels of a national status code (1..10, DOMAIN.md §3); false for
   another code. */
bool timeline_status_labels(int status, const char **vi, const char **en);

/* The step labels of an event type ("dossier.dossier.received"); false when
   the type makes no step (overdue and due-soon flags, evaluations, unknown
   types). */
bool timeline_step_labels(const char *type, const char **vi, const char **en);

/* {code, name, label_vi, label_en} of a status (new reference; NULL for an
   unknown code). */
json_t *timeline_status_json(int status, const char *name);

/* The public card's state after the event with `data` (new reference):
   code, status, procedure, agencies, channel, dates, outcome, updated_at.
   NULL when data lacks what a card needs (code, a known status, agencies). */
json_t *timeline_card(const json_t *data);

/* What is asked of the applicant after the event (new reference): the
   missing items and the supplement deadline while a supplement is
   requested (status 5), the fee while payment is awaited (status 6), else
   nulls. `previous` (may be NULL) is the last state: a later event that
   leaves status 5 in place keeps its deadline. */
json_t *timeline_asked(const char *type, const json_t *data, const json_t *previous);

/* The timeline step of an event of `type` with `data` (new reference), or
   NULL when the type makes no step. `previous_card` (may be NULL) is the
   card before the event: a changed appointment date is shown with the
   previous one. */
json_t *timeline_step(const char *type, const json_t *data, const json_t *previous_card);

/* A step as the public card shows it, without what only the applicant may
   see (reasons, missing items, deadline, fee): a new reference. */
json_t *timeline_step_public(const json_t *step);

#endif
