/*
 * When to try a delivery again (pure), for webhooks and citizen
 * notifications alike: DOMAIN.md §6b's schedule, 5 s, 5 min, 30 min, 2 h,
 * 5 h, 10 h, 10 h after the first, second, ... failure, then given up, about
 * a day and a half in all. A scale (MOTCUA_TRACKING_RETRY_SCALE, 1 in
 * production) shrinks it for tests. And what an answer means for a webhook
 * subscription: delivered, try again, or gone (410: disable it at once).
 */
#ifndef TRACKING_DELIVERY_SCHEDULE_H
#define TRACKING_DELIVERY_SCHEDULE_H

#include <stdbool.h>
#include <stdint.h>

#define DELIVERY_MAX_ATTEMPTS 8 /* the first try and seven retries */

/* Milliseconds to wait after the failed_attempts-th failure (1-based)
   before the next attempt, times scale (> 0, at least 1 ms); -1 when the
   delivery is to be given up (failed_attempts 0 or past the schedule, or a
   bad scale). */
int64_t delivery_retry_delay_ms(unsigned failed_attempts, double scale);

enum delivery_outcome {
    DELIVERY_DELIVERED, /* 2xx */
    DELIVERY_RETRY,     /* no answer, a timeout, any other status */
    DELIVERY_GONE,      /* 410: the receiver asks never to be called again */
};

/* What an attempt's answer means; status 0 when no answer arrived. */
enum delivery_outcome delivery_outcome_of(long status);

/* Should a subscription be disabled? After a 410, or when it has been
   failing (no delivery succeeded since failing_since_ms, 0 when it is not
   failing) for at least disable_after_ms. */
bool webhook_should_disable(enum delivery_outcome last, int64_t failing_since_ms, int64_t now_ms,
                            int64_t disable_after_ms);

#endif
