/* A service's own access token from identity's client credentials grant
   (motcua/service_token.h). */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "motcua/config.h"
#include "motcua/http_client.h"
#include "motcua/log.h"
#include "motcua/secret_file.h"
#include "motcua/service_token.h"

#define TOKEN_TIMEOUT_S 5
#define TOKEN_ANSWER_MAX 16384
#define MIN_REFRESH_MARGIN_S 30

struct mc_service_token {
    pthread_mutex_t lock; /* held while a token is read or fetched */
    mc_service_token_fetch_fn fetch;
    void *arg;
    char token[MC_AUTH_MAX_TOKEN_BYTES + 1]; /* "" when none is cached */
    int64_t expires_at, lifetime;
    /* the HTTP fetch's configuration (from_config only) */
    char token_url[1024];
    char client_id[129];
    char secret_file[1024];
};

bool mc_service_token_needs_refresh(int64_t now, int64_t expires_at, int64_t lifetime)
{
    int64_t margin = lifetime / 5;
    if (margin < MIN_REFRESH_MARGIN_S)
        margin = MIN_REFRESH_MARGIN_S;
    return now >= expires_at - margin;
}

bool mc_service_token_parse(const char *body, char *token, size_t token_len, int64_t *expires_in)
{
    json_t *doc = json_loads(body, JSON_REJECT_DUPLICATES, NULL);
    const char *access = json_string_value(json_object_get(doc, "access_token"));
    const json_t *exp = json_object_get(doc, "expires_in");
    bool ok = access != NULL && access[0] != '\0' && strlen(access) < token_len &&
              json_is_integer(exp) && json_integer_value(exp) > 0 &&
              json_integer_value(exp) <= 86400;
    if (ok) {
        memcpy(token, access, strlen(access) + 1);
        *expires_in = (int64_t)json_integer_value(exp);
    }
    json_decref(doc);
    return ok;
}

mc_service_token *mc_service_token_new(mc_service_token_fetch_fn fetch, void *arg)
{
    mc_service_token *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    pthread_mutex_init(&t->lock, NULL);
    t->fetch = fetch;
    t->arg = arg;
    return t;
}

void mc_service_token_free(mc_service_token *t)
{
    if (t == NULL)
        return;
    pthread_mutex_destroy(&t->lock);
    explicit_bzero(t->token, sizeof t->token);
    free(t);
}

mc_error mc_service_token_get(mc_service_token *t, int64_t now, char *out, size_t out_len)
{
    pthread_mutex_lock(&t->lock);
    mc_error rc = MC_OK;
    if (t->token[0] == '\0' || mc_service_token_needs_refresh(now, t->expires_at, t->lifetime)) {
        int64_t expires_in = 0;
        char fresh[sizeof t->token];
        rc = t->fetch(t->arg, fresh, sizeof fresh, &expires_in);
        if (rc == MC_OK) {
            memcpy(t->token, fresh, sizeof fresh);
            t->lifetime = expires_in;
            t->expires_at = now + expires_in;
        } else if (t->token[0] != '\0' && now < t->expires_at) {
            rc = MC_OK; /* identity is away: the cached token is still valid */
        } else {
            t->token[0] = '\0';
            rc = MC_ERR_NOT_READY;
        }
        explicit_bzero(fresh, sizeof fresh);
    }
    if (rc == MC_OK && strlen(t->token) >= out_len)
        rc = MC_ERR_INTERNAL;
    if (rc == MC_OK)
        memcpy(out, t->token, strlen(t->token) + 1);
    pthread_mutex_unlock(&t->lock);
    return rc;
}

void mc_service_token_invalidate(mc_service_token *t)
{
    pthread_mutex_lock(&t->lock);
    t->token[0] = '\0';
    pthread_mutex_unlock(&t->lock);
}

/* ---- the client credentials grant over HTTP ---- */

static mc_error http_fetch(void *arg, char *token, size_t token_len, int64_t *expires_in)
{
    mc_service_token *t = arg;
    char secret[512];
    if (!mc_read_secret_file(t->secret_file, secret, sizeof secret)) {
        mc_log(MC_LOG_ERROR, NULL, "service_token.secret", "the client secret file cannot be read");
        return MC_ERR_NOT_READY;
    }
    json_t *grant = json_pack("{ss ss ss}", "grant_type", "client_credentials", "client_id",
                              t->client_id, "client_secret", secret);
    char *body = grant != NULL ? json_dumps(grant, JSON_COMPACT) : NULL;
    json_decref(grant);
    explicit_bzero(secret, sizeof secret);
    if (body == NULL)
        return MC_ERR_INTERNAL;
    struct mc_http_result res;
    mc_error rc = mc_http_post_json(t->token_url, body, NULL, TOKEN_TIMEOUT_S, TOKEN_ANSWER_MAX, &res);
    explicit_bzero(body, strlen(body));
    free(body);
    if (rc == MC_OK && (res.status != 200 || res.body == NULL ||
                        !mc_service_token_parse(res.body, token, token_len, expires_in))) {
        mc_log(MC_LOG_ERROR, NULL, "service_token.refused",
               "identity answered %ld to the client credentials grant", res.status);
        rc = MC_ERR_NOT_READY;
    } else if (rc != MC_OK) {
        mc_log(MC_LOG_WARNING, NULL, "service_token.unreachable", "identity cannot be reached");
        rc = MC_ERR_NOT_READY;
    }
    mc_http_result_free(&res);
    return rc;
}

mc_service_token *mc_service_token_from_config(const char *service, bool *configured)
{
    const char *id = mc_config_str(service, "CLIENT_ID", NULL);
    *configured = id != NULL && id[0] != '\0';
    if (!*configured)
        return NULL;
    const char *secret_file = mc_config_str(service, "CLIENT_SECRET_FILE", NULL);
    const char *identity = mc_config_str(service, "IDENTITY_URL", NULL);
    mc_service_token *t = NULL;
    if (secret_file == NULL || identity == NULL || strlen(id) >= sizeof t->client_id) {
        mc_log(MC_LOG_ERROR, NULL, "config.invalid",
               "CLIENT_ID needs CLIENT_SECRET_FILE and IDENTITY_URL (service %s)", service);
        return NULL;
    }
    t = mc_service_token_new(http_fetch, NULL);
    if (t == NULL)
        return NULL;
    t->arg = t;
    size_t base = strlen(identity);
    while (base > 0 && identity[base - 1] == '/')
        base--;
    int n = snprintf(t->token_url, sizeof t->token_url, "%.*s/api/v1/auth/token", (int)base, identity);
    if (n < 0 || (size_t)n >= sizeof t->token_url ||
        snprintf(t->secret_file, sizeof t->secret_file, "%s", secret_file) >= (int)sizeof t->secret_file) {
        mc_log(MC_LOG_ERROR, NULL, "config.invalid", "IDENTITY_URL or CLIENT_SECRET_FILE too long");
        mc_service_token_free(t);
        return NULL;
    }
    snprintf(t->client_id, sizeof t->client_id, "%s", id);
    return t;
}
