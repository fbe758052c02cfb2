/*
 * One start function for every service.
 *
 * mc_service_main() reads the configuration, applies migrations, opens the
 * database pool, loads the token verifier's keys, starts libmicrohttpd
 * through ulfius_start_framework_with_mhd_options (with a bind address, a
 * connection limit and an idle timeout; never the thread-per-connection
 * default without limits) and serves until SIGTERM/SIGINT, then stops
 * accepting, lets in-flight requests finish and exits 0.
 *
 * Every service also answers /healthz, /readyz, /metrics and /openapi.json.
 */
#ifndef MOTCUA_SERVER_H
#define MOTCUA_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "motcua/db.h"
#include "motcua/http.h"

struct mc_service {
    const char *name;           /* "catalogue": config prefix MOTCUA_CATALOGUE_, schema "catalogue" */
    unsigned default_port;
    const struct mc_route *routes;
    size_t n_routes;
    const mc_migration *migrations;
    size_t n_migrations;
    const char *openapi_json;   /* the bundled OpenAPI document served at /openapi.json */
    /* True when the service records events (motcua/events.h): the outbox
       relay thread runs (MOTCUA_<SVC>_EVENTS_POLL_MS, default 500). */
    bool publishes_events;
    /* Called once after the pool exists; may set a context with mc_app_set_ctx. */
    mc_error (*start)(mc_app *app);
    void (*stop)(mc_app *app);
};

void mc_app_set_ctx(mc_app *app, void *ctx);
void *mc_app_ctx(const mc_app *app);
mc_db_pool *mc_app_db(const mc_app *app);

/* Entry point: `motcua-<name> [serve|migrate|version]`. Returns the exit code. */
int mc_service_main(const struct mc_service *svc, int argc, char **argv);

#endif
