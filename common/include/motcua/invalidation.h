/*
 * Keyed invalidations across a service's instances (response_cache_notify.c):
 * a service that keeps its own in-memory copies of something (the tracking
 * service's public cards) tells every instance, itself included, that the
 * thing named `key` changed, through PostgreSQL NOTIFY on common's cache
 * channel, payload "<service>:<key>".
 *
 * mc_invalidation_send runs in the caller's transaction: the notification
 * is delivered when it commits, and never when it rolls back. Each instance
 * listens on a connection of its own; while that connection is down,
 * notifications are lost, so on_reset(false) tells the owner to stop
 * trusting its copies and on_reset(true), once listening again, that what
 * it holds may be stale.
 */
#ifndef MOTCUA_INVALIDATION_H
#define MOTCUA_INVALIDATION_H

#include <stdbool.h>

#include "motcua/db.h"
#include "motcua/error.h"

typedef struct mc_cache_listener mc_invalidation_listener;

/* Notify every instance of `service` that `key` changed, when the caller's
   transaction on conn commits. service + key: at most 510 bytes. */
mc_error mc_invalidation_send(mc_db_conn *conn, const char *service, const char *key);

/* A thread listening on its own connection (conninfo) for `service`'s keyed
   invalidations: on_key(key, ctx) for each, on_reset(listening, ctx) when
   the connection is lost (false) and when listening (again: true). The
   callbacks run on the listener's thread. NULL when it cannot start. */
mc_invalidation_listener *mc_invalidation_listen(const char *conninfo, const char *service,
                                                 void (*on_key)(const char *key, void *ctx),
                                                 void (*on_reset)(bool listening, void *ctx),
                                                 void *ctx);

/* Stop and join the thread, free the listener. NULL is allowed. */
void mc_invalidation_listener_stop(mc_invalidation_listener *l);

#endif
