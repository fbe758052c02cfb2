/*
 * Secrets come from mounted files (MOTCUA_<SVC>_..._FILE), never from the
 * environment or a command line: a client secret, an object store's keys.
 */
#ifndef MOTCUA_SECRET_FILE_H
#define MOTCUA_SECRET_FILE_H

#include <stdbool.h>
#include <stddef.h>

/* The first line of the file at `path` (without its line end) into out (len
   bytes). false when the file cannot be read or that line is empty. */
bool mc_read_secret_file(const char *path, char *out, size_t len);

#endif
