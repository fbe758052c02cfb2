/*
 * The rows of current periods, kept for a moment (docs/services/statistics.md,
 * *The answer cache*): a period not yet settled changes with every page of the
 * feed, so its rows are never kept in the answer cache; under load, though,
 * every request of the same report read the same rows at once. The memo keeps
 * them for at most `ttl_ms` (1 s) and until the consumer of this instance
 * counts more events (period_memo_changed), and reads them once for all the
 * requests that ask meanwhile (single flight: the others wait for that read).
 * Another instance's consumer does not tell this one: there a report is at
 * most ttl_ms older than the feed it has counted.
 */
#ifndef STATISTICS_PERIOD_MEMO_H
#define STATISTICS_PERIOD_MEMO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct period_memo;

/* A memo of at most `capacity` keys; NULL when ttl_ms or capacity is 0 (none)
   or out of memory. */
struct period_memo *period_memo_new(unsigned ttl_ms, size_t capacity);
void period_memo_free(struct period_memo *m);

/* The rows of `key` (a new reference) when they were read less than ttl_ms
   before now_ms (milliseconds of a monotonic clock) and nothing was counted
   since; when another thread is reading them, waits for its read. Else NULL
   with *claimed true: the caller reads them and hands them to
   period_memo_done. A NULL memo: NULL, *claimed false. */
json_t *period_memo_get(struct period_memo *m, const char *key, int64_t now_ms, bool *claimed);
/* The read claimed for `key` is done: its rows (borrowed; NULL when the read
   failed, and the next asker reads again). */
void period_memo_done(struct period_memo *m, const char *key, json_t *rows);
/* More events were counted: nothing held before is fresh any more. */
void period_memo_changed(struct period_memo *m);

#endif
