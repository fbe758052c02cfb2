/* Entries read from the catalogue, cached (catalogue_cache.h). */
#include "catalogue_cache.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "motcua/log.h"

struct catalogue_cache {
    char base[256];
    unsigned cache_seconds;
    pthread_mutex_t lock;
    json_t *entries;    /* key -> {"value": ..., "read_at": epoch seconds} */
};

struct catalogue_cache *catalogue_cache_new(const char *catalogue_url, unsigned cache_seconds)
{
    struct catalogue_cache *c = calloc(1, sizeof *c);
    if (c == NULL || catalogue_url == NULL || strlen(catalogue_url) >= sizeof c->base ||
        (c->entries = json_object()) == NULL) {
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
    json_decref(c->entries);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

mc_error catalogue_cache_get(struct catalogue_cache *c, const char *key, catalogue_read_fn read,
                             json_t **out)
{
    time_t now = time(NULL);
    pthread_mutex_lock(&c->lock);
    const json_t *entry = json_object_get(c->entries, key);
    json_t *held = json_incref(json_object_get(entry, "value"));
    bool fresh = held != NULL && now - (time_t)json_integer_value(json_object_get(entry, "read_at")) <
                                     (time_t)c->cache_seconds;
    pthread_mutex_unlock(&c->lock);
    if (fresh) {
        *out = held;
        return MC_OK;
    }
    json_t *value = read(c->base, key);
    if (value == NULL) {
        if (held == NULL)
            return MC_ERR_CATALOGUE_UNAVAILABLE;
        mc_log(MC_LOG_WARNING, NULL, "catalogue.unavailable",
               "%s could not be read from the catalogue again: the copy held is used", key);
        *out = held;
        return MC_OK;
    }
    json_decref(held);
    pthread_mutex_lock(&c->lock);
    json_object_set_new(c->entries, key, json_pack("{sO sI}", "value", value, "read_at", (json_int_t)now));
    pthread_mutex_unlock(&c->lock);
    *out = value;
    return MC_OK;
}
