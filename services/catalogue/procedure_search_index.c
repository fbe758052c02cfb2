/*
 * The in-process index of the published procedures for GET /procedures?q=
 * (issue 14; the ranking is search_index.c's, the read store_procedure_search.c's).
 *
 * On unless MOTCUA_CATALOGUE_SEARCH_INDEX=0, when the response cache is on: the
 * index is current for one write generation (mc_request_write_generation,
 * which every successful write of the service moves, on this instance at once
 * and on the others through LISTEN/NOTIFY). A search that finds the index of
 * an older generation rebuilds it from one store read (one rebuild at a time;
 * searches that find it stale wait for it, so a writer reads their own
 * write), then swaps the pointer under the write lock; searches run under the
 * read lock and never touch the database.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue.h"
#include "motcua/config.h"
#include "motcua/log.h"
#include "search_index.h"
#include "store.h"

struct catalogue_ctx {
    bool index_on;
    pthread_mutex_t rebuild; /* one rebuild at a time */
    pthread_rwlock_t lock;   /* guards idx and generation */
    struct search_index *idx;
    unsigned long generation;
};

mc_error catalogue_start(mc_app *app)
{
    struct catalogue_ctx *ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL)
        return MC_ERR_INTERNAL;
    unsigned on = 0;
    if (!mc_config_uint("catalogue", "SEARCH_INDEX", 1, 0, 1, &on)) {
        free(ctx);
        return MC_ERR_INTERNAL;
    }
    ctx->index_on = on == 1;
    pthread_mutex_init(&ctx->rebuild, NULL);
    pthread_rwlock_init(&ctx->lock, NULL);
    mc_app_set_ctx(app, ctx);
    return MC_OK;
}

void catalogue_stop(mc_app *app)
{
    struct catalogue_ctx *ctx = mc_app_ctx(app);
    if (ctx == NULL)
        return;
    search_index_free(ctx->idx);
    pthread_rwlock_destroy(&ctx->lock);
    pthread_mutex_destroy(&ctx->rebuild);
    free(ctx);
}

static bool is_current(struct catalogue_ctx *ctx, unsigned long generation)
{
    pthread_rwlock_rdlock(&ctx->lock);
    bool current = ctx->idx != NULL && ctx->generation == generation;
    pthread_rwlock_unlock(&ctx->lock);
    return current;
}

/* Builds the index of `generation` unless another search did meanwhile. */
static mc_error rebuild(mc_request *req, struct catalogue_ctx *ctx, unsigned long generation)
{
    pthread_mutex_lock(&ctx->rebuild);
    mc_error rc = MC_OK;
    if (!is_current(ctx, generation)) {
        struct search_index *idx = search_index_new();
        mc_db_conn *conn;
        rc = idx == NULL ? MC_ERR_INTERNAL : mc_db_acquire(mc_request_db(req), &conn);
        if (rc == MC_OK) {
            rc = store_search_index_load(conn, idx);
            mc_db_release(mc_request_db(req), conn);
        }
        if (rc == MC_OK) {
            pthread_rwlock_wrlock(&ctx->lock);
            struct search_index *old = ctx->idx;
            ctx->idx = idx;
            ctx->generation = generation;
            pthread_rwlock_unlock(&ctx->lock);
            search_index_free(old);
            mc_log(MC_LOG_INFO, NULL, "search.index_built", "search index of %zu procedures",
                   search_index_size(idx));
        } else {
            search_index_free(idx);
        }
    }
    pthread_mutex_unlock(&ctx->rebuild);
    return rc;
}

/* The SQL's rank text (round(score, 6)) from millionths, and back. */
static json_t *rank_text(long long rank)
{
    char text[32];
    snprintf(text, sizeof text, "%lld.%06lld", rank / 1000000, rank % 1000000);
    return json_string(text);
}

static long long rank_of(const char *text)
{
    long long whole = 0, frac = 0;
    sscanf(text, "%lld.%lld", &whole, &frac); /* checked by the handler: d{1,3}.d{6} */
    return whole * 1000000 + frac;
}

/* The page's body from the hits, their item texts copied as they are (the
   store serialised them compactly when it built the index). */
static mc_error page_from_hits(const struct search_index_hit *hits, size_t n, unsigned limit,
                               char **body, size_t *body_len, size_t *n_items)
{
    *n_items = n < limit ? n : limit;
    const char **texts = malloc((*n_items + 1) * sizeof *texts);
    json_t *next_keys = NULL;
    if (n > limit)
        next_keys = json_pack("[os]", rank_text(hits[limit - 1].rank), hits[limit - 1].code);
    if (texts == NULL || (n > limit && next_keys == NULL)) {
        free(texts);
        json_decref(next_keys);
        return MC_ERR_INTERNAL;
    }
    for (size_t i = 0; i < *n_items; i++)
        texts[i] = hits[i].summary_json;
    *body = mc_page_body_text(texts, *n_items, next_keys, body_len);
    free(texts);
    return *body != NULL ? MC_OK : MC_ERR_INTERNAL;
}

/* Read-locks a current index for req, or answers false (*rc set when it failed). */
static bool lock_current(mc_request *req, struct catalogue_ctx *ctx, mc_error *rc)
{
    unsigned long generation;
    *rc = MC_OK;
    if (ctx == NULL || !ctx->index_on || !mc_request_write_generation(req, &generation))
        return false;
    for (int attempt = 0; attempt < 3; attempt++) {
        pthread_rwlock_rdlock(&ctx->lock);
        if (ctx->idx != NULL && ctx->generation == generation)
            return true;
        pthread_rwlock_unlock(&ctx->lock);
        if ((*rc = rebuild(req, ctx, generation)) != MC_OK)
            return false;
    }
    return false; /* writes keep coming: the SQL answers */
}

static struct search_index_filter index_filter(const struct store_procedure_filter *f)
{
    struct search_index_filter filter = {
        .sector = f->sector,
        .agency = f->agency,
        .admin_level = f->admin_level,
        .channel = f->channel,
        .online_level = f->online_level != NULL ? atoi(f->online_level) : 0,
        .has_cursor = f->cursor != NULL,
    };
    if (f->cursor != NULL) {
        filter.cursor_rank = rank_of(json_string_value(json_array_get(f->cursor, 0)));
        filter.cursor_code = json_string_value(json_array_get(f->cursor, 1));
    }
    return filter;
}

mc_error catalogue_search_with_index(mc_request *req, const struct store_procedure_filter *f,
                                     unsigned limit, char **body, size_t *body_len,
                                     size_t *n_items, bool *answered)
{
    *body = NULL;
    *body_len = 0;
    *n_items = 0;
    *answered = false;
    struct catalogue_ctx *ctx = mc_request_service_ctx(req);
    mc_error rc;
    if (f->q == NULL || !lock_current(req, ctx, &rc))
        return f->q == NULL ? MC_OK : rc;
    char *qn = search_index_norm(f->q);
    struct search_index_filter filter = index_filter(f);
    struct search_index_hit *hits = NULL;
    size_t n_hits = 0;
    enum search_index_outcome out =
        qn == NULL ? SEARCH_INDEX_NO_MEMORY
                   : search_index_query(ctx->idx, qn, &filter, (size_t)limit + 1, &hits, &n_hits);
    rc = out == SEARCH_INDEX_OK ? page_from_hits(hits, n_hits, limit, body, body_len, n_items)
                                : MC_ERR_INTERNAL;
    *answered = true;
    pthread_rwlock_unlock(&ctx->lock); /* the hits' strings belong to the index */
    free(hits);
    free(qn);
    return rc;
}

mc_error catalogue_suggest_with_index(mc_request *req, const struct store_procedure_filter *f,
                                      char **suggestion)
{
    *suggestion = NULL;
    struct catalogue_ctx *ctx = mc_request_service_ctx(req);
    mc_error rc;
    if (f->q == NULL || !lock_current(req, ctx, &rc))
        return f->q == NULL ? MC_OK : rc;
    char *qn = search_index_norm(f->q);
    char *fixed = qn != NULL ? search_index_suggest(ctx->idx, qn) : NULL;
    struct store_procedure_filter again = *f;
    again.cursor = NULL;
    struct search_index_filter filter = index_filter(&again);
    struct search_index_hit *hits = NULL;
    size_t n_hits = 0;
    enum search_index_outcome out =
        fixed == NULL ? SEARCH_INDEX_OK
                      : search_index_query(ctx->idx, fixed, &filter, 1, &hits, &n_hits);
    pthread_rwlock_unlock(&ctx->lock);
    free(hits);
    free(qn);
    if (qn == NULL || out == SEARCH_INDEX_NO_MEMORY) {
        free(fixed);
        return MC_ERR_INTERNAL;
    }
    if (n_hits > 0)
        *suggestion = fixed;
    else
        free(fixed);
    return MC_OK;
}
