/*
 * The answers of settled periods (docs/services/statistics.md, *The answer
 * cache*): a bounded map from a canonical query to the rollup rows it read,
 * shared by the request threads. A settled period's rows never change, so an
 * entry is never invalidated; when full, the oldest entry makes room.
 */
#ifndef STATISTICS_ANSWER_CACHE_H
#define STATISTICS_ANSWER_CACHE_H

#include <jansson.h>
#include <stddef.h>

struct answer_cache;

/* A cache of at most `capacity` answers; NULL when capacity is 0 (no cache)
   or out of memory. */
struct answer_cache *answer_cache_new(size_t capacity);
void answer_cache_free(struct answer_cache *cache);

/* The answer kept for `key` (a new reference), or NULL. A NULL cache keeps nothing. */
json_t *answer_cache_get(struct answer_cache *cache, const char *key);
/* Keep `answer` (borrowed: the cache takes its own reference) for `key`,
   replacing an answer kept for it, dropping the oldest entry when full. */
void answer_cache_put(struct answer_cache *cache, const char *key, json_t *answer);
/* How many answers are kept. */
size_t answer_cache_size(struct answer_cache *cache);

#endif
