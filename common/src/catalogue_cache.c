/*
 * The catalogue client's cache and its shared, read-only documents
 * (motcua/catalogue_cache.h). No I/O: time is passed in, so tests drive it.
 *
 * Threads: a document is immutable after mc_catalogue_doc_new except for its reference
 * count, which is atomic; the JSON inside is never increfed or decrefed by readers (they
 * only get a const pointer), so jansson's own counts are touched by one thread only, at
 * creation and at the final release. Each stripe of the table has its own mutex; a
 * document dropped from the table is released after the mutex is let go.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "motcua/catalogue_cache.h"

#define STRIPES 16
#define BUCKETS 64
#define ETAG_MAX 160

/* ---- Documents ---- */

struct case_schema {
    const json_t *the_case;
    mc_form_schema *schema; /* NULL when the case's schema does not compile */
};

struct mc_catalogue_doc {
    atomic_size_t refs;
    json_t *json;
    struct case_schema *cases;
    size_t n_cases;
};

mc_catalogue_doc *mc_catalogue_doc_new(json_t *json)
{
    if (json == NULL)
        return NULL;
    mc_catalogue_doc *doc = calloc(1, sizeof *doc);
    const json_t *cases = json_object_get(json, "cases");
    size_t n = json_array_size(cases);
    if (doc != NULL && n > 0 && (doc->cases = calloc(n, sizeof *doc->cases)) == NULL) {
        free(doc);
        doc = NULL;
    }
    if (doc == NULL) {
        json_decref(json);
        return NULL;
    }
    atomic_init(&doc->refs, 1);
    doc->json = json;
    doc->n_cases = n;
    for (size_t i = 0; i < n; i++) {
        doc->cases[i].the_case = json_array_get(cases, i);
        const json_t *schema = json_object_get(doc->cases[i].the_case, "form_schema");
        doc->cases[i].schema = schema != NULL ? mc_form_schema_compile(schema) : NULL;
    }
    return doc;
}

const json_t *mc_catalogue_doc_json(const mc_catalogue_doc *doc)
{
    return doc != NULL ? doc->json : NULL;
}

/* The reference count is the one mutable part of a const document. */
const mc_catalogue_doc *mc_catalogue_doc_retain(const mc_catalogue_doc *doc)
{
    if (doc != NULL)
        atomic_fetch_add_explicit(&((mc_catalogue_doc *)doc)->refs, 1, memory_order_relaxed);
    return doc;
}

void mc_catalogue_doc_release(const mc_catalogue_doc *doc)
{
    if (doc == NULL)
        return;
    mc_catalogue_doc *d = (mc_catalogue_doc *)doc;
    if (atomic_fetch_sub_explicit(&d->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (size_t i = 0; i < d->n_cases; i++)
        mc_form_schema_free(d->cases[i].schema);
    free(d->cases);
    json_decref(d->json);
    free(d);
}

const mc_form_schema *mc_catalogue_doc_form_schema(const mc_catalogue_doc *doc,
                                                   const json_t *the_case)
{
    for (size_t i = 0; doc != NULL && the_case != NULL && i < doc->n_cases; i++)
        if (doc->cases[i].the_case == the_case)
            return doc->cases[i].schema;
    return NULL;
}

/* ---- The cache ---- */

struct entry {
    struct entry *next;
    uint64_t hash;
    char *key;
    const mc_catalogue_doc *doc; /* the cache's reference */
    char etag[ETAG_MAX];
    long long checked_ms;        /* last fetched or revalidated */
    long long used_ms;           /* last handed out, for eviction */
    bool immutable;
};

struct stripe {
    pthread_mutex_t mu;
    struct entry *buckets[BUCKETS];
    size_t count;
};

struct mc_catalogue_cache {
    size_t max_per_stripe;
    struct stripe stripes[STRIPES];
};

mc_catalogue_cache *mc_catalogue_cache_new(size_t max_entries)
{
    mc_catalogue_cache *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->max_per_stripe = max_entries / STRIPES > 0 ? max_entries / STRIPES : 1;
    for (size_t i = 0; i < STRIPES; i++)
        pthread_mutex_init(&c->stripes[i].mu, NULL);
    return c;
}

static void free_entry(struct entry *e)
{
    if (e == NULL)
        return;
    mc_catalogue_doc_release(e->doc);
    free(e->key);
    free(e);
}

void mc_catalogue_cache_free(mc_catalogue_cache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < STRIPES; i++) {
        for (size_t b = 0; b < BUCKETS; b++) {
            struct entry *e = c->stripes[i].buckets[b];
            while (e != NULL) {
                struct entry *next = e->next;
                free_entry(e);
                e = next;
            }
        }
        pthread_mutex_destroy(&c->stripes[i].mu);
    }
    free(c);
}

static struct stripe *stripe_of(mc_catalogue_cache *c, uint64_t hash)
{
    return &c->stripes[hash % STRIPES];
}

static struct entry **bucket_of(struct stripe *s, uint64_t hash)
{
    return &s->buckets[(hash / STRIPES) % BUCKETS];
}

/* The entry for key in its stripe (locked by the caller), or NULL. */
static struct entry *find(struct stripe *s, uint64_t hash, const char *key)
{
    for (struct entry *e = *bucket_of(s, hash); e != NULL; e = e->next)
        if (e->hash == hash && strcmp(e->key, key) == 0)
            return e;
    return NULL;
}

/* Unlinks the least recently used entry of the stripe (locked by the caller) and
   returns it, for the caller to free once unlocked. */
static struct entry *unlink_least_recent(struct stripe *s)
{
    struct entry **victim = NULL;
    for (size_t b = 0; b < BUCKETS; b++)
        for (struct entry **link = &s->buckets[b]; *link != NULL; link = &(*link)->next)
            if (victim == NULL || (*link)->used_ms < (*victim)->used_ms)
                victim = link;
    if (victim == NULL)
        return NULL;
    struct entry *e = *victim;
    *victim = e->next;
    s->count--;
    return e;
}

enum mc_catalogue_lookup mc_catalogue_cache_get(mc_catalogue_cache *c, const char *key,
                                                long long now_ms, long long max_age_ms,
                                                const mc_catalogue_doc **doc, char *etag,
                                                size_t etag_len)
{
    *doc = NULL;
    if (c == NULL)
        return MC_CATALOGUE_MISS;
    uint64_t hash = mc_fnv1a(key);
    struct stripe *s = stripe_of(c, hash);
    enum mc_catalogue_lookup found = MC_CATALOGUE_MISS;
    pthread_mutex_lock(&s->mu);
    struct entry *e = find(s, hash, key);
    if (e != NULL) {
        e->used_ms = now_ms;
        *doc = mc_catalogue_doc_retain(e->doc);
        if (etag != NULL && etag_len > 0)
            snprintf(etag, etag_len, "%s", e->etag);
        found = e->immutable || now_ms - e->checked_ms < max_age_ms ? MC_CATALOGUE_FRESH
                                                                     : MC_CATALOGUE_STALE;
    }
    pthread_mutex_unlock(&s->mu);
    return found;
}

void mc_catalogue_cache_put(mc_catalogue_cache *c, const char *key, const mc_catalogue_doc *doc,
                            const char *etag, bool immutable, long long now_ms)
{
    if (c == NULL || doc == NULL)
        return;
    uint64_t hash = mc_fnv1a(key);
    struct stripe *s = stripe_of(c, hash);
    const mc_catalogue_doc *replaced = NULL;
    struct entry *dropped = NULL;
    /* allocated before locking; dropped again if the key is already held */
    struct entry *fresh = calloc(1, sizeof *fresh);
    if (fresh != NULL && (fresh->key = strdup(key)) == NULL) {
        free(fresh);
        fresh = NULL;
    }

    pthread_mutex_lock(&s->mu);
    struct entry *e = find(s, hash, key);
    if (e == NULL && fresh == NULL) {
        pthread_mutex_unlock(&s->mu);
        return;
    }
    if (e == NULL) {
        if (s->count >= c->max_per_stripe)
            dropped = unlink_least_recent(s);
        fresh->hash = hash;
        fresh->next = *bucket_of(s, hash);
        *bucket_of(s, hash) = fresh;
        s->count++;
        e = fresh;
        fresh = NULL;
    }
    if (e->doc != doc) {
        replaced = e->doc;
        e->doc = mc_catalogue_doc_retain(doc);
    }
    snprintf(e->etag, sizeof e->etag, "%s", etag != NULL ? etag : "");
    e->immutable = immutable;
    e->checked_ms = now_ms;
    e->used_ms = now_ms;
    pthread_mutex_unlock(&s->mu);

    mc_catalogue_doc_release(replaced);
    free_entry(dropped);
    free_entry(fresh); /* unused: the key was held */
}

size_t mc_catalogue_cache_count(mc_catalogue_cache *c)
{
    size_t n = 0;
    for (size_t i = 0; c != NULL && i < STRIPES; i++) {
        pthread_mutex_lock(&c->stripes[i].mu);
        n += c->stripes[i].count;
        pthread_mutex_unlock(&c->stripes[i].mu);
    }
    return n;
}
