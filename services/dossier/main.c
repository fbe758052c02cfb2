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
#include "motcua/service_token.h"
#include "staff_directory.h"

MC_SERVICE_EMBEDDED(dossier); /* services/dossier/meson.build */

static mc_error dossier_start(mc_app *app)
{
    const char *svc = "dossier";
    struct dossier_ctx *ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL)
        return MC_ERR_INTERNAL;
    unsigned cache_seconds = 60, staff_cache_seconds = 60;
    bool ok = mc_config_uint(svc, "SUPPLEMENT_WORKING_DAYS", 7, 1, 60, &ctx->supplement_working_days) &&
              mc_config_uint(svc, "DUE_SOON_WORKING_HOURS", 8, 1, 400, &ctx->due_soon_working_hours) &&
              mc_config_uint(svc, "WATCH_INTERVAL_SECONDS", 60, 0, 86400, &ctx->watch_interval_s) &&
              mc_config_uint(svc, "SUBMISSION_PAYMENT_HOURS", 24, 1, 24 * 30,
                             &ctx->submission_payment_hours) &&
              mc_config_uint(svc, "CATALOGUE_CACHE_SECONDS", 60, 0, 86400, &cache_seconds) &&
              mc_config_uint(svc, "MAX_DRAFTS_PER_CITIZEN", 20, 1, 10000, &ctx->max_drafts_per_citizen) &&
              mc_config_uint(svc, "MAX_FILES_PER_DOSSIER", 60, 1, 10000, &ctx->max_files_per_dossier) &&
              mc_config_uint(svc, "MAX_BYTES_PER_DOSSIER", 100u << 20, 1u << 20, 4095u << 20,
                             &ctx->max_bytes_per_dossier) &&
              mc_config_uint(svc, "SWEEP_INTERVAL_SECONDS", 3600, 0, 86400 * 7, &ctx->sweep_interval_s) &&
              mc_config_uint(svc, "ORPHAN_FILE_HOURS", 24, 1, 24 * 365, &ctx->orphan_file_hours) &&
              mc_config_uint(svc, "ABANDONED_DRAFT_DAYS", 90, 1, 3650, &ctx->abandoned_draft_days) &&
              mc_config_uint(svc, "STAFF_CACHE_SECONDS", 60, 0, 3600, &staff_cache_seconds);
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
    bool has_client = false;
    ctx->service_token = mc_service_token_from_config(svc, &has_client);
    char identity_url[64];
    mc_service_default_url("identity", identity_url, sizeof identity_url);
    if (ctx->service_token != NULL)
        ctx->staff = staff_directory_new(mc_config_str(svc, "IDENTITY_URL", identity_url),
                                         ctx->service_token, staff_cache_seconds);
    if (has_client && ctx->staff == NULL) {
        mc_service_token_free(ctx->service_token);
        mc_catalogue_client_free(ctx->catalogue);
        free(ctx);
        return MC_ERR_INTERNAL;
    }
    if (!has_client)
        mc_log(MC_LOG_WARNING, NULL, "config.missing",
               "no CLIENT_ID: assignees cannot be checked with identity, so assign and forward "
               "with an assignee answer 503");
    mc_app_set_ctx(app, ctx);
    if ((ctx->watch_interval_s > 0 && dossier_watch_start(app, ctx) != 0) ||
        (ctx->sweep_interval_s > 0 && dossier_sweep_start(app, ctx) != 0)) {
        dossier_watch_stop();
        staff_directory_free(ctx->staff);
        mc_service_token_free(ctx->service_token);
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
    dossier_sweep_stop();
    dossier_watch_stop();
    staff_directory_free(ctx->staff);
    mc_service_token_free(ctx->service_token);
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
