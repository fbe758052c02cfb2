/*
 * Configuration from environment variables.
 *
 * Every setting is looked up first as MOTCUA_<SERVICE>_<KEY> and then as the
 * shared MOTCUA_<KEY>, so an operator can set one value for the whole stack and
 * override it for one service. Numeric settings are validated: a value that
 * does not parse or is out of range is a start-up error, not a silent default.
 */
#ifndef MOTCUA_CONFIG_H
#define MOTCUA_CONFIG_H

#include <stdbool.h>

/* The value of MOTCUA_<SERVICE>_<KEY> or MOTCUA_<KEY>, else `fallback`.
   The returned pointer belongs to the environment (or is `fallback`). */
const char *mc_config_str(const char *service, const char *key, const char *fallback);

/* Parse an unsigned setting within [min,max]. Returns false (and logs the
   variable name) when present but invalid; *out keeps `fallback` if absent. */
bool mc_config_uint(const char *service, const char *key, unsigned fallback, unsigned min,
                    unsigned max, unsigned *out);

#endif
