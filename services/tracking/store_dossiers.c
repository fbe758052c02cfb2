/* The projection's SQL (store.h). */
#include <stdlib.h>
#include <string.h>

#include "store.h"

#define DOSSIER_COLUMNS                                                                           \
    "dossier_id::text, coalesce(code, ''), coalesce(owner_sub, ''), agency_code, handling_agency, " \
    "to_jsonb(transfer_chain)::text, coalesce(applicant_masked_name, ''), "                       \
    "coalesce(applicant_id_hash, ''), coalesce(applicant_phone_hash, ''), card::text, "           \
    "asked::text, last_sequence"

static const mc_db_statement lock_dossier = {
    "tracking_dossier_lock",
    "SELECT " DOSSIER_COLUMNS " FROM dossiers WHERE dossier_id = $1::uuid FOR UPDATE", 1};

static const mc_db_statement put_dossier = {
    "tracking_dossier_put",
    "INSERT INTO dossiers (dossier_id, code, short_code, owner_sub, agency_code, handling_agency, "
    "transfer_chain, applicant_masked_name, applicant_id_hash, applicant_phone_hash, card, asked, "
    "last_sequence) VALUES ($1::uuid, $2, $3, $4, $5, $6, "
    "ARRAY(SELECT jsonb_array_elements_text($7::jsonb)), $8, $9, $10, $11::jsonb, $12::jsonb, "
    "$13::bigint) "
    "ON CONFLICT (dossier_id) DO UPDATE SET code = EXCLUDED.code, "
    "short_code = coalesce(EXCLUDED.short_code, dossiers.short_code), "
    "owner_sub = EXCLUDED.owner_sub, agency_code = EXCLUDED.agency_code, "
    "handling_agency = EXCLUDED.handling_agency, transfer_chain = EXCLUDED.transfer_chain, "
    "applicant_masked_name = EXCLUDED.applicant_masked_name, "
    "applicant_id_hash = EXCLUDED.applicant_id_hash, "
    "applicant_phone_hash = EXCLUDED.applicant_phone_hash, card = EXCLUDED.card, "
    "asked = EXCLUDED.asked, last_sequence = EXCLUDED.last_sequence, updated_at = now() "
    "WHERE dossiers.last_sequence < EXCLUDED.last_sequence",
    13};

static const mc_db_statement add_step = {
    "tracking_step_add",
    "INSERT INTO timeline_steps (dossier_id, sequence, event_id, step, event_time) "
    "VALUES ($1::uuid, $2::bigint, $3::uuid, $4::jsonb, $5::timestamptz) ON CONFLICT DO NOTHING",
    5};

/* The dossier and its steps in one round trip: the public lookup is the hot read. */
#define FIND_SQL(where)                                                                           \
    "SELECT " DOSSIER_COLUMNS ", (SELECT coalesce(jsonb_agg(s.step ORDER BY s.sequence), '[]') "  \
    "FROM timeline_steps s WHERE s.dossier_id = d.dossier_id)::text FROM dossiers d WHERE " where

static const mc_db_statement find_by_code = {"tracking_dossier_find_code", FIND_SQL("code = $1"), 1};
/* Two rows at most: a short code two dossiers share names neither (store.h). */
static const mc_db_statement find_by_short = {"tracking_dossier_find_short",
                                              FIND_SQL("short_code = $1 LIMIT 2"), 1};

static const mc_db_statement find_by_id = {"tracking_dossier_find_id",
                                           FIND_SQL("dossier_id = $1::uuid"), 1};

/* The hot read of the public lookup: one row by a unique index, the answer's bytes. */
#define PUBLIC_CARD_SQL(where)                                                                    \
    "SELECT public_card, coalesce(public_etag, ''), coalesce(public_key_id, '') FROM dossiers "   \
    "WHERE " where

static const mc_db_statement public_by_code = {"tracking_public_card_code",
                                               PUBLIC_CARD_SQL("code = $1"), 1};
static const mc_db_statement public_by_short = {"tracking_public_card_short",
                                                PUBLIC_CARD_SQL("short_code = $1 LIMIT 2"), 1};

static const mc_db_statement put_public = {
    "tracking_public_card_put",
    "UPDATE dossiers SET public_card = $3, public_etag = $4, public_key_id = $5 "
    "WHERE dossier_id = $1::uuid AND last_sequence = $2::bigint",
    5};

static const mc_db_statement id_span = {
    "tracking_dossier_id_span",
    "SELECT dossier_id::text FROM (SELECT dossier_id FROM dossiers WHERE dossier_id > $1::uuid "
    "ORDER BY dossier_id LIMIT $2::int) span ORDER BY dossier_id DESC LIMIT 1",
    2};

static const mc_db_statement stale_public = {
    "tracking_public_cards_stale",
    FIND_SQL("d.dossier_id > $1::uuid AND d.dossier_id <= $2::uuid AND (d.public_card IS NULL OR "
             "d.public_key_id IS DISTINCT FROM $3) ORDER BY d.dossier_id LIMIT $4::int "
             "FOR UPDATE OF d SKIP LOCKED"),
    4};

static const mc_db_statement put_public_batch = {
    "tracking_public_cards_put",
    "UPDATE dossiers d SET public_card = u.body, public_etag = u.etag, public_key_id = $2 "
    "FROM jsonb_to_recordset($1::jsonb) AS u(id uuid, body text, etag text) "
    "WHERE d.dossier_id = u.id",
    2};

static const mc_db_statement add_gap = {
    "tracking_feed_gap_add",
    "INSERT INTO feed_gaps (feed, oldest_after) VALUES ($1, $2::bigint) ON CONFLICT DO NOTHING", 2};

void tracked_dossier_clear(struct tracked_dossier *d)
{
    json_decref(d->transfer_chain);
    json_decref(d->card);
    json_decref(d->asked);
    memset(d, 0, sizeof *d);
}

/* Row r of a DOSSIER_COLUMNS result into *d. */
static mc_error read_dossier(const PGresult *res, int r, struct tracked_dossier *d)
{
    memset(d, 0, sizeof *d);
    mc_db_copy(d->dossier_id, sizeof d->dossier_id, res, r, 0);
    mc_db_copy(d->code, sizeof d->code, res, r, 1);
    mc_db_copy(d->owner_sub, sizeof d->owner_sub, res, r, 2);
    mc_db_copy(d->agency_code, sizeof d->agency_code, res, r, 3);
    mc_db_copy(d->handling_agency, sizeof d->handling_agency, res, r, 4);
    d->transfer_chain = mc_db_json(res, r, 5);
    mc_db_copy(d->masked_name, sizeof d->masked_name, res, r, 6);
    mc_db_copy(d->id_hash, sizeof d->id_hash, res, r, 7);
    mc_db_copy(d->phone_hash, sizeof d->phone_hash, res, r, 8);
    d->card = mc_db_json(res, r, 9);
    d->asked = mc_db_json(res, r, 10);
    d->last_sequence = mc_db_int(res, r, 11);
    if (d->transfer_chain == NULL || d->card == NULL || d->asked == NULL) {
        tracked_dossier_clear(d);
        return MC_ERR_INTERNAL;
    }
    return MC_OK;
}

mc_error store_dossier_lock(mc_db_conn *conn, const char *dossier_id, struct tracked_dossier *d,
                            bool *found)
{
    const char *params[1] = {dossier_id};
    PGresult *res = mc_db_exec(conn, &lock_dossier, params);
    if (res == NULL)
        return mc_db_failure(conn);
    *found = PQntuples(res) > 0;
    mc_error rc = *found ? read_dossier(res, 0, d) : MC_OK;
    PQclear(res);
    return rc;
}

/* s, or NULL (SQL NULL) when it is empty. */
static const char *or_null(const char *s)
{
    return s != NULL && s[0] != '\0' ? s : NULL;
}

mc_error store_dossier_put(mc_db_conn *conn, const struct tracked_dossier *d, const char *short_code)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, d->dossier_id);
    mc_db_add_text(&p, d->code);
    mc_db_add_text(&p, or_null(short_code));
    mc_db_add_text(&p, or_null(d->owner_sub));
    mc_db_add_text(&p, d->agency_code);
    mc_db_add_text(&p, d->handling_agency);
    mc_db_add_json(&p, d->transfer_chain);
    mc_db_add_text(&p, or_null(d->masked_name));
    mc_db_add_text(&p, or_null(d->id_hash));
    mc_db_add_text(&p, or_null(d->phone_hash));
    mc_db_add_json(&p, d->card);
    mc_db_add_json(&p, d->asked);
    mc_db_add_int64(&p, d->last_sequence);
    PGresult *res = mc_db_exec_params(conn, &put_dossier, &p);
    mc_db_params_clear(&p);
    if (res == NULL)
        return mc_db_failure(conn);
    PQclear(res);
    return MC_OK;
}

mc_error store_step_add(mc_db_conn *conn, const char *dossier_id, long long sequence,
                        const char *event_id, const char *event_time, const json_t *step,
                        bool *added)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, dossier_id);
    mc_db_add_int64(&p, sequence);
    mc_db_add_text(&p, event_id);
    mc_db_add_json(&p, step);
    mc_db_add_text(&p, event_time);
    PGresult *res = mc_db_exec_params(conn, &add_step, &p);
    mc_db_params_clear(&p);
    if (res == NULL)
        return mc_db_failure(conn);
    *added = strcmp(PQcmdTuples(res), "1") == 0;
    PQclear(res);
    return MC_OK;
}

/* Row r of a FIND_SQL result into *d and *steps. */
static mc_error read_dossier_steps(const PGresult *res, int r, struct tracked_dossier *d,
                                   json_t **steps)
{
    mc_error rc = read_dossier(res, r, d);
    if (rc != MC_OK)
        return rc;
    *steps = mc_db_json(res, r, 12);
    if (*steps == NULL) {
        tracked_dossier_clear(d);
        return MC_ERR_INTERNAL;
    }
    return MC_OK;
}

/* The one dossier stmt finds with param into *d and *steps. */
static mc_error find_one(mc_db_conn *conn, const mc_db_statement *stmt, const char *param,
                         struct tracked_dossier *d, json_t **steps)
{
    const char *params[1] = {param};
    *steps = NULL;
    PGresult *res = mc_db_exec(conn, stmt, params);
    if (res == NULL)
        return mc_db_failure(conn);
    mc_error rc = PQntuples(res) == 1 ? read_dossier_steps(res, 0, d, steps) : MC_ERR_NOT_FOUND;
    PQclear(res);
    return rc;
}

mc_error store_dossier_find(mc_db_conn *conn, const char *code, bool by_short,
                            struct tracked_dossier *d, json_t **steps)
{
    return find_one(conn, by_short ? &find_by_short : &find_by_code, code, d, steps);
}

mc_error store_dossier_find_id(mc_db_conn *conn, const char *dossier_id, struct tracked_dossier *d,
                               json_t **steps)
{
    return find_one(conn, &find_by_id, dossier_id, d, steps);
}

mc_error store_public_card_find(mc_db_conn *conn, const char *code, bool by_short,
                                struct stored_card *out)
{
    const char *params[1] = {code};
    memset(out, 0, sizeof *out);
    PGresult *res = mc_db_exec(conn, by_short ? &public_by_short : &public_by_code, params);
    if (res == NULL)
        return mc_db_failure(conn);
    mc_error rc = PQntuples(res) == 1 ? MC_OK : MC_ERR_NOT_FOUND;
    if (rc == MC_OK && !PQgetisnull(res, 0, 0)) {
        size_t len = (size_t)PQgetlength(res, 0, 0);
        out->body = malloc(len + 1);
        if (out->body == NULL) {
            rc = MC_ERR_INTERNAL;
        } else {
            memcpy(out->body, PQgetvalue(res, 0, 0), len + 1);
            out->len = len;
            mc_db_copy(out->etag, sizeof out->etag, res, 0, 1);
            mc_db_copy(out->key_id, sizeof out->key_id, res, 0, 2);
        }
    }
    PQclear(res);
    return rc;
}

mc_error store_public_card_put(mc_db_conn *conn, const char *dossier_id, long long last_sequence,
                               const char *body, const char *etag, const char *key_id)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, dossier_id);
    mc_db_add_int64(&p, last_sequence);
    mc_db_add_text(&p, body);
    mc_db_add_text(&p, etag);
    mc_db_add_text(&p, key_id);
    PGresult *res = mc_db_exec_params(conn, &put_public, &p);
    mc_db_params_clear(&p);
    if (res == NULL)
        return mc_db_failure(conn);
    PQclear(res);
    return MC_OK;
}

#define FIRST_ID "00000000-0000-0000-0000-000000000000"

mc_error store_dossier_id_span(mc_db_conn *conn, const char *after, unsigned span, char until[37])
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, after[0] != '\0' ? after : FIRST_ID);
    mc_db_add_int64(&p, span);
    PGresult *res = mc_db_exec_params(conn, &id_span, &p);
    mc_db_params_clear(&p);
    if (res == NULL)
        return mc_db_failure(conn);
    until[0] = '\0';
    if (PQntuples(res) == 1)
        mc_db_copy(until, 37, res, 0, 0);
    PQclear(res);
    return MC_OK;
}

mc_error store_public_cards_stale(mc_db_conn *conn, const char *after, const char *until,
                                  const char *key_id, unsigned limit, struct tracked_dossier *ds,
                                  json_t **steps, unsigned *n)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, after[0] != '\0' ? after : FIRST_ID);
    mc_db_add_text(&p, until);
    mc_db_add_text(&p, key_id);
    mc_db_add_int64(&p, limit);
    PGresult *res = mc_db_exec_params(conn, &stale_public, &p);
    mc_db_params_clear(&p);
    *n = 0;
    if (res == NULL)
        return mc_db_failure(conn);
    mc_error rc = MC_OK;
    int rows = PQntuples(res);
    for (int r = 0; r < rows && (unsigned)r < limit && rc == MC_OK; r++) {
        rc = read_dossier_steps(res, r, &ds[r], &steps[r]);
        if (rc == MC_OK)
            (*n)++;
    }
    PQclear(res);
    return rc;
}

mc_error store_public_cards_put(mc_db_conn *conn, const json_t *cards, const char *key_id)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_json(&p, cards);
    mc_db_add_text(&p, key_id);
    PGresult *res = mc_db_exec_params(conn, &put_public_batch, &p);
    mc_db_params_clear(&p);
    if (res == NULL)
        return mc_db_failure(conn);
    PQclear(res);
    return MC_OK;
}

mc_error store_feed_gap_add(mc_db_conn *conn, const char *feed, long long oldest_after)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, feed);
    mc_db_add_int64(&p, oldest_after);
    PGresult *res = mc_db_exec_params(conn, &add_gap, &p);
    if (res == NULL)
        return mc_db_failure(conn);
    PQclear(res);
    return MC_OK;
}
