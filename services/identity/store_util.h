/*
 * Helpers private to the store_*.c files.
 */
#ifndef IDENTITY_STORE_UTIL_H
#define IDENTITY_STORE_UTIL_H

#include <jansson.h>
#include <stdbool.h>

#include "store.h"

/* Parse a JSON text column; new reference or NULL. */
json_t *store_json_column(const PGresult *res, int row, int col);
/* Was the last failure on conn a unique violation (23505)? */
bool store_unique_violation(const mc_db_conn *conn);
/* The mc_error of the last failed mc_db_exec on conn (never MC_OK). */
mc_error store_failure(const mc_db_conn *conn);
/* Copy a text value, truncated to len - 1 bytes. */
void store_copy(char *out, size_t len, const PGresult *res, int row, int col);

#endif
