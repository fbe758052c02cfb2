/*
 * motcua-identity: accounts, tokens and keys for every other service
 * (docs/services/identity.md).
 *
 * Everything generic is common's mc_service_main; this file says what the
 * service is made of and loads, at start, what its handlers share: the
 * signing keys, the issuer and audience, the throttling policy and a dummy
 * password hash. It also creates the bootstrap administrator.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "identity.h"
#include "identity_rules.h"
#include "motcua/config.h"
#include "motcua/log.h"
#include "store.h"

MC_SERVICE_EMBEDDED(identity); /* services/identity/meson.build */

/* ------------------------------------------------------------------------
 * The bootstrap administrator.
 *
 * Like Keycloak's bootstrap admin: when BOOTSTRAP_ADMIN_USERNAME and
 * BOOTSTRAP_ADMIN_PASSWORD_FILE are set, start creates a staff account with
 * role system_admin and no agency, unless an account of that username
 * exists; an existing account is never changed (no silent password reset:
 * an operator who lost the password disables the account and configures
 * another username). The password comes from a file, never from the
 * environment or the command line (both leak through /proc and process
 * listings), and must pass the password policy; bad settings stop the start.
 *
 * When: right in the start hook when the database is ready. serve() applies
 * the migrations before the start hook (MIGRATE_ON_START, the default), so
 * that is the usual case. With MIGRATE_ON_START=0 the database may be down
 * or not migrated yet at start, and the service still starts (readiness says
 * so, as for every service); then a thread tries again every few seconds
 * until the account exists (or the service stops). Every step is idempotent
 * (INSERT ... ON CONFLICT DO NOTHING), so instances starting together agree.
 * ---------------------------------------------------------------------- */

#define BOOTSTRAP_FULL_NAME "Quản trị hệ thống (khởi tạo)"
#define BOOTSTRAP_RETRY_SECONDS 3

static struct {
    mc_db_pool *pool; /* borrowed from the app */
    size_t expected_migrations;
    char username[72];
    char hash[crypto_pwhash_STRBYTES];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stopping;
    bool thread_started;
    pthread_t thread;
} bootstrap = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

/* The first line of `path` (without its line ending) into out. False, after
   logging why (never the content), when the file is unreadable, empty, holds
   a NUL or does not fit. The caller wipes out. */
static bool read_secret_file(const char *path, char *out, size_t len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        mc_log(MC_LOG_ERROR, NULL, "config.invalid",
               "BOOTSTRAP_ADMIN_PASSWORD_FILE cannot be read: %s", strerror(errno));
        return false;
    }
    size_t n = fread(out, 1, len - 1, f);
    bool too_long = n == len - 1 && fgetc(f) != EOF;
    fclose(f);
    out[n] = '\0';
    if (n > 0 && out[n - 1] == '\n')
        out[--n] = '\0';
    if (n > 0 && out[n - 1] == '\r')
        out[--n] = '\0';
    const char *why = too_long                    ? "is too long"
                      : n == 0                    ? "is empty"
                      : strlen(out) != n          ? "holds a NUL byte"
                      : strchr(out, '\n') != NULL ? "holds more than one line"
                                                  : NULL;
    if (why != NULL) {
        mc_log(MC_LOG_ERROR, NULL, "config.invalid", "BOOTSTRAP_ADMIN_PASSWORD_FILE %s", why);
        return false;
    }
    return true;
}

/* Read and check the settings; hash the password. False (logged) when they
   are incomplete or invalid; *enabled says whether they are set at all. */
static bool bootstrap_configure(const char *svc, bool *enabled)
{
    const char *username = mc_config_str(svc, "BOOTSTRAP_ADMIN_USERNAME", NULL);
    const char *file = mc_config_str(svc, "BOOTSTRAP_ADMIN_PASSWORD_FILE", NULL);
    *enabled = username != NULL || file != NULL;
    if (!*enabled)
        return true;
    if (username == NULL || file == NULL) {
        mc_log(MC_LOG_ERROR, NULL, "config.invalid",
               "set both MOTCUA_IDENTITY_BOOTSTRAP_ADMIN_USERNAME and "
               "MOTCUA_IDENTITY_BOOTSTRAP_ADMIN_PASSWORD_FILE, or neither");
        return false;
    }
    if (!identity_is_username(username)) {
        mc_log(MC_LOG_ERROR, NULL, "config.invalid", "BOOTSTRAP_ADMIN_USERNAME must match %s",
               IDENTITY_USERNAME_RE);
        return false;
    }
    snprintf(bootstrap.username, sizeof bootstrap.username, "%s", username);
    char password[1100];
    bool ok = read_secret_file(file, password, sizeof password);
    const char *code = NULL, *why = NULL;
    if (ok && (why = identity_check_password(password, NULL, NULL, username, &code)) != NULL) {
        mc_log(MC_LOG_ERROR, NULL, "config.invalid",
               "the bootstrap administrator's password fails the password policy (%s: %s)", code,
               why);
        ok = false;
    }
    if (ok && !identity_password_hash(password, bootstrap.hash)) {
        mc_log(MC_LOG_ERROR, NULL, "start_failed", "cannot hash the bootstrap password");
        ok = false;
    }
    sodium_memzero(password, sizeof password);
    return ok;
}

static mc_error bootstrap_tx(mc_db_conn *conn, void *outcome)
{
    return store_bootstrap_admin(conn, bootstrap.username, BOOTSTRAP_FULL_NAME, bootstrap.hash,
                                 outcome);
}

/* One attempt. MC_OK when the account exists now; MC_ERR_NOT_READY or
   MC_ERR_DB_UNAVAILABLE to try later; another error is a real failure. */
static mc_error bootstrap_try(void)
{
    mc_error rc = mc_db_ready(bootstrap.pool, bootstrap.expected_migrations);
    if (rc != MC_OK)
        return rc;
    enum store_bootstrap_outcome outcome = STORE_BOOTSTRAP_EXISTS;
    rc = mc_db_transaction(bootstrap.pool, NULL, bootstrap_tx, &outcome);
    if (rc != MC_OK)
        return rc;
    /* One line, without the username (it may be a person's name). */
    if (outcome == STORE_BOOTSTRAP_CREATED)
        mc_log(MC_LOG_INFO, NULL, "identity.bootstrap_admin",
               "created the bootstrap system administrator");
    else if (outcome == STORE_BOOTSTRAP_EXISTS)
        mc_log(MC_LOG_INFO, NULL, "identity.bootstrap_admin",
               "the bootstrap system administrator exists; left unchanged");
    else
        mc_log(MC_LOG_WARNING, NULL, "identity.bootstrap_admin",
               "an account with the bootstrap administrator's username exists but is disabled "
               "or not a system_admin; left unchanged");
    sodium_memzero(bootstrap.hash, sizeof bootstrap.hash);
    return MC_OK;
}

static void *bootstrap_thread(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&bootstrap.mu);
    while (!bootstrap.stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += BOOTSTRAP_RETRY_SECONDS;
        while (!bootstrap.stopping &&
               pthread_cond_timedwait(&bootstrap.cv, &bootstrap.mu, &until) == 0) {
        }
        if (bootstrap.stopping)
            break;
        pthread_mutex_unlock(&bootstrap.mu);
        mc_error rc = bootstrap_try();
        if (rc != MC_OK && rc != MC_ERR_NOT_READY && rc != MC_ERR_DB_UNAVAILABLE)
            mc_log(MC_LOG_ERROR, NULL, "identity.bootstrap_admin_failed",
                   "creating the bootstrap administrator failed (%s); trying again",
                   mc_error_info(rc)->code);
        pthread_mutex_lock(&bootstrap.mu);
        if (rc == MC_OK)
            break;
    }
    pthread_mutex_unlock(&bootstrap.mu);
    return NULL;
}

/* Start: configure, then create the account now or from a thread once the
   database is ready. False stops the start. */
static bool bootstrap_start(mc_app *app, const char *svc)
{
    bool enabled = false;
    if (!bootstrap_configure(svc, &enabled))
        return false;
    if (!enabled)
        return true;
    bootstrap.pool = mc_app_db(app);
    bootstrap.expected_migrations = mc_db_migration_count(identity_migrations_count);
    mc_error rc = bootstrap_try();
    if (rc == MC_OK)
        return true;
    if (rc != MC_ERR_NOT_READY && rc != MC_ERR_DB_UNAVAILABLE) {
        mc_log(MC_LOG_ERROR, NULL, "start_failed",
               "creating the bootstrap administrator failed (%s)", mc_error_info(rc)->code);
        return false;
    }
    mc_log(MC_LOG_WARNING, NULL, "identity.bootstrap_admin",
           "database not ready: the bootstrap administrator is created once it is");
    bootstrap.stopping = false;
    if (pthread_create(&bootstrap.thread, NULL, bootstrap_thread, NULL) != 0) {
        mc_log(MC_LOG_ERROR, NULL, "start_failed", "cannot start the bootstrap thread");
        return false;
    }
    bootstrap.thread_started = true;
    return true;
}

static void bootstrap_stop(void)
{
    if (bootstrap.thread_started) {
        pthread_mutex_lock(&bootstrap.mu);
        bootstrap.stopping = true;
        pthread_cond_signal(&bootstrap.cv);
        pthread_mutex_unlock(&bootstrap.mu);
        pthread_join(bootstrap.thread, NULL);
        bootstrap.thread_started = false;
    }
    sodium_memzero(bootstrap.hash, sizeof bootstrap.hash);
}

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
    /* Per address: failures of any account within the window, never reset
       by a success (docs/services/identity.md, "Sign-in throttling"); more
       than per account because one address may be a whole office or a
       carrier's NAT. */
    bool ok = mc_config_uint(svc, "SIGNIN_ACCOUNT_FAILURES", 5, 1, 1000, &ctx->account_failures) &&
              mc_config_uint(svc, "SIGNIN_ADDRESS_FAILURES", 20, 1, 100000,
                             &ctx->address_failures) &&
              mc_config_uint(svc, "SIGNIN_ADDRESS_WINDOW_SECONDS", 900, 1, 86400,
                             &ctx->address_window_s) &&
              mc_config_uint(svc, "SIGNIN_MAX_BACKOFF_SECONDS", 900, 1, 86400,
                             &ctx->max_backoff_s) &&
              mc_config_uint(svc, "PASSWORD_CHANGE_REVOKE_FAILURES", 6, 1, 1000,
                             &ctx->password_change_revoke_after);
    /* The dummy hash: a random password nobody knows, hashed with the same
       limits as real passwords. */
    char random_password[64];
    identity_random_token(32, random_password);
    ok = ok && identity_password_hash(random_password, ctx->dummy_hash);
    sodium_memzero(random_password, sizeof random_password);
    ok = ok && bootstrap_start(app, svc);
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
    bootstrap_stop();
    struct identity_ctx *ctx = mc_app_ctx(app);
    if (ctx == NULL)
        return;
    identity_keys_free(&ctx->keys);
    free(ctx);
    mc_app_set_ctx(app, NULL);
}

int main(int argc, char **argv)
{
    /* Port: MOTCUA_IDENTITY_PORT, else mc_service_default_port (8102). */
    const struct mc_service svc = {
        MC_SERVICE_PARTS(identity),
        .start = identity_start,
        .stop = identity_stop,
    };
    return mc_service_main(&svc, argc, argv);
}
