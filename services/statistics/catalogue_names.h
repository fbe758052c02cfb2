/*
 * The names of sectors and procedures, as the catalogue publishes them
 * (GET /api/v1/sectors and GET /api/v1/procedures, every page: the current
 * published versions), kept in the catalogue cache (catalogue_cache.h). The
 * 06a rows by sector and by procedure carry them.
 */
#ifndef STATISTICS_CATALOGUE_NAMES_H
#define STATISTICS_CATALOGUE_NAMES_H

#include <jansson.h>

#include "catalogue_cache.h"
#include "motcua/error.h"

enum catalogue_names_list { NAMES_OF_SECTORS, NAMES_OF_PROCEDURES };

/* The names of the list's items as an object code -> name (a new reference
   to a read-only object). MC_ERR_CATALOGUE_UNAVAILABLE when the catalogue
   cannot be read and no copy is held. */
mc_error catalogue_names_get(struct catalogue_cache *c, enum catalogue_names_list list, json_t **out);

#endif
