/*
 * Structured logs: one JSON object per line through yder.
 *
 * Every line carries the service name, a level, an event name and, when the
 * line belongs to a request, the request id. Callers must never pass personal
 * data (ID numbers, phone numbers, names) as fields.
 */
#ifndef MOTCUA_LOG_H
#define MOTCUA_LOG_H

#include <jansson.h>

typedef enum { MC_LOG_ERROR, MC_LOG_WARNING, MC_LOG_INFO, MC_LOG_DEBUG } mc_log_level;

/* Initialise yder for this process; level from "error"/"warning"/"info"/"debug". */
void mc_log_init(const char *service, const char *level);
void mc_log_close(void);
/* Log an event. `fields` (may be NULL) is stolen: decref'd by this call. */
void mc_log_event(mc_log_level level, const char *request_id, const char *event, json_t *fields);
/* Convenience: an event with a printf-style "message" field. */
void mc_log(mc_log_level level, const char *request_id, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
