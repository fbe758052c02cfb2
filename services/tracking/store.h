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

#include "motcua/db.h"

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
   MC_ERR_NOT_FOUND when there is none. */
mc_error store_dossier_find(mc_db_conn *conn, const char *code, bool by_short,
                            struct tracked_dossier *d, json_t **steps);

/* Record that the feed's positions up to oldest_after expired unseen. */
mc_error store_feed_gap_add(mc_db_conn *conn, const char *feed, long long oldest_after);

#endif
