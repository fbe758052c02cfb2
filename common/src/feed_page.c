/*
 * The feed consumer's pure parts (motcua/feed_consumer.h): reading a page of
 * the feed, the 410 problem, the position check's filter, the page URL and
 * the back-off. No I/O: tests/unit/test_feed_consumer.c tests them directly.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "motcua/feed_consumer.h"

/* A feed sequence ("1043"): decimal digits only, > 0, fits a long long. */
static bool parse_sequence(const char *text, long long *out)
{
    if (text == NULL || text[0] < '0' || text[0] > '9')
        return false;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno != 0 || *end != '\0' || v <= 0)
        return false;
    *out = v;
    return true;
}

static long long event_sequence(const json_t *event)
{
    long long seq = -1;
    if (!parse_sequence(json_string_value(json_object_get(event, "sequence")), &seq))
        return -1;
    return seq;
}

bool mc_feed_page_parse(const char *body, long long after, mc_feed_page *out)
{
    out->items = NULL;
    out->next_after = after;
    json_t *doc = json_loads(body != NULL ? body : "", JSON_REJECT_DUPLICATES, NULL);
    json_t *items = json_object_get(doc, "items");
    json_t *next = json_object_get(doc, "next_after");
    bool ok = json_is_array(items) && json_is_integer(next);
    long long last = after;
    size_t i;
    json_t *event;
    json_array_foreach(ok ? items : NULL, i, event) {
        long long seq = event_sequence(event);
        if (!json_is_object(event) || !json_is_string(json_object_get(event, "id")) || seq <= last) {
            ok = false;
            break;
        }
        last = seq;
    }
    if (ok && json_integer_value(next) != last)
        ok = false;
    if (ok) {
        out->items = json_incref(items);
        out->next_after = last;
    }
    json_decref(doc);
    return ok;
}

void mc_feed_page_clear(mc_feed_page *page)
{
    json_decref(page->items);
    page->items = NULL;
}

long long mc_feed_expired_oldest_after(const char *body, long long after)
{
    json_t *doc = json_loads(body != NULL ? body : "", 0, NULL);
    const char *code = json_string_value(json_object_get(doc, "code"));
    json_t *oldest = json_object_get(doc, "oldest_after");
    long long v = -1;
    if (code != NULL && strcmp(code, "events.position_expired") == 0 && json_is_integer(oldest) &&
        json_integer_value(oldest) > after)
        v = json_integer_value(oldest);
    json_decref(doc);
    return v;
}

json_t *mc_feed_events_after(const json_t *items, long long position)
{
    json_t *fresh = json_array();
    size_t i;
    json_t *event;
    json_array_foreach(items, i, event) {
        if (event_sequence(event) > position)
            json_array_append(fresh, event);
    }
    return fresh;
}

static bool type_ok(const char *type)
{
    if (type[0] == '\0')
        return false;
    for (const char *p = type; *p != '\0'; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

bool mc_feed_page_url(char *out, size_t len, const char *base, long long after, unsigned limit,
                      const char *type)
{
    if (type != NULL && !type_ok(type))
        return false;
    int n = snprintf(out, len, "%s?after=%lld&limit=%u%s%s", base, after, limit,
                     type != NULL ? "&type=" : "", type != NULL ? type : "");
    return n > 0 && (size_t)n < len;
}

unsigned mc_feed_backoff_ms(unsigned failures, unsigned base_ms, unsigned max_ms, unsigned random)
{
    unsigned long long wait = base_ms > 0 ? base_ms : 1;
    for (unsigned i = 1; i < failures && wait < max_ms; i++)
        wait *= 2;
    if (wait > max_ms)
        wait = max_ms;
    /* factor 0.5 + random / 2^33, in [0.5, 1.0) */
    return (unsigned)(wait / 2 + (wait * (unsigned long long)random >> 33));
}
