/*
 * The procedures each agency offers online, as the catalogue publishes them
 * (GET /api/v1/procedures?channel=online&agency=<code>, every page: the
 * current published versions with an online channel in at least one case),
 * kept per agency in the catalogue cache (catalogue_cache.h). Decision 766's
 * share of online procedures that received a dossier divides by them.
 */
#ifndef STATISTICS_ONLINE_PROCEDURES_H
#define STATISTICS_ONLINE_PROCEDURES_H

#include <jansson.h>

#include "catalogue_cache.h"
#include "motcua/error.h"

/* The procedures offered online by each agency of `agencies` (a JSON array
   of codes, borrowed): *out is a new object code -> [procedure codes].
   MC_ERR_CATALOGUE_UNAVAILABLE when an agency's list cannot be read and no
   copy of it is held. */
mc_error online_procedures_get(struct catalogue_cache *c, const json_t *agencies, json_t **out);

#endif
