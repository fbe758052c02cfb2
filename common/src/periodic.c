/* A background job in its own thread (motcua/periodic.h). */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <limits.h>
#include <time.h>

#include "internal.h"
#include "motcua/periodic.h"

struct mc_periodic {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    unsigned interval_s;
    void (*run)(void *arg);
    void *arg;
};

static void *periodic_main(void *arg)
{
    mc_periodic *p = arg;
    pthread_mutex_lock(&p->mu);
    while (!p->stop) {
        pthread_mutex_unlock(&p->mu);
        p->run(p->arg);
        pthread_mutex_lock(&p->mu);
        /* A monotonic deadline: a change of the wall clock neither skips
           nor repeats a pass. */
        struct timespec until;
        mc_monotonic_after_ms(&until, p->interval_s > UINT_MAX / 1000 ? UINT_MAX : p->interval_s * 1000);
        while (!p->stop && pthread_cond_timedwait(&p->cv, &p->mu, &until) == 0) {
        }
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

mc_periodic *mc_periodic_start(unsigned interval_s, void (*run)(void *arg), void *arg)
{
    mc_periodic *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    pthread_mutex_init(&p->mu, NULL);
    if (!mc_cond_init_monotonic(&p->cv)) {
        pthread_mutex_destroy(&p->mu);
        free(p);
        return NULL;
    }
    p->interval_s = interval_s;
    p->run = run;
    p->arg = arg;
    if (pthread_create(&p->thread, NULL, periodic_main, p) != 0) {
        pthread_cond_destroy(&p->cv);
        pthread_mutex_destroy(&p->mu);
        free(p);
        return NULL;
    }
    return p;
}

void mc_periodic_stop(mc_periodic *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
