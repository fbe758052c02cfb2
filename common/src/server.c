/*
 * The service runtime: start (migrations, pool, keys, HTTP server), serve
 * until SIGTERM/SIGINT, stop gracefully. Its other parts are listed in
 * server_internal.h.
 *
 * Threading (see README "Performance and sizing"): the default model is an
 * epoll thread pool (MHD_USE_EPOLL_INTERNAL_THREAD + THREAD_POOL_SIZE). Each
 * connection is pinned to one worker; a handler blocked in libpq stalls the
 * other connections of that worker, so the pool has several threads per core
 * and the database pool about as many connections as worker threads. The
 * thread-per-connection model stays available (MOTCUA_HTTP_THREAD_MODEL=
 * per_connection) but always with a connection limit and an idle timeout.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <ulfius.h>
#include <unistd.h>

#include "motcua/config.h"
#include "motcua/log.h"
#include "server_internal.h"

void mc_app_set_ctx(mc_app *app, void *ctx)
{
    app->ctx = ctx;
}

void *mc_app_ctx(const mc_app *app)
{
    return app->ctx;
}

mc_db_pool *mc_app_db(const mc_app *app)
{
    return app->db;
}

/* libmicrohttpd calls this when a connection opens and closes: admission
   per client address (net_address.c). A refused connection is shut down at
   once, so its client sees the close instead of a request hanging in the
   backlog, and the capacity left stays for the trusted proxies. */
static void on_connection(void *cls, struct MHD_Connection *connection, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct mc_conn_admission *admission = cls;
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *peer = info != NULL ? info->client_addr : NULL;
    if (code != MHD_CONNECTION_NOTIFY_STARTED) {
        if (*socket_context != NULL)
            mc_conn_release(admission, peer);
        return;
    }
    enum mc_admission verdict = mc_conn_admit(admission, peer);
    *socket_context = verdict == MC_ADMIT_COUNTED ? admission : NULL;
    if (verdict != MC_ADMIT_REFUSED)
        return;
    info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (info != NULL)
        shutdown(info->connect_fd, SHUT_RDWR);
    static atomic_llong last_logged;
    long long now = (long long)time(NULL);
    long long before = atomic_load(&last_logged);
    if (now - before >= 10 && atomic_compare_exchange_strong(&last_logged, &before, now))
        mc_log(MC_LOG_WARNING, NULL, "server.connection_refused",
               "a client address is over its connection limit (HTTP_MAX_CONNECTIONS_PER_CLIENT) or "
               "untrusted clients hold all they may; refusing (logged at most every 10 s)");
}

/* Stops what serve() started, on every way out: the normal stop after
   SIGTERM and each failure after the first thread exists (the service's
   start, the outbox relay, the listen). Threads first (the outbox relay,
   the service's own consumers and workers through svc->stop, the cache
   listener, the revocation poller inside the verifier), joined, and only
   then what they use (metrics, cache, verifier, pool). A thread left running
   into exit() finds libraries already torn down by the exit handlers: a
   service whose port was taken crashed on its way out with SIGSEGV or
   SIGABRT in a worker instead of exiting 1 with its error.
   service_started: svc->start succeeded (a start that fails cleans up
   after itself, so svc->stop is not called then). Logs server.stopped
   last: after it, no thread of the service runs. */
static void app_stop(mc_app *app, bool service_started)
{
    mc_events_relay_stop();
    mc_idem_holder_stop();
    if (service_started && app->svc->stop != NULL)
        app->svc->stop(app);
    mc_cache_listener_stop(app->cache_listener);
    app->cache_listener = NULL;
    mc_auth_verifier_free(app->auth);
    app->auth = NULL;
    mc_metrics_free(app->metrics);
    app->metrics = NULL;
    mc_response_cache_free(app->cache);
    app->cache = NULL;
    mc_db_pool_free(app->db);
    app->db = NULL;
    pthread_mutex_destroy(&app->jwks_mu);
    mc_log(MC_LOG_INFO, NULL, "server.stopped", "every thread stopped and joined");
}

static int serve(const struct mc_service *svc, const struct mc_server_config *cfg, bool migrate_first)
{
    /* Seconds between SIGTERM and closing the listener, answering with Connection: close
       meanwhile, so that a gateway's kept-alive connections are not cut under a request
       it already sent (a rolling restart loses nothing). 0: close at once. */
    unsigned drain_s = 0;
    if (!mc_config_uint(svc->name, "DRAIN_SECONDS", 0, 0, 60, &drain_s))
        return 2;
    /* Checked before anything starts: nothing to stop on this way out. */
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)cfg->port);
    if (inet_pton(AF_INET, cfg->listen_address, &addr.sin_addr) != 1) {
        mc_log(MC_LOG_ERROR, NULL, "config.invalid", "LISTEN_ADDRESS must be an IPv4 address");
        return 1;
    }
    /* Block the stop signals before any thread exists, so only sigwait()
       below receives them; ignore SIGPIPE from clients that went away. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (migrate_first && mc_db_migrate(cfg->database_url, svc->name, svc->migrations, svc->n_migrations) != MC_OK) {
        mc_log(MC_LOG_ERROR, NULL, "server.migrate_failed", "migrations failed; not starting");
        return 1;
    }
    mc_events_init_service(svc->name);
    mc_app app;
    memset(&app, 0, sizeof app);
    app.svc = svc;
    app.max_body_bytes = cfg->max_body_bytes;
    app.max_upload_bytes = cfg->max_upload_bytes;
    app.expected_migrations = mc_db_migration_count(svc->n_migrations);
    mc_db_pool_config pc = {cfg->database_url, svc->name, cfg->db_pool_size,
                            cfg->db_checkout_timeout_ms, cfg->db_statement_timeout_ms};
    app.db = mc_db_pool_new(&pc);
    for (size_t i = 0; i < svc->n_routes; i++)
        if ((svc->routes[i].flags & MC_ROUTE_IDEMPOTENT) != 0) {
            mc_idem_holder_start(cfg->database_url);
            break;
        }
    app.auth = mc_server_load_verifier(svc->name);
    app.jwks_url = mc_config_str(svc->name, "JWKS_URL", NULL);
    app.trusted_proxies = &cfg->trusted_proxies;
    pthread_mutex_init(&app.jwks_mu, NULL);
    if (app.auth != NULL)
        mc_server_refresh_jwks(&app);
    if (app.auth != NULL && !mc_auth_revocations_start(app.auth, svc->name)) {
        mc_auth_verifier_free(app.auth);
        app.auth = NULL;
    }
    app.metrics = mc_metrics_new(svc->name, svc->routes, svc->n_routes);
    app.cache = mc_response_cache_new(cfg->cache_ttl_ms, cfg->cache_entries);
    for (size_t i = 0; app.cache != NULL && i < svc->n_routes; i++)
        if ((svc->routes[i].flags & MC_ROUTE_CACHEABLE) != 0) {
            app.cache_listener = mc_cache_listener_start(cfg->database_url, svc->name, app.cache);
            if (app.cache_listener == NULL)
                mc_log(MC_LOG_WARNING, NULL, "cache.listen_failed",
                       "no cache invalidation listener: other instances' writes are seen "
                       "within the cache TTL only");
            break;
        }
    if (app.db == NULL || app.auth == NULL || app.metrics == NULL ||
        (svc->start != NULL && svc->start(&app) != MC_OK)) {
        mc_log(MC_LOG_ERROR, NULL, "server.start_failed", "could not initialise the service");
        app_stop(&app, false);
        return 1;
    }
    if (svc->publishes_events &&
        mc_events_relay_start(&pc, cfg->events_poll_ms,
                              cfg->events_retention_days, cfg->events_prune_interval_s) != MC_OK) {
        mc_log(MC_LOG_ERROR, NULL, "server.start_failed", "could not start the event relay");
        app_stop(&app, true);
        return 1;
    }

    struct mc_conn_admission *admission =
        mc_conn_admission_new(&cfg->trusted_proxies, cfg->max_connections_per_client,
                              cfg->max_connections - cfg->reserved_proxy_connections);
    struct _u_instance instance;
    if (admission == NULL || ulfius_init_instance(&instance, cfg->port, &addr, NULL) != U_OK) {
        mc_log(MC_LOG_ERROR, NULL, "server.start_failed", "could not initialise the HTTP server");
        mc_conn_admission_free(admission);
        app_stop(&app, true);
        return 1;
    }
    /* One byte over the limit lets body_too_large() see that ulfius cut it. */
    size_t largest_body = cfg->max_body_bytes;
    for (size_t i = 0; i < svc->n_routes; i++)
        if ((svc->routes[i].flags & MC_ROUTE_UPLOAD) != 0 && cfg->max_upload_bytes > largest_body)
            largest_body = cfg->max_upload_bytes;
    instance.max_post_body_size = largest_body + 1;
    instance.allowed_post_processor = U_POST_PROCESS_NONE;
    /* ulfius would drop query values that are not UTF-8, hiding bad input
       as "absent"; keep them so the handlers answer 400 naming the parameter. */
    instance.check_utf8 = 0;
    ulfius_set_default_endpoint(&instance, mc_server_dispatch, &app);

    struct MHD_OptionItem options[] = {
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)mhd_request_completed, NULL},
        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)ulfius_uri_logger, NULL},
        {MHD_OPTION_SOCK_ADDR, 0, &addr},
        {MHD_OPTION_CONNECTION_LIMIT, (intptr_t)cfg->max_connections, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)cfg->idle_timeout_s, NULL},
        {MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL},
        {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, admission},
        /* The pool size applies to the pool model only; for thread per
           connection this slot ends the list early. */
        {cfg->thread_per_connection ? MHD_OPTION_END : MHD_OPTION_THREAD_POOL_SIZE,
         (intptr_t)cfg->threads, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    unsigned flags = cfg->thread_per_connection
                         ? (MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL)
                         : MHD_USE_EPOLL_INTERNAL_THREAD;
    flags |= MHD_USE_ITC | MHD_USE_ERROR_LOG;
    if (ulfius_start_framework_with_mhd_options(&instance, flags, options) != U_OK) {
        mc_log(MC_LOG_ERROR, NULL, "server.listen_failed", "cannot listen on %s:%u",
               cfg->listen_address, cfg->port);
        ulfius_clean_instance(&instance);
        mc_conn_admission_free(admission);
        app_stop(&app, true);
        return 1;
    }
    mc_log_event(MC_LOG_INFO, NULL, "server.started",
                 json_pack("{ss si ss si si si si si si}", "address", cfg->listen_address, "port",
                           (int)cfg->port, "thread_model",
                           cfg->thread_per_connection ? "per_connection" : "pool", "threads",
                           (int)cfg->threads, "db_pool_size", (int)cfg->db_pool_size,
                           "max_connections", (int)cfg->max_connections,
                           "max_connections_per_client", (int)cfg->max_connections_per_client,
                           "reserved_proxy_connections", (int)cfg->reserved_proxy_connections,
                           "idle_timeout_seconds", (int)cfg->idle_timeout_s));

    int sig = 0;
    sigwait(&stop_signals, &sig);
    if (drain_s > 0) {
        mc_log(MC_LOG_INFO, NULL, "server.draining",
               "signal %d: answering with Connection: close for %u s before stopping", sig, drain_s);
        mc_server_set_draining();
        for (unsigned i = 0; i < drain_s * 100; i++)
            usleep(10000);
    }
    mc_log(MC_LOG_INFO, NULL, "server.stopping", "signal %d: finishing in-flight requests", sig);
    /* Stop accepting, let requests already inside a handler finish (up to
       10 s), then close connections and stop the workers. */
    MHD_socket listen_fd = MHD_quiesce_daemon(instance.mhd_daemon);
    if (listen_fd != MHD_INVALID_SOCKET)
        close(listen_fd);
    for (int i = 0; i < 1000 && mc_server_in_flight() > 0; i++)
        usleep(10000);
    ulfius_stop_framework(&instance);
    ulfius_clean_instance(&instance);
    mc_conn_admission_free(admission);
    app_stop(&app, true);
    return 0;
}

int mc_service_main(const struct mc_service *svc, int argc, char **argv)
{
    const char *command = argc > 1 ? argv[1] : "serve";
    mc_log_init(svc->name, mc_config_str(svc->name, "LOG_LEVEL", "info"));
    int rc;
    if (strcmp(command, "version") == 0 || strcmp(command, "--version") == 0) {
        printf("motcua-%s %s\n", svc->name, MOTCUA_VERSION);
        rc = 0;
    } else if (strcmp(command, "serve") == 0 || strcmp(command, "migrate") == 0) {
        struct mc_server_config cfg;
        if (!mc_server_config_read(svc, &cfg)) {
            rc = 2;
        } else if (strcmp(command, "migrate") == 0) {
            rc = mc_db_migrate(cfg.database_url, svc->name, svc->migrations, svc->n_migrations) == MC_OK ? 0 : 1;
        } else {
            const char *on_start = mc_config_str(svc->name, "MIGRATE_ON_START", "1");
            rc = serve(svc, &cfg, strcmp(on_start, "0") != 0);
        }
    } else {
        fprintf(stderr,
                "usage: motcua-%s [serve|migrate|version]\n"
                "  serve    apply migrations (unless MOTCUA_%s_MIGRATE_ON_START=0) and serve HTTP\n"
                "  migrate  apply migrations and exit\n"
                "configuration: environment variables, see the README\n",
                svc->name, svc->name);
        rc = 2;
    }
    mc_log_close();
    return rc;
}
