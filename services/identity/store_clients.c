/*
 * Store: machine clients of the client-credentials grant.
 *
 * Clients are keyed by client_id (text, not a UUID), so their audit events
 * have no subject: the client id is in the event's detail.
 */
#include <string.h>

#include "store.h"

/* clang-format off */
/* The read shape: never the secret hash; every member present, null when empty. */
#define CLIENT_JSON                                                                              \
    "json_build_object('client_id', client_id, 'name', name,"                                   \
    " 'scopes', scopes, 'agency', agency, 'disabled', disabled,"                                \
    " 'created_at', f_rfc3339(created_at), 'updated_at', f_rfc3339(updated_at),"                \
    " 'secret_rotated_at', f_rfc3339(secret_rotated_at), 'revision', revision)::text"

static const mc_db_statement client_lookup = {
    "identity_client_lookup",
    "SELECT secret_hash, array_to_string(scopes, ' '), coalesce(agency, '') FROM clients"
    " WHERE client_id = $1::text AND NOT disabled",
    1};

static const mc_db_statement client_insert = {
    "identity_client_insert",
    "INSERT INTO clients (client_id, name, scopes, agency, secret_hash)"
    " SELECT $1::text, $2::text, array_agg(s ORDER BY o), $4::text, $5::text"
    " FROM json_array_elements_text($3::json) WITH ORDINALITY AS x(s, o)"
    " RETURNING " CLIENT_JSON ", revision",
    5};

static const mc_db_statement client_get = {
    "identity_client_get",
    "SELECT " CLIENT_JSON ", revision FROM clients WHERE client_id = $1::text",
    1};

static const mc_db_statement client_list = {
    "identity_client_list",
    "SELECT " CLIENT_JSON ", client_id FROM clients"
    " WHERE ($1::text IS NULL OR agency = $1::text) AND client_id > coalesce($2::text, '')"
    " ORDER BY client_id LIMIT $3::integer",
    3};

/* The state an update compares with (and audits the changes of). */
static const mc_db_statement client_lock = {
    "identity_client_lock",
    "SELECT json_build_object('name', name, 'scopes', scopes, 'disabled', disabled)::text,"
    " revision FROM clients WHERE client_id = $1::text FOR UPDATE",
    1};

/* NULL parameters leave their column as it is; a secret hash also stamps
   secret_rotated_at. */
static const mc_db_statement client_update = {
    "identity_client_update",
    "UPDATE clients SET name = coalesce($2::text, name),"
    " scopes = CASE WHEN $3::json IS NULL THEN scopes ELSE (SELECT array_agg(s ORDER BY o)"
    " FROM json_array_elements_text($3::json) WITH ORDINALITY AS x(s, o)) END,"
    " disabled = coalesce($4::boolean, disabled),"
    " secret_hash = coalesce($5::text, secret_hash),"
    " secret_rotated_at = CASE WHEN $5::text IS NULL THEN secret_rotated_at ELSE now() END,"
    " revision = revision + 1, updated_at = now()"
    " WHERE client_id = $1::text RETURNING " CLIENT_JSON ", revision",
    5};
/* clang-format on */

mc_error store_client_lookup(mc_db_conn *conn, const char *client_id,
                             struct store_client_login *out)
{
    memset(out, 0, sizeof *out);
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, client_id);
    PGresult *res = mc_db_exec_params(conn, &client_lookup, &p);
    if (res == NULL)
        return mc_db_failure(conn);
    if (PQntuples(res) == 1) {
        out->found = true;
        mc_db_copy(out->hash, sizeof out->hash, res, 0, 0);
        mc_db_copy(out->scopes, sizeof out->scopes, res, 0, 1);
        mc_db_copy(out->agency, sizeof out->agency, res, 0, 2);
    }
    PQclear(res);
    return MC_OK;
}

/* Audit `action` on client_id with detail {"client_id": ..., extra...};
   extra (may be NULL) is borrowed. Clients are keyed by client_id, not a
   UUID, so the event has no subject. */
static mc_error audit_client(mc_db_conn *conn, const struct store_who *who, const char *action,
                             const char *client_id, const json_t *extra)
{
    json_t *detail = json_pack("{s:s}", "client_id", client_id);
    if (detail != NULL && extra != NULL)
        json_object_update(detail, (json_t *)extra);
    mc_error rc = detail != NULL ? store_audit_json(conn, who, action, NULL, detail)
                                 : MC_ERR_INTERNAL;
    json_decref(detail);
    return rc;
}

mc_error store_client_create(mc_db_conn *conn, const char *client_id, const char *name,
                             const char *scopes_json, const char *agency, const char *secret_hash,
                             const struct store_who *who, json_t **out, long long *revision)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, client_id);
    mc_db_add_text(&p, name);
    mc_db_add_text(&p, scopes_json);
    mc_db_add_text(&p, agency);
    mc_db_add_text(&p, secret_hash);
    mc_error rc = mc_db_fetch_json(conn, &client_insert, &p, MC_ERR_INTERNAL, out, revision);
    if (rc == MC_OK)
        rc = audit_client(conn, who, "client_created", client_id, NULL);
    if (rc != MC_OK) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

mc_error store_client_get(mc_db_conn *conn, const char *client_id, json_t **out,
                          long long *revision)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, client_id);
    return mc_db_fetch_json(conn, &client_get, &p, MC_ERR_IDENTITY_CLIENT_NOT_FOUND, out,
                            revision);
}

mc_error store_client_list(mc_db_conn *conn, const struct store_list_query *q, unsigned limit,
                           json_t **items, json_t **next_keys)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, q->agency);
    mc_db_add_text(&p, q->after);
    mc_db_add_int64(&p, (long long)limit + 1);
    return mc_db_fetch_page(conn, &client_list, &p, limit, "s", items, next_keys);
}

/* What an update's audit needs besides the rows. */
struct client_change_audit {
    const char *client_id;
    const struct store_client_change *change;
    const struct store_who *who;
};

/* The audit events of one change: what differs between the locked row
   (before) and the updated one (after). */
static mc_error audit_client_change(mc_db_conn *conn, const json_t *before, const json_t *after,
                                    const void *arg)
{
    const struct client_change_audit *a = arg;
    mc_error rc = MC_OK;
    json_t *old_scopes = json_object_get(before, "scopes");
    json_t *new_scopes = json_object_get(after, "scopes");
    if (!json_equal(old_scopes, new_scopes)) {
        json_t *extra = json_pack("{s:O, s:O}", "from", old_scopes, "to", new_scopes);
        rc = extra != NULL ? audit_client(conn, a->who, "client_scopes_changed", a->client_id, extra)
                           : MC_ERR_INTERNAL;
        json_decref(extra);
    }
    /* The name is an operator's label, not personal data: from/to are kept. */
    const char *old_name = json_string_value(json_object_get(before, "name"));
    const char *new_name = json_string_value(json_object_get(after, "name"));
    if (rc == MC_OK && old_name != NULL && new_name != NULL && strcmp(old_name, new_name) != 0) {
        json_t *extra = json_pack("{s:s, s:s}", "from", old_name, "to", new_name);
        rc = extra != NULL ? audit_client(conn, a->who, "client_renamed", a->client_id, extra)
                           : MC_ERR_INTERNAL;
        json_decref(extra);
    }
    int disabled = a->change->disabled;
    bool was_disabled = json_is_true(json_object_get(before, "disabled"));
    if (rc == MC_OK && disabled >= 0 && (disabled != 0) != was_disabled)
        rc = audit_client(conn, a->who, disabled ? "client_disabled" : "client_enabled",
                          a->client_id, NULL);
    if (rc == MC_OK && a->change->secret_hash != NULL)
        rc = audit_client(conn, a->who, "client_secret_rotated", a->client_id, NULL);
    return rc;
}

mc_error store_client_update(mc_db_conn *conn, const char *client_id, long long if_match,
                             const struct store_client_change *change, const struct store_who *who,
                             json_t **out, long long *revision)
{
    mc_db_params key = MC_DB_PARAMS_INIT;
    mc_db_add_text(&key, client_id);
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, client_id);
    mc_db_add_text(&p, change->name);
    mc_db_add_text(&p, change->scopes_json);
    mc_db_add_bool_or_null(&p, change->disabled);
    mc_db_add_text(&p, change->secret_hash);
    const struct client_change_audit audit = {client_id, change, who};
    const struct store_locked_update u = {
        .lock = &client_lock,
        .key = &key,
        .not_found = MC_ERR_IDENTITY_CLIENT_NOT_FOUND,
        .if_match = if_match,
        .update = &client_update,
        .update_params = &p,
        .audit = audit_client_change,
        .audit_arg = &audit,
    };
    return store_locked_update(conn, &u, out, revision);
}
