/*
 * The public lookup's rate limits inside the service (the gateway limits
 * per address too: deploy/gateway/services/tracking.conf): a fixed window
 * per client address and per dossier code, so neither one client walking
 * through codes nor many clients guessing one code's second factor get far.
 *
 * Memory is bounded: each limit is a table of TRACKING_RATE_SLOTS counters
 * indexed by a keyed hash of the key (a per-process random seed, so a
 * client cannot aim collisions); two keys landing on one slot share its
 * counter, which can only limit sooner, never later. Per instance: behind
 * several instances a client gets up to the limit at each.
 */
#ifndef TRACKING_RATE_LIMIT_H
#define TRACKING_RATE_LIMIT_H

#include <stdint.h>

#define TRACKING_RATE_SLOTS 65536

struct tracking_rate_limits;

/* NULL when out of memory. */
struct tracking_rate_limits *tracking_rate_limits_new(unsigned per_address, unsigned per_code,
                                                      unsigned window_s);
void tracking_rate_limits_free(struct tracking_rate_limits *l);

/* Count one lookup of `code` from `address` at `now` (epoch seconds):
   0 when allowed, else the seconds until the window ends (Retry-After).
   Thread-safe. */
unsigned tracking_rate_check(struct tracking_rate_limits *l, const char *address, const char *code,
                             int64_t now);

#endif
