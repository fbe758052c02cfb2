/*
 * POST /api/v1/clients: a system_admin registers a machine client (another
 * agency's system, or one of our services) for the client-credentials grant.
 * The secret is generated here, answered once, and stored only as an
 * argon2id hash.
 */
#include <stdio.h>
#include <stdlib.h>

#include "identity.h"
#include "identity_rules.h"
#include "store.h"

static const char *check_scope(const json_t *value, const char **code)
{
    const char *s = json_string_value(value);
    if (s != NULL && identity_is_scope(s, json_string_length(value)))
        return NULL;
    *code = "pattern";
    return "must be 1-64 characters of letters, digits, '.', '_', ':' or '-'";
}

static const struct mc_field scope_item = {.type = MC_F_STRING, .check = check_scope};

static const struct mc_field client_fields[] = {
    {.name = "name", .type = MC_F_STRING, .required = true, .min_len = 1, .max_len = 200},
    {.name = "scopes", .type = MC_F_ARRAY, .required = true, .min_len = 1, .max_len = 8,
     .item = &scope_item},
    {.name = "agency", .type = MC_F_STRING, .nullable = true, .min_len = 1, .max_len = 32,
     .pattern = "^[A-Za-z0-9.]+$"},
    {0}};

void handle_client_create(mc_request *req)
{
    json_t *errors = mc_errors_new();
    mc_json_check(req->body, client_fields, "", errors);
    json_t *scopes = json_object_get(req->body, "scopes");
    for (size_t i = 0; json_is_array(scopes) && i < json_array_size(scopes); i++)
        for (size_t j = 0; j < i; j++)
            if (json_equal(json_array_get(scopes, i), json_array_get(scopes, j))) {
                char ptr[32];
                snprintf(ptr, sizeof ptr, "/scopes/%zu", i);
                mc_errors_add(errors, ptr, "duplicate", "is listed twice");
            }
    if (!identity_no_errors(req, errors))
        return;

    char client_id[40], secret[64], hash[crypto_pwhash_STRBYTES];
    char raw_id[24];
    identity_random_token(12, raw_id);
    snprintf(client_id, sizeof client_id, "cl_%s", raw_id);
    identity_random_token(32, secret);
    if (!identity_password_hash(secret, hash)) {
        mc_reply_error(req, MC_ERR_INTERNAL, NULL);
        return;
    }
    char *scopes_json = json_dumps(scopes, JSON_COMPACT);
    char address[64], actor[160];
    identity_client_address(req, address, sizeof address);
    identity_actor(req, actor, sizeof actor);
    struct store_who who = {actor, address};
    json_t *out = NULL;
    mc_error rc = scopes_json != NULL
                      ? store_client_create(mc_request_db(req), client_id,
                                            mc_json_str(req->body, "name", ""), scopes_json,
                                            mc_json_str(req->body, "agency", NULL), hash, &who,
                                            &out)
                      : MC_ERR_INTERNAL;
    free(scopes_json);
    if (rc != MC_OK) {
        sodium_memzero(secret, sizeof secret);
        mc_reply_error(req, rc, NULL);
        return;
    }
    json_object_set_new(out, "client_secret", json_string(secret));
    sodium_memzero(secret, sizeof secret);
    mc_set_header(req, "Cache-Control", "no-store");
    mc_reply_created(req, out, NULL, NULL); /* no resource to GET: the secret is shown once */
}
