/* The stored public cards' refresher (public_cards.h). */
#include "public_cards.h"

#include <stdlib.h>
#include <string.h>

#include "card_view.h"
#include "delivery_workers.h"
#include "motcua/log.h"
#include "store.h"

/* Dossier ids examined per transaction; at most this many cards rebuilt in it. */
#define REFRESH_SPAN 500
/* Wait after a failed span (and, once the pass is over, between idle checks). */
#define REFRESH_IDLE_MS 1000

struct public_cards_refresher {
    mc_db_pool *db;
    const struct tracking_ctx *ctx;
    char after[37];          /* the pass's cursor: the last id examined ("" at the start) */
    char until[37];          /* the span being done */
    bool done;
    unsigned long rebuilt;
    unsigned n;              /* ds and steps in use */
    struct tracked_dossier ds[REFRESH_SPAN];
    json_t *steps[REFRESH_SPAN];
    delivery_workers *worker;
};

static void clear_span(public_cards_refresher *r)
{
    for (unsigned i = 0; i < r->n; i++) {
        tracked_dossier_clear(&r->ds[i]);
        json_decref(r->steps[i]);
        r->steps[i] = NULL;
    }
    r->n = 0;
}

/* One span in one transaction (mc_db_tx_fn: starts afresh on a retry). */
static mc_error rebuild_span(mc_db_conn *conn, void *p)
{
    public_cards_refresher *r = p;
    const struct tracking_ctx *ctx = r->ctx;
    clear_span(r);
    mc_error rc = store_dossier_id_span(conn, r->after, REFRESH_SPAN, r->until);
    if (rc != MC_OK || r->until[0] == '\0')
        return rc;
    rc = store_public_cards_stale(conn, r->after, r->until, ctx->key_id, REFRESH_SPAN, r->ds,
                                  r->steps, &r->n);
    if (rc != MC_OK || r->n == 0)
        return rc;
    json_t *cards = json_array();
    for (unsigned i = 0; i < r->n && rc == MC_OK; i++) {
        char short_code[TRACKING_SHORT_LEN + 1], etag[MC_BODY_ETAG_MAX];
        bool has_short = lookup_short_code(ctx->lookup_key, ctx->lookup_key_len,
                                           r->ds[i].dossier_id, short_code);
        size_t len = 0;
        char *text = card_view_public_text(&r->ds[i], r->steps[i], has_short ? short_code : NULL,
                                           &len, etag);
        json_t *row = text != NULL ? json_pack("{ss ss ss}", "id", r->ds[i].dossier_id, "body",
                                               text, "etag", etag)
                                   : NULL;
        free(text);
        if (row == NULL || json_array_append_new(cards, row) != 0)
            rc = MC_ERR_INTERNAL;
    }
    if (rc == MC_OK)
        rc = store_public_cards_put(conn, cards, ctx->key_id);
    json_decref(cards);
    return rc;
}

/* delivery_workers' step: one span; false when there is nothing to do. */
static bool refresh_step(void *p)
{
    public_cards_refresher *r = p;
    if (r->done)
        return false;
    mc_error rc = mc_db_transaction(r->db, NULL, rebuild_span, r);
    unsigned n = r->n;
    clear_span(r);
    if (rc != MC_OK) {
        mc_log(MC_LOG_WARNING, NULL, "tracking.public_cards", "rebuilding stored public cards: %s",
               mc_error_info(rc)->code);
        return false;
    }
    if (r->until[0] == '\0') {
        r->done = true;
        mc_log(MC_LOG_INFO, NULL, "tracking.public_cards",
               "stored public cards checked: %lu rebuilt", r->rebuilt);
        return false;
    }
    memcpy(r->after, r->until, sizeof r->after);
    r->rebuilt += n;
    return true;
}

public_cards_refresher *public_cards_refresher_start(mc_db_pool *db, const struct tracking_ctx *ctx)
{
    public_cards_refresher *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->db = db;
    r->ctx = ctx;
    r->worker = delivery_workers_start("public cards", 1, REFRESH_IDLE_MS, refresh_step, r);
    if (r->worker == NULL) {
        free(r);
        return NULL;
    }
    return r;
}

void public_cards_refresher_stop(public_cards_refresher *r)
{
    if (r == NULL)
        return;
    delivery_workers_stop(r->worker);
    clear_span(r);
    free(r);
}
