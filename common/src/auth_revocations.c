/*
 * The background poller of the token revocation list.
 *
 * The identity service publishes a small document (subject -> "not before")
 * at /.well-known/revocations; every service keeps a copy in its verifier
 * (auth.c) so that a disabled officer, a logout or a password change stops
 * the access tokens issued before it within seconds instead of at their
 * expiry (up to 15 minutes). One thread per process polls the document every
 * few seconds with If-None-Match, so an unchanged list costs a 304.
 *
 * When the identity service cannot be reached, or answers something that
 * is not a revocation list, the last list stays in force (it only ever cuts
 * old tokens, so keeping it is safe) and the service keeps serving; the first
 * failure and the recovery are logged once each, not every poll. A service
 * that starts while identity is down has an empty list until the first
 * successful poll: revocations of the last 15 minutes are then not yet known.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "motcua/auth.h"
#include "motcua/config.h"
#include "motcua/http_client.h"
#include "motcua/log.h"

#define REVOCATIONS_MAX_BYTES (16u * 1024 * 1024)
#define REVOCATIONS_TIMEOUT_S 3

struct mc_revocation_poller {
    mc_auth_verifier *verifier; /* borrowed: it owns this poller */
    char url[1024];
    unsigned interval_s;
    char etag[160];
    bool failing;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stopping;
};

/* One poll. True when the verifier's list is current. */
static bool poll_once(struct mc_revocation_poller *p)
{
    struct mc_http_result r;
    mc_error rc = mc_http_get(p->url, p->etag[0] != '\0' ? p->etag : NULL, NULL,
                              REVOCATIONS_TIMEOUT_S, REVOCATIONS_MAX_BYTES, &r);
    bool ok = false;
    if (rc == MC_OK && r.status == 304) {
        ok = true;
    } else if (rc == MC_OK && r.status == 200 && r.body != NULL &&
               mc_auth_verifier_replace_revocations(p->verifier, r.body, r.body_len) == MC_OK) {
        snprintf(p->etag, sizeof p->etag, "%s", r.etag);
        ok = true;
    }
    mc_http_result_free(&r);
    if (!ok && !p->failing)
        mc_log(MC_LOG_WARNING, NULL, "auth.revocations_stale",
               "cannot read the revocation list from %s; verifying with the last one (%zu "
               "subjects) until it can be read",
               p->url, mc_auth_verifier_revocation_count(p->verifier));
    else if (ok && p->failing)
        mc_log(MC_LOG_INFO, NULL, "auth.revocations_current", "revocation list read from %s",
               p->url);
    p->failing = !ok;
    return ok;
}

static void *poller_thread(void *arg)
{
    struct mc_revocation_poller *p = arg;
    pthread_mutex_lock(&p->mu);
    while (!p->stopping) {
        pthread_mutex_unlock(&p->mu);
        poll_once(p);
        pthread_mutex_lock(&p->mu);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += (time_t)p->interval_s;
        while (!p->stopping && pthread_cond_timedwait(&p->cv, &p->mu, &until) == 0) {
        }
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

bool mc_auth_revocations_start(mc_auth_verifier *v, const char *service)
{
    const char *url = mc_config_str(service, "REVOCATIONS_URL", NULL);
    unsigned interval = 3;
    if (!mc_config_uint(service, "REVOCATIONS_POLL_SECONDS", 3, 1, 300, &interval))
        return false;
    if (url == NULL || url[0] == '\0') {
        mc_log(MC_LOG_WARNING, NULL, "auth.revocations_off",
               "MOTCUA_REVOCATIONS_URL is not set: revoked access tokens stay valid until "
               "they expire");
        return true;
    }
    struct mc_revocation_poller *p = calloc(1, sizeof *p);
    if (p == NULL)
        return false;
    if (strlen(url) >= sizeof p->url) {
        free(p);
        mc_log(MC_LOG_ERROR, NULL, "config.invalid", "REVOCATIONS_URL is too long");
        return false;
    }
    snprintf(p->url, sizeof p->url, "%s", url);
    p->verifier = v;
    p->interval_s = interval;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (pthread_create(&p->thread, NULL, poller_thread, p) != 0) {
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->cv);
        free(p);
        mc_log(MC_LOG_ERROR, NULL, "start_failed", "cannot start the revocation poller");
        return false;
    }
    mc_auth_verifier_attach_poller(v, p);
    return true;
}

void mc_revocation_poller_stop(struct mc_revocation_poller *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
}
