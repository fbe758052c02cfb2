/* The catalogue over REST, with a small in-memory cache (catalogue_client.h). */
#include "catalogue_client.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "motcua/http_client.h"
#include "motcua/json_spec.h"
#include "motcua/log.h"
#include "motcua/procedure_json.h"

#define CACHE_ENTRIES 1024
#define MAX_DOCUMENT_BYTES (4u * 1024 * 1024)
#define TIMEOUT_SECONDS 5

struct cache_entry {
    char *path;       /* NULL when free */
    json_t *doc;
    char etag[160];
    time_t checked_at;
    bool immutable;
};

struct catalogue_client {
    char *base_url;
    unsigned cache_seconds;
    pthread_mutex_t mu;
    struct cache_entry entries[CACHE_ENTRIES];
};

struct catalogue_client *catalogue_client_new(const char *base_url, unsigned cache_seconds)
{
    struct catalogue_client *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->base_url = strdup(base_url);
    c->cache_seconds = cache_seconds;
    pthread_mutex_init(&c->mu, NULL);
    if (c->base_url == NULL) {
        catalogue_client_free(c);
        return NULL;
    }
    return c;
}

void catalogue_client_free(struct catalogue_client *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < CACHE_ENTRIES; i++) {
        free(c->entries[i].path);
        json_decref(c->entries[i].doc);
    }
    pthread_mutex_destroy(&c->mu);
    free(c->base_url);
    free(c);
}

static time_t now_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

/* The entry for path (locked by the caller), or NULL. */
static struct cache_entry *find(struct catalogue_client *c, const char *path)
{
    for (size_t i = 0; i < CACHE_ENTRIES; i++)
        if (c->entries[i].path != NULL && strcmp(c->entries[i].path, path) == 0)
            return &c->entries[i];
    return NULL;
}

/* A slot for a new entry: a free one, else the least recently checked. */
static struct cache_entry *slot(struct catalogue_client *c)
{
    struct cache_entry *oldest = &c->entries[0];
    for (size_t i = 0; i < CACHE_ENTRIES; i++) {
        if (c->entries[i].path == NULL)
            return &c->entries[i];
        if (c->entries[i].checked_at < oldest->checked_at)
            oldest = &c->entries[i];
    }
    free(oldest->path);
    json_decref(oldest->doc);
    memset(oldest, 0, sizeof *oldest);
    return oldest;
}

static void remember(struct catalogue_client *c, const char *path, json_t *doc, const char *etag,
                     bool immutable)
{
    pthread_mutex_lock(&c->mu);
    struct cache_entry *e = find(c, path);
    if (e == NULL) {
        e = slot(c);
        e->path = strdup(path);
    }
    if (e->path != NULL) {
        json_decref(e->doc);
        e->doc = json_incref(doc);
        snprintf(e->etag, sizeof e->etag, "%s", etag);
        e->checked_at = now_monotonic();
        e->immutable = immutable;
    }
    pthread_mutex_unlock(&c->mu);
}

/*
 * GET path from the catalogue through the cache. *out is a new reference on
 * MC_OK. not_found is what a 404 means for this path. A catalogue that cannot
 * be reached (or answers with an error) is MC_ERR_CATALOGUE_UNAVAILABLE unless
 * a copy is held, which is then used (stale is better than refusing a
 * citizen's filing).
 */
static mc_error cached_get(struct catalogue_client *c, const char *path, bool immutable,
                           mc_error not_found, json_t **out)
{
    *out = NULL;
    char etag[160] = "";
    json_t *held = NULL;
    pthread_mutex_lock(&c->mu);
    struct cache_entry *e = find(c, path);
    if (e != NULL) {
        if (e->immutable || now_monotonic() - e->checked_at < (time_t)c->cache_seconds) {
            *out = json_incref(e->doc);
            pthread_mutex_unlock(&c->mu);
            return MC_OK;
        }
        held = json_incref(e->doc);
        snprintf(etag, sizeof etag, "%s", e->etag);
    }
    pthread_mutex_unlock(&c->mu);

    char url[1024];
    snprintf(url, sizeof url, "%s%s", c->base_url, path);
    struct mc_http_result r;
    mc_error rc = mc_http_get(url, held != NULL ? etag : NULL, NULL, TIMEOUT_SECONDS,
                              MAX_DOCUMENT_BYTES, &r);
    if (rc == MC_OK && r.status == 304 && held != NULL) {
        remember(c, path, held, etag, immutable);
        *out = held;
        mc_http_result_free(&r);
        return MC_OK;
    }
    if (rc == MC_OK && r.status == 200) {
        json_t *doc = json_loadb(r.body, r.body_len, 0, NULL);
        if (doc != NULL) {
            remember(c, path, doc, r.etag, immutable);
            json_decref(held);
            *out = doc;
            mc_http_result_free(&r);
            return MC_OK;
        }
    }
    long status = r.status;
    mc_http_result_free(&r);
    if (rc == MC_OK && status == 404) {
        json_decref(held);
        return not_found;
    }
    if (held != NULL) {
        mc_log(MC_LOG_WARNING, NULL, "catalogue.stale_copy",
               "catalogue answered %ld for %s; using the copy held", status, path);
        *out = held;
        return MC_OK;
    }
    mc_log(MC_LOG_WARNING, NULL, "catalogue.unavailable", "catalogue answered %ld for %s", status,
           path);
    return MC_ERR_CATALOGUE_UNAVAILABLE;
}

/* Path segments come from validated codes, but escape anyway: a code never
   becomes part of another path. */
static bool path_segment_ok(const char *s)
{
    if (s == NULL || s[0] == '\0' || strlen(s) > 64)
        return false;
    for (const char *p = s; *p != '\0'; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
              *p == '.' || *p == '_' || *p == '-'))
            return false;
    return true;
}

mc_error catalogue_procedure_current(struct catalogue_client *c, const char *code, json_t **out)
{
    *out = NULL;
    if (!path_segment_ok(code))
        return MC_ERR_PROCEDURE_NOT_FOUND;
    char path[160];
    snprintf(path, sizeof path, "/api/v1/procedures/%s", code);
    return cached_get(c, path, false, MC_ERR_PROCEDURE_NOT_FOUND, out);
}

mc_error catalogue_procedure_version(struct catalogue_client *c, const char *code, int version,
                                     json_t **out)
{
    *out = NULL;
    if (!path_segment_ok(code) || version < 1)
        return MC_ERR_PROCEDURE_VERSION_NOT_FOUND;
    char path[192];
    snprintf(path, sizeof path, "/api/v1/procedures/%s/versions/%d", code, version);
    return cached_get(c, path, true, MC_ERR_PROCEDURE_VERSION_NOT_FOUND, out);
}

bool catalogue_procedure_has_agency(const json_t *procedure, const char *agency)
{
    size_t i;
    const json_t *a;
    json_array_foreach(json_object_get(procedure, "agency_codes"), i, a)
    {
        if (json_is_string(a) && strcmp(json_string_value(a), agency) == 0)
            return true;
    }
    return false;
}

mc_error catalogue_agency(struct catalogue_client *c, const char *code, json_t **out)
{
    *out = NULL;
    if (!path_segment_ok(code))
        return MC_ERR_AGENCY_NOT_FOUND;
    char path[160];
    snprintf(path, sizeof path, "/api/v1/agencies/%s", code);
    return cached_get(c, path, false, MC_ERR_AGENCY_NOT_FOUND, out);
}

static int date_cmp(const void *a, const void *b)
{
    int64_t x = mc_date_to_days(*(const mc_date *)a), y = mc_date_to_days(*(const mc_date *)b);
    return x < y ? -1 : x > y;
}

mc_error catalogue_calendar(struct catalogue_client *c, const char *agency, int from_year,
                            int to_year, mc_calendar *cal)
{
    mc_calendar_init_default(cal);
    json_t *a = NULL;
    mc_error rc = catalogue_agency(c, agency, &a);
    if (rc != MC_OK)
        return rc;
    bool hours_ok = mc_calendar_set_hours_json(cal, json_object_get(a, "office_hours"),
                                               mc_json_str(a, "same_day_cutoff", "15:00"));
    json_decref(a);
    if (!hours_ok)
        return MC_ERR_CATALOGUE_UNAVAILABLE;

    size_t cap = 64, n_off = 0, n_extra = 0;
    mc_date *off = malloc(cap * sizeof *off), *extra = malloc(cap * sizeof *extra);
    if (off == NULL || extra == NULL) {
        free(off);
        free(extra);
        return MC_ERR_INTERNAL;
    }
    for (int year = from_year; year <= to_year && rc == MC_OK; year++) {
        char path[64];
        snprintf(path, sizeof path, "/api/v1/calendar/%d", year);
        json_t *doc = NULL;
        rc = cached_get(c, path, false, MC_ERR_CATALOGUE_UNAVAILABLE, &doc);
        size_t i;
        const json_t *day;
        json_array_foreach(json_object_get(doc, "days"), i, day)
        {
            mc_date d;
            if (!mc_date_parse(mc_json_str(day, "date", NULL), &d))
                continue;
            bool is_off = strcmp(mc_json_str(day, "kind", ""), "day_off") == 0;
            size_t *n = is_off ? &n_off : &n_extra;
            mc_date **list = is_off ? &off : &extra;
            if (*n == cap * 8)
                continue; /* absurd data; the engine still works with what fits */
            if (*n % cap == 0 && *n > 0) {
                mc_date *grown = realloc(*list, (*n + cap) * sizeof **list);
                if (grown == NULL)
                    continue;
                *list = grown;
            }
            (*list)[(*n)++] = d;
        }
        json_decref(doc);
    }
    if (rc != MC_OK) {
        free(off);
        free(extra);
        return rc;
    }
    qsort(off, n_off, sizeof *off, date_cmp);
    qsort(extra, n_extra, sizeof *extra, date_cmp);
    cal->days_off = off;
    cal->n_days_off = n_off;
    cal->extra_working_days = extra;
    cal->n_extra_working_days = n_extra;
    return MC_OK;
}

void catalogue_calendar_free(mc_calendar *cal)
{
    free((void *)cal->days_off);
    free((void *)cal->extra_working_days);
    cal->days_off = NULL;
    cal->extra_working_days = NULL;
    cal->n_days_off = cal->n_extra_working_days = 0;
}
