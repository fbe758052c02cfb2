/*
 * motcua-identity: accounts, tokens and keys for every other service
 * (docs/services/identity.md).
 *
 * Everything generic is common's mc_service_main; this file says what the
 * service is made of and loads, at start, what its handlers share: the
 * signing keys, the issuer and audience, the throttling policy and a dummy
 * password hash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "identity.h"
#include "motcua/config.h"
#include "motcua/log.h"

/* Generated at build time (services/identity/meson.build). */
extern const mc_migration identity_migrations[];
extern const size_t identity_migrations_count;
extern const char identity_openapi_json[];

static mc_error identity_start(mc_app *app)
{
    if (sodium_init() < 0) {
        mc_log(MC_LOG_ERROR, NULL, "start_failed", "libsodium could not be initialised");
        return MC_ERR_INTERNAL;
    }
    struct identity_ctx *ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL)
        return MC_ERR_INTERNAL;
    const char *svc = "identity";
    if (identity_keys_load(&ctx->keys, mc_config_str(svc, "JWT_PRIVATE_KEY_FILE", NULL),
                           mc_config_str(svc, "JWT_KEY_ID", NULL),
                           mc_config_str(svc, "JWT_PREVIOUS_PUBLIC_KEY_FILE", NULL),
                           mc_config_str(svc, "JWT_PREVIOUS_KEY_ID", NULL)) != MC_OK) {
        free(ctx);
        return MC_ERR_INTERNAL;
    }
    snprintf(ctx->issuer, sizeof ctx->issuer, "%s",
             mc_config_str(svc, "JWT_ISSUER", "motcua-identity"));
    snprintf(ctx->audience, sizeof ctx->audience, "%s",
             mc_config_str(svc, "JWT_AUDIENCE", "motcua"));
    bool ok = mc_config_uint(svc, "SIGNIN_ACCOUNT_FAILURES", 5, 1, 1000, &ctx->account_failures) &&
              mc_config_uint(svc, "SIGNIN_ADDRESS_FAILURES", 5, 1, 100000,
                             &ctx->address_failures) &&
              mc_config_uint(svc, "SIGNIN_MAX_BACKOFF_SECONDS", 900, 1, 86400,
                             &ctx->max_backoff_s);
    /* The dummy hash: a random password nobody knows, hashed with the same
       limits as real passwords. */
    char random_password[64];
    identity_random_token(32, random_password);
    ok = ok && identity_password_hash(random_password, ctx->dummy_hash);
    sodium_memzero(random_password, sizeof random_password);
    if (!ok) {
        identity_keys_free(&ctx->keys);
        free(ctx);
        return MC_ERR_INTERNAL;
    }
    mc_app_set_ctx(app, ctx);
    return MC_OK;
}

static void identity_stop(mc_app *app)
{
    struct identity_ctx *ctx = mc_app_ctx(app);
    if (ctx == NULL)
        return;
    identity_keys_free(&ctx->keys);
    free(ctx);
    mc_app_set_ctx(app, NULL);
}

int main(int argc, char **argv)
{
    static const struct mc_service service = {
        .name = "identity",
        .default_port = 8102, /* deploy sets MOTCUA_IDENTITY_PORT */
        .routes = identity_routes,
        .openapi_json = identity_openapi_json,
        .start = identity_start,
        .stop = identity_stop,
    };
    struct mc_service svc = service;
    svc.n_routes = identity_routes_count;
    svc.migrations = identity_migrations;
    svc.n_migrations = identity_migrations_count;
    return mc_service_main(&svc, argc, argv);
}
