/* Store: the month-start stock snapshots (migration 0006; stock_snapshots.c writes them). */
#include <stdlib.h>

#include "store.h"

#define DAY_PARAM(n) "(DATE '1970-01-01' + $" #n "::integer)"
#define STOCK_MEASURES "('open_within', 'open_overdue', 'awaiting_supplement')"

/* clang-format off */
/* The consumer's pages lock the feed's position row (common's feed consumer):
   holding it, no page is half applied while the snapshots are summed, and a
   page applied after them sees the months they mark (consumer.c forgets the
   months a late delta changes). */
static const mc_db_statement feed_lock = {
    "statistics_stock_feed_lock",
    "SELECT 1 FROM feed_positions WHERE feed = 'dossier' FOR UPDATE", 0};

/* Every month from the first counted one up to $1 that has no complete
   snapshot: the sum of each agency's stock deltas of the months before it,
   and the month marked complete. */
static const mc_db_statement snapshots_write = {
    "statistics_stock_snapshots_write",
    "WITH todo AS (SELECT m::date AS month FROM generate_series("
    " (SELECT min(month) FROM agency_months)::timestamp, " DAY_PARAM(1) "::timestamp,"
    " interval '1 month') AS m"
    " WHERE NOT EXISTS (SELECT 1 FROM stock_snapshot_months s WHERE s.month = m::date)),"
    " written AS (INSERT INTO stock_snapshots (month, agency_code, measure, value)"
    " SELECT t.month, a.agency_code, a.measure, sum(a.value) FROM todo t"
    " JOIN agency_months a ON a.month < t.month AND a.measure IN " STOCK_MEASURES
    " GROUP BY 1, 2, 3"
    " ON CONFLICT (month, agency_code, measure) DO UPDATE SET value = EXCLUDED.value)"
    " INSERT INTO stock_snapshot_months (month) SELECT month FROM todo ON CONFLICT DO NOTHING", 1};

static const mc_db_statement snapshots_forget = {
    "statistics_stock_snapshots_forget",
    "DELETE FROM stock_snapshot_months WHERE month > " DAY_PARAM(1), 1};
/* clang-format on */

static mc_error run(mc_db_conn *conn, const mc_db_statement *stmt, int64_t day, long long *rows)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    if (stmt->nparams > 0)
        mc_db_add_int64(&p, (long long)day);
    PGresult *res = mc_db_exec_params(conn, stmt, &p);
    mc_db_params_clear(&p);
    if (res == NULL)
        return mc_db_failure(conn);
    if (rows != NULL)
        *rows = atoll(PQcmdTuples(res));
    PQclear(res);
    return MC_OK;
}

mc_error store_stock_snapshots_write(mc_db_conn *conn, int64_t month, long long *months)
{
    mc_error rc = run(conn, &feed_lock, 0, NULL);
    return rc == MC_OK ? run(conn, &snapshots_write, month, months) : rc;
}

mc_error store_stock_snapshots_forget_after(mc_db_conn *conn, int64_t day)
{
    return run(conn, &snapshots_forget, day, NULL);
}
