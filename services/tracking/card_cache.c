/* The public card cache (card_cache.h). */
#include "card_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Locks spread over the codes; each stripe owns capacity / STRIPES slots. */
#define STRIPES 64
#define CODE_MAX 64

struct slot {
    char code[CODE_MAX]; /* "" when the slot is free */
    char etag[CARD_CACHE_ETAG_MAX];
    char *body;
    size_t len;
    bool referenced;     /* read since the clock hand last passed */
    uint32_t next;       /* the bucket's chain, NONE at its end */
};

#define NONE UINT32_MAX

struct stripe {
    pthread_mutex_t lock;
    uint64_t version;    /* bumped by every invalidation of one of its codes */
    uint32_t hand;       /* the clock */
    uint32_t used;
    uint32_t *buckets;   /* n_slots chains of slot indexes */
    struct slot *slots;
};

struct card_cache {
    uint32_t n_slots;    /* per stripe */
    atomic_uint_fast64_t hits, misses;
    struct stripe stripes[STRIPES];
};

/* FNV-1a. The keys are codes of dossiers that exist (a card is only kept
   after the database found it), not whatever a client sends. */
static uint64_t code_hash(const char *code)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = code; *p != '\0'; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return h;
}

static struct stripe *stripe_of(card_cache *c, const char *code, uint32_t *bucket)
{
    uint64_t h = code_hash(code);
    *bucket = (uint32_t)((h / STRIPES) % c->n_slots);
    return &c->stripes[h % STRIPES];
}

card_cache *card_cache_new(size_t capacity)
{
    if (capacity == 0)
        return NULL;
    size_t per_stripe = (capacity + STRIPES - 1) / STRIPES;
    if (per_stripe >= NONE)
        return NULL;
    card_cache *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->n_slots = (uint32_t)per_stripe;
    for (size_t i = 0; i < STRIPES; i++) {
        struct stripe *s = &c->stripes[i];
        pthread_mutex_init(&s->lock, NULL);
        s->buckets = malloc(per_stripe * sizeof *s->buckets);
        s->slots = calloc(per_stripe, sizeof *s->slots);
        if (s->buckets == NULL || s->slots == NULL) {
            card_cache_free(c);
            return NULL;
        }
        for (size_t b = 0; b < per_stripe; b++)
            s->buckets[b] = NONE;
    }
    return c;
}

void card_cache_free(card_cache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < STRIPES; i++) {
        struct stripe *s = &c->stripes[i];
        for (uint32_t k = 0; s->slots != NULL && k < c->n_slots; k++)
            free(s->slots[k].body);
        free(s->slots);
        free(s->buckets);
        pthread_mutex_destroy(&s->lock);
    }
    free(c);
}

/* The slot index holding code in the bucket's chain, or NONE; *link is the
   link that points at it. */
static uint32_t find_locked(struct stripe *s, uint32_t bucket, const char *code, uint32_t **link)
{
    *link = &s->buckets[bucket];
    while (**link != NONE) {
        uint32_t k = **link;
        if (strcmp(s->slots[k].code, code) == 0)
            return k;
        *link = &s->slots[k].next;
    }
    return NONE;
}

/* Free slot k, unlinking it from its chain. */
static void drop_locked(card_cache *c, struct stripe *s, uint32_t k)
{
    uint32_t bucket = (uint32_t)((code_hash(s->slots[k].code) / STRIPES) % c->n_slots);
    uint32_t *link;
    if (find_locked(s, bucket, s->slots[k].code, &link) == k)
        *link = s->slots[k].next;
    free(s->slots[k].body);
    memset(&s->slots[k], 0, sizeof s->slots[k]);
    s->used--;
}

uint64_t card_cache_version(card_cache *c, const char *code)
{
    if (c == NULL || code == NULL)
        return 0;
    uint32_t bucket;
    struct stripe *s = stripe_of(c, code, &bucket);
    pthread_mutex_lock(&s->lock);
    uint64_t v = s->version;
    pthread_mutex_unlock(&s->lock);
    return v;
}

bool card_cache_get(card_cache *c, const char *code, char **body, size_t *len,
                    char etag[CARD_CACHE_ETAG_MAX])
{
    if (c == NULL || code == NULL)
        return false;
    uint32_t bucket, *link;
    struct stripe *s = stripe_of(c, code, &bucket);
    bool found = false;
    pthread_mutex_lock(&s->lock);
    uint32_t k = find_locked(s, bucket, code, &link);
    if (k != NONE) {
        struct slot *e = &s->slots[k];
        *body = malloc(e->len + 1);
        if (*body != NULL) {
            memcpy(*body, e->body, e->len);
            (*body)[e->len] = '\0';
            *len = e->len;
            memcpy(etag, e->etag, CARD_CACHE_ETAG_MAX);
            e->referenced = true;
            found = true;
        }
    }
    pthread_mutex_unlock(&s->lock);
    atomic_fetch_add(found ? &c->hits : &c->misses, 1);
    return found;
}

/* A free slot, evicting by the clock when the stripe is full. */
static uint32_t free_slot_locked(card_cache *c, struct stripe *s)
{
    for (;;) {
        uint32_t k = s->hand;
        s->hand = (s->hand + 1) % c->n_slots;
        struct slot *e = &s->slots[k];
        if (e->code[0] == '\0')
            return k;
        if (s->used < c->n_slots)
            continue; /* free slots exist: find one before evicting */
        if (e->referenced) {
            e->referenced = false;
            continue;
        }
        drop_locked(c, s, k);
        return k;
    }
}

bool card_cache_put(card_cache *c, const char *code, const char *body, size_t len, const char *etag,
                    uint64_t version)
{
    if (c == NULL || code == NULL || body == NULL || etag == NULL || strlen(code) >= CODE_MAX ||
        code[0] == '\0' || strlen(etag) >= CARD_CACHE_ETAG_MAX)
        return false;
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return false;
    memcpy(copy, body, len);
    copy[len] = '\0';
    uint32_t bucket, *link;
    struct stripe *s = stripe_of(c, code, &bucket);
    pthread_mutex_lock(&s->lock);
    if (s->version != version) { /* invalidated since the reader's database read */
        pthread_mutex_unlock(&s->lock);
        free(copy);
        return false;
    }
    uint32_t k = find_locked(s, bucket, code, &link);
    if (k != NONE) {
        free(s->slots[k].body);
    } else {
        k = free_slot_locked(c, s);
        snprintf(s->slots[k].code, CODE_MAX, "%s", code);
        s->slots[k].next = s->buckets[bucket];
        s->buckets[bucket] = k;
        s->used++;
    }
    struct slot *e = &s->slots[k];
    e->body = copy;
    e->len = len;
    snprintf(e->etag, CARD_CACHE_ETAG_MAX, "%s", etag);
    e->referenced = false;
    pthread_mutex_unlock(&s->lock);
    return true;
}

void card_cache_invalidate(card_cache *c, const char *code)
{
    if (c == NULL || code == NULL)
        return;
    uint32_t bucket, *link;
    struct stripe *s = stripe_of(c, code, &bucket);
    pthread_mutex_lock(&s->lock);
    s->version++;
    uint32_t k = find_locked(s, bucket, code, &link);
    if (k != NONE)
        drop_locked(c, s, k);
    pthread_mutex_unlock(&s->lock);
}

void card_cache_clear(card_cache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < STRIPES; i++) {
        struct stripe *s = &c->stripes[i];
        pthread_mutex_lock(&s->lock);
        s->version++;
        for (uint32_t k = 0; k < c->n_slots; k++)
            if (s->slots[k].code[0] != '\0')
                drop_locked(c, s, k);
        pthread_mutex_unlock(&s->lock);
    }
}

void card_cache_stats(card_cache *c, size_t *entries, uint64_t *hits, uint64_t *misses)
{
    *entries = 0;
    *hits = *misses = 0;
    if (c == NULL)
        return;
    for (size_t i = 0; i < STRIPES; i++) {
        pthread_mutex_lock(&c->stripes[i].lock);
        *entries += c->stripes[i].used;
        pthread_mutex_unlock(&c->stripes[i].lock);
    }
    *hits = atomic_load(&c->hits);
    *misses = atomic_load(&c->misses);
}
