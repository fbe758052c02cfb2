/*
 * Is a path or query value a UUID in PostgreSQL's text form (36 characters,
 * lower-case hex, dashes at 8, 13, 18, 23)? Checked before any database
 * work, so a malformed id is a plain 404 rather than a failed cast. Pure.
 */
#ifndef MOTCUA_UUID_TEXT_H
#define MOTCUA_UUID_TEXT_H

#include <stdbool.h>

bool mc_is_uuid(const char *s);

#endif
