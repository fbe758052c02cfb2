/*
 * The response cache across instances: PostgreSQL LISTEN/NOTIFY (issue 14).
 *
 * Each instance drops its own response cache after each of its own successful
 * writes (server_dispatch.c). With several instances behind the gateway the
 * others would answer the previous state until their entries expire (the
 * TTL), so a successful write also sends a notification on one channel,
 * payload the service's name, and every instance of that service listens on
 * a connection of its own and drops its cache when one arrives: a publish is
 * seen by every instance at once. On (re)connecting the listener drops the
 * cache too, since notifications sent while it was away are lost; a listener
 * that cannot connect retries every second and logs the outage once, and the
 * TTL still bounds staleness meanwhile.
 *
 * The channel name is one constant (LISTEN takes no parameters); the service
 * travels as the payload, a bound parameter of pg_notify.
 *
 * The same channel and listener carry keyed invalidations
 * (motcua/invalidation.h): payload "<service>:<key>", sent inside the
 * transaction that changed what the key names, so it arrives only if that
 * commits. A service keeping its own cache of such keys (the tracking
 * service's public cards) listens with mc_invalidation_listen.
 */
#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "motcua/invalidation.h"
#include "motcua/log.h"

#define CHANNEL "motcua_response_cache"
#define RETRY_MS 1000

/* A listener of one service's invalidations (the response cache's and
   mc_invalidation_listen's). */
struct mc_cache_listener {
    char *conninfo;
    char *service;
    size_t service_len;
    void (*on_all)(void *ctx);                  /* payload "<service>" */
    void (*on_key)(const char *key, void *ctx); /* payload "<service>:<key>" */
    void (*on_reset)(bool listening, void *ctx);
    void *ctx;                                  /* borrowed */
    int wake[2];                                /* a byte on wake[1] stops the thread */
    pthread_t thread;
};

static const mc_db_statement notify_stmt = {
    "mc_response_cache_notify", "SELECT pg_notify('" CHANNEL "', $1::text)", 1};

static PGconn *listen_connect(const struct mc_cache_listener *l)
{
    const char *keys[] = {"connect_timeout", "dbname", NULL};
    const char *vals[] = {"3", l->conninfo, NULL};
    PGconn *pg = PQconnectdbParams(keys, vals, 1);
    if (pg != NULL && PQstatus(pg) == CONNECTION_OK) {
        /* A compile-time literal (CHANNEL is a #define): LISTEN takes no bind
           parameters, and nothing from outside ever reaches this text. */
        PGresult *res = PQexec(pg, "LISTEN " CHANNEL);
        bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        PQclear(res);
        if (ok)
            return pg;
    }
    PQfinish(pg);
    return NULL;
}

/* Wait until the socket (or -1: only the timeout) is readable or a stop is
   asked. False when stopping. */
static bool wait_for(const struct mc_cache_listener *l, int fd, int timeout_ms)
{
    struct pollfd fds[2] = {{l->wake[0], POLLIN, 0}, {fd, POLLIN, 0}};
    int rc = poll(fds, fd >= 0 ? 2 : 1, timeout_ms);
    return !(rc > 0 && (fds[0].revents & POLLIN) != 0);
}

static void *listen_main(void *arg)
{
    struct mc_cache_listener *l = arg;
    PGconn *pg = NULL;
    bool failing = false;
    for (;;) {
        if (pg == NULL) {
            pg = listen_connect(l);
            if (pg == NULL) {
                if (!failing) {
                    l->on_reset(false, l->ctx);
                    mc_log(MC_LOG_WARNING, NULL, "cache.listen_failed",
                           "cannot LISTEN for cache invalidations; retrying every second");
                }
                failing = true;
                if (!wait_for(l, -1, RETRY_MS))
                    break;
                continue;
            }
            if (failing)
                mc_log(MC_LOG_INFO, NULL, "cache.listen_recovered", "listening again");
            failing = false;
            l->on_reset(true, l->ctx); /* what was missed meanwhile */
        }
        if (!wait_for(l, PQsocket(pg), 60000))
            break;
        if (!PQconsumeInput(pg)) {
            l->on_reset(false, l->ctx);
            PQfinish(pg);
            pg = NULL;
            continue;
        }
        PGnotify *n;
        while ((n = PQnotifies(pg)) != NULL) {
            /* "<service>" or "<service>:<key>"; another service's are ignored */
            bool ours = strncmp(n->extra, l->service, l->service_len) == 0;
            char after = ours ? n->extra[l->service_len] : 'x';
            if (after == '\0' && l->on_all != NULL)
                l->on_all(l->ctx);
            else if (after == ':' && l->on_key != NULL)
                l->on_key(n->extra + l->service_len + 1, l->ctx);
            PQfreemem(n);
        }
    }
    PQfinish(pg);
    return NULL;
}

static struct mc_cache_listener *listener_start(const char *conninfo, const char *service,
                                                 const struct mc_cache_listener *callbacks)
{
    struct mc_cache_listener *l = calloc(1, sizeof *l);
    if (l == NULL)
        return NULL;
    l->conninfo = strdup(conninfo);
    l->service = strdup(service);
    l->service_len = strlen(service);
    l->on_all = callbacks->on_all;
    l->on_key = callbacks->on_key;
    l->on_reset = callbacks->on_reset;
    l->ctx = callbacks->ctx;
    l->wake[0] = l->wake[1] = -1;
    if (l->conninfo == NULL || l->service == NULL || pipe(l->wake) != 0 ||
        pthread_create(&l->thread, NULL, listen_main, l) != 0) {
        if (l->wake[0] >= 0) {
            close(l->wake[0]);
            close(l->wake[1]);
        }
        free(l->conninfo);
        free(l->service);
        free(l);
        return NULL;
    }
    return l;
}

static void cache_drop_all(void *cache)
{
    mc_response_cache_invalidate(cache);
}

static void cache_reset(bool listening, void *cache)
{
    (void)listening;
    mc_response_cache_invalidate(cache);
}

struct mc_cache_listener *mc_cache_listener_start(const char *conninfo, const char *service,
                                                  struct mc_response_cache *cache)
{
    struct mc_cache_listener callbacks = {.on_all = cache_drop_all, .on_reset = cache_reset, .ctx = cache};
    return listener_start(conninfo, service, &callbacks);
}

mc_invalidation_listener *mc_invalidation_listen(const char *conninfo, const char *service,
                                                 void (*on_key)(const char *key, void *ctx),
                                                 void (*on_reset)(bool listening, void *ctx),
                                                 void *ctx)
{
    if (conninfo == NULL || service == NULL || on_key == NULL || on_reset == NULL)
        return NULL;
    struct mc_cache_listener callbacks = {.on_key = on_key, .on_reset = on_reset, .ctx = ctx};
    return listener_start(conninfo, service, &callbacks);
}

void mc_invalidation_listener_stop(mc_invalidation_listener *l)
{
    mc_cache_listener_stop(l);
}

void mc_cache_listener_stop(struct mc_cache_listener *l)
{
    if (l == NULL)
        return;
    ssize_t w;
    do
        w = write(l->wake[1], "x", 1);
    while (w < 0 && errno == EINTR);
    pthread_join(l->thread, NULL);
    close(l->wake[0]);
    close(l->wake[1]);
    free(l->conninfo);
    free(l->service);
    free(l);
}

void mc_cache_notify(mc_db_pool *pool, const char *service)
{
    mc_db_conn *conn;
    if (mc_db_acquire(pool, &conn) != MC_OK) {
        mc_log(MC_LOG_WARNING, NULL, "cache.notify_failed",
               "no connection to tell other instances of a write");
        return;
    }
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, service);
    PGresult *res = mc_db_exec_params(conn, &notify_stmt, &p);
    if (res == NULL)
        mc_log(MC_LOG_WARNING, NULL, "cache.notify_failed",
               "could not tell other instances of a write");
    PQclear(res);
    mc_db_release(pool, conn);
}

mc_error mc_invalidation_send(mc_db_conn *conn, const char *service, const char *key)
{
    char payload[512];
    int n = snprintf(payload, sizeof payload, "%s:%s", service, key);
    if (n < 0 || (size_t)n >= sizeof payload)
        return MC_ERR_INTERNAL;
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, payload);
    PGresult *res = mc_db_exec_params(conn, &notify_stmt, &p);
    mc_error rc = res != NULL ? MC_OK : mc_db_last_error(conn);
    PQclear(res);
    return rc;
}
