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
#include <stddef.h>

/* The value of MOTCUA_<SERVICE>_<KEY> or MOTCUA_<KEY>, else `fallback`.
   The returned pointer belongs to the environment (or is `fallback`). */
const char *mc_config_str(const char *service, const char *key, const char *fallback);

/* Parse an unsigned setting within [min,max]. Returns false (and logs the
   variable name) when present but invalid; *out keeps `fallback` if absent. */
bool mc_config_uint(const char *service, const char *key, unsigned fallback, unsigned min,
                    unsigned max, unsigned *out);

/* The port a service listens on unless MOTCUA_<SERVICE>_PORT says otherwise:
   8100 + its place in the stack (catalogue 1, identity 2, dossier 3,
   tracking 4, payment 5, statistics 6), as deploy/local/lib.sh, the gateway
   and the README have it. 0 for a name not in the table. */
#define MC_SERVICE_PORT_BASE 8100
unsigned mc_service_default_port(const char *service);
/* Where one service finds another by default: "http://127.0.0.1:<port>".
   False when the name is unknown or out is too small (out is then ""). */
bool mc_service_default_url(const char *service, char *out, size_t len);

#endif
