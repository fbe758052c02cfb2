/*
 * The agency tree (province -> departments -> communes) as the catalogue
 * publishes it (GET /api/v1/agencies, every page), kept in the catalogue
 * cache (catalogue_cache.h). Reports roll up and drill down over it
 * (report_rules.h has the pure walks).
 */
#ifndef STATISTICS_AGENCY_TREE_H
#define STATISTICS_AGENCY_TREE_H

#include <jansson.h>

#include "catalogue_cache.h"
#include "motcua/error.h"

/* The tree as an object code -> {"parent": code|null, "name": text,
   "admin_level": text} (a new reference to a read-only object: json_decref
   it, never change it). MC_ERR_CATALOGUE_UNAVAILABLE when the catalogue
   cannot be read and no copy is held. */
mc_error agency_tree_get(struct catalogue_cache *c, json_t **out);

#endif
