/* The retry schedule and what answers mean (delivery_schedule.h). */
#include "delivery_schedule.h"

#include <math.h>

static const int64_t retry_delays_ms[DELIVERY_MAX_ATTEMPTS - 1] = {
    5 * 1000LL,        /* after the first failure */
    5 * 60 * 1000LL,   /* 5 min */
    30 * 60 * 1000LL,  /* 30 min */
    2 * 3600 * 1000LL, /* 2 h */
    5 * 3600 * 1000LL, /* 5 h */
    10 * 3600 * 1000LL,
    10 * 3600 * 1000LL, /* after the seventh: the eighth and last attempt */
};

int64_t delivery_retry_delay_ms(unsigned failed_attempts, double scale)
{
    if (failed_attempts == 0 || failed_attempts >= DELIVERY_MAX_ATTEMPTS || !(scale > 0.0) ||
        !isfinite(scale))
        return -1;
    double ms = (double)retry_delays_ms[failed_attempts - 1] * scale;
    if (ms < 1.0)
        return 1;
    if (ms > 1e15)
        return -1;
    return (int64_t)ms;
}

enum delivery_outcome delivery_outcome_of(long status)
{
    if (status >= 200 && status <= 299)
        return DELIVERY_DELIVERED;
    if (status == 410)
        return DELIVERY_GONE;
    return DELIVERY_RETRY;
}

bool webhook_should_disable(enum delivery_outcome last, int64_t failing_since_ms, int64_t now_ms,
                            int64_t disable_after_ms)
{
    if (last == DELIVERY_GONE)
        return true;
    if (last == DELIVERY_DELIVERED || failing_since_ms <= 0)
        return false;
    return now_ms - failing_since_ms >= disable_after_ms;
}
