/* Sector and procedure names from the catalogue, cached (catalogue_names.h). */
#include "catalogue_names.h"

#include <string.h>

#include "catalogue_pages.h"

#define SECTORS_KEY "the sector names"
#define PROCEDURES_KEY "the procedure names"

static void add_name(void *ctx, const json_t *item)
{
    const char *code = json_string_value(json_object_get(item, "code"));
    const json_t *name = json_object_get(item, "name");
    if (code != NULL && json_is_string(name))
        json_object_set(ctx, code, (json_t *)name);
}

static json_t *read_names(const char *base, const char *key)
{
    json_t *names = json_object();
    const char *path = strcmp(key, SECTORS_KEY) == 0 ? "/api/v1/sectors?limit=100"
                                                     : "/api/v1/procedures?limit=100";
    if (names != NULL && catalogue_read_all(base, path, add_name, names))
        return names;
    json_decref(names);
    return NULL;
}

mc_error catalogue_names_get(struct catalogue_cache *c, enum catalogue_names_list list, json_t **out)
{
    return catalogue_cache_get(c, list == NAMES_OF_SECTORS ? SECTORS_KEY : PROCEDURES_KEY, read_names,
                               out);
}
