/* Staff lookups against identity, with a short positive cache
   (staff_directory.h). */
#include "staff_directory.h"

#include "dossier.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#include "dossier_code.h"
#include "motcua/http_client.h"
#include "motcua/json_spec.h"
#include "motcua/log.h"

#define CACHE_SLOTS 256
#define LOOKUP_TIMEOUT_S 3
#define ANSWER_MAX 65536

struct cached_staff {
    char id[37];
    char agency[33];
    int64_t until; /* 0: empty slot */
};

struct staff_directory {
    char base_url[512];
    mc_service_token *token;
    unsigned cache_seconds;
    pthread_mutex_t lock;
    struct cached_staff cache[CACHE_SLOTS]; /* by a hash of the id; a collision replaces */
};

struct staff_directory *staff_directory_new(const char *identity_url, mc_service_token *token,
                                            unsigned cache_seconds)
{
    struct staff_directory *dir = calloc(1, sizeof *dir);
    if (dir == NULL)
        return NULL;
    size_t n = strlen(identity_url);
    while (n > 0 && identity_url[n - 1] == '/')
        n--;
    if (n >= sizeof dir->base_url) {
        free(dir);
        return NULL;
    }
    memcpy(dir->base_url, identity_url, n);
    dir->token = token;
    dir->cache_seconds = cache_seconds;
    pthread_mutex_init(&dir->lock, NULL);
    return dir;
}

void staff_directory_free(struct staff_directory *dir)
{
    if (dir == NULL)
        return;
    pthread_mutex_destroy(&dir->lock);
    free(dir);
}

bool staff_account_handles(const json_t *staff, const char *agency)
{
    const char *their_agency = json_string_value(json_object_get(staff, "agency"));
    if (json_is_true(json_object_get(staff, "disabled")) || their_agency == NULL ||
        strcmp(their_agency, agency) != 0)
        return false;
    size_t i;
    const json_t *role;
    json_array_foreach(json_object_get(staff, "roles"), i, role)
    {
        const char *r = json_string_value(role);
        if (r != NULL && (strcmp(r, "officer") == 0 || strcmp(r, "approver") == 0 ||
                          strcmp(r, "agency_admin") == 0))
            return true;
    }
    return false;
}

static size_t slot_of(const char *id)
{
    size_t h = 5381;
    for (const unsigned char *p = (const unsigned char *)id; *p != '\0'; p++)
        h = h * 33 + *p;
    return h % CACHE_SLOTS;
}

static bool cached(struct staff_directory *dir, const char *id, const char *agency, int64_t now)
{
    pthread_mutex_lock(&dir->lock);
    const struct cached_staff *c = &dir->cache[slot_of(id)];
    bool hit = c->until > now && strcmp(c->id, id) == 0 && strcmp(c->agency, agency) == 0;
    pthread_mutex_unlock(&dir->lock);
    return hit;
}

static void remember(struct staff_directory *dir, const char *id, const char *agency, int64_t now)
{
    if (dir->cache_seconds == 0 || strlen(id) >= sizeof dir->cache[0].id ||
        strlen(agency) >= sizeof dir->cache[0].agency)
        return;
    pthread_mutex_lock(&dir->lock);
    struct cached_staff *c = &dir->cache[slot_of(id)];
    snprintf(c->id, sizeof c->id, "%s", id);
    snprintf(c->agency, sizeof c->agency, "%s", agency);
    c->until = now + dir->cache_seconds;
    pthread_mutex_unlock(&dir->lock);
}

/* GET /api/v1/staff/{id} with our token: *status and the account (new
   reference, NULL unless 200). */
static mc_error ask_identity(struct staff_directory *dir, const char *staff_id, int64_t now,
                             long *status, json_t **account)
{
    char token[MC_AUTH_MAX_TOKEN_BYTES + 1];
    *account = NULL;
    if (mc_service_token_get(dir->token, now, token, sizeof token) != MC_OK)
        return MC_ERR_DOSSIER_IDENTITY_UNAVAILABLE;
    char url[700];
    snprintf(url, sizeof url, "%s/api/v1/staff/%s", dir->base_url, staff_id);
    struct mc_http_result res;
    mc_error rc = mc_http_get(url, NULL, token, LOOKUP_TIMEOUT_S, ANSWER_MAX, &res);
    explicit_bzero(token, sizeof token);
    if (rc != MC_OK) {
        mc_log(MC_LOG_WARNING, NULL, "identity.unreachable", "a staff lookup got no answer");
        return MC_ERR_DOSSIER_IDENTITY_UNAVAILABLE;
    }
    *status = res.status;
    if (res.status == 200 && res.body != NULL)
        *account = json_loads(res.body, 0, NULL);
    mc_http_result_free(&res);
    return MC_OK;
}

mc_error staff_directory_check(struct staff_directory *dir, const char *staff_id,
                               const char *agency, int64_t now, bool *is_staff)
{
    *is_staff = false;
    if (cached(dir, staff_id, agency, now)) {
        *is_staff = true;
        return MC_OK;
    }
    long status = 0;
    json_t *account = NULL;
    mc_error rc = ask_identity(dir, staff_id, now, &status, &account);
    if (rc == MC_OK && status == 401) {
        /* our token was refused (a rotated key, a restarted identity): once more with a new one */
        mc_service_token_invalidate(dir->token);
        rc = ask_identity(dir, staff_id, now, &status, &account);
    }
    if (rc != MC_OK)
        return rc;
    if (status == 200 && account != NULL) {
        *is_staff = staff_account_handles(account, agency);
    } else if (status != 404) {
        mc_log(MC_LOG_ERROR, NULL, "identity.staff_lookup",
               "identity answered %ld to a staff lookup (does our client have identity:staff.read?)",
               status);
        rc = MC_ERR_DOSSIER_IDENTITY_UNAVAILABLE;
    }
    json_decref(account);
    if (*is_staff)
        remember(dir, staff_id, agency, now);
    return rc;
}

mc_error dossier_check_assignee(struct dossier_ctx *ctx, const struct dossier *d,
                                const char *assignee, json_t *errors)
{
    if (assignee == NULL)
        return MC_OK;
    bool is_staff = false;
    if (dossier_id_is_valid(assignee)) { /* account ids are UUIDs: anything else is no one */
        if (ctx->staff == NULL)
            return MC_ERR_DOSSIER_IDENTITY_UNAVAILABLE;
        mc_error rc = staff_directory_check(ctx->staff, assignee, d->handling_agency,
                                            (int64_t)time(NULL), &is_staff);
        if (rc != MC_OK)
            return rc;
    }
    if (!is_staff)
        mc_errors_add(errors, "/assignee", "not_staff",
                      "must be the account id of an active officer, approver or agency "
                      "administrator of the handling agency");
    return MC_OK;
}
