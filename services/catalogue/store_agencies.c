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
#include <stdio.h>
#include <stdlib.h>
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

mc_error store_agency_list(mc_db_pool *pool, const struct store_agency_filter *filter,
                           const char *after_code, unsigned limit, json_t **items,
                           json_t **next_keys)
{
    *items = NULL;
    *next_keys = NULL;
    char lim[16];
    snprintf(lim, sizeof lim, "%u", limit + 1);
    const char *params[] = {after_code, filter->parent, filter->admin_level, filter->q, lim};
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(pool, &conn);
    if (rc != MC_OK)
        return rc;
    PGresult *res = mc_db_exec(conn, &agency_list, params);
    if (res == NULL) {
        rc = mc_db_failure(conn);
    } else {
        *items = store_json_rows(res, 0, limit);
        if (*items == NULL)
            rc = MC_ERR_INTERNAL;
        else if ((unsigned)PQntuples(res) > limit)
            *next_keys = json_pack("[s]", mc_db_text(res, (int)limit - 1, 1));
    }
    PQclear(res);
    mc_db_release(pool, conn);
    return rc;
}

static mc_error one_agency(const PGresult *res, json_t **out, long long *revision)
{
    *out = mc_db_json(res, 0, 0);
    *revision = mc_db_int(res, 0, 1);
    return *out != NULL ? MC_OK : MC_ERR_INTERNAL;
}

mc_error store_agency_get(mc_db_pool *pool, const char *code, json_t **agency, long long *revision)
{
    *agency = NULL;
    const char *params[] = {code};
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(pool, &conn);
    if (rc != MC_OK)
        return rc;
    PGresult *res = mc_db_exec(conn, &agency_get, params);
    if (res == NULL)
        rc = mc_db_failure(conn);
    else if (PQntuples(res) == 0)
        rc = MC_ERR_AGENCY_NOT_FOUND;
    else
        rc = one_agency(res, agency, revision);
    PQclear(res);
    mc_db_release(pool, conn);
    return rc;
}

/* Is there an agency `code`? */
static mc_error exists(mc_db_conn *conn, const char *code, bool *found)
{
    const char *params[] = {code};
    PGresult *res = mc_db_exec(conn, &agency_exists, params);
    if (res == NULL)
        return mc_db_failure(conn);
    *found = PQntuples(res) > 0;
    PQclear(res);
    return MC_OK;
}

mc_error store_agencies_in_subtree_conn(mc_db_conn *conn, const char *root, const char *codes_json,
                                        bool *inside)
{
    const char *params[] = {root, codes_json};
    PGresult *res = mc_db_exec(conn, &agencies_outside_subtree, params);
    if (res == NULL)
        return mc_db_failure(conn);
    *inside = mc_db_int(res, 0, 0) == 0;
    PQclear(res);
    return MC_OK;
}

/* One code as a JSON array text, for in_subtree. */
static mc_error one_in_subtree(mc_db_conn *conn, const char *root, const char *code, bool *inside)
{
    json_t *arr = json_pack("[s]", code);
    char *text = arr != NULL ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    if (text == NULL)
        return MC_ERR_INTERNAL;
    mc_error rc = store_agencies_in_subtree_conn(conn, root, text, inside);
    free(text);
    return rc;
}

mc_error store_agency_check_exists(mc_db_pool *pool, const char *code, const char *pointer,
                                   json_t *errors)
{
    if (!catalogue_is_agency_code(code))
        return MC_OK;
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(pool, &conn);
    if (rc != MC_OK)
        return rc;
    bool found = false;
    rc = exists(conn, code, &found);
    mc_db_release(pool, conn);
    if (rc == MC_OK && !found)
        mc_errors_add(errors, pointer, "not_found", "no agency has this code");
    return rc;
}

mc_error store_agencies_in_subtree(mc_db_pool *pool, const char *root, const json_t *codes,
                                   bool *inside)
{
    *inside = false;
    char *text = json_dumps(codes, JSON_COMPACT | JSON_ENCODE_ANY);
    if (text == NULL)
        return MC_ERR_INTERNAL;
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(pool, &conn);
    if (rc == MC_OK) {
        rc = store_agencies_in_subtree_conn(conn, root, text, inside);
        mc_db_release(pool, conn);
    }
    free(text);
    return rc;
}

/* The nine column parameters of an agency (normalised body), in insert
   order; office_hours is dumped into *hours_text, which the caller frees. */
static bool agency_params(const json_t *a, const char *params[9], char **hours_text)
{
    *hours_text = json_dumps(json_object_get(a, "office_hours"), JSON_COMPACT | JSON_ENCODE_ANY);
    params[0] = mc_json_str(a, "code", NULL);
    params[1] = mc_json_str(a, "name", NULL);
    params[2] = mc_json_str(a, "admin_level", NULL);
    params[3] = mc_json_str(a, "parent_code", NULL);
    params[4] = mc_json_str(a, "address", NULL);
    params[5] = mc_json_str(a, "phone", NULL);
    params[6] = mc_json_str(a, "email", NULL);
    params[7] = *hours_text;
    params[8] = mc_json_str(a, "same_day_cutoff", NULL);
    return *hours_text != NULL;
}

struct agency_write_ctx {
    const json_t *agency;
    const char *admin_root;
    const char *expected; /* update only */
    json_t *errors;
    json_t *out;
    long long revision;
};

static void reset(struct agency_write_ctx *ctx)
{
    json_decref(ctx->out);
    ctx->out = NULL;
    json_array_clear(ctx->errors);
}

static mc_error agency_create_tx(mc_db_conn *conn, void *p)
{
    struct agency_write_ctx *ctx = p;
    reset(ctx);
    const char *parent = mc_json_str(ctx->agency, "parent_code", NULL);
    mc_error rc;
    if (parent != NULL) {
        bool found = false;
        if ((rc = exists(conn, parent, &found)) != MC_OK)
            return rc;
        if (!found) {
            mc_errors_add(ctx->errors, "/parent_code", "not_found", "no agency has this code");
            return MC_ERR_VALIDATION;
        }
    }
    /* An agency_admin creates children inside their own subtree only. */
    if (ctx->admin_root != NULL) {
        bool inside = false;
        if (parent != NULL &&
            (rc = one_in_subtree(conn, ctx->admin_root, parent, &inside)) != MC_OK)
            return rc;
        if (!inside)
            return MC_ERR_FORBIDDEN;
    }
    const char *params[9];
    char *hours;
    if (!agency_params(ctx->agency, params, &hours)) {
        free(hours);
        return MC_ERR_INTERNAL;
    }
    PGresult *res = mc_db_exec(conn, &agency_insert, params);
    free(hours);
    if (res == NULL)
        return mc_db_unique_violation(conn) ? MC_ERR_AGENCY_EXISTS : mc_db_failure(conn);
    rc = one_agency(res, &ctx->out, &ctx->revision);
    PQclear(res);
    return rc;
}

static mc_error run_write(mc_db_pool *pool, mc_db_tx_fn fn, struct agency_write_ctx *ctx,
                          json_t **out, long long *revision)
{
    mc_error rc = mc_db_transaction(pool, NULL, fn, ctx);
    if (rc != MC_OK) {
        json_decref(ctx->out);
        ctx->out = NULL;
    }
    *out = ctx->out;
    *revision = ctx->revision;
    return rc;
}

mc_error store_agency_create(mc_db_pool *pool, const json_t *agency, const char *admin_root,
                             json_t *errors, json_t **out, long long *revision)
{
    struct agency_write_ctx ctx = {agency, admin_root, NULL, errors, NULL, 0};
    return run_write(pool, agency_create_tx, &ctx, out, revision);
}

static mc_error agency_update_tx(mc_db_conn *conn, void *p)
{
    struct agency_write_ctx *ctx = p;
    reset(ctx);
    const char *code = mc_json_str(ctx->agency, "code", NULL);
    const char *parent = mc_json_str(ctx->agency, "parent_code", NULL);
    PGresult *res = mc_db_exec(conn, &agency_tree_lock, NULL);
    if (res == NULL)
        return mc_db_failure(conn);
    PQclear(res);

    const char *code_param[] = {code};
    res = mc_db_exec(conn, &agency_lock_for_update, code_param);
    if (res == NULL)
        return mc_db_failure(conn);
    if (PQntuples(res) == 0) {
        PQclear(res);
        return MC_ERR_AGENCY_NOT_FOUND;
    }
    bool same_revision = strcmp(mc_db_text(res, 0, 1), ctx->expected) == 0;
    bool parent_changed = mc_db_is_null(res, 0, 0)
                              ? parent != NULL
                              : parent == NULL || strcmp(parent, mc_db_text(res, 0, 0)) != 0;
    PQclear(res);
    if (!same_revision)
        return MC_ERR_PRECONDITION_FAILED;

    mc_error rc;
    bool inside = true;
    if (ctx->admin_root != NULL) {
        if ((rc = one_in_subtree(conn, ctx->admin_root, code, &inside)) != MC_OK)
            return rc;
        if (!inside)
            return MC_ERR_FORBIDDEN;
    }
    if (parent != NULL && parent_changed) {
        bool found = false;
        if ((rc = exists(conn, parent, &found)) != MC_OK)
            return rc;
        if (!found) {
            mc_errors_add(ctx->errors, "/parent_code", "not_found", "no agency has this code");
            return MC_ERR_VALIDATION;
        }
        const char *cycle_params[] = {code, parent};
        res = mc_db_exec(conn, &agency_would_cycle, cycle_params);
        if (res == NULL)
            return mc_db_failure(conn);
        bool cycle = mc_db_bool(res, 0, 0);
        PQclear(res);
        if (cycle) {
            mc_errors_add(ctx->errors, "/parent_code", "cycle",
                          "is this agency itself or one of its descendants");
            return MC_ERR_AGENCY_PARENT_CYCLE;
        }
    }
    /* An agency_admin may move an agency only to a parent inside their own
       subtree (so never their root agency, nor anything out of reach). */
    if (ctx->admin_root != NULL && parent_changed) {
        inside = false;
        if (parent != NULL &&
            (rc = one_in_subtree(conn, ctx->admin_root, parent, &inside)) != MC_OK)
            return rc;
        if (!inside)
            return MC_ERR_FORBIDDEN;
    }

    const char *params[10];
    char *hours;
    if (!agency_params(ctx->agency, params, &hours)) {
        free(hours);
        return MC_ERR_INTERNAL;
    }
    params[9] = ctx->expected;
    res = mc_db_exec(conn, &agency_update, params);
    free(hours);
    if (res == NULL)
        return mc_db_failure(conn);
    if (PQntuples(res) == 0) {
        PQclear(res);
        return MC_ERR_PRECONDITION_FAILED;
    }
    rc = one_agency(res, &ctx->out, &ctx->revision);
    PQclear(res);
    return rc;
}

mc_error store_agency_update(mc_db_pool *pool, const json_t *agency, long long expected_revision,
                             const char *admin_root, json_t *errors, json_t **out,
                             long long *revision)
{
    char expected[24];
    snprintf(expected, sizeof expected, "%lld", expected_revision);
    struct agency_write_ctx ctx = {agency, admin_root, expected, errors, NULL, 0};
    return run_write(pool, agency_update_tx, &ctx, out, revision);
}
