/* Small helpers shared by the dossier store_*.c files (no SQL here). */
#include <string.h>

#include "store_util.h"

json_t *store_json_column(const PGresult *res, int row, int col)
{
    if (mc_db_is_null(res, row, col))
        return NULL;
    return json_loads(mc_db_text(res, row, col), JSON_DECODE_ANY, NULL);
}

mc_error store_failure(const mc_db_conn *conn)
{
    mc_error err = mc_db_last_error(conn);
    return err != MC_OK ? err : MC_ERR_INTERNAL;
}

void store_copy(char *out, size_t len, const PGresult *res, int row, int col)
{
    const char *v = mc_db_text(res, row, col);
    size_t n = strlen(v);
    if (n >= len)
        n = len - 1;
    memcpy(out, v, n);
    out[n] = '\0';
}
