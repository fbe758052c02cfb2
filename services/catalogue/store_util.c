/*
 * A helper shared by the store_*.c files (no SQL here); the others are
 * common's mc_db_json, mc_db_copy, mc_db_failure and mc_db_unique_violation.
 */
#include "store.h"

json_t *store_json_rows(const PGresult *res, int col, unsigned limit)
{
    json_t *items = json_array();
    int n = PQntuples(res);
    for (int r = 0; items != NULL && r < n && (unsigned)r < limit; r++) {
        json_t *item = mc_db_json(res, r, col);
        if (item == NULL || json_array_append_new(items, item) != 0) {
            json_decref(items);
            return NULL;
        }
    }
    return items;
}
