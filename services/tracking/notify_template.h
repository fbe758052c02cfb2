/*
 * Citizen notification templates (pure). Templates are data (the table
 * tracking.notification_templates: one row per kind and language, and rows
 * an agency adds to override the wording for its dossiers); this file picks
 * the row that applies and fills in its {{placeholders}}.
 */
#ifndef TRACKING_NOTIFY_TEMPLATE_H
#define TRACKING_NOTIFY_TEMPLATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define NOTIFY_DEFAULT_LANG "vi"

struct notify_template {
    const char *agency_code; /* "" for the default wording */
    const char *lang;        /* "vi", "en" */
    const char *subject;     /* e-mail subject and inbox title */
    const char *body;        /* e-mail and inbox text */
    const char *sms;         /* the SMS text (short, no diacritics needed) */
};

/* The template for a dossier of agency in language lang among n
   candidates (all of one kind): the agency's own in lang, else the agency's
   own in Vietnamese, else the default in lang, else the default in
   Vietnamese; NULL when none fits. Points into candidates. */
const struct notify_template *notify_template_choose(const struct notify_template *candidates, size_t n,
                                                     const char *agency, const char *lang);

/* text with each {{name}} replaced by vars' member name (a string as is, an
   integer in decimal, null as ""). A new malloc'd string (caller frees), or
   NULL when a placeholder is unterminated or names no member of vars (its
   name copied into bad, of bad_len bytes), or out of memory. */
char *notify_render(const char *text, const json_t *vars, char *bad, size_t bad_len);

#endif
