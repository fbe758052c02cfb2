/*
 * Store: the working-day calendar (days off and extra working days). Every
 * SQL text of this resource lives here.
 */
#include <stdlib.h>
#include <string.h>

#include "store.h"

/* clang-format off */
#define DAY_JSON                                                                                 \
    "json_build_object('date', to_char(date, 'YYYY-MM-DD'), 'kind', kind, 'name', name)"

static const mc_db_statement calendar_year = {
    "catalogue_calendar_year",
    "SELECT json_build_object('year', $1::integer,"
    "       'days', coalesce(json_agg(" DAY_JSON " ORDER BY date), '[]'::json))::text"
    "  FROM calendar_days"
    " WHERE date BETWEEN make_date($1::integer, 1, 1) AND make_date($1::integer, 12, 31)",
    1};

/* (xmax = 0) is true for a freshly inserted row, false for one the
   ON CONFLICT branch updated. */
static const mc_db_statement calendar_put = {
    "catalogue_calendar_put",
    "INSERT INTO calendar_days (date, kind, name) VALUES ($1::date, $2::text, $3::text)"
    " ON CONFLICT (date) DO UPDATE SET kind = EXCLUDED.kind, name = EXCLUDED.name,"
    "   updated_at = now()"
    " RETURNING " DAY_JSON "::text, (xmax = 0)",
    3};

static const mc_db_statement calendar_delete = {
    "catalogue_calendar_delete", "DELETE FROM calendar_days WHERE date = $1::date", 1};

static const mc_db_statement calendar_range = {
    "catalogue_calendar_range",
    "SELECT to_char(date, 'YYYY-MM-DD'), kind = 'day_off' FROM calendar_days"
    " WHERE date BETWEEN $1::date AND $2::date ORDER BY date",
    2};
/* clang-format on */

mc_error store_calendar_year(mc_db_conn *conn, int year, json_t **out)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_int64(&p, year);
    return mc_db_fetch_json(conn, &calendar_year, &p, MC_ERR_INTERNAL, out, NULL);
}

mc_error store_calendar_put(mc_db_conn *conn, const char *date, const char *kind, const char *name,
                            json_t **out, bool *created)
{
    *out = NULL;
    *created = false;
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, date);
    mc_db_add_text(&p, kind);
    mc_db_add_text(&p, name);
    PGresult *res = mc_db_exec_params(conn, &calendar_put, &p);
    if (res == NULL)
        return mc_db_failure(conn);
    *out = mc_db_json(res, 0, 0);
    *created = mc_db_bool(res, 0, 1);
    PQclear(res);
    return *out != NULL ? MC_OK : MC_ERR_INTERNAL;
}

mc_error store_calendar_delete(mc_db_conn *conn, const char *date)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, date);
    PGresult *res = mc_db_exec_params(conn, &calendar_delete, &p);
    if (res == NULL)
        return mc_db_failure(conn);
    mc_error rc = strcmp(PQcmdTuples(res), "0") == 0 ? MC_ERR_NOT_FOUND : MC_OK;
    PQclear(res);
    return rc;
}

mc_error store_calendar_range(mc_db_conn *conn, const char *from, const char *to,
                              mc_date **days_off, size_t *n_days_off, mc_date **working_days,
                              size_t *n_working_days)
{
    *days_off = *working_days = NULL;
    *n_days_off = *n_working_days = 0;
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, from);
    mc_db_add_text(&p, to);
    PGresult *res = mc_db_exec_params(conn, &calendar_range, &p);
    if (res == NULL)
        return mc_db_failure(conn);
    mc_error rc = MC_OK;
    size_t n = (size_t)PQntuples(res);
    /* calloc(n + 1) so an empty range still gives valid pointers. */
    *days_off = calloc(n + 1, sizeof **days_off);
    *working_days = calloc(n + 1, sizeof **working_days);
    if (*days_off == NULL || *working_days == NULL)
        rc = MC_ERR_INTERNAL;
    for (size_t r = 0; rc == MC_OK && r < n; r++) {
        mc_date d;
        if (!mc_date_parse(mc_db_text(res, (int)r, 0), &d)) {
            rc = MC_ERR_INTERNAL;
            break;
        }
        /* Rows come sorted by date, so both lists are sorted. */
        if (mc_db_bool(res, (int)r, 1))
            (*days_off)[(*n_days_off)++] = d;
        else
            (*working_days)[(*n_working_days)++] = d;
    }
    PQclear(res);
    if (rc != MC_OK) {
        free(*days_off);
        free(*working_days);
        *days_off = *working_days = NULL;
        *n_days_off = *n_working_days = 0;
    }
    return rc;
}
