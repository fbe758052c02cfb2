/*
 * motcua-dossier: filing, documents, the legal workflow, deadlines, the audit
 * trail and events (docs/services/dossier.md).
 *
 * Everything generic is common's mc_service_main (which also runs the outbox
 * relay, since this service publishes events); this file reads the service's
 * own settings and starts the deadline watcher.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dossier.h"
#include "motcua/config.h"
#include "motcua/log.h"

MC_SERVICE_EMBEDDED(dossier); /* services/dossier/meson.build */

static mc_error dossier_start(mc_app *app)
{
    const char *svc = "dossier";
    struct dossier_ctx *ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL)
        return MC_ERR_INTERNAL;
    unsigned cache_seconds = 60;
    bool ok = mc_config_uint(svc, "SUPPLEMENT_WORKING_DAYS", 7, 1, 60, &ctx->supplement_working_days) &&
              mc_config_uint(svc, "DUE_SOON_WORKING_HOURS", 8, 1, 400, &ctx->due_soon_working_hours) &&
              mc_config_uint(svc, "WATCH_INTERVAL_SECONDS", 60, 0, 86400, &ctx->watch_interval_s) &&
              mc_config_uint(svc, "CATALOGUE_CACHE_SECONDS", 60, 0, 86400, &cache_seconds);
    const char *dir = mc_config_str(svc, "DOCUMENT_DIR", "/var/lib/motcua/documents");
    if (ok && (dir == NULL || strlen(dir) == 0 || strlen(dir) >= sizeof ctx->storage_dir)) {
        mc_log(MC_LOG_ERROR, NULL, "config.invalid", "DOCUMENT_DIR must be a directory path");
        ok = false;
    }
    if (ok) {
        snprintf(ctx->storage_dir, sizeof ctx->storage_dir, "%s", dir);
        struct stat st;
        if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            mc_log(MC_LOG_ERROR, NULL, "config.invalid", "DOCUMENT_DIR %s is not a directory", dir);
            ok = false;
        }
    }
    char catalogue_url[64];
    mc_service_default_url("catalogue", catalogue_url, sizeof catalogue_url);
    ctx->catalogue =
        ok ? mc_catalogue_client_new(mc_config_str(svc, "CATALOGUE_URL", catalogue_url), cache_seconds)
           : NULL;
    if (ctx->catalogue == NULL) {
        free(ctx);
        return MC_ERR_INTERNAL;
    }
    mc_app_set_ctx(app, ctx);
    if (ctx->watch_interval_s > 0 && dossier_watch_start(app, ctx) != 0) {
        mc_catalogue_client_free(ctx->catalogue);
        free(ctx);
        mc_app_set_ctx(app, NULL);
        return MC_ERR_INTERNAL;
    }
    return MC_OK;
}

static void dossier_stop(mc_app *app)
{
    struct dossier_ctx *ctx = mc_app_ctx(app);
    if (ctx == NULL)
        return;
    dossier_watch_stop();
    mc_catalogue_client_free(ctx->catalogue);
    free(ctx);
    mc_app_set_ctx(app, NULL);
}

int main(int argc, char **argv)
{
    /* Port: MOTCUA_DOSSIER_PORT, else mc_service_default_port (8103). */
    const struct mc_service svc = {
        MC_SERVICE_PARTS(dossier),
        .publishes_events = true,
        .start = dossier_start,
        .stop = dossier_stop,
    };
    return mc_service_main(&svc, argc, argv);
}
