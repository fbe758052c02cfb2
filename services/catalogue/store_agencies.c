/*
 * Store: agencies (cơ quan) and their tree. Every SQL text of this resource
 * lives here.
 *
 * Tree changes (a new parent) are serialised by a transaction-level advisory
 * lock, so two concurrent moves cannot each pass the cycle check and together
 * make a cycle. Subtree questions walk up from each code to the root (the
 * tree is shallow: central, province, commune), which costs the same whatever
 * the size of the subtree.
 */
#include <string.h>

#include "codes.h"
#include "motcua/json_spec.h"
#include "store.h"

/* clang-format off */
#define AGENCY_JSON                                                                              \
    "json_build_object('code', code, 'name', name, 'admin_level', admin_level,"                  \
    " 'parent_code', parent_code, 'address', address, 'phone', phone, 'email', email,"           \
    " 'office_hours', office_hours, 'same_day_cutoff', same_day_cutoff,"                         \
    " 'revision', revision)::text"

/* `q` matches anywhere in the normalised name; LIKE's metacharacters in the
   user's text are escaped in SQL, so "%" or "_" only match themselves. The
   trigram index serves the LIKE. */
static const mc_db_statement agency_list = {
    "catalogue_agency_list",
    "SELECT " AGENCY_JSON ", code FROM agencies"
    " WHERE code > coalesce($1::text, '')"
    "   AND ($2::text IS NULL OR parent_code = $2::text)"
    "   AND ($3::text IS NULL OR admin_level = $3::text)"
    "   AND ($4::text IS NULL OR name_search LIKE '%' || replace(replace(replace("
    "        f_search_norm($4::text), '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%')"
    " ORDER BY code LIMIT $5::integer",
    5};

static const mc_db_statement agency_get = {
    "catalogue_agency_get", "SELECT " AGENCY_JSON ", revision FROM agencies WHERE code = $1::text",
    1};

static const mc_db_statement agency_insert = {
    "catalogue_agency_insert",
    "INSERT INTO agencies (code, name, admin_level, parent_code, address, phone, email,"
    " office_hours, same_day_cutoff)"
    " VALUES ($1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text, $8::json,"
    " $9::text)"
    " RETURNING " AGENCY_JSON ", revision",
    9};

static const mc_db_statement agency_update = {
    "catalogue_agency_update",
    "UPDATE agencies SET name = $2::text, admin_level = $3::text, parent_code = $4::text,"
    " address = $5::text, phone = $6::text, email = $7::text, office_hours = $8::json,"
    " same_day_cutoff = $9::text, revision = revision + 1, updated_at = now()"
    " WHERE code = $1::text AND revision = $10::bigint"
    " RETURNING " AGENCY_JSON ", revision",
    10};

static const mc_db_statement agency_exists = {
    "catalogue_agency_exists", "SELECT 1 FROM agencies WHERE code = $1::text", 1};

static const mc_db_statement agency_lock_for_update = {
    "catalogue_agency_lock_for_update",
    "SELECT parent_code, revision FROM agencies WHERE code = $1::text FOR UPDATE", 1};

static const mc_db_statement agency_tree_lock = {
    "catalogue_agency_tree_lock",
    "SELECT pg_advisory_xact_lock(hashtextextended('catalogue.agency_tree', 0))", 0};

/* Would making $2 the parent of $1 close a cycle? True when $1 is $2 or one
   of $2's ancestors. The depth bound keeps a corrupt tree from looping. */
static const mc_db_statement agency_would_cycle = {
    "catalogue_agency_would_cycle",
    "WITH RECURSIVE anc(code, depth) AS ("
    "   SELECT $2::text COLLATE \"C\", 0"
    "   UNION ALL"
    "   SELECT a.parent_code, anc.depth + 1 FROM agencies a JOIN anc ON a.code = anc.code"
    "    WHERE a.parent_code IS NOT NULL AND anc.depth < 1000)"
    " SELECT EXISTS (SELECT 1 FROM anc WHERE code = $1::text)",
    2};

/* How many distinct codes of the JSON array $2 lie outside $1's subtree. */
static const mc_db_statement agencies_outside_subtree = {
    "catalogue_agencies_outside_subtree",
    "WITH RECURSIVE codes(code) AS ("
    "   SELECT DISTINCT value COLLATE \"C\" FROM json_array_elements_text($2::json)),"
    " anc(start, code, depth) AS ("
    "   SELECT code, code, 0 FROM codes"
    "   UNION ALL"
    "   SELECT anc.start, a.parent_code, anc.depth + 1 FROM anc JOIN agencies a ON a.code = anc.code"
    "    WHERE a.parent_code IS NOT NULL AND anc.depth < 64)"
    " SELECT count(*) FROM codes c"
    "  WHERE NOT EXISTS (SELECT 1 FROM anc WHERE anc.start = c.code AND anc.code = $1::text)",
    2};
/* clang-format on */

mc_error store_agency_list(mc_db_conn *conn, const struct store_agency_filter *filter,
                           unsigned limit, json_t **items, json_t **next_keys)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, filter->after_code);
    mc_db_add_text(&p, filter->parent);
    mc_db_add_text(&p, filter->admin_level);
    mc_db_add_text(&p, filter->q);
    mc_db_add_int64(&p, (long long)limit + 1);
    return mc_db_fetch_page(conn, &agency_list, &p, limit, "s", items, next_keys);
}

mc_error store_agency_get(mc_db_conn *conn, const char *code, json_t **agency, long long *revision)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, code);
    return mc_db_fetch_json(conn, &agency_get, &p, MC_ERR_AGENCY_NOT_FOUND, agency, revision);
}

/* Is there an agency `code`? */
static mc_error exists(mc_db_conn *conn, const char *code, bool *found)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, code);
    PGresult *res = mc_db_exec_params(conn, &agency_exists, &p);
    if (res == NULL)
        return mc_db_failure(conn);
    *found = PQntuples(res) > 0;
    PQclear(res);
    return MC_OK;
}

mc_error store_agencies_in_subtree(mc_db_conn *conn, const char *root, const json_t *codes,
                                   bool *inside)
{
    *inside = false;
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, root);
    mc_db_add_json(&p, codes);
    PGresult *res = mc_db_exec_params(conn, &agencies_outside_subtree, &p);
    mc_db_params_clear(&p);
    if (res == NULL)
        return mc_db_failure(conn);
    *inside = mc_db_int(res, 0, 0) == 0;
    PQclear(res);
    return MC_OK;
}

/* MC_OK when the agency `code` lies in root's subtree, else (also for no
   code) MC_ERR_FORBIDDEN. */
static mc_error must_be_in_subtree(mc_db_conn *conn, const char *root, const char *code)
{
    if (code == NULL)
        return MC_ERR_FORBIDDEN;
    json_t *codes = json_pack("[s]", code);
    bool inside = false;
    mc_error rc = codes != NULL ? store_agencies_in_subtree(conn, root, codes, &inside)
                                : MC_ERR_INTERNAL;
    json_decref(codes);
    return rc == MC_OK && !inside ? MC_ERR_FORBIDDEN : rc;
}

mc_error store_agency_check_exists(mc_db_conn *conn, const char *code, const char *pointer,
                                   json_t *errors)
{
    if (!catalogue_is_agency_code(code))
        return MC_OK;
    bool found = false;
    mc_error rc = exists(conn, code, &found);
    if (rc == MC_OK && !found)
        mc_errors_add(errors, pointer, "not_found", "no agency has this code");
    return rc;
}

/* The nine column parameters of an agency (normalised body), in insert
   order. The caller clears p (office_hours is JSON). */
static void agency_params(const json_t *a, mc_db_params *p)
{
    mc_db_add_text(p, mc_json_str(a, "code", NULL));
    mc_db_add_text(p, mc_json_str(a, "name", NULL));
    mc_db_add_text(p, mc_json_str(a, "admin_level", NULL));
    mc_db_add_text(p, mc_json_str(a, "parent_code", NULL));
    mc_db_add_text(p, mc_json_str(a, "address", NULL));
    mc_db_add_text(p, mc_json_str(a, "phone", NULL));
    mc_db_add_text(p, mc_json_str(a, "email", NULL));
    mc_db_add_json(p, json_object_get(a, "office_hours"));
    mc_db_add_text(p, mc_json_str(a, "same_day_cutoff", NULL));
}

/* An unknown parent is a problem at "/parent_code" (MC_ERR_VALIDATION). */
static mc_error parent_must_exist(mc_db_conn *conn, const char *parent, json_t *errors)
{
    bool found = false;
    mc_error rc = exists(conn, parent, &found);
    if (rc == MC_OK && !found) {
        mc_errors_add(errors, "/parent_code", "not_found", "no agency has this code");
        rc = MC_ERR_VALIDATION;
    }
    return rc;
}

mc_error store_agency_create(mc_db_conn *conn, const json_t *agency, const char *admin_root,
                             json_t *errors, json_t **out, long long *revision)
{
    *out = NULL;
    const char *parent = mc_json_str(agency, "parent_code", NULL);
    mc_error rc;
    if (parent != NULL && (rc = parent_must_exist(conn, parent, errors)) != MC_OK)
        return rc;
    /* An agency_admin creates children inside their own subtree only. */
    if (admin_root != NULL && (rc = must_be_in_subtree(conn, admin_root, parent)) != MC_OK)
        return rc;
    mc_db_params p = MC_DB_PARAMS_INIT;
    agency_params(agency, &p);
    rc = mc_db_fetch_json(conn, &agency_insert, &p, MC_ERR_INTERNAL, out, revision);
    mc_db_params_clear(&p);
    return rc != MC_OK && mc_db_unique_violation(conn) ? MC_ERR_AGENCY_EXISTS : rc;
}

mc_error store_agency_update(mc_db_conn *conn, const json_t *agency, long long expected_revision,
                             const char *admin_root, json_t *errors, json_t **out,
                             long long *revision)
{
    *out = NULL;
    const char *code = mc_json_str(agency, "code", NULL);
    const char *parent = mc_json_str(agency, "parent_code", NULL);
    PGresult *res = mc_db_exec_params(conn, &agency_tree_lock, NULL);
    if (res == NULL)
        return mc_db_failure(conn);
    PQclear(res);

    mc_db_params key = MC_DB_PARAMS_INIT;
    mc_db_add_text(&key, code);
    res = mc_db_exec_params(conn, &agency_lock_for_update, &key);
    if (res == NULL)
        return mc_db_failure(conn);
    if (PQntuples(res) == 0) {
        PQclear(res);
        return MC_ERR_AGENCY_NOT_FOUND;
    }
    bool same_revision = mc_db_int(res, 0, 1) == expected_revision;
    bool parent_changed = mc_db_is_null(res, 0, 0)
                              ? parent != NULL
                              : parent == NULL || strcmp(parent, mc_db_text(res, 0, 0)) != 0;
    PQclear(res);
    if (!same_revision)
        return MC_ERR_PRECONDITION_FAILED;

    mc_error rc;
    if (admin_root != NULL && (rc = must_be_in_subtree(conn, admin_root, code)) != MC_OK)
        return rc;
    if (parent != NULL && parent_changed) {
        if ((rc = parent_must_exist(conn, parent, errors)) != MC_OK)
            return rc;
        mc_db_params cycle_params = MC_DB_PARAMS_INIT;
        mc_db_add_text(&cycle_params, code);
        mc_db_add_text(&cycle_params, parent);
        res = mc_db_exec_params(conn, &agency_would_cycle, &cycle_params);
        if (res == NULL)
            return mc_db_failure(conn);
        bool cycle = mc_db_bool(res, 0, 0);
        PQclear(res);
        if (cycle) {
            mc_errors_add(errors, "/parent_code", "cycle",
                          "is this agency itself or one of its descendants");
            return MC_ERR_AGENCY_PARENT_CYCLE;
        }
    }
    /* An agency_admin may move an agency only to a parent inside their own
       subtree (so never their root agency, nor anything out of reach). */
    if (admin_root != NULL && parent_changed &&
        (rc = must_be_in_subtree(conn, admin_root, parent)) != MC_OK)
        return rc;

    mc_db_params p = MC_DB_PARAMS_INIT;
    agency_params(agency, &p);
    mc_db_add_int64(&p, expected_revision);
    rc = mc_db_fetch_json(conn, &agency_update, &p, MC_ERR_PRECONDITION_FAILED, out, revision);
    mc_db_params_clear(&p);
    return rc;
}
