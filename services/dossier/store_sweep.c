/*
 * Store: the storage limits and the sweeper (sweep.c, docs/services/dossier.md
 * *Documents*): a citizen's drafts, the files of abandoned drafts, and which
 * stored files no row names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

/* An arbitrary constant naming the orphan sweep's advisory lock. */
#define ORPHAN_SWEEP_LOCK "4630920241"

/* clang-format off */
static const mc_db_statement drafts_lock = {
    "dossier_drafts_lock",
    "SELECT pg_advisory_xact_lock(hashtext('dossier.drafts'), hashtext($1))",
    1};

static const mc_db_statement drafts_count = {
    "dossier_drafts_count",
    "SELECT count(*), coalesce(floor(extract(epoch FROM min(updated_at))), 0)::bigint"
    " FROM dossiers WHERE owner_sub = $1 AND status = 0 AND filed_by_role = 'citizen'"
    " AND updated_at >= to_timestamp($2::bigint)",
    2};

static const mc_db_statement abandoned_drafts = {
    "dossier_abandoned_drafts",
    "SELECT d.id::text FROM dossiers d"
    " WHERE d.status = 0 AND d.updated_at < to_timestamp($1::bigint)"
    " AND EXISTS (SELECT 1 FROM dossier_documents x WHERE x.dossier_id = d.id)"
    " AND NOT EXISTS (SELECT 1 FROM dossier_documents x WHERE x.dossier_id = d.id"
    "                 AND x.uploaded_at >= to_timestamp($1::bigint))"
    " ORDER BY d.updated_at LIMIT $2::integer FOR UPDATE OF d SKIP LOCKED",
    2};

static const mc_db_statement documents_delete = {
    "dossier_documents_delete",
    "DELETE FROM dossier_documents WHERE dossier_id = $1::uuid RETURNING storage_key, size_bytes",
    1};

static const mc_db_statement keys_unnamed = {
    "dossier_keys_unnamed",
    "SELECT k FROM json_array_elements_text($1::json) AS k"
    " WHERE NOT EXISTS (SELECT 1 FROM dossier_documents WHERE storage_key = k)",
    1};

static const mc_db_statement orphan_lock = {
    "dossier_orphan_sweep_lock",
    "SELECT pg_try_advisory_lock(" ORPHAN_SWEEP_LOCK ")",
    0};

static const mc_db_statement orphan_unlock = {
    "dossier_orphan_sweep_unlock",
    "SELECT pg_advisory_unlock(" ORPHAN_SWEEP_LOCK ")",
    0};
/* clang-format on */

mc_error store_citizen_drafts(mc_db_conn *conn, const char *owner_sub, int64_t active_since,
                              long long *count, int64_t *oldest)
{
    char since[24];
    snprintf(since, sizeof since, "%lld", (long long)active_since);
    const char *params[2] = {owner_sub, since};
    PGresult *res = mc_db_exec(conn, &drafts_lock, params);
    if (res == NULL)
        return mc_db_failure(conn);
    PQclear(res);
    res = mc_db_exec(conn, &drafts_count, params);
    if (res == NULL)
        return mc_db_failure(conn);
    *count = mc_db_int(res, 0, 0);
    *oldest = (int64_t)mc_db_int(res, 0, 1);
    PQclear(res);
    return MC_OK;
}

mc_error store_sweep_abandoned_drafts(mc_db_conn *conn, int64_t untouched_since, unsigned limit,
                                      json_t **ids)
{
    char since[24], lim[16];
    snprintf(since, sizeof since, "%lld", (long long)untouched_since);
    snprintf(lim, sizeof lim, "%u", limit);
    const char *params[2] = {since, lim};
    PGresult *res = mc_db_exec(conn, &abandoned_drafts, params);
    if (res == NULL)
        return mc_db_failure(conn);
    *ids = json_array();
    for (int r = 0; r < PQntuples(res); r++)
        json_array_append_new(*ids, json_string(mc_db_text(res, r, 0)));
    PQclear(res);
    return MC_OK;
}

mc_error store_documents_delete_all(mc_db_conn *conn, const char *dossier_id, json_t *keys,
                                    long long *bytes)
{
    const char *params[1] = {dossier_id};
    PGresult *res = mc_db_exec(conn, &documents_delete, params);
    if (res == NULL)
        return mc_db_failure(conn);
    *bytes = 0;
    for (int r = 0; r < PQntuples(res); r++) {
        json_array_append_new(keys, json_string(mc_db_text(res, r, 0)));
        *bytes += mc_db_int(res, r, 1);
    }
    PQclear(res);
    return MC_OK;
}

mc_error store_keys_unnamed(mc_db_conn *conn, const json_t *keys, json_t **unnamed)
{
    char *list = json_dumps(keys, JSON_COMPACT);
    if (list == NULL)
        return MC_ERR_INTERNAL;
    const char *params[1] = {list};
    PGresult *res = mc_db_exec(conn, &keys_unnamed, params);
    free(list);
    if (res == NULL)
        return mc_db_failure(conn);
    *unnamed = json_array();
    for (int r = 0; r < PQntuples(res); r++)
        json_array_append_new(*unnamed, json_string(mc_db_text(res, r, 0)));
    PQclear(res);
    return MC_OK;
}

mc_error store_orphan_sweep_lock(mc_db_conn *conn, bool take, bool *got)
{
    PGresult *res = mc_db_exec(conn, take ? &orphan_lock : &orphan_unlock, NULL);
    if (res == NULL)
        return mc_db_failure(conn);
    if (got != NULL)
        *got = mc_db_bool(res, 0, 0);
    PQclear(res);
    return MC_OK;
}
