/* The agency tree from the catalogue, cached (agency_tree.h). */
#include "agency_tree.h"

#include "catalogue_pages.h"

static void add_agency(void *ctx, const json_t *a)
{
    json_t *tree = ctx;
    const char *code = json_string_value(json_object_get(a, "code"));
    if (code != NULL)
        json_object_set_new(tree, code,
                            json_pack("{sO? sO? sO?}", "parent", json_object_get(a, "parent_code"),
                                      "name", json_object_get(a, "name"), "admin_level",
                                      json_object_get(a, "admin_level")));
}

/* Every page of the catalogue's agency list into a new tree object, or NULL. */
static json_t *read_tree(const char *base, const char *key)
{
    (void)key;
    json_t *tree = json_object();
    if (tree != NULL && catalogue_read_all(base, "/api/v1/agencies?limit=100", add_agency, tree))
        return tree;
    json_decref(tree);
    return NULL;
}

mc_error agency_tree_get(struct catalogue_cache *c, json_t **out)
{
    return catalogue_cache_get(c, "the agency tree", read_tree, out);
}
