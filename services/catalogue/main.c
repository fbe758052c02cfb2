/*
 * motcua-catalogue: the catalogue of administrative procedures, agencies,
 * sectors and the working-day calendar (docs/services/catalogue.md).
 *
 * Everything generic (configuration, migrations, pool, tokens, HTTP server,
 * /healthz, /readyz, /metrics, /openapi.json) is common's mc_service_main;
 * this file only says what the service is made of.
 */
#include "catalogue.h"

/* Generated at build time (services/catalogue/meson.build). */
extern const mc_migration catalogue_migrations[];
extern const size_t catalogue_migrations_count;
extern const char catalogue_openapi_json[];

int main(int argc, char **argv)
{
    static const struct mc_service service = {
        .name = "catalogue",
        .default_port = 8080, /* deploy sets MOTCUA_CATALOGUE_PORT */
        .routes = catalogue_routes,
        .openapi_json = catalogue_openapi_json,
        .start = NULL,
        .stop = NULL,
    };
    struct mc_service svc = service;
    svc.n_routes = catalogue_routes_count;
    svc.migrations = catalogue_migrations;
    svc.n_migrations = catalogue_migrations_count;
    return mc_service_main(&svc, argc, argv);
}
