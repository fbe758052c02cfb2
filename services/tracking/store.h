/*
 * The tracking service's store: every SQL statement of the service, behind
 * these functions. Each takes a connection the caller owns
 * (docs/architecture.md, "Stores and transactions"): the projection writes
 * inside the feed consumer's transaction, the handlers read on a connection
 * they borrow.
 */
#ifndef TRACKING_STORE_H
#define TRACKING_STORE_H

#include <jansson.h>
#include <stdbool.h>

#include "lookup_rules.h"
#include "motcua/db.h"
#include "motcua/http.h"

/* A dossier as the projection keeps it. The json_t members are new
   references owned by the struct (tracked_dossier_clear). */
struct tracked_dossier {
    char dossier_id[37];
    char code[64];
    char owner_sub[129];          /* "" when none */
    char agency_code[33];
    char handling_agency[33];
    json_t *transfer_chain;       /* array of agency codes */
    char masked_name[256];        /* "" when none */
    char id_hash[65];             /* "" when none */
    char phone_hash[65];          /* "" when none */
    json_t *card, *asked;
    long long last_sequence;
};
void tracked_dossier_clear(struct tracked_dossier *d);

/* ---- store_dossiers.c ---- */

/* Load the dossier with this id, locked until the transaction ends (inside
   a transaction). *found false when it is not projected yet. */
mc_error store_dossier_lock(mc_db_conn *conn, const char *dossier_id, struct tracked_dossier *d,
                            bool *found);

/* Insert or replace the dossier's row with d, whose last_sequence is the
   event's position (inside a transaction, after store_dossier_lock). A row
   already past that position is left alone. short_code may be NULL. */
mc_error store_dossier_put(mc_db_conn *conn, const struct tracked_dossier *d, const char *short_code);

/* Add a step at feed position `sequence` for event `event_id`, published at
   `event_time` (RFC 3339, or NULL). *added false when this event's step is
   already there (the event was applied before). */
mc_error store_step_add(mc_db_conn *conn, const char *dossier_id, long long sequence,
                        const char *event_id, const char *event_time, const json_t *step,
                        bool *added);

/* Load by dossier code (or, by_short, by short code) into *d (owned by the
   caller), with the timeline's steps in order into *steps (new reference).
   MC_ERR_NOT_FOUND when there is none, and when a short code is shared by two
   dossiers (50 bits of a hash: rare, and then it names neither). */
mc_error store_dossier_find(mc_db_conn *conn, const char *code, bool by_short,
                            struct tracked_dossier *d, json_t **steps);

/* The dossier with this id and its steps, as store_dossier_find (inside the
   projection's transaction, it sees the transaction's own changes). */
mc_error store_dossier_find_id(mc_db_conn *conn, const char *dossier_id, struct tracked_dossier *d,
                               json_t **steps);

/* The public card as the row keeps it (card_view.h). */
struct stored_card {
    char *body;                 /* malloc'd (the caller frees); NULL when not built yet */
    size_t len;
    char etag[MC_BODY_ETAG_MAX];
    char key_id[TRACKING_KEY_ID_LEN + 1]; /* the key it was built with (lookup_key_id) */
};

/* The stored public card of the dossier with this code (or, by_short, short
   code): one indexed read. MC_ERR_NOT_FOUND as store_dossier_find. */
mc_error store_public_card_find(mc_db_conn *conn, const char *code, bool by_short,
                                struct stored_card *out);

/* Store the public card of the dossier as of feed position last_sequence
   (in the projection's transaction); a row at another position is left
   alone. */
mc_error store_public_card_put(mc_db_conn *conn, const char *dossier_id, long long last_sequence,
                               const char *body, const char *etag, const char *key_id);

/* The next span of at most `span` dossier ids after `after` ("" from the
   start), in id order: *until is its last id; "" when none is left. */
mc_error store_dossier_id_span(mc_db_conn *conn, const char *after, unsigned span,
                               char until[37]);

/* The dossiers with ids in (after, until] whose public card is missing or
   was built with another key than key_id, at most `limit`, locked until the
   transaction ends (SKIP LOCKED: a row another transaction holds is being
   rewritten by it); each into ds[i] and steps[i] (owned by the caller:
   clear the first *n even on an error). */
mc_error store_public_cards_stale(mc_db_conn *conn, const char *after, const char *until,
                                  const char *key_id, unsigned limit, struct tracked_dossier *ds,
                                  json_t **steps, unsigned *n);

/* Store the public cards of `cards` (borrowed: an array of {id, body,
   etag}), built with key_id, in one statement (inside the transaction that
   locked them with store_public_cards_stale). */
mc_error store_public_cards_put(mc_db_conn *conn, const json_t *cards, const char *key_id);

/* Record that the feed's positions up to oldest_after expired unseen. */
mc_error store_feed_gap_add(mc_db_conn *conn, const char *feed, long long oldest_after);

#endif
