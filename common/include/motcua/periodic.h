/*
 * A background job run every few seconds in its own thread (a sweeper, a
 * cleaner): run(arg) at once, then every interval_s seconds, until stopped.
 * Stopping wakes the thread from its wait and joins it (a run in progress
 * finishes first).
 */
#ifndef MOTCUA_PERIODIC_H
#define MOTCUA_PERIODIC_H

typedef struct mc_periodic mc_periodic;

/* Start the job (arg is borrowed; it must outlive the job). NULL when the
   thread cannot be made. */
mc_periodic *mc_periodic_start(unsigned interval_s, void (*run)(void *arg), void *arg);
/* Stop and free it (NULL is allowed). */
void mc_periodic_stop(mc_periodic *p);

#endif
