/*
 * motcua-catalogue: the catalogue of administrative procedures, agencies,
 * sectors and the working-day calendar (docs/services/catalogue.md).
 *
 * Everything generic (configuration, migrations, pool, tokens, HTTP server,
 * /healthz, /readyz, /metrics, /openapi.json) is common's mc_service_main;
 * this file only says what the service is made of.
 */
#include "catalogue.h"

MC_SERVICE_EMBEDDED(catalogue); /* services/catalogue/meson.build */

int main(int argc, char **argv)
{
    /* Port: MOTCUA_CATALOGUE_PORT, else mc_service_default_port (8101). */
    const struct mc_service svc = {MC_SERVICE_PARTS(catalogue), .start = catalogue_start,
                                   .stop = catalogue_stop};
    return mc_service_main(&svc, argc, argv);
}
