/*
 * The token verifier's public keys: a PEM file and/or a JWKS file read once
 * at start, and a JWKS URL (the identity service's /.well-known/jwks.json)
 * fetched at start and again when a token names a key we do not know.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "motcua/config.h"
#include "motcua/http_client.h"
#include "motcua/log.h"
#include "server_internal.h"

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        if (size >= 0 && size < 1024 * 1024 && fseek(f, 0, SEEK_SET) == 0) {
            buf = malloc((size_t)size + 1);
            if (buf != NULL && fread(buf, 1, (size_t)size, f) == (size_t)size)
                buf[size] = '\0';
            else {
                free(buf);
                buf = NULL;
            }
        }
    }
    fclose(f);
    return buf;
}

/* The body of a 200 answer to GET url (malloc'd, caller frees), or NULL. */
static char *fetch_url(const char *url)
{
    struct mc_http_result r;
    char *body = NULL;
    if (mc_http_get(url, NULL, NULL, 5, 1024 * 1024, &r) == MC_OK && r.status == 200) {
        body = r.body;
        r.body = NULL;
    }
    mc_http_result_free(&r);
    return body;
}

/* Load the token verifier's public keys: a PEM file, a JWKS file and/or a
   JWKS URL (the identity service's /.well-known/jwks.json). Keys are read
   once at start, never per request. */
mc_auth_verifier *mc_server_load_verifier(const char *svc)
{
    unsigned leeway = 30;
    if (!mc_config_uint(svc, "JWT_LEEWAY_SECONDS", 30, 0, 300, &leeway))
        return NULL;
    mc_auth_verifier *v = mc_auth_verifier_new(mc_config_str(svc, "JWT_ISSUER", "motcua-identity"),
                                               mc_config_str(svc, "JWT_AUDIENCE", "motcua"), leeway);
    const char *pem_file = mc_config_str(svc, "JWT_PUBLIC_KEY_FILE", NULL);
    const char *jwks_file = mc_config_str(svc, "JWKS_FILE", NULL);
    const char *jwks_url = mc_config_str(svc, "JWKS_URL", NULL);
    bool ok = true;
    if (pem_file != NULL) {
        char *pem = read_file(pem_file);
        if (pem == NULL || mc_auth_verifier_add_pem(v, mc_config_str(svc, "JWT_KEY_ID", NULL), pem) != MC_OK) {
            mc_log(MC_LOG_ERROR, NULL, "auth.key_invalid", "cannot load RSA public key from %s", pem_file);
            ok = false;
        }
        free(pem);
    }
    if (ok && jwks_file != NULL) {
        char *jwks = read_file(jwks_file);
        if (jwks == NULL || mc_auth_verifier_add_jwks(v, jwks) != MC_OK) {
            mc_log(MC_LOG_ERROR, NULL, "auth.jwks_invalid", "no usable RS256 key in %s", jwks_file);
            ok = false;
        }
        free(jwks);
    }
    if (!ok) {
        mc_auth_verifier_free(v);
        return NULL;
    }
    /* A JWKS URL is fetched by serve() once the app exists, and again when a
       token names an unknown key, so the identity service being down at
       start-up does not stop this service from starting. */
    if (mc_auth_verifier_key_count(v) == 0 && jwks_url == NULL)
        mc_log(MC_LOG_WARNING, NULL, "auth.no_keys",
               "no token keys configured (MOTCUA_JWT_PUBLIC_KEY_FILE, MOTCUA_JWKS_FILE or "
               "MOTCUA_JWKS_URL): every authenticated request will be refused");
    return v;
}

/* Refresh the verifier's JWKS keys from the issuer, at most once every
   10 s whatever the traffic (a flood of tokens with made-up kids must not
   become a flood of requests to the identity service). True if new keys
   were loaded. */
bool mc_server_refresh_jwks(mc_app *app)
{
    if (app->jwks_url == NULL)
        return false;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    bool refreshed = false;
    /* One refresh at a time; requests arriving meanwhile do not queue
       behind its network round trip, they are refused as before. */
    if (pthread_mutex_trylock(&app->jwks_mu) != 0)
        return false;
    /* Without any key (identity was unreachable at start) every second, else every 10 s. */
    long gap = mc_auth_verifier_key_count(app->auth) == 0 ? 1 : 10;
    if (app->jwks_fetched_at == 0 || ts.tv_sec - app->jwks_fetched_at >= gap) {
        app->jwks_fetched_at = ts.tv_sec;
        char *jwks = fetch_url(app->jwks_url);
        refreshed = jwks != NULL && mc_auth_verifier_replace_jwks(app->auth, jwks) == MC_OK;
        mc_log(refreshed ? MC_LOG_INFO : MC_LOG_WARNING, NULL, "auth.jwks_refresh", "%s %s",
               refreshed ? "loaded keys from" : "could not load keys from", app->jwks_url);
        free(jwks);
    }
    pthread_mutex_unlock(&app->jwks_mu);
    return refreshed;
}