/* The month-start stock snapshots' step (stock_snapshots.h). */
#include "stock_snapshots.h"

#include <stdlib.h>
#include <time.h>

#include "motcua/log.h"
#include "motcua/periodic.h"
#include "report_rules.h"
#include "store.h"

struct stock_snapshots {
    mc_db_pool *db;
    mc_periodic *job;
};

static mc_error write_settled(mc_db_conn *conn, void *arg)
{
    long long *months = arg;
    int64_t applied_until = 0;
    mc_error rc = store_applied_until(conn, &applied_until);
    int64_t month = stat_stock_snapshot_month(stat_day_of((int64_t)time(NULL)), applied_until);
    if (rc != MC_OK || month == STAT_NO_DAY)
        return rc;
    return store_stock_snapshots_write(conn, month, months);
}

static void run(void *arg)
{
    struct stock_snapshots *s = arg;
    long long months = 0;
    mc_error rc = mc_db_transaction(s->db, NULL, write_settled, &months);
    if (rc != MC_OK)
        mc_log(MC_LOG_WARNING, NULL, "statistics.snapshots_failed",
               "the month-start stock snapshots were not written (%d): reports read every month", (int)rc);
    else if (months > 0)
        mc_log(MC_LOG_INFO, NULL, "statistics.snapshots", "stock snapshots of %lld months written", months);
}

struct stock_snapshots *stock_snapshots_start(mc_db_pool *db, unsigned interval_s)
{
    struct stock_snapshots *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->db = db;
    s->job = mc_periodic_start(interval_s, run, s);
    if (s->job == NULL) {
        free(s);
        return NULL;
    }
    return s;
}

void stock_snapshots_stop(struct stock_snapshots *s)
{
    if (s == NULL)
        return;
    mc_periodic_stop(s->job);
    free(s);
}
