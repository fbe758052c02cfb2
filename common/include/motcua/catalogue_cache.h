/*
 * The catalogue client's cache (common/src/catalogue_cache.c): catalogue documents
 * (procedure versions, agencies, calendar years) held in memory and shared, read-only,
 * by every thread of a service. Used by the catalogue client (motcua/catalogue_client.h);
 * public so that it can be tested without a network.
 *
 * A document is handed out as a reference to an immutable mc_catalogue_doc: the JSON is
 * const, so no thread can change what another reads, and the document lives until its
 * last holder releases it, even if the cache dropped it meanwhile. A procedure
 * document also carries the compiled form schema of each of its cases
 * (motcua/form_schema.h), compiled once when the document is made.
 *
 * The cache is a hash table in stripes, each with its own lock (the shape of
 * common/src/response_cache.c), bounded: when a stripe is full its least recently used
 * entry is dropped. Entries remember the ETag and when they were last checked with the
 * catalogue, so the client can revalidate them with If-None-Match.
 */
#ifndef MOTCUA_CATALOGUE_CACHE_H
#define MOTCUA_CATALOGUE_CACHE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "motcua/form_schema.h"

/* ---- Documents ---- */

typedef struct mc_catalogue_doc mc_catalogue_doc;

/*
 * A document made of `json`, whose reference it takes (steals), also on failure.
 * For each case of a procedure document ("cases": [{..., "form_schema": {...}}]) the
 * form schema is compiled now. Nothing may change `json` afterwards. Returns NULL when
 * `json` is NULL or memory runs out. The caller holds the one reference.
 */
mc_catalogue_doc *mc_catalogue_doc_new(json_t *json);

/* The document's JSON, read-only, valid while the caller holds its reference. */
const json_t *mc_catalogue_doc_json(const mc_catalogue_doc *doc);

/* Another reference to the document (for a second holder); returns doc. */
const mc_catalogue_doc *mc_catalogue_doc_retain(const mc_catalogue_doc *doc);

/* Drops the caller's reference; the last one frees the document. NULL is ignored. */
void mc_catalogue_doc_release(const mc_catalogue_doc *doc);

/*
 * The compiled form schema of `the_case` (an element of the document's "cases", as
 * found in mc_catalogue_doc_json), or NULL when the case has no form schema, it did not
 * pass mc_form_schema_check, or `the_case` is not one of this document's cases.
 * Borrowed: valid while the caller holds the document.
 */
const mc_form_schema *mc_catalogue_doc_form_schema(const mc_catalogue_doc *doc,
                                                   const json_t *the_case);

/* ---- The cache ---- */

typedef struct mc_catalogue_cache mc_catalogue_cache;

/* At most max_entries documents (at least one per stripe). NULL when out of memory. */
mc_catalogue_cache *mc_catalogue_cache_new(size_t max_entries);
/* Drops the cache's references; documents still held elsewhere live on. */
void mc_catalogue_cache_free(mc_catalogue_cache *c);

enum mc_catalogue_lookup {
    MC_CATALOGUE_MISS,  /* not held */
    MC_CATALOGUE_FRESH, /* held and usable as is */
    MC_CATALOGUE_STALE, /* held, but due to be revalidated (its ETag is copied out) */
};

/*
 * Looks `key` (a path) up at time `now_ms` (a monotonic clock, milliseconds). An entry
 * is FRESH when it is immutable or was checked less than `max_age_ms` ago, else STALE.
 * For FRESH and STALE, *doc is a new reference (release it) and the entry's ETag is
 * copied into etag[etag_len]; for MISS, *doc is NULL.
 */
enum mc_catalogue_lookup mc_catalogue_cache_get(mc_catalogue_cache *c, const char *key,
                                                long long now_ms, long long max_age_ms,
                                                const mc_catalogue_doc **doc, char *etag,
                                                size_t etag_len);

/*
 * Holds `doc` (the cache takes its own reference) under `key` with its ETag, checked at
 * `now_ms`; replaces what the key held. Putting the document a key already holds (a 304
 * answer) only marks it checked. An immutable entry is never stale. When the stripe is
 * full, its least recently used entry is dropped first.
 */
void mc_catalogue_cache_put(mc_catalogue_cache *c, const char *key, const mc_catalogue_doc *doc,
                            const char *etag, bool immutable, long long now_ms);

/* Number of entries held (for tests and metrics). */
size_t mc_catalogue_cache_count(mc_catalogue_cache *c);

#endif
