/* Store: what the reports read (rollup sums; the dossiers behind a number). */
#include <string.h>

#include "store.h"

#define DAY_PARAM(n) "(DATE '1970-01-01' + $" #n "::integer)"
#define AGENCIES_IN(col) col " IN (SELECT jsonb_array_elements_text($1::jsonb))"

/* clang-format off */
/* Flows are read within the period only; stocks from the beginning (their
   running sum), which is what makes this cost follow the number of agencies,
   procedures and days, never the number of dossiers. */
static const mc_db_statement report_sums = {
    "statistics_report_sums",
    "SELECT agency_code, sector_code, procedure_code, measure,"
    " coalesce(sum(value) FILTER (WHERE day >= " DAY_PARAM(2) "), 0)::bigint,"
    " coalesce(sum(value) FILTER (WHERE day <= " DAY_PARAM(4) "), 0)::bigint,"
    " coalesce(sum(value) FILTER (WHERE day <= " DAY_PARAM(5) "), 0)::bigint"
    " FROM rollups WHERE " AGENCIES_IN("agency_code") " AND day <= " DAY_PARAM(3)
    " AND (day >= " DAY_PARAM(2) " OR measure IN ('open_within', 'open_overdue', 'awaiting_supplement'))"
    " GROUP BY 1, 2, 3, 4", 5};

/* The same sums per agency (no sector or procedure) from the agency rollups
   (migration 0004), planned by stat_read_plan: flows of the period's whole
   months from agency_months and of its other days (before and after them) from
   agency_days; a stock at day X from the months before its bound and the days
   from the bound to X. The months before the bound are the latest complete
   month-start snapshot not after it (migration 0006) plus the months from that
   snapshot to the bound; every month when there is none. Each part is one range
   of a primary key per agency. */
/* An array, not a semi-join: the planner then reads each table's primary key
   range by range (a hash semi-join read the whole of agency_months). */
#define AGENCY_AMONG "agency_code = ANY (ARRAY(SELECT jsonb_array_elements_text($1::jsonb)))"
#define STOCKS " AND measure IN ('open_within', 'open_overdue', 'awaiting_supplement')"
#define MONTHS_WHERE " FROM agency_months WHERE " AGENCY_AMONG " AND "
#define DAYS_WHERE " FROM agency_days WHERE " AGENCY_AMONG " AND "
/* Scalar subqueries (computed once), so that the months are index bounds. */
#define START_SNAPSHOT "(SELECT at_start FROM snapshot)"
#define END_SNAPSHOT "(SELECT at_end FROM snapshot)"
#define SNAPSHOT_AT(bound) "coalesce(max(month) FILTER (WHERE month <= " bound "), '-infinity')"
static const mc_db_statement agency_sums = {
    "statistics_agency_sums",
    "WITH snapshot AS (SELECT " SNAPSHOT_AT(DAY_PARAM(6)) " AS at_start, " SNAPSHOT_AT(DAY_PARAM(8))
    " AS at_end FROM stock_snapshot_months WHERE month <= greatest(" DAY_PARAM(6) ", " DAY_PARAM(8) "))"
    " SELECT agency_code, '', '', measure, sum(period)::bigint, sum(at_start)::bigint,"
    " sum(at_end)::bigint FROM ("
    "SELECT agency_code, measure, value AS period, 0 AS at_start, 0 AS at_end" MONTHS_WHERE
    "month >= " DAY_PARAM(4) " AND month < " DAY_PARAM(5)
    " UNION ALL SELECT agency_code, measure, 0,"
    " CASE WHEN month >= " START_SNAPSHOT " AND month < " DAY_PARAM(6) " THEN value ELSE 0 END,"
    " CASE WHEN month >= " END_SNAPSHOT " AND month < " DAY_PARAM(8) " THEN value ELSE 0 END"
    MONTHS_WHERE "month >= least(" START_SNAPSHOT ", " END_SNAPSHOT ")"
    " AND month < greatest(" DAY_PARAM(6) ", " DAY_PARAM(8) ")" STOCKS
    " UNION ALL SELECT agency_code, measure, 0, CASE WHEN month = " START_SNAPSHOT " THEN value ELSE 0 END,"
    " CASE WHEN month = " END_SNAPSHOT " THEN value ELSE 0 END FROM stock_snapshots"
    " WHERE month IN (" START_SNAPSHOT ", " END_SNAPSHOT ") AND " AGENCY_AMONG
    " UNION ALL SELECT agency_code, measure, value, 0, 0" DAYS_WHERE
    "day BETWEEN " DAY_PARAM(2) " AND least(" DAY_PARAM(3) ", " DAY_PARAM(4) " - 1)"
    " UNION ALL SELECT agency_code, measure, value, 0, 0" DAYS_WHERE
    "day BETWEEN greatest(" DAY_PARAM(2) ", " DAY_PARAM(5) ") AND " DAY_PARAM(3)
    " UNION ALL SELECT agency_code, measure, 0, value, 0" DAYS_WHERE
    "day BETWEEN " DAY_PARAM(6) " AND " DAY_PARAM(7) STOCKS
    " UNION ALL SELECT agency_code, measure, 0, 0, value" DAYS_WHERE
    "day BETWEEN " DAY_PARAM(8) " AND " DAY_PARAM(9) STOCKS
    ") AS parts GROUP BY 1, 4", 9};

#define DOSSIER_ITEM(agency_col)                                                                \
    "SELECT json_build_object('dossier_id', dossier_id, 'code', code, 'agency_code', "          \
    agency_col ", 'procedure_code', procedure_code, 'sector_code', sector_code)::text,"         \
    " dossier_id::text FROM facts WHERE "
#define DOSSIER_PAGE                                                                             \
    " AND ($5::uuid IS NULL OR dossier_id > $5::uuid) ORDER BY dossier_id LIMIT $6::integer"

static const mc_db_statement dossiers_received = {
    "statistics_dossiers_received",
    DOSSIER_ITEM("received_agency") AGENCIES_IN("received_agency")
    " AND received_day BETWEEN " DAY_PARAM(2) " AND " DAY_PARAM(3)
    " AND ($4::text IS NULL OR (CASE WHEN channel = 'online' THEN 'online' ELSE 'offline' END) = $4)"
    DOSSIER_PAGE, 6};
static const mc_db_statement dossiers_resolved = {
    "statistics_dossiers_resolved",
    DOSSIER_ITEM("agency_code") AGENCIES_IN("agency_code")
    " AND closed_kind = 'resolved' AND closed_day BETWEEN " DAY_PARAM(2) " AND " DAY_PARAM(3)
    " AND ($4::text IS NULL OR timeliness = $4)" DOSSIER_PAGE, 6};
static const mc_db_statement dossiers_closed = {
    "statistics_dossiers_closed",
    DOSSIER_ITEM("agency_code") AGENCIES_IN("agency_code")
    " AND closed_day BETWEEN " DAY_PARAM(2) " AND " DAY_PARAM(3) " AND closed_kind = $4"
    DOSSIER_PAGE, 6};
static const mc_db_statement daily_sums = {
    "statistics_daily_sums",
    "SELECT day - DATE '1970-01-01', measure, sum(value)::bigint FROM rollups"
    " WHERE " AGENCIES_IN("agency_code") " AND day BETWEEN " DAY_PARAM(2) " AND " DAY_PARAM(3)
    " AND measure IN (SELECT jsonb_array_elements_text($4::jsonb)) GROUP BY 1, 2", 4};

static const mc_db_statement formula_for_day = {
    "statistics_formula_for_day",
    "SELECT formula::text, version FROM indicator_formulas"
    " WHERE valid_from <= " DAY_PARAM(1) " ORDER BY valid_from DESC LIMIT 1", 1};
static const mc_db_statement applied_until = {
    "statistics_applied_until",
    "SELECT extract(epoch FROM occurred_at)::bigint FROM applied_until WHERE feed = 'dossier'", 0};
/* clang-format on */

mc_error store_applied_until(mc_db_conn *conn, int64_t *at)
{
    *at = 0;
    PGresult *res = mc_db_exec(conn, &applied_until, NULL);
    if (res == NULL)
        return mc_db_failure(conn);
    if (PQntuples(res) == 1)
        *at = (int64_t)mc_db_int(res, 0, 0);
    PQclear(res);
    return MC_OK;
}

mc_error store_daily_sums(mc_db_conn *conn, const json_t *agencies, int64_t first, int64_t last,
                          const json_t *measures, store_daily_fn row, void *ctx)
{
    mc_db_params params = MC_DB_PARAMS_INIT;
    mc_db_add_json(&params, agencies);
    mc_db_add_int64(&params, (long long)first);
    mc_db_add_int64(&params, (long long)last);
    mc_db_add_json(&params, measures);
    PGresult *res = mc_db_exec_params(conn, &daily_sums, &params);
    mc_db_params_clear(&params);
    if (res == NULL)
        return mc_db_failure(conn);
    for (int r = 0; r < PQntuples(res); r++) {
        int m = stat_measure_from_name(mc_db_text(res, r, 1));
        if (m >= 0)
            row(ctx, (int64_t)mc_db_int(res, r, 0), m, mc_db_int(res, r, 2));
    }
    PQclear(res);
    return MC_OK;
}

mc_error store_formula_for_day(mc_db_conn *conn, int64_t day, json_t **formula, char *version,
                               size_t len)
{
    mc_db_params params = MC_DB_PARAMS_INIT;
    mc_db_add_int64(&params, (long long)day);
    PGresult *res = mc_db_exec_params(conn, &formula_for_day, &params);
    if (res == NULL)
        return mc_db_failure(conn);
    mc_error rc = MC_ERR_NOT_FOUND;
    if (PQntuples(res) == 1) {
        *formula = mc_db_json(res, 0, 0);
        mc_db_copy(version, len, res, 0, 1);
        rc = *formula != NULL ? MC_OK : MC_ERR_INTERNAL;
    }
    PQclear(res);
    return rc;
}

/* Run a sums statement (agency, sector, procedure, measure, period, at start,
   at end) and call `row` for each row; params are cleared. */
static mc_error read_sums(mc_db_conn *conn, const mc_db_statement *stmt, mc_db_params *params,
                          store_sums_fn row, void *ctx)
{
    /* Planned with each call's days: a generic plan of the agency sums read
       whole tables (2 to 3 times slower at 1M dossiers). */
    PGresult *res = stmt == &agency_sums ? mc_db_exec_planned_params(conn, stmt, params)
                                         : mc_db_exec_params(conn, stmt, params);
    mc_db_params_clear(params);
    if (res == NULL)
        return mc_db_failure(conn);
    for (int r = 0; r < PQntuples(res); r++) {
        int m = stat_measure_from_name(mc_db_text(res, r, 3));
        if (m >= 0)
            row(ctx, mc_db_text(res, r, 0), mc_db_text(res, r, 1), mc_db_text(res, r, 2), m,
                mc_db_int(res, r, 4), mc_db_int(res, r, 5), mc_db_int(res, r, 6));
    }
    PQclear(res);
    return MC_OK;
}

mc_error store_report_sums(mc_db_conn *conn, const json_t *agencies, const struct stat_period *p,
                           int64_t start_stock_day, int64_t end_stock_day, store_sums_fn row,
                           void *ctx)
{
    mc_db_params params = MC_DB_PARAMS_INIT;
    mc_db_add_json(&params, agencies);
    mc_db_add_int64(&params, (long long)p->first);
    mc_db_add_int64(&params, (long long)p->last);
    mc_db_add_int64(&params, (long long)start_stock_day);
    mc_db_add_int64(&params, (long long)end_stock_day);
    return read_sums(conn, &report_sums, &params, row, ctx);
}

mc_error store_agency_sums(mc_db_conn *conn, const json_t *agencies, const struct stat_period *p,
                           int64_t start_stock_day, int64_t end_stock_day, store_sums_fn row,
                           void *ctx)
{
    struct stat_read_plan plan = stat_read_plan(p, start_stock_day, end_stock_day);
    mc_db_params params = MC_DB_PARAMS_INIT;
    mc_db_add_json(&params, agencies);
    mc_db_add_int64(&params, (long long)p->first);
    mc_db_add_int64(&params, (long long)p->last);
    mc_db_add_int64(&params, (long long)plan.months_from);
    mc_db_add_int64(&params, (long long)plan.months_to);
    mc_db_add_int64(&params, (long long)plan.start_bound);
    mc_db_add_int64(&params, (long long)start_stock_day);
    mc_db_add_int64(&params, (long long)plan.end_bound);
    mc_db_add_int64(&params, (long long)end_stock_day);
    return read_sums(conn, &agency_sums, &params, row, ctx);
}

mc_error store_report_dossiers(mc_db_conn *conn, const struct store_dossier_query *q, unsigned limit,
                               json_t **items, json_t **next_keys)
{
    const mc_db_statement *stmt = q->list == LIST_RECEIVED   ? &dossiers_received
                                  : q->list == LIST_RESOLVED ? &dossiers_resolved
                                                             : &dossiers_closed;
    mc_db_params params = MC_DB_PARAMS_INIT;
    mc_db_add_json(&params, q->agencies);
    mc_db_add_int64(&params, (long long)q->period.first);
    mc_db_add_int64(&params, (long long)q->period.last);
    mc_db_add_text(&params, q->filter);
    mc_db_add_text(&params, q->after_id);
    mc_db_add_int64(&params, (long long)limit + 1);
    mc_error rc = mc_db_fetch_page(conn, stmt, &params, limit, "s", items, next_keys);
    mc_db_params_clear(&params);
    return rc;
}
