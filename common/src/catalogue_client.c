/* The catalogue over REST, through the shared cache (motcua/catalogue_client.h). */
#include "motcua/catalogue_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "motcua/http_client.h"
#include "motcua/json_spec.h"
#include "motcua/log.h"

#define CACHE_ENTRIES 1024
#define MAX_DOCUMENT_BYTES (4u * 1024 * 1024)
#define TIMEOUT_SECONDS 5
#define ETAG_MAX 160

struct mc_catalogue_client {
    char *base_url;
    long long cache_ms;
    mc_catalogue_cache *cache;
};

mc_catalogue_client *mc_catalogue_client_new(const char *base_url, unsigned cache_seconds)
{
    mc_catalogue_client *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->base_url = strdup(base_url);
    c->cache_ms = (long long)cache_seconds * 1000;
    c->cache = mc_catalogue_cache_new(CACHE_ENTRIES);
    if (c->base_url == NULL || c->cache == NULL) {
        mc_catalogue_client_free(c);
        return NULL;
    }
    return c;
}

void mc_catalogue_client_free(mc_catalogue_client *c)
{
    if (c == NULL)
        return;
    mc_catalogue_cache_free(c->cache);
    free(c->base_url);
    free(c);
}

static long long now_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * GET path from the catalogue through the cache. *out is a reference on MC_OK.
 * not_found is what a 404 means for this path. A catalogue that cannot be
 * reached is MC_ERR_CATALOGUE_UNAVAILABLE unless a copy is held, which is then
 * used (stale is better than refusing a citizen's filing).
 */
static mc_error cached_get(mc_catalogue_client *c, const char *path, bool immutable,
                           mc_error not_found, const mc_catalogue_doc **out)
{
    *out = NULL;
    char etag[ETAG_MAX] = "";
    const mc_catalogue_doc *held = NULL;
    enum mc_catalogue_lookup found = mc_catalogue_cache_get(c->cache, path, now_monotonic_ms(),
                                                            c->cache_ms, &held, etag, sizeof etag);
    if (found == MC_CATALOGUE_FRESH) {
        *out = held;
        return MC_OK;
    }

    char url[1024];
    snprintf(url, sizeof url, "%s%s", c->base_url, path);
    struct mc_http_result r;
    mc_error rc = mc_http_get(url, held != NULL ? etag : NULL, NULL, TIMEOUT_SECONDS,
                              MAX_DOCUMENT_BYTES, &r);
    if (rc == MC_OK && r.status == 304 && held != NULL) {
        mc_catalogue_cache_put(c->cache, path, held, etag, immutable, now_monotonic_ms());
        *out = held;
        mc_http_result_free(&r);
        return MC_OK;
    }
    if (rc == MC_OK && r.status == 200) {
        mc_catalogue_doc *doc = mc_catalogue_doc_new(json_loadb(r.body, r.body_len, 0, NULL));
        if (doc != NULL) {
            mc_catalogue_cache_put(c->cache, path, doc, r.etag, immutable, now_monotonic_ms());
            mc_catalogue_doc_release(held);
            *out = doc;
            mc_http_result_free(&r);
            return MC_OK;
        }
    }
    long status = r.status;
    mc_http_result_free(&r);
    if (rc == MC_OK && status == 404) {
        mc_catalogue_doc_release(held);
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

mc_error mc_catalogue_procedure_current(mc_catalogue_client *c, const char *code,
                                        const mc_catalogue_doc **out)
{
    *out = NULL;
    if (!path_segment_ok(code))
        return MC_ERR_PROCEDURE_NOT_FOUND;
    char path[160];
    snprintf(path, sizeof path, "/api/v1/procedures/%s", code);
    return cached_get(c, path, false, MC_ERR_PROCEDURE_NOT_FOUND, out);
}

mc_error mc_catalogue_procedure_version(mc_catalogue_client *c, const char *code, int version,
                                        const mc_catalogue_doc **out)
{
    *out = NULL;
    if (!path_segment_ok(code) || version < 1)
        return MC_ERR_PROCEDURE_VERSION_NOT_FOUND;
    char path[192];
    snprintf(path, sizeof path, "/api/v1/procedures/%s/versions/%d", code, version);
    return cached_get(c, path, true, MC_ERR_PROCEDURE_VERSION_NOT_FOUND, out);
}

mc_error mc_catalogue_agency(mc_catalogue_client *c, const char *code,
                             const mc_catalogue_doc **out)
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

mc_error mc_catalogue_calendar(mc_catalogue_client *c, const char *agency, int from_year,
                               int to_year, mc_calendar *cal)
{
    mc_calendar_init_default(cal);
    const mc_catalogue_doc *agency_doc = NULL;
    mc_error rc = mc_catalogue_agency(c, agency, &agency_doc);
    if (rc != MC_OK)
        return rc;
    const json_t *a = mc_catalogue_doc_json(agency_doc);
    bool hours_ok = mc_catalogue_calendar_set_hours(cal, json_object_get(a, "office_hours"),
                                                    mc_json_str(a, "same_day_cutoff", "15:00"));
    mc_catalogue_doc_release(agency_doc);
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
        const mc_catalogue_doc *doc = NULL;
        rc = cached_get(c, path, false, MC_ERR_CATALOGUE_UNAVAILABLE, &doc);
        size_t i;
        const json_t *day;
        json_array_foreach(json_object_get(mc_catalogue_doc_json(doc), "days"), i, day)
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
        mc_catalogue_doc_release(doc);
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

void mc_catalogue_calendar_free(mc_calendar *cal)
{
    free((void *)cal->days_off);
    free((void *)cal->extra_working_days);
    cal->days_off = NULL;
    cal->extra_working_days = NULL;
    cal->n_days_off = cal->n_extra_working_days = 0;
}

size_t mc_catalogue_validate_form(const mc_catalogue_doc *procedure, const json_t *the_case,
                                  const json_t *form_data, const char *base_pointer,
                                  json_t *errors)
{
    const mc_form_schema *compiled = mc_catalogue_doc_form_schema(procedure, the_case);
    if (compiled != NULL)
        return mc_form_schema_validate_compiled(compiled, form_data, base_pointer, errors);
    return mc_form_schema_validate(json_object_get(the_case, "form_schema"), form_data,
                                   base_pointer, errors);
}
