/*
 * The sweeper: a thread in every instance, every SWEEP_INTERVAL_SECONDS
 * (common's mc_periodic), giving back the storage nothing needs any more.
 *
 *   - Abandoned drafts: a draft nobody touched (no edit, no upload) for
 *     ABANDONED_DRAFT_DAYS loses its files. Never submitted, they are no
 *     record of anything; the draft itself stays (its history is
 *     append-only) with a `documents_swept` entry by actor `system`, and the
 *     citizen uploads again should they come back. Batches of drafts are
 *     taken FOR UPDATE SKIP LOCKED, so instances share the work and an upload
 *     in progress (which holds the row lock) is never raced; the rows go in
 *     the transaction, the bytes after its commit (a crash in between leaves
 *     unnamed files, which the next item reclaims).
 *   - Unnamed files: bytes stored by an upload whose transaction then failed
 *     or never ran (a crash between the file and its row, storage.c), and
 *     leftovers of the above. Files older than ORPHAN_FILE_HOURS that no row
 *     names are removed; younger ones may belong to an upload still in
 *     flight. One instance at a time walks the store (a PostgreSQL advisory
 *     lock); the others skip the walk.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dossier.h"
#include "motcua/log.h"
#include "motcua/periodic.h"
#include "storage.h"
#include "store.h"

#define DRAFT_BATCH 50
#define MAX_DRAFT_BATCHES 20
#define KEY_BATCH 500

static mc_periodic *sweeper;

struct sweep_ctx {
    mc_app *app;
    struct dossier_ctx *ctx;
};
static struct sweep_ctx sweep_state;

/* ---- abandoned drafts ---- */

struct drafts_tx {
    int64_t untouched_since;
    json_t *keys;      /* the storage keys of the rows deleted */
    size_t drafts;
    long long bytes;
};

static mc_error drafts_tx_fn(mc_db_conn *conn, void *arg)
{
    struct drafts_tx *t = arg;
    json_array_clear(t->keys);
    t->drafts = 0;
    t->bytes = 0;
    json_t *ids = NULL;
    mc_error rc = store_sweep_abandoned_drafts(conn, t->untouched_since, DRAFT_BATCH, &ids);
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id)
    {
        if (rc != MC_OK)
            break;
        size_t before = json_array_size(t->keys);
        long long bytes = 0;
        rc = store_documents_delete_all(conn, json_string_value(id), t->keys, &bytes);
        if (rc != MC_OK)
            break;
        json_t *details = json_pack("{sI sI}", "files", (json_int_t)(json_array_size(t->keys) - before),
                                    "bytes", (json_int_t)bytes);
        struct history_entry e = {
            .dossier_id = json_string_value(id),
            .actor_sub = "system",
            .actor_role = "system",
            .action = "documents_swept",
            .from_status = DS_DRAFT,
            .to_status = DS_DRAFT,
            .details = details,
        };
        rc = store_history_add(conn, &e);
        json_decref(details);
        t->drafts++;
        t->bytes += bytes;
    }
    json_decref(ids);
    return rc;
}

static void sweep_drafts(struct sweep_ctx *s, struct dossier_storage *storage, int64_t now)
{
    struct drafts_tx t = {now - (int64_t)s->ctx->abandoned_draft_days * 86400, json_array(), 0, 0};
    for (int batch = 0; batch < MAX_DRAFT_BATCHES; batch++) {
        mc_error rc = mc_db_transaction(mc_app_db(s->app), NULL, drafts_tx_fn, &t);
        if (rc != MC_OK) {
            mc_log(MC_LOG_WARNING, NULL, "sweep.drafts_failed", "abandoned drafts not swept (%d)", (int)rc);
            break;
        }
        size_t i;
        json_t *key;
        json_array_foreach(t.keys, i, key)
        {
            storage->remove(storage->impl, json_string_value(key));
        }
        if (t.drafts > 0)
            mc_log(MC_LOG_INFO, NULL, "sweep.drafts", "%zu abandoned drafts: %zu files, %lld bytes",
                   t.drafts, json_array_size(t.keys), t.bytes);
        if (t.drafts < DRAFT_BATCH)
            break;
    }
    json_decref(t.keys);
}

/* ---- unnamed files ---- */

struct orphan_walk {
    mc_db_conn *conn;
    struct dossier_storage *storage;
    json_t *keys;  /* a batch of old keys to ask about */
    size_t removed;
    bool failed;
};

static bool flush_keys(struct orphan_walk *w)
{
    json_t *unnamed = NULL;
    if (json_array_size(w->keys) == 0)
        return true;
    if (store_keys_unnamed(w->conn, w->keys, &unnamed) != MC_OK) {
        w->failed = true;
        return false;
    }
    size_t i;
    json_t *key;
    json_array_foreach(unnamed, i, key)
    {
        if (w->storage->remove(w->storage->impl, json_string_value(key)) == MC_OK)
            w->removed++;
    }
    json_decref(unnamed);
    json_array_clear(w->keys);
    return true;
}

static bool collect_key(const char *key, void *arg)
{
    struct orphan_walk *w = arg;
    json_array_append_new(w->keys, json_string(key));
    return json_array_size(w->keys) < KEY_BATCH || flush_keys(w);
}

struct orphans_run {
    struct sweep_ctx *s;
    struct dossier_storage *storage;
    int64_t before;
};

static mc_error orphans_fn(mc_db_conn *conn, void *arg)
{
    struct orphans_run *run = arg;
    bool got = false;
    mc_error rc = store_orphan_sweep_lock(conn, true, &got);
    if (rc != MC_OK || !got)
        return rc; /* another instance is walking */
    struct orphan_walk w = {conn, run->storage, json_array(), 0, false};
    rc = run->storage->each_old(run->storage->impl, run->before, collect_key, &w);
    if (rc == MC_OK && !w.failed)
        flush_keys(&w);
    json_decref(w.keys);
    store_orphan_sweep_lock(conn, false, NULL);
    if (w.removed > 0)
        mc_log(MC_LOG_INFO, NULL, "sweep.orphans", "%zu stored files no document named were removed",
               w.removed);
    return w.failed ? MC_ERR_INTERNAL : rc;
}

void dossier_sweep_once(mc_app *app, struct dossier_ctx *ctx, int64_t now)
{
    struct sweep_ctx s = {app, ctx};
    struct dossier_storage storage = dossier_storage_of(ctx);
    sweep_drafts(&s, &storage, now);
    struct orphans_run run = {&s, &storage, now - (int64_t)ctx->orphan_file_hours * 3600};
    if (mc_db_with_conn(mc_app_db(app), orphans_fn, &run) != MC_OK)
        mc_log(MC_LOG_WARNING, NULL, "sweep.orphans_failed", "the stored files were not swept");
}

static void sweep_run(void *arg)
{
    struct sweep_ctx *s = arg;
    dossier_sweep_once(s->app, s->ctx, (int64_t)time(NULL));
}

int dossier_sweep_start(mc_app *app, struct dossier_ctx *ctx)
{
    sweep_state = (struct sweep_ctx){app, ctx};
    sweeper = mc_periodic_start(ctx->sweep_interval_s, sweep_run, &sweep_state);
    return sweeper != NULL ? 0 : -1;
}

void dossier_sweep_stop(void)
{
    mc_periodic_stop(sweeper);
    sweeper = NULL;
}
