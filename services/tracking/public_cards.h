/*
 * The stored public cards' refresher (card_view.h): one thread that, at
 * start, walks the dossiers once in id order and rebuilds every stored
 * public card that is missing (rows written before migration 0004, or by
 * hand) or was built with another lookup key (the short code in it is then
 * wrong: the key id differs). Spans of REFRESH_SPAN ids, each in its own
 * transaction that locks the stale rows with SKIP LOCKED, so several
 * instances share the pass and the projection, which rewrites a row's card
 * in its own transaction, is never overwritten. Once a pass is over the
 * thread stays idle: a key changes only with a restart.
 *
 * Until a row's card is rebuilt the lookup builds the same answer on the
 * spot (handle_dossiers.c), so the refresher changes how fast, never what.
 */
#ifndef TRACKING_PUBLIC_CARDS_H
#define TRACKING_PUBLIC_CARDS_H

#include "motcua/db.h"
#include "tracking.h"

typedef struct public_cards_refresher public_cards_refresher;

/* Start the pass (ctx borrowed: it outlives the refresher). NULL when out of
   memory or the thread cannot start. */
public_cards_refresher *public_cards_refresher_start(mc_db_pool *db, const struct tracking_ctx *ctx);

/* Stop (a span in progress finishes first) and free. NULL is allowed. */
void public_cards_refresher_stop(public_cards_refresher *r);

#endif
