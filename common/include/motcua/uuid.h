/*
 * UUID text checks, for path and query parameters that name a row by its id
 * (a malformed one is a 400 or a 404, never a database error).
 */
#ifndef MOTCUA_UUID_H
#define MOTCUA_UUID_H

#include <stdbool.h>

/* Is s a UUID in its 8-4-4-4-12 hex form (either case)? NULL is not. */
bool mc_uuid_valid(const char *s);

#endif
