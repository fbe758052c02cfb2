/*
 * A bounded in-process cache of whole JSON responses for public reads that
 * are the same for every caller (routes flagged MC_ROUTE_CACHEABLE: a
 * published procedure, procedure search).
 *
 * Why: such reads dominate a citizen portal's traffic and, for the
 * catalogue, change only when an administrator publishes. Serving them
 * from memory removes a PostgreSQL round trip and a JSON parse/render per
 * request (see README "Performance and sizing" for the measured effect).
 *
 * Consistency: entries live at most the TTL (MOTCUA_<SVC>_RESPONSE_CACHE_
 * TTL_MS, default 2000 ms; 0 turns the cache off). Any successful write
 * (2xx answer to a non-GET) on this instance drops every entry at once by
 * bumping a generation number, so a publisher reads their own write; other
 * instances of the service see it within the TTL. Keys are the raw request
 * target (path and query), so every query string is its own entry.
 *
 * Memory: at most `max_entries` entries of at most 256 KiB each; when a
 * stripe is full its expired entries are dropped, else the whole stripe.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hash.h"
#include "internal.h"

#define STRIPES 16
#define BUCKETS 256
#define MAX_BODY (256 * 1024)

struct entry {
    struct entry *next;
    uint64_t hash;
    char *key;
    char *body;
    size_t len;
    char etag[96];
    long long expires_ms;
    unsigned long generation;
};

struct stripe {
    pthread_mutex_t mu;
    struct entry *buckets[BUCKETS];
    size_t count;
};

struct mc_response_cache {
    unsigned ttl_ms;
    size_t max_per_stripe;
    atomic_ulong generation;
    atomic_ulong hits, misses;
    struct stripe stripes[STRIPES];
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct mc_response_cache *mc_response_cache_new(unsigned ttl_ms, size_t max_entries)
{
    if (ttl_ms == 0 || max_entries == 0)
        return NULL;
    struct mc_response_cache *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->ttl_ms = ttl_ms;
    c->max_per_stripe = max_entries / STRIPES > 0 ? max_entries / STRIPES : 1;
    for (size_t i = 0; i < STRIPES; i++)
        pthread_mutex_init(&c->stripes[i].mu, NULL);
    return c;
}

static void free_entry(struct entry *e)
{
    free(e->key);
    free(e->body);
    free(e);
}

static void drop_stripe(struct stripe *s, bool expired_only, long long now, unsigned long gen)
{
    for (size_t b = 0; b < BUCKETS; b++) {
        struct entry **link = &s->buckets[b];
        while (*link != NULL) {
            struct entry *e = *link;
            if (!expired_only || e->expires_ms <= now || e->generation != gen) {
                *link = e->next;
                free_entry(e);
                s->count--;
            } else {
                link = &e->next;
            }
        }
    }
}

void mc_response_cache_free(struct mc_response_cache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < STRIPES; i++) {
        drop_stripe(&c->stripes[i], false, 0, 0);
        pthread_mutex_destroy(&c->stripes[i].mu);
    }
    free(c);
}

void mc_response_cache_invalidate(struct mc_response_cache *c)
{
    if (c != NULL)
        atomic_fetch_add(&c->generation, 1);
}

bool mc_response_cache_get(struct mc_response_cache *c, const char *key, char **body, size_t *len,
                           char *etag, size_t etag_len)
{
    if (c == NULL)
        return false;
    uint64_t h = mc_fnv1a(key);
    struct stripe *s = &c->stripes[h % STRIPES];
    unsigned long gen = atomic_load(&c->generation);
    long long now = now_ms();
    bool found = false;
    pthread_mutex_lock(&s->mu);
    for (struct entry *e = s->buckets[(h / STRIPES) % BUCKETS]; e != NULL; e = e->next) {
        if (e->hash == h && strcmp(e->key, key) == 0) {
            if (e->expires_ms > now && e->generation == gen) {
                *body = malloc(e->len + 1);
                if (*body != NULL) {
                    memcpy(*body, e->body, e->len);
                    (*body)[e->len] = '\0';
                    *len = e->len;
                    snprintf(etag, etag_len, "%s", e->etag);
                    found = true;
                }
            }
            break;
        }
    }
    pthread_mutex_unlock(&s->mu);
    atomic_fetch_add(found ? &c->hits : &c->misses, 1);
    return found;
}

void mc_response_cache_put(struct mc_response_cache *c, const char *key, const char *body, size_t len,
                           const char *etag, unsigned long generation_at_start)
{
    /* Nothing computed before a write that happened meanwhile is kept. */
    if (c == NULL || len > MAX_BODY || etag == NULL || strlen(etag) >= sizeof ((struct entry *)0)->etag ||
        generation_at_start != atomic_load(&c->generation))
        return;
    struct entry *e = calloc(1, sizeof *e);
    if (e == NULL)
        return;
    e->hash = mc_fnv1a(key);
    e->key = strdup(key);
    e->body = malloc(len > 0 ? len : 1);
    if (e->key == NULL || e->body == NULL) {
        free_entry(e);
        return;
    }
    memcpy(e->body, body, len);
    e->len = len;
    snprintf(e->etag, sizeof e->etag, "%s", etag);
    long long now = now_ms();
    e->expires_ms = now + c->ttl_ms;
    e->generation = generation_at_start;
    struct stripe *s = &c->stripes[e->hash % STRIPES];
    size_t b = (e->hash / STRIPES) % BUCKETS;
    pthread_mutex_lock(&s->mu);
    /* replace an existing entry for the key */
    for (struct entry **link = &s->buckets[b]; *link != NULL; link = &(*link)->next) {
        if ((*link)->hash == e->hash && strcmp((*link)->key, key) == 0) {
            struct entry *old = *link;
            *link = old->next;
            free_entry(old);
            s->count--;
            break;
        }
    }
    if (s->count >= c->max_per_stripe)
        drop_stripe(s, true, now, generation_at_start);
    if (s->count >= c->max_per_stripe)
        drop_stripe(s, false, now, generation_at_start);
    e->next = s->buckets[b];
    s->buckets[b] = e;
    s->count++;
    pthread_mutex_unlock(&s->mu);
}

unsigned long mc_response_cache_generation(struct mc_response_cache *c)
{
    return c != NULL ? atomic_load(&c->generation) : 0;
}

void mc_response_cache_stats(struct mc_response_cache *c, unsigned long *hits, unsigned long *misses)
{
    *hits = c != NULL ? atomic_load(&c->hits) : 0;
    *misses = c != NULL ? atomic_load(&c->misses) : 0;
}
