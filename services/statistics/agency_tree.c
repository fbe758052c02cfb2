/* The agency tree from the catalogue, cached (agency_tree.h). */
#include "agency_tree.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "motcua/http_client.h"
#include "motcua/log.h"

#define PAGE_BYTES_MAX (4u << 20)
#define PAGES_MAX 1000 /* 100,000 agencies */
#define TIMEOUT_S 5

struct agency_tree {
    char base[256];
    unsigned cache_seconds;
    pthread_mutex_t lock;
    json_t *agencies;   /* the last tree read, or NULL */
    time_t read_at;
};

struct agency_tree *agency_tree_new(const char *catalogue_url, unsigned cache_seconds)
{
    struct agency_tree *t = calloc(1, sizeof *t);
    if (t == NULL || catalogue_url == NULL || strlen(catalogue_url) >= sizeof t->base) {
        free(t);
        return NULL;
    }
    snprintf(t->base, sizeof t->base, "%s", catalogue_url);
    t->cache_seconds = cache_seconds;
    pthread_mutex_init(&t->lock, NULL);
    return t;
}

void agency_tree_free(struct agency_tree *t)
{
    if (t == NULL)
        return;
    json_decref(t->agencies);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

/* Every page of the catalogue's agency list into a new tree object, or NULL. */
static json_t *read_tree(const char *base)
{
    json_t *tree = json_object();
    char cursor[512] = "";
    for (int page = 0; tree != NULL && page < PAGES_MAX; page++) {
        char url[1024];
        /* Cursors are URL-safe base64; anything else is not followed. */
        if (strspn(cursor, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=") !=
            strlen(cursor))
            break;
        snprintf(url, sizeof url, "%s/api/v1/agencies?limit=100%s%s", base,
                 cursor[0] != '\0' ? "&cursor=" : "", cursor);
        struct mc_http_result r = {0};
        mc_error rc = mc_http_get(url, NULL, NULL, TIMEOUT_S, PAGE_BYTES_MAX, &r);
        json_t *doc = rc == MC_OK && r.status == 200 && r.body != NULL
                          ? json_loads(r.body, 0, NULL)
                          : NULL;
        mc_http_result_free(&r);
        const json_t *items = json_object_get(doc, "items");
        if (!json_is_array(items)) {
            json_decref(doc);
            break;
        }
        size_t i;
        const json_t *a;
        json_array_foreach(items, i, a) {
            const char *code = json_string_value(json_object_get(a, "code"));
            if (code != NULL)
                json_object_set_new(tree, code,
                                    json_pack("{sO? sO? sO?}", "parent", json_object_get(a, "parent_code"),
                                              "name", json_object_get(a, "name"), "admin_level",
                                              json_object_get(a, "admin_level")));
        }
        const char *next = json_string_value(json_object_get(doc, "next_cursor"));
        if (next == NULL || strlen(next) >= sizeof cursor) {
            bool done = next == NULL;
            json_decref(doc);
            if (done)
                return tree;
            break;
        }
        snprintf(cursor, sizeof cursor, "%s", next);
        json_decref(doc);
    }
    json_decref(tree);
    return NULL;
}

mc_error agency_tree_get(struct agency_tree *t, json_t **out)
{
    time_t now = time(NULL);
    pthread_mutex_lock(&t->lock);
    bool fresh = t->agencies != NULL && now - t->read_at < (time_t)t->cache_seconds;
    json_t *held = json_incref(t->agencies);
    pthread_mutex_unlock(&t->lock);
    if (fresh) {
        *out = held;
        return MC_OK;
    }
    json_t *tree = read_tree(t->base);
    if (tree == NULL) {
        if (held == NULL)
            return MC_ERR_CATALOGUE_UNAVAILABLE;
        mc_log(MC_LOG_WARNING, NULL, "catalogue.unavailable",
               "the agency tree could not be read again: the copy held is used");
        *out = held;
        return MC_OK;
    }
    json_decref(held);
    pthread_mutex_lock(&t->lock);
    json_decref(t->agencies);
    t->agencies = json_incref(tree);
    t->read_at = now;
    pthread_mutex_unlock(&t->lock);
    *out = tree;
    return MC_OK;
}
