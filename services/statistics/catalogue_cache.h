/*
 * What the statistics read from the catalogue's public API, kept in memory:
 * entries by key (the agency tree, an agency's online procedures, the names
 * of sectors and procedures). A request reads an entry from the catalogue
 * only the first time (none is held); after that it gets the copy held,
 * however old, and catalogue_cache_refresh (a background job, main.c, every
 * second) reads again each entry older than `cache_seconds`: a request never
 * waits on the catalogue for a copy it has. A read that fails keeps the copy
 * held (logged); without one the caller hears MC_ERR_CATALOGUE_UNAVAILABLE.
 * Thread-safe: readers share the entries (read-only), a read runs outside
 * the lock.
 */
#ifndef STATISTICS_CATALOGUE_CACHE_H
#define STATISTICS_CATALOGUE_CACHE_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

#include "motcua/error.h"

struct catalogue_cache;

struct catalogue_cache *catalogue_cache_new(const char *catalogue_url, unsigned cache_seconds);
void catalogue_cache_free(struct catalogue_cache *c);

/* Read the entry `key` from the catalogue at base: a new reference, or NULL
   when it could not be read. */
typedef json_t *(*catalogue_read_fn)(const char *base, const char *key);

/* The entry `key` into *out (a new reference to a read-only value:
   json_decref it, never change it), read with `read` when none is held. */
mc_error catalogue_cache_get(struct catalogue_cache *c, const char *key, catalogue_read_fn read,
                             json_t **out);

/* Read again, with the reader that first read it, each entry read
   `cache_seconds` or more before `now`; returns how many were read. */
size_t catalogue_cache_refresh(struct catalogue_cache *c, time_t now);

#endif
