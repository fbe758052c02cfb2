/*
 * Reading a whole list of the catalogue's public API (every page, following
 * next_cursor): the agency tree, the procedures offered online, the names of
 * sectors and procedures all come this way.
 */
#ifndef STATISTICS_CATALOGUE_PAGES_H
#define STATISTICS_CATALOGUE_PAGES_H

#include <jansson.h>
#include <stdbool.h>

/* GET base + path_query (a path with a query, e.g.
   "/api/v1/agencies?limit=100") and every following page; `item` is called
   once per member of each page's `items`. False when a page could not be
   read (the items already seen were given to `item`). */
typedef void (*catalogue_item_fn)(void *ctx, const json_t *item);
bool catalogue_read_all(const char *base, const char *path_query, catalogue_item_fn item, void *ctx);

/* Is `code` safe to put in a URL as it is (letters, digits, '.', '-', '_')? */
bool catalogue_code_url_safe(const char *code);

#endif
