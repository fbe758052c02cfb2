/* The rows of current periods, kept for a moment (period_memo.h). */
#include "period_memo.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    char *key;          /* NULL: a free slot */
    json_t *rows;       /* NULL while read, or after a failed read */
    int64_t read_at;    /* when its read started */
    uint64_t generation; /* period_memo_changed's count then */
    bool reading;
};

struct period_memo {
    pthread_mutex_t lock;
    pthread_cond_t read_done;
    struct entry *entries;
    size_t capacity;
    unsigned ttl_ms;
    uint64_t generation;
};

struct period_memo *period_memo_new(unsigned ttl_ms, size_t capacity)
{
    if (ttl_ms == 0 || capacity == 0)
        return NULL;
    struct period_memo *m = calloc(1, sizeof *m);
    if (m == NULL || (m->entries = calloc(capacity, sizeof *m->entries)) == NULL) {
        free(m);
        return NULL;
    }
    m->capacity = capacity;
    m->ttl_ms = ttl_ms;
    pthread_mutex_init(&m->lock, NULL);
    pthread_cond_init(&m->read_done, NULL);
    return m;
}

static void entry_clear(struct entry *e)
{
    free(e->key);
    json_decref(e->rows);
    memset(e, 0, sizeof *e);
}

void period_memo_free(struct period_memo *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->capacity; i++)
        entry_clear(&m->entries[i]);
    free(m->entries);
    pthread_cond_destroy(&m->read_done);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static struct entry *find(struct period_memo *m, const char *key)
{
    for (size_t i = 0; i < m->capacity; i++)
        if (m->entries[i].key != NULL && strcmp(m->entries[i].key, key) == 0)
            return &m->entries[i];
    return NULL;
}

/* A slot for a new key: a free one, else the one read longest ago that is not
   being read; NULL when every slot is being read. */
static struct entry *slot(struct period_memo *m)
{
    struct entry *oldest = NULL;
    for (size_t i = 0; i < m->capacity; i++) {
        struct entry *e = &m->entries[i];
        if (e->key == NULL)
            return e;
        if (!e->reading && (oldest == NULL || e->read_at < oldest->read_at))
            oldest = e;
    }
    if (oldest != NULL)
        entry_clear(oldest);
    return oldest;
}

json_t *period_memo_get(struct period_memo *m, const char *key, int64_t now_ms, bool *claimed)
{
    *claimed = false;
    if (m == NULL)
        return NULL;
    pthread_mutex_lock(&m->lock);
    struct entry *e = find(m, key);
    while (e != NULL && e->reading) {
        pthread_cond_wait(&m->read_done, &m->lock);
        e = find(m, key); /* the slot may have been given to another key meanwhile */
    }
    json_t *rows = NULL;
    if (e != NULL && e->rows != NULL && e->generation == m->generation && now_ms - e->read_at < m->ttl_ms) {
        rows = json_incref(e->rows);
    } else {
        if (e == NULL)
            e = slot(m);
        if (e != NULL && e->key == NULL)
            e->key = strdup(key);
        if (e != NULL && e->key != NULL) {
            json_decref(e->rows);
            e->rows = NULL;
            e->reading = true;
            e->read_at = now_ms;
            e->generation = m->generation;
        }
        *claimed = true; /* untracked when no slot could be had: read alone */
    }
    pthread_mutex_unlock(&m->lock);
    return rows;
}

void period_memo_done(struct period_memo *m, const char *key, json_t *rows)
{
    if (m == NULL)
        return;
    pthread_mutex_lock(&m->lock);
    struct entry *e = find(m, key);
    if (e != NULL && e->reading) {
        e->reading = false;
        e->rows = json_incref(rows);
        pthread_cond_broadcast(&m->read_done);
    }
    pthread_mutex_unlock(&m->lock);
}

void period_memo_changed(struct period_memo *m)
{
    if (m == NULL)
        return;
    pthread_mutex_lock(&m->lock);
    m->generation++;
    pthread_mutex_unlock(&m->lock);
}
