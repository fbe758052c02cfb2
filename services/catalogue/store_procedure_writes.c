/*
 * Store: writing procedures: creating one, putting and discarding its draft,
 * publishing it (which rebuilds the agency filter rows and the search row).
 * Each function runs inside the caller's transaction; draft writes lock the
 * procedure row (FOR UPDATE) so the "one draft per procedure" and revision
 * checks hold under concurrency.
 */
#include <stdlib.h>
#include <string.h>

#include "codes.h"
#include "motcua/json_spec.h"
#include "store.h"

/* Unknown sector (a row with NULL) and the 0-based indexes of unknown agency
   codes in the JSON array $2. Values that are not well-formed codes are left
   to the field table (they cannot exist anyway), so no member is reported
   twice. */
/* clang-format off */
static const mc_db_statement procedure_missing_refs = {
    "catalogue_procedure_missing_refs",
    "SELECT NULL::bigint"
    " WHERE $1::text ~ '" CATALOGUE_SECTOR_CODE_RE "'"
    "   AND NOT EXISTS (SELECT 1 FROM sectors WHERE code = $1::text)"
    " UNION ALL"
    " SELECT t.ord - 1 FROM json_array_elements($2::json) WITH ORDINALITY AS t(elem, ord)"
    "  WHERE json_typeof(t.elem) = 'string'"
    "    AND (t.elem #>> '{}') ~ '" CATALOGUE_AGENCY_CODE_RE "'"
    "    AND NOT EXISTS (SELECT 1 FROM agencies a WHERE a.code = (t.elem #>> '{}'))"
    " ORDER BY 1 NULLS FIRST",
    2};

/* Lock the procedure row; current version, draft version, draft revision. */
static const mc_db_statement procedure_lock = {
    "catalogue_procedure_lock",
    "SELECT p.current_version, p.draft_version,"
    "       (SELECT v.revision FROM procedure_versions v"
    "         WHERE v.procedure_code = p.code AND v.status = 'draft')"
    "  FROM procedures p WHERE p.code = $1::text FOR UPDATE",
    1};

static const mc_db_statement procedure_insert = {
    "catalogue_procedure_insert",
    "INSERT INTO procedures (code, draft_version) VALUES ($1::text, 1)", 1};

/* Columns extracted from the document ($3) for filters and reports; the
   channels offered by any case, sorted. */
#define DOCUMENT_COLUMNS                                                                         \
    "d ->> 'sector_code', d ->> 'admin_level', (d ->> 'online_level')::smallint,"                \
    " d ->> 'online_scope',"                                                                     \
    " ARRAY(SELECT DISTINCT ch ->> 'channel' FROM json_array_elements(d -> 'cases') AS c(cs),"   \
    "       json_array_elements(c.cs -> 'channels') AS ch ORDER BY 1)"

static const mc_db_statement version_insert_draft = {
    "catalogue_version_insert_draft",
    "INSERT INTO procedure_versions (procedure_code, version, status, document, sector_code,"
    " admin_level, online_level, online_scope, channels, revision, created_by)"
    " SELECT $1::text, $2::integer, 'draft', d, " DOCUMENT_COLUMNS ","
    "        nextval('procedure_revision_seq'), $4::text"
    "   FROM (SELECT $3::json AS d) AS x",
    4};

static const mc_db_statement version_replace_draft = {
    "catalogue_version_replace_draft",
    "UPDATE procedure_versions AS v"
    "   SET (document, sector_code, admin_level, online_level, online_scope, channels) ="
    "       (SELECT d, " DOCUMENT_COLUMNS "),"
    "       revision = nextval('procedure_revision_seq'), updated_at = now()"
    "  FROM (SELECT $3::json AS d) AS x"
    " WHERE v.procedure_code = $1::text AND v.version = $2::integer AND v.status = 'draft'"
    "   AND v.revision = $4::bigint",
    4};

static const mc_db_statement procedure_set_draft = {
    "catalogue_procedure_set_draft",
    "UPDATE procedures SET draft_version = $2::integer, updated_at = now() WHERE code = $1::text",
    2};

static const mc_db_statement version_delete_draft = {
    "catalogue_version_delete_draft",
    "DELETE FROM procedure_versions WHERE procedure_code = $1::text AND status = 'draft'", 1};

/* A procedure never published disappears with its only draft. */
static const mc_db_statement procedure_delete_unpublished = {
    "catalogue_procedure_delete_unpublished",
    "DELETE FROM procedures WHERE code = $1::text AND current_version IS NULL", 1};

static const mc_db_statement version_publish = {
    "catalogue_version_publish",
    "UPDATE procedure_versions SET status = 'published', published_at = now(), updated_at = now()"
    " WHERE procedure_code = $1::text AND version = $2::integer AND status = 'draft'",
    2};

static const mc_db_statement procedure_set_current = {
    "catalogue_procedure_set_current",
    "UPDATE procedures SET current_version = $2::integer, draft_version = NULL, updated_at = now()"
    " WHERE code = $1::text",
    2};

static const mc_db_statement procedure_agencies_clear = {
    "catalogue_procedure_agencies_clear",
    "DELETE FROM procedure_agencies WHERE procedure_code = $1::text", 1};

static const mc_db_statement procedure_agencies_fill = {
    "catalogue_procedure_agencies_fill",
    "INSERT INTO procedure_agencies (procedure_code, agency_code)"
    " SELECT DISTINCT v.procedure_code, a.code"
    "   FROM procedure_versions v, json_array_elements_text(v.document -> 'agency_codes') AS a(code)"
    "  WHERE v.procedure_code = $1::text AND v.version = $2::integer",
    2};

static const mc_db_statement procedure_search_upsert = {
    "catalogue_procedure_search_upsert",
    "INSERT INTO procedure_search (code, version, name, sector_code, admin_level, online_level,"
    " online_scope, channels, published_at, description, search_vector)"
    " SELECT v.procedure_code, v.version, v.document ->> 'name', v.sector_code, v.admin_level,"
    "        v.online_level, v.online_scope, v.channels, v.published_at,"
    "        v.document ->> 'description',"
    "        f_procedure_search_vector(v.procedure_code, v.document ->> 'name', s.name,"
    "                                  v.document ->> 'description')"
    "   FROM procedure_versions v JOIN sectors s ON s.code = v.sector_code"
    "  WHERE v.procedure_code = $1::text AND v.version = $2::integer"
    " ON CONFLICT (code) DO UPDATE SET version = EXCLUDED.version, name = EXCLUDED.name,"
    "   sector_code = EXCLUDED.sector_code, admin_level = EXCLUDED.admin_level,"
    "   online_level = EXCLUDED.online_level, online_scope = EXCLUDED.online_scope,"
    "   channels = EXCLUDED.channels, published_at = EXCLUDED.published_at,"
    "   description = EXCLUDED.description, search_vector = EXCLUDED.search_vector",
    2};
/* clang-format on */

/* What every write knows: the procedure, the normalised document (create and
   put draft), the writer's subtree root and the caller's problems list. */
struct write {
    const char *code;
    const json_t *doc;
    const json_t *agencies; /* doc's agency_codes */
    const char *admin_root;
    json_t *errors;
};

static mc_error exec_simple(mc_db_conn *conn, const mc_db_statement *stmt,
                            const mc_db_params *params, int *affected)
{
    PGresult *res = mc_db_exec_params(conn, stmt, params);
    if (res == NULL)
        return mc_db_failure(conn);
    if (affected != NULL)
        *affected = atoi(PQcmdTuples(res));
    PQclear(res);
    return MC_OK;
}

/* (code, version): the parameters of most statements here. */
static void code_version(mc_db_params *p, const char *code, int version)
{
    mc_db_add_text(p, code);
    mc_db_add_int64(p, version);
}

/* Unknown sector and agencies of a document, appended as 422 errors;
   MC_ERR_VALIDATION when there were any. */
static mc_error missing_refs(mc_db_conn *conn, const json_t *doc, json_t *errors)
{
    const json_t *agencies = json_object_get(doc, "agency_codes");
    json_t *none = json_array();
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, mc_json_str(doc, "sector_code", NULL));
    mc_db_add_json(&p, json_is_array(agencies) ? agencies : none);
    PGresult *res = mc_db_exec_params(conn, &procedure_missing_refs, &p);
    mc_db_params_clear(&p);
    json_decref(none);
    if (res == NULL)
        return mc_db_failure(conn);
    int n = PQntuples(res);
    for (int r = 0; r < n; r++) {
        if (mc_db_is_null(res, r, 0)) {
            mc_errors_add(errors, "/sector_code", "not_found", "no sector has this code");
        } else {
            char ptr[64];
            mc_pointer_join_index(ptr, sizeof ptr, "/agency_codes", (size_t)mc_db_int(res, r, 0));
            mc_errors_add(errors, ptr, "not_found", "no agency has this code");
        }
    }
    PQclear(res);
    return n > 0 ? MC_ERR_VALIDATION : MC_OK;
}

mc_error store_procedure_check_refs(mc_db_conn *conn, const json_t *doc, json_t *errors)
{
    mc_error rc = missing_refs(conn, doc, errors);
    return rc == MC_ERR_VALIDATION ? MC_OK : rc;
}

/* An agency_admin may write only documents whose agencies all lie in their
   subtree. */
static mc_error check_new_agencies(mc_db_conn *conn, const struct write *w)
{
    if (w->admin_root == NULL)
        return MC_OK;
    bool inside = false;
    mc_error rc = store_agencies_in_subtree(conn, w->admin_root, w->agencies, &inside);
    if (rc != MC_OK)
        return rc;
    return inside ? MC_OK : MC_ERR_FORBIDDEN;
}

/* ... and only procedures whose latest version's agencies all do. */
static mc_error check_existing(mc_db_conn *conn, const struct write *w)
{
    if (w->admin_root == NULL)
        return MC_OK;
    bool writable = false;
    mc_error rc = store_procedure_writable(conn, w->code, w->admin_root, &writable);
    if (rc != MC_OK)
        return rc;
    return writable ? MC_OK : MC_ERR_FORBIDDEN;
}

/* Read back a version the write just made. */
static mc_error read_back(mc_db_conn *conn, const char *code, int version,
                          struct store_version *out)
{
    mc_error rc = store_procedure_version(conn, code, version, out);
    return rc == MC_ERR_PROCEDURE_VERSION_NOT_FOUND ? MC_ERR_INTERNAL : rc;
}

/* Insert the draft `version` of w's document. */
static mc_error insert_draft(mc_db_conn *conn, const struct write *w, int version,
                             const char *created_by)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    code_version(&p, w->code, version);
    mc_db_add_json(&p, w->doc);
    mc_db_add_text(&p, created_by);
    mc_error rc = exec_simple(conn, &version_insert_draft, &p, NULL);
    mc_db_params_clear(&p);
    return rc;
}

mc_error store_procedure_create(mc_db_conn *conn, const json_t *doc, const char *admin_root,
                                const char *created_by, json_t *errors, struct store_version *out)
{
    memset(out, 0, sizeof *out);
    struct write w = {mc_json_str(doc, "code", NULL), doc, json_object_get(doc, "agency_codes"),
                      admin_root, errors};
    /* The references may have changed since the handler's check: again,
       under the transaction. */
    mc_error rc;
    if ((rc = missing_refs(conn, doc, errors)) != MC_OK ||
        (rc = check_new_agencies(conn, &w)) != MC_OK)
        return rc;
    mc_db_params key = MC_DB_PARAMS_INIT;
    mc_db_add_text(&key, w.code);
    PGresult *res = mc_db_exec_params(conn, &procedure_insert, &key);
    if (res == NULL)
        return mc_db_unique_violation(conn) ? MC_ERR_PROCEDURE_EXISTS : mc_db_failure(conn);
    PQclear(res);
    if ((rc = insert_draft(conn, &w, 1, created_by)) != MC_OK)
        return rc;
    return read_back(conn, w.code, 1, out);
}

/* Lock the procedure row and read its state. */
struct proc_state {
    bool has_current;
    int current_version;
    bool has_draft;
    int draft_version;
    long long draft_revision;
};

static mc_error lock_procedure(mc_db_conn *conn, const char *code, struct proc_state *st)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, code);
    PGresult *res = mc_db_exec_params(conn, &procedure_lock, &p);
    if (res == NULL)
        return mc_db_failure(conn);
    if (PQntuples(res) == 0) {
        PQclear(res);
        return MC_ERR_PROCEDURE_NOT_FOUND;
    }
    st->has_current = !mc_db_is_null(res, 0, 0);
    st->current_version = (int)mc_db_int(res, 0, 0);
    st->has_draft = !mc_db_is_null(res, 0, 1) && !mc_db_is_null(res, 0, 2);
    st->draft_version = (int)mc_db_int(res, 0, 1);
    st->draft_revision = mc_db_int(res, 0, 2);
    PQclear(res);
    return MC_OK;
}

/* The caller's expectation about the draft: 0 = none may exist, else the
   draft's revision. */
static bool draft_matches(const struct proc_state *st, long long expected)
{
    if (expected == 0)
        return !st->has_draft;
    return st->has_draft && st->draft_revision == expected;
}

mc_error store_procedure_put_draft(mc_db_conn *conn, const json_t *doc, long long expected_revision,
                                   const char *admin_root, const char *created_by, json_t *errors,
                                   struct store_version *out, bool *created)
{
    memset(out, 0, sizeof *out);
    *created = false;
    struct write w = {mc_json_str(doc, "code", NULL), doc, json_object_get(doc, "agency_codes"),
                      admin_root, errors};
    struct proc_state st;
    mc_error rc = lock_procedure(conn, w.code, &st);
    if (rc != MC_OK)
        return rc;
    if (!draft_matches(&st, expected_revision))
        return MC_ERR_PRECONDITION_FAILED;
    if ((rc = missing_refs(conn, doc, errors)) != MC_OK || (rc = check_existing(conn, &w)) != MC_OK ||
        (rc = check_new_agencies(conn, &w)) != MC_OK)
        return rc;
    int version = st.has_draft ? st.draft_version : (st.has_current ? st.current_version : 0) + 1;
    if (st.has_draft) {
        mc_db_params p = MC_DB_PARAMS_INIT;
        code_version(&p, w.code, version);
        mc_db_add_json(&p, doc);
        mc_db_add_int64(&p, expected_revision);
        int affected = 0;
        rc = exec_simple(conn, &version_replace_draft, &p, &affected);
        mc_db_params_clear(&p);
        if (rc != MC_OK)
            return rc;
        if (affected != 1)
            return MC_ERR_PRECONDITION_FAILED;
    } else {
        mc_db_params p = MC_DB_PARAMS_INIT;
        code_version(&p, w.code, version);
        if ((rc = insert_draft(conn, &w, version, created_by)) != MC_OK ||
            (rc = exec_simple(conn, &procedure_set_draft, &p, NULL)) != MC_OK)
            return rc;
        *created = true;
    }
    return read_back(conn, w.code, version, out);
}

/* Lock the procedure of an existing draft: the draft must exist, have the
   expected revision and be the writer's to change. */
static mc_error lock_draft(mc_db_conn *conn, const char *code, long long expected_revision,
                           const char *admin_root, struct proc_state *st)
{
    mc_error rc = lock_procedure(conn, code, st);
    if (rc != MC_OK)
        return rc;
    if (!st->has_draft)
        return MC_ERR_PROCEDURE_NO_DRAFT;
    if (!draft_matches(st, expected_revision))
        return MC_ERR_PRECONDITION_FAILED;
    const struct write w = {code, NULL, NULL, admin_root, NULL};
    return check_existing(conn, &w);
}

mc_error store_procedure_delete_draft(mc_db_conn *conn, const char *code,
                                      long long expected_revision, const char *admin_root)
{
    struct proc_state st;
    mc_error rc = lock_draft(conn, code, expected_revision, admin_root, &st);
    if (rc != MC_OK)
        return rc;
    mc_db_params key = MC_DB_PARAMS_INIT;
    mc_db_add_text(&key, code);
    if ((rc = exec_simple(conn, &version_delete_draft, &key, NULL)) != MC_OK)
        return rc;
    if (!st.has_current)
        return exec_simple(conn, &procedure_delete_unpublished, &key, NULL);
    mc_db_params no_draft = MC_DB_PARAMS_INIT;
    mc_db_add_text(&no_draft, code);
    mc_db_add_null(&no_draft);
    return exec_simple(conn, &procedure_set_draft, &no_draft, NULL);
}

mc_error store_procedure_publish(mc_db_conn *conn, const char *code, long long expected_revision,
                                 const char *admin_root, struct store_version *out)
{
    memset(out, 0, sizeof *out);
    struct proc_state st;
    mc_error rc = lock_draft(conn, code, expected_revision, admin_root, &st);
    if (rc != MC_OK)
        return rc;
    mc_db_params p = MC_DB_PARAMS_INIT;
    code_version(&p, code, st.draft_version);
    int affected = 0;
    if ((rc = exec_simple(conn, &version_publish, &p, &affected)) != MC_OK)
        return rc;
    if (affected != 1)
        return MC_ERR_INTERNAL;
    mc_db_params key = MC_DB_PARAMS_INIT;
    mc_db_add_text(&key, code);
    if ((rc = exec_simple(conn, &procedure_set_current, &p, NULL)) != MC_OK ||
        (rc = exec_simple(conn, &procedure_agencies_clear, &key, NULL)) != MC_OK ||
        (rc = exec_simple(conn, &procedure_agencies_fill, &p, NULL)) != MC_OK ||
        (rc = exec_simple(conn, &procedure_search_upsert, &p, NULL)) != MC_OK)
        return rc;
    return read_back(conn, code, st.draft_version, out);
}
