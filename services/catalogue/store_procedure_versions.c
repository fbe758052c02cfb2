/*
 * Store: reading procedure versions (current, one version, the draft, the
 * version list) and whether an agency_admin may write a procedure.
 *
 * Versioning discipline: a version row is created as a draft, may be
 * replaced while it is a draft, and is published once; after that no
 * statement touches it (and a trigger refuses UPDATE/DELETE of a published
 * row). The writes are store_procedure_writes.c.
 */
#include <string.h>

#include "store.h"

/* ---- reading versions ---------------------------------------------------- */

/* The columns of a version read, over procedure_versions `v` and sectors `s`. */
/* clang-format off */
#define VERSION_COLUMNS                                                                          \
    "v.document::text, v.version, v.status, v.revision, f_rfc3339(v.published_at),"              \
    " f_rfc3339(v.created_at), f_rfc3339(v.updated_at), s.code, s.name"

static const mc_db_statement procedure_current = {
    "catalogue_procedure_current",
    "SELECT " VERSION_COLUMNS
    "  FROM procedures p"
    "  JOIN procedure_versions v ON v.procedure_code = p.code AND v.version = p.current_version"
    "  JOIN sectors s ON s.code = v.sector_code"
    " WHERE p.code = $1::text",
    1};

static const mc_db_statement procedure_version_get = {
    "catalogue_procedure_version_get",
    "SELECT " VERSION_COLUMNS
    "  FROM procedure_versions v JOIN sectors s ON s.code = v.sector_code"
    " WHERE v.procedure_code = $1::text AND v.version = $2::integer",
    2};

/* One row when the procedure exists; the version columns are NULL when it has
   no draft. */
static const mc_db_statement procedure_draft_get = {
    "catalogue_procedure_draft_get",
    "SELECT " VERSION_COLUMNS
    "  FROM procedures p"
    "  LEFT JOIN procedure_versions v ON v.procedure_code = p.code AND v.status = 'draft'"
    "  LEFT JOIN sectors s ON s.code = v.sector_code"
    " WHERE p.code = $1::text",
    1};

static const mc_db_statement procedure_version_list = {
    "catalogue_procedure_version_list",
    "SELECT json_build_object('version', version, 'status', status,"
    "       'published_at', f_rfc3339(published_at))::text, version"
    "  FROM procedure_versions"
    " WHERE procedure_code = $1::text AND ($2::boolean OR status = 'published')"
    "   AND version > $3::integer"
    " ORDER BY version LIMIT $4::integer",
    4};

static const mc_db_statement procedure_published = {
    "catalogue_procedure_published",
    "SELECT current_version IS NOT NULL FROM procedures WHERE code = $1::text", 1};

/* The agency codes (JSON array text) of the latest version: the draft if
   there is one, else the current version. */
static const mc_db_statement procedure_latest_agencies = {
    "catalogue_procedure_latest_agencies",
    "SELECT (v.document -> 'agency_codes')::text"
    "  FROM procedures p JOIN procedure_versions v ON v.procedure_code = p.code"
    "   AND v.version = coalesce(p.draft_version, p.current_version)"
    " WHERE p.code = $1::text",
    1};
/* clang-format on */

void store_version_clear(struct store_version *v)
{
    json_decref(v->body);
    memset(v, 0, sizeof *v);
}

/* Build the read shape from a row of VERSION_COLUMNS starting at col 0. */
static mc_error version_from_row(const PGresult *res, int row, struct store_version *out)
{
    store_version_clear(out);
    json_t *body = mc_db_json(res, row, 0);
    if (!json_is_object(body)) {
        json_decref(body);
        return MC_ERR_INTERNAL;
    }
    const char *status = mc_db_text(res, row, 2);
    out->version = (int)mc_db_int(res, row, 1);
    out->revision = mc_db_int(res, row, 3);
    out->published = strcmp(status, "published") == 0;
    json_object_set_new(body, "version", json_integer(out->version));
    json_object_set_new(body, "status", json_string(status));
    json_object_set_new(body, "published_at",
                        mc_db_is_null(res, row, 4) ? json_null()
                                                   : json_string(mc_db_text(res, row, 4)));
    json_object_set_new(body, "created_at", json_string(mc_db_text(res, row, 5)));
    json_object_set_new(body, "updated_at", json_string(mc_db_text(res, row, 6)));
    json_object_set_new(body, "revision", json_integer(out->revision));
    json_object_set_new(
        body, "sector",
        json_pack("{ss ss}", "code", mc_db_text(res, row, 7), "name", mc_db_text(res, row, 8)));
    out->body = body;
    return MC_OK;
}

/* Run a version read on conn; `missing` when no row. */
static mc_error read_version(mc_db_conn *conn, const mc_db_statement *stmt,
                             const mc_db_params *params, mc_error missing,
                             struct store_version *out)
{
    memset(out, 0, sizeof *out);
    PGresult *res = mc_db_exec_params(conn, stmt, params);
    if (res == NULL)
        return mc_db_failure(conn);
    mc_error rc = PQntuples(res) == 0 ? missing : version_from_row(res, 0, out);
    PQclear(res);
    return rc;
}

mc_error store_procedure_current(mc_db_conn *conn, const char *code, struct store_version *out)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, code);
    return read_version(conn, &procedure_current, &p, MC_ERR_PROCEDURE_NOT_FOUND, out);
}

mc_error store_procedure_version(mc_db_conn *conn, const char *code, int version,
                                 struct store_version *out)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, code);
    mc_db_add_int64(&p, version);
    return read_version(conn, &procedure_version_get, &p, MC_ERR_PROCEDURE_VERSION_NOT_FOUND, out);
}

mc_error store_procedure_draft(mc_db_conn *conn, const char *code, struct store_version *out)
{
    memset(out, 0, sizeof *out);
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, code);
    PGresult *res = mc_db_exec_params(conn, &procedure_draft_get, &p);
    if (res == NULL)
        return mc_db_failure(conn);
    mc_error rc = PQntuples(res) == 0          ? MC_ERR_PROCEDURE_NOT_FOUND
                  : mc_db_is_null(res, 0, 0) ? MC_ERR_PROCEDURE_NO_DRAFT
                                             : version_from_row(res, 0, out);
    PQclear(res);
    return rc;
}

mc_error store_procedure_versions(mc_db_conn *conn, const char *code, bool with_draft,
                                  int after_version, unsigned limit, json_t **items,
                                  json_t **next_keys, bool *exists)
{
    *items = NULL;
    *next_keys = NULL;
    *exists = false;
    mc_db_params key = MC_DB_PARAMS_INIT;
    mc_db_add_text(&key, code);
    PGresult *res = mc_db_exec_params(conn, &procedure_published, &key);
    if (res == NULL)
        return mc_db_failure(conn);
    *exists = PQntuples(res) > 0 && (with_draft || mc_db_bool(res, 0, 0));
    PQclear(res);
    if (!*exists)
        return MC_OK;
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, code);
    mc_db_add_bool(&p, with_draft);
    mc_db_add_int64(&p, after_version);
    mc_db_add_int64(&p, (long long)limit + 1);
    return mc_db_fetch_page(conn, &procedure_version_list, &p, limit, "i", items, next_keys);
}

mc_error store_procedure_writable(mc_db_conn *conn, const char *code, const char *admin_root,
                                  bool *writable)
{
    *writable = false;
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, code);
    PGresult *res = mc_db_exec_params(conn, &procedure_latest_agencies, &p);
    if (res == NULL)
        return mc_db_failure(conn);
    json_t *codes = PQntuples(res) > 0 ? mc_db_json(res, 0, 0) : NULL;
    mc_error rc = codes == NULL ? MC_ERR_PROCEDURE_NOT_FOUND
                      : store_agencies_in_subtree(conn, admin_root, codes, writable);
    json_decref(codes);
    PQclear(res);
    return rc;
}
