/* The procedures offered online per agency, from the catalogue, cached (online_procedures.h). */
#include "online_procedures.h"

#include <stdio.h>
#include <string.h>

#include "catalogue_pages.h"

#define KEY_PREFIX "the online procedures of "

static void add_code(void *ctx, const json_t *procedure)
{
    const json_t *code = json_object_get(procedure, "code");
    if (json_is_string(code))
        json_array_append(ctx, (json_t *)code);
}

/* The online procedures of the agency the key names (a new array), or NULL. */
static json_t *read_agency(const char *base, const char *key)
{
    const char *agency = key + strlen(KEY_PREFIX);
    char path[160];
    if (!catalogue_code_url_safe(agency) ||
        (size_t)snprintf(path, sizeof path, "/api/v1/procedures?channel=online&agency=%s&limit=100",
                         agency) >= sizeof path)
        return NULL;
    json_t *codes = json_array();
    if (codes != NULL && catalogue_read_all(base, path, add_code, codes))
        return codes;
    json_decref(codes);
    return NULL;
}

mc_error online_procedures_get(struct catalogue_cache *c, const json_t *agencies, json_t **out)
{
    json_t *result = json_object();
    size_t i;
    const json_t *a;
    json_array_foreach(agencies, i, a) {
        char key[96];
        json_t *codes = NULL;
        if (!json_is_string(a) ||
            (size_t)snprintf(key, sizeof key, KEY_PREFIX "%s", json_string_value(a)) >= sizeof key)
            continue;
        mc_error rc = catalogue_cache_get(c, key, read_agency, &codes);
        if (rc != MC_OK) {
            json_decref(result);
            return rc;
        }
        json_object_set_new(result, json_string_value(a), codes);
    }
    *out = result;
    return MC_OK;
}
