/* The answers of settled periods: a bounded FIFO map (answer_cache.h). */
#include "answer_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    char *key;
    json_t *answer;
};

struct answer_cache {
    pthread_mutex_t lock;
    struct entry *entries; /* a ring: `oldest` is the next to make room */
    size_t capacity, n, oldest;
};

struct answer_cache *answer_cache_new(size_t capacity)
{
    if (capacity == 0)
        return NULL;
    struct answer_cache *c = calloc(1, sizeof *c);
    if (c == NULL || (c->entries = calloc(capacity, sizeof *c->entries)) == NULL) {
        free(c);
        return NULL;
    }
    c->capacity = capacity;
    pthread_mutex_init(&c->lock, NULL);
    return c;
}

void answer_cache_free(struct answer_cache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->entries[i].key);
        json_decref(c->entries[i].answer);
    }
    free(c->entries);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* The entry of key, or NULL; with the lock held. A linear search: the cache
   holds hundreds of entries, each compared by its first bytes mostly. */
static struct entry *find(struct answer_cache *c, const char *key)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->entries[i].key, key) == 0)
            return &c->entries[i];
    return NULL;
}

json_t *answer_cache_get(struct answer_cache *c, const char *key)
{
    if (c == NULL)
        return NULL;
    pthread_mutex_lock(&c->lock);
    struct entry *e = find(c, key);
    json_t *answer = e != NULL ? json_incref(e->answer) : NULL;
    pthread_mutex_unlock(&c->lock);
    return answer;
}

void answer_cache_put(struct answer_cache *c, const char *key, json_t *answer)
{
    if (c == NULL || answer == NULL)
        return;
    char *copy = strdup(key);
    if (copy == NULL)
        return;
    pthread_mutex_lock(&c->lock);
    struct entry *e = find(c, key);
    if (e == NULL) {
        if (c->n < c->capacity) {
            e = &c->entries[c->n++];
        } else {
            e = &c->entries[c->oldest];
            c->oldest = (c->oldest + 1) % c->capacity;
        }
    }
    free(e->key);
    json_decref(e->answer);
    e->key = copy;
    e->answer = json_incref(answer);
    pthread_mutex_unlock(&c->lock);
}

size_t answer_cache_size(struct answer_cache *c)
{
    if (c == NULL)
        return 0;
    pthread_mutex_lock(&c->lock);
    size_t n = c->n;
    pthread_mutex_unlock(&c->lock);
    return n;
}
