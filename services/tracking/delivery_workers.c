/* A small pool of delivery threads (delivery_workers.h). */
#include "delivery_workers.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "motcua/log.h"

struct delivery_workers {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping;
    unsigned idle_ms;
    bool (*step)(void *arg);
    void *arg;
    unsigned n;
    pthread_t threads[];
};

static void *worker_main(void *p)
{
    struct delivery_workers *w = p;
    for (;;) {
        pthread_mutex_lock(&w->lock);
        bool stop = w->stopping;
        pthread_mutex_unlock(&w->lock);
        if (stop)
            break;
        if (w->step(w->arg))
            continue;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        long long ns = (long long)until.tv_nsec + (long long)w->idle_ms * 1000000LL;
        until.tv_sec += (time_t)(ns / 1000000000LL);
        until.tv_nsec = (long)(ns % 1000000000LL);
        pthread_mutex_lock(&w->lock);
        while (!w->stopping) {
            if (pthread_cond_timedwait(&w->wake, &w->lock, &until) == ETIMEDOUT)
                break;
        }
        pthread_mutex_unlock(&w->lock);
    }
    return NULL;
}

delivery_workers *delivery_workers_start(const char *name, unsigned n, unsigned idle_ms,
                                         bool (*step)(void *arg), void *arg)
{
    struct delivery_workers *w = calloc(1, sizeof *w + n * sizeof(pthread_t));
    if (w == NULL)
        return NULL;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    w->idle_ms = idle_ms;
    w->step = step;
    w->arg = arg;
    for (unsigned i = 0; i < n; i++) {
        if (pthread_create(&w->threads[i], NULL, worker_main, w) != 0) {
            mc_log(MC_LOG_ERROR, NULL, "tracking.workers", "%s: only %u of %u threads started", name,
                   i, n);
            break;
        }
        w->n++;
    }
    if (w->n == 0) {
        delivery_workers_stop(w);
        return NULL;
    }
    return w;
}

void delivery_workers_stop(delivery_workers *w)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = true;
    pthread_cond_broadcast(&w->wake);
    pthread_mutex_unlock(&w->lock);
    for (unsigned i = 0; i < w->n; i++)
        pthread_join(w->threads[i], NULL);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w);
}
