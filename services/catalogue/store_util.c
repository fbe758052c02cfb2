/*
 * Small helpers shared by the store_*.c files (no SQL here).
 */
#include <string.h>

#include "store.h"

json_t *store_json_column(const PGresult *res, int row, int col)
{
    if (mc_db_is_null(res, row, col))
        return NULL;
    const char *text = mc_db_text(res, row, col);
    return json_loads(text, JSON_DECODE_ANY, NULL);
}

bool store_unique_violation(const mc_db_conn *conn)
{
    return strcmp(mc_db_sqlstate(conn), "23505") == 0;
}

mc_error store_failure(const mc_db_conn *conn)
{
    mc_error err = mc_db_last_error(conn);
    return err != MC_OK ? err : MC_ERR_INTERNAL;
}

json_t *store_json_rows(const PGresult *res, int col, unsigned limit)
{
    json_t *items = json_array();
    int n = PQntuples(res);
    for (int r = 0; items != NULL && r < n && (unsigned)r < limit; r++) {
        json_t *item = store_json_column(res, r, col);
        if (item == NULL || json_array_append_new(items, item) != 0) {
            json_decref(items);
            return NULL;
        }
    }
    return items;
}
