/*
 * Helpers private to the dossier store_*.c files (no SQL here).
 */
#ifndef DOSSIER_STORE_UTIL_H
#define DOSSIER_STORE_UTIL_H

#include <jansson.h>
#include <stddef.h>

#include "motcua/db.h"

/* Parse a JSON text column; new reference or NULL for SQL NULL. */
json_t *store_json_column(const PGresult *res, int row, int col);
/* The mc_error of the last failed mc_db_exec on conn (never MC_OK). */
mc_error store_failure(const mc_db_conn *conn);
/* Copy a text value, truncated to len - 1 bytes ("" for NULL). */
void store_copy(char *out, size_t len, const PGresult *res, int row, int col);

#endif
