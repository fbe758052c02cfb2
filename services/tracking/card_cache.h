/*
 * The public card cache: the bytes of GET /api/v1/tracking/dossiers/{code}
 * asked without a second factor, kept in memory by dossier code, so a
 * repeated lookup costs no database round trip (docs/services/tracking.md,
 * "Card cache").
 *
 * Bounded: at most `capacity` cards; when full, the clock algorithm evicts
 * a card not read since the hand last passed. No time-to-live: a card is
 * dropped exactly when the projection changes its dossier
 * (card_cache_invalidate, from the NOTIFY the projection's transaction
 * sends), and everything when the listener loses its connection
 * (card_cache_clear), since notifications sent meanwhile are lost.
 *
 * A reader that misses notes card_cache_version() before reading the
 * database and passes it to card_cache_put: a card read before an
 * invalidation of its code that raced with the read is not kept.
 *
 * Only the public card is held: a lookup with a second factor is never
 * answered from here, so an unknown code and a wrong factor still cost
 * the same (one query, one hash).
 *
 * Pure logic, thread-safe (striped locks), no I/O.
 */
#ifndef TRACKING_CARD_CACHE_H
#define TRACKING_CARD_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CARD_CACHE_ETAG_MAX 72

typedef struct card_cache card_cache;

/* A cache of at most `capacity` cards; NULL when capacity is 0 (off) or
   memory is short. */
card_cache *card_cache_new(size_t capacity);
void card_cache_free(card_cache *c); /* NULL is allowed */

/* The version to give card_cache_put for this code, read before the
   database is. */
uint64_t card_cache_version(card_cache *c, const char *code);

/* The card of this code: *body (malloc'd, NUL-terminated, the caller frees),
   *len and etag. False on a miss (or c NULL). */
bool card_cache_get(card_cache *c, const char *code, char **body, size_t *len,
                    char etag[CARD_CACHE_ETAG_MAX]);

/* Keep a copy of the card unless the code was invalidated (or the cache
   cleared) since `version` was read; true when kept. */
bool card_cache_put(card_cache *c, const char *code, const char *body, size_t len, const char *etag,
                    uint64_t version);

/* The dossier with this code changed: drop its card, refuse puts begun before. */
void card_cache_invalidate(card_cache *c, const char *code);

/* Drop every card and refuse every put begun before. */
void card_cache_clear(card_cache *c);

/* Cards held, hits and misses since the start (for /metrics and tests). */
void card_cache_stats(card_cache *c, size_t *entries, uint64_t *hits, uint64_t *misses);

#endif
