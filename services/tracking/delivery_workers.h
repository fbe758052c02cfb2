/*
 * A small pool of delivery threads (citizen notifications, webhooks). Each
 * thread calls step(arg) again and again: step does one unit of work (one
 * message) and returns true, or returns false when there is none, and the
 * thread then waits idle_ms (or until stopped). A slow unit holds one
 * thread only, so a slow receiver delays no one else while other threads
 * are free.
 */
#ifndef TRACKING_DELIVERY_WORKERS_H
#define TRACKING_DELIVERY_WORKERS_H

#include <stdbool.h>

typedef struct delivery_workers delivery_workers;

/* Start n threads (arg borrowed: it outlives the pool). NULL when none
   could be started. */
delivery_workers *delivery_workers_start(const char *name, unsigned n, unsigned idle_ms,
                                         bool (*step)(void *arg), void *arg);

/* Wake and join every thread (a unit in progress finishes first), then
   free the pool. NULL is allowed. */
void delivery_workers_stop(delivery_workers *w);

#endif
