/*
 * The registered metrics of motcua/metrics.h, appended to the text of
 * /metrics (metrics.c renders common's own).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "motcua/metrics.h"

#define NAME_MAX_LEN 96
#define HELP_MAX_LEN 200
#define LABELS_MAX_LEN 160

struct mc_metric {
    char name[NAME_MAX_LEN];
    char help[HELP_MAX_LEN];
    char labels[LABELS_MAX_LEN];
    bool counter;
    atomic_llong value;
};

static struct {
    pthread_mutex_t mu;
    atomic_size_t n; /* published after the entry is filled in */
    struct mc_metric m[MC_METRICS_MAX];
} registry = {PTHREAD_MUTEX_INITIALIZER, 0, {{{0}, {0}, {0}, false, 0}}};

static mc_metric *register_metric(const char *name, const char *help, const char *labels,
                                  bool counter)
{
    if (labels == NULL)
        labels = "";
    if (name == NULL || help == NULL || strlen(name) >= NAME_MAX_LEN ||
        strlen(help) >= HELP_MAX_LEN || strlen(labels) >= LABELS_MAX_LEN)
        return NULL;
    pthread_mutex_lock(&registry.mu);
    size_t n = atomic_load(&registry.n);
    mc_metric *found = NULL;
    for (size_t i = 0; i < n && found == NULL; i++)
        if (strcmp(registry.m[i].name, name) == 0 && strcmp(registry.m[i].labels, labels) == 0)
            found = &registry.m[i];
    if (found == NULL && n < MC_METRICS_MAX) {
        found = &registry.m[n];
        snprintf(found->name, sizeof found->name, "%s", name);
        snprintf(found->help, sizeof found->help, "%s", help);
        snprintf(found->labels, sizeof found->labels, "%s", labels);
        found->counter = counter;
        atomic_store(&found->value, 0);
        atomic_store(&registry.n, n + 1);
    }
    pthread_mutex_unlock(&registry.mu);
    return found;
}

mc_metric *mc_metric_counter(const char *name, const char *help, const char *labels)
{
    return register_metric(name, help, labels, true);
}

mc_metric *mc_metric_gauge(const char *name, const char *help, const char *labels)
{
    return register_metric(name, help, labels, false);
}

void mc_metric_add(mc_metric *m, unsigned long long n)
{
    if (m != NULL)
        atomic_fetch_add_explicit(&m->value, (long long)n, memory_order_relaxed);
}

void mc_metric_set(mc_metric *m, long long v)
{
    if (m != NULL)
        atomic_store_explicit(&m->value, v, memory_order_relaxed);
}

/* Append to `text` (malloc'd, taken over) the registered metrics; the new
   text, or NULL (text freed) when out of memory. */
char *mc_metrics_registered_append(char *text, const char *service)
{
    if (text == NULL)
        return NULL;
    size_t n = atomic_load(&registry.n);
    size_t len = strlen(text);
    size_t cap =
        len + 1 + n * (NAME_MAX_LEN + HELP_MAX_LEN + LABELS_MAX_LEN + 128 + strlen(service));
    char *out = realloc(text, cap);
    if (out == NULL) {
        free(text);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        const struct mc_metric *m = &registry.m[i];
        bool first = true;
        for (size_t k = 0; k < i && first; k++)
            first = strcmp(registry.m[k].name, m->name) != 0;
        if (!first)
            continue; /* written with the first of its name */
        len += (size_t)snprintf(out + len, cap - len, "# HELP %s %s\n# TYPE %s %s\n", m->name,
                                m->help, m->name, m->counter ? "counter" : "gauge");
        for (size_t k = i; k < n; k++) {
            const struct mc_metric *same = &registry.m[k];
            if (strcmp(same->name, m->name) != 0)
                continue;
            len +=
                (size_t)snprintf(out + len, cap - len, "%s{service=\"%s\"%s%s} %lld\n", same->name,
                                 service, same->labels[0] != '\0' ? "," : "", same->labels,
                                 atomic_load_explicit(&same->value, memory_order_relaxed));
        }
    }
    return out;
}
