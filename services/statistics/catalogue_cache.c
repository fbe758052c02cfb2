/* Entries read from the catalogue, cached and refreshed in the background (catalogue_cache.h). */
#include "catalogue_cache.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "motcua/log.h"

struct entry {
    char *key;
    json_t *value;
    time_t read_at;
    catalogue_read_fn read;
    struct entry *next;
};

struct catalogue_cache {
    char base[256];
    unsigned cache_seconds;
    pthread_mutex_t lock;
    struct entry *entries;
};

struct catalogue_cache *catalogue_cache_new(const char *catalogue_url, unsigned cache_seconds)
{
    struct catalogue_cache *c = calloc(1, sizeof *c);
    if (c == NULL || catalogue_url == NULL || strlen(catalogue_url) >= sizeof c->base) {
        free(c);
        return NULL;
    }
    snprintf(c->base, sizeof c->base, "%s", catalogue_url);
    c->cache_seconds = cache_seconds;
    pthread_mutex_init(&c->lock, NULL);
    return c;
}

void catalogue_cache_free(struct catalogue_cache *c)
{
    if (c == NULL)
        return;
    for (struct entry *e = c->entries, *next; e != NULL; e = next) {
        next = e->next;
        free(e->key);
        json_decref(e->value);
        free(e);
    }
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static struct entry *find(struct catalogue_cache *c, const char *key)
{
    for (struct entry *e = c->entries; e != NULL; e = e->next)
        if (strcmp(e->key, key) == 0)
            return e;
    return NULL;
}

/* Hold `value` (stolen) for key, read at `at` with `read`. */
static void hold(struct catalogue_cache *c, const char *key, catalogue_read_fn read, json_t *value, time_t at)
{
    pthread_mutex_lock(&c->lock);
    struct entry *e = find(c, key);
    if (e == NULL && (e = calloc(1, sizeof *e)) != NULL && (e->key = strdup(key)) != NULL) {
        e->next = c->entries;
        c->entries = e;
    } else if (e != NULL && e->key == NULL) {
        free(e);
        e = NULL;
    }
    if (e != NULL) {
        json_decref(e->value);
        e->value = value;
        e->read_at = at;
        e->read = read;
    } else {
        json_decref(value);
    }
    pthread_mutex_unlock(&c->lock);
}

mc_error catalogue_cache_get(struct catalogue_cache *c, const char *key, catalogue_read_fn read,
                             json_t **out)
{
    pthread_mutex_lock(&c->lock);
    const struct entry *e = find(c, key);
    json_t *held = e != NULL ? json_incref(e->value) : NULL;
    pthread_mutex_unlock(&c->lock);
    if (held != NULL) {
        *out = held; /* however old: catalogue_cache_refresh reads it again */
        return MC_OK;
    }
    time_t now = time(NULL);
    json_t *value = read(c->base, key);
    if (value == NULL)
        return MC_ERR_CATALOGUE_UNAVAILABLE;
    hold(c, key, read, json_incref(value), now);
    *out = value;
    return MC_OK;
}

size_t catalogue_cache_refresh(struct catalogue_cache *c, time_t now)
{
    /* The stale keys and their readers, copied: the reads run outside the lock. */
    size_t n = 0, cap = 0, read = 0;
    struct stale {
        char *key;
        catalogue_read_fn read;
    } *stale = NULL;
    pthread_mutex_lock(&c->lock);
    for (const struct entry *e = c->entries; e != NULL; e = e->next) {
        if (now - e->read_at < (time_t)c->cache_seconds)
            continue;
        if (n == cap) {
            size_t more = cap == 0 ? 16 : cap * 2;
            struct stale *s = realloc(stale, more * sizeof *s);
            if (s == NULL)
                break;
            stale = s;
            cap = more;
        }
        if ((stale[n].key = strdup(e->key)) != NULL)
            stale[n++].read = e->read;
    }
    pthread_mutex_unlock(&c->lock);
    for (size_t i = 0; i < n; i++) {
        json_t *value = stale[i].read(c->base, stale[i].key);
        if (value != NULL) {
            hold(c, stale[i].key, stale[i].read, value, now);
            read++;
        } else {
            mc_log(MC_LOG_WARNING, NULL, "catalogue.unavailable",
                   "%s could not be read from the catalogue again: the copy held is used", stale[i].key);
        }
        free(stale[i].key);
    }
    free(stale);
    return read;
}
