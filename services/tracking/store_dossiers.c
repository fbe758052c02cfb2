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
static const mc_db_statement find_by_short = {"tracking_dossier_find_short",
                                              FIND_SQL("short_code = $1"), 1};

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

mc_error store_dossier_find(mc_db_conn *conn, const char *code, bool by_short,
                            struct tracked_dossier *d, json_t **steps)
{
    const char *params[1] = {code};
    *steps = NULL;
    PGresult *res = mc_db_exec(conn, by_short ? &find_by_short : &find_by_code, params);
    if (res == NULL)
        return mc_db_failure(conn);
    mc_error rc = PQntuples(res) > 0 ? read_dossier(res, 0, d) : MC_ERR_NOT_FOUND;
    if (rc == MC_OK) {
        *steps = mc_db_json(res, 0, 12);
        if (*steps == NULL) {
            tracked_dossier_clear(d);
            rc = MC_ERR_INTERNAL;
        }
    }
    PQclear(res);
    return rc;
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
