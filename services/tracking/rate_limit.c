/* The public lookup's in-service rate limits (rate_limit.h). */
#include "rate_limit.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/random.h>

struct slot {
    int64_t window; /* now / window_s when counted */
    unsigned count;
};

struct tracking_rate_limits {
    pthread_mutex_t lock;
    unsigned per_address, per_code, window_s;
    uint64_t seed;
    struct slot by_address[TRACKING_RATE_SLOTS];
    struct slot by_code[TRACKING_RATE_SLOTS];
};

struct tracking_rate_limits *tracking_rate_limits_new(unsigned per_address, unsigned per_code,
                                                      unsigned window_s)
{
    struct tracking_rate_limits *l = calloc(1, sizeof *l);
    if (l == NULL)
        return NULL;
    if (getrandom(&l->seed, sizeof l->seed, 0) != (ssize_t)sizeof l->seed)
        l->seed = (uint64_t)(uintptr_t)l ^ 0x9e3779b97f4a7c15ULL;
    pthread_mutex_init(&l->lock, NULL);
    l->per_address = per_address;
    l->per_code = per_code;
    l->window_s = window_s > 0 ? window_s : 1;
    return l;
}

void tracking_rate_limits_free(struct tracking_rate_limits *l)
{
    if (l == NULL)
        return;
    pthread_mutex_destroy(&l->lock);
    free(l);
}

/* FNV-1a seeded with the process's random seed, then mixed. */
static size_t slot_of(uint64_t seed, char kind, const char *key)
{
    uint64_t h = 1469598103934665603ULL ^ seed;
    h = (h ^ (unsigned char)kind) * 1099511628211ULL;
    for (const char *p = key; p != NULL && *p != '\0'; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return (size_t)(h % TRACKING_RATE_SLOTS);
}

/* Count one hit on s in `window`: true when it is within `limit`. */
static bool count(struct slot *s, int64_t window, unsigned limit)
{
    if (s->window != window) {
        s->window = window;
        s->count = 0;
    }
    if (s->count >= limit)
        return false;
    s->count++;
    return true;
}

unsigned tracking_rate_check(struct tracking_rate_limits *l, const char *address, const char *code,
                             int64_t now)
{
    int64_t window = now / l->window_s;
    pthread_mutex_lock(&l->lock);
    bool ok = count(&l->by_address[slot_of(l->seed, 'a', address)], window, l->per_address) &&
              count(&l->by_code[slot_of(l->seed, 'c', code)], window, l->per_code);
    pthread_mutex_unlock(&l->lock);
    return ok ? 0 : (unsigned)((window + 1) * l->window_s - now);
}
