/*
 * JSON-lines logging through yder. One line per event; the service name and
 * level on every line; the request id when there is one.
 */
#include "motcua/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <yder.h>

static char log_service[64] = "motcua";
static mc_log_level log_threshold = MC_LOG_INFO;

static void write_line(void *cls, const char *app_name, const time_t date, const unsigned long level,
                       const char *message)
{
    (void)cls;
    (void)app_name;
    (void)date;
    (void)level;
    /* One fputs per line: stdio locks the stream, so lines from concurrent
       threads do not interleave. */
    flockfile(stderr);
    fputs(message, stderr);
    fputc('\n', stderr);
    funlockfile(stderr);
}

void mc_log_init(const char *service, const char *level)
{
    snprintf(log_service, sizeof log_service, "%s", service);
    unsigned long ylevel = Y_LOG_LEVEL_INFO;
    log_threshold = MC_LOG_INFO;
    if (level != NULL) {
        if (strcmp(level, "error") == 0) {
            log_threshold = MC_LOG_ERROR;
            ylevel = Y_LOG_LEVEL_ERROR;
        } else if (strcmp(level, "warning") == 0) {
            log_threshold = MC_LOG_WARNING;
            ylevel = Y_LOG_LEVEL_WARNING;
        } else if (strcmp(level, "debug") == 0) {
            log_threshold = MC_LOG_DEBUG;
            ylevel = Y_LOG_LEVEL_DEBUG;
        }
    }
    /* Callback mode: each message is already a complete JSON object, so it is
       written as one line to stderr without yder's own date/level prefix
       (which would break JSON-lines collectors). */
    y_init_logs(log_service, Y_LOG_MODE_CALLBACK, ylevel, NULL, NULL);
    y_set_logs_callback(write_line, NULL, NULL);
}

void mc_log_close(void)
{
    y_close_logs();
}

static const char *level_name(mc_log_level level)
{
    switch (level) {
    case MC_LOG_ERROR:
        return "error";
    case MC_LOG_WARNING:
        return "warning";
    case MC_LOG_INFO:
        return "info";
    default:
        return "debug";
    }
}

static unsigned long ylevel_of(mc_log_level level)
{
    switch (level) {
    case MC_LOG_ERROR:
        return Y_LOG_LEVEL_ERROR;
    case MC_LOG_WARNING:
        return Y_LOG_LEVEL_WARNING;
    case MC_LOG_INFO:
        return Y_LOG_LEVEL_INFO;
    default:
        return Y_LOG_LEVEL_DEBUG;
    }
}

void mc_log_event(mc_log_level level, const char *request_id, const char *event, json_t *fields)
{
    if (level > log_threshold) {
        json_decref(fields);
        return;
    }
    json_t *line = json_object();
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[64];
    snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             ts.tv_nsec / 1000000L);
    json_object_set_new(line, "time", json_string(when));
    json_object_set_new(line, "level", json_string(level_name(level)));
    json_object_set_new(line, "service", json_string(log_service));
    json_object_set_new(line, "event", json_string(event));
    if (request_id != NULL && *request_id != '\0')
        json_object_set_new(line, "request_id", json_string(request_id));
    if (fields != NULL) {
        json_object_update(line, fields);
        json_decref(fields);
    }
    char *text = json_dumps(line, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(line);
    if (text != NULL) {
        y_log_message(ylevel_of(level), "%s", text);
        free(text);
    }
}

void mc_log(mc_log_level level, const char *request_id, const char *event, const char *fmt, ...)
{
    if (level > log_threshold)
        return;
    char message[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    mc_log_event(level, request_id, event, json_pack("{ss}", "message", message));
}
