/*
 * The month-start stock snapshots' step (migration 0006): a thread in every
 * instance (common's mc_periodic), at start and every STOCK_SNAPSHOT_SECONDS,
 * writes the snapshot of each settled month that has none
 * (stat_stock_snapshot_month, store_stock_snapshots_write). Instances share
 * the work: the write is serialised with the feed consumer's pages and a month
 * written twice is written the same.
 */
#ifndef STATISTICS_STOCK_SNAPSHOTS_H
#define STATISTICS_STOCK_SNAPSHOTS_H

#include "motcua/db.h"

struct stock_snapshots;

/* Start the step on `db` (borrowed; it must outlive the step). NULL when the
   thread cannot start. */
struct stock_snapshots *stock_snapshots_start(mc_db_pool *db, unsigned interval_s);
/* Stop it and free it (NULL is allowed). */
void stock_snapshots_stop(struct stock_snapshots *s);

#endif
