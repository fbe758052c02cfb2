/* Store: the facts and the rollups, written by the feed consumer (consumer.c). */
#include <stdio.h>
#include <string.h>

#include "store.h"

#define FACT_DAY(col) "(" col " - DATE '1970-01-01')"
#define DAY_PARAM(n) "(DATE '1970-01-01' + $" #n "::integer)"

/* clang-format off */
static const mc_db_statement fact_get = {
    "statistics_fact_get",
    "SELECT coalesce(code, ''), agency_code, procedure_code, sector_code, channel, status, is_open,"
    " in_supplement, " FACT_DAY("due_day") ", " FACT_DAY("crossing_day") ", " FACT_DAY("received_day") ","
    " coalesce(received_agency, ''), " FACT_DAY("resolved_day") ", coalesce(timeliness, ''),"
    " coalesce(outcome, ''), " FACT_DAY("closed_day") ", coalesce(closed_kind, ''), evaluated,"
    " updated_sequence"
    " FROM facts WHERE dossier_id = $1::uuid FOR UPDATE", 1};

static const mc_db_statement fact_put = {
    "statistics_fact_put",
    "INSERT INTO facts (dossier_id, code, agency_code, procedure_code, sector_code, channel, status,"
    " is_open, in_supplement, due_day, crossing_day, received_day, received_agency, resolved_day,"
    " timeliness, outcome, closed_day, closed_kind, evaluated, updated_sequence)"
    " VALUES ($1::uuid, nullif($2, ''), $3, $4, $5, $6, $7::smallint, $8::boolean, $9::boolean,"
    " " DAY_PARAM(10) ", " DAY_PARAM(11) ", " DAY_PARAM(12) ", nullif($13, ''), " DAY_PARAM(14) ","
    " nullif($15, ''), nullif($16, ''), " DAY_PARAM(17) ", nullif($18, ''), $19::boolean,"
    " $20::bigint)"
    " ON CONFLICT (dossier_id) DO UPDATE SET code = EXCLUDED.code, agency_code = EXCLUDED.agency_code,"
    " procedure_code = EXCLUDED.procedure_code, sector_code = EXCLUDED.sector_code,"
    " channel = EXCLUDED.channel, status = EXCLUDED.status, is_open = EXCLUDED.is_open,"
    " in_supplement = EXCLUDED.in_supplement, due_day = EXCLUDED.due_day,"
    " crossing_day = EXCLUDED.crossing_day, received_day = EXCLUDED.received_day,"
    " received_agency = EXCLUDED.received_agency, resolved_day = EXCLUDED.resolved_day,"
    " timeliness = EXCLUDED.timeliness, outcome = EXCLUDED.outcome, closed_day = EXCLUDED.closed_day,"
    " closed_kind = EXCLUDED.closed_kind, evaluated = EXCLUDED.evaluated,"
    " updated_sequence = EXCLUDED.updated_sequence", 20};

static const mc_db_statement rollup_add = {
    "statistics_rollup_add",
    "INSERT INTO rollups (agency_code, procedure_code, day, measure, sector_code, value)"
    " VALUES ($1, $2, " DAY_PARAM(3) ", $4, $5, $6::bigint)"
    " ON CONFLICT (agency_code, day, procedure_code, measure)"
    " DO UPDATE SET value = rollups.value + EXCLUDED.value", 6};
/* clang-format on */

static int64_t day_or_none(const PGresult *res, int c)
{
    return mc_db_is_null(res, 0, c) ? STAT_NO_DAY : (int64_t)mc_db_int(res, 0, c);
}

mc_error store_fact_get_for_update(mc_db_conn *conn, const char *dossier_id, struct stat_fact *f)
{
    memset(f, 0, sizeof *f);
    const char *params[1] = {dossier_id};
    PGresult *res = mc_db_exec(conn, &fact_get, params);
    if (res == NULL)
        return mc_db_failure(conn);
    if (PQntuples(res) == 1) {
        f->exists = true;
        snprintf(f->dossier_id, sizeof f->dossier_id, "%s", dossier_id);
        mc_db_copy(f->code, sizeof f->code, res, 0, 0);
        mc_db_copy(f->agency, sizeof f->agency, res, 0, 1);
        mc_db_copy(f->procedure, sizeof f->procedure, res, 0, 2);
        mc_db_copy(f->sector, sizeof f->sector, res, 0, 3);
        mc_db_copy(f->channel, sizeof f->channel, res, 0, 4);
        f->status = (int)mc_db_int(res, 0, 5);
        f->open = mc_db_bool(res, 0, 6);
        f->in_supplement = mc_db_bool(res, 0, 7);
        f->due_day = day_or_none(res, 8);
        f->crossing_day = day_or_none(res, 9);
        f->received_day = day_or_none(res, 10);
        mc_db_copy(f->received_agency, sizeof f->received_agency, res, 0, 11);
        f->resolved_day = day_or_none(res, 12);
        mc_db_copy(f->timeliness, sizeof f->timeliness, res, 0, 13);
        mc_db_copy(f->outcome, sizeof f->outcome, res, 0, 14);
        f->closed_day = day_or_none(res, 15);
        mc_db_copy(f->closed_kind, sizeof f->closed_kind, res, 0, 16);
        f->evaluated = mc_db_bool(res, 0, 17);
        f->sequence = mc_db_int(res, 0, 18);
    }
    PQclear(res);
    return MC_OK;
}

static void add_day(mc_db_params *p, int64_t day)
{
    if (day == STAT_NO_DAY)
        mc_db_add_null(p);
    else
        mc_db_add_int64(p, (long long)day);
}

mc_error store_fact_put(mc_db_conn *conn, const struct stat_fact *f)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, f->dossier_id);
    mc_db_add_text(&p, f->code);
    mc_db_add_text(&p, f->agency);
    mc_db_add_text(&p, f->procedure);
    mc_db_add_text(&p, f->sector);
    mc_db_add_text(&p, f->channel);
    mc_db_add_int64(&p, f->status);
    mc_db_add_bool(&p, f->open);
    mc_db_add_bool(&p, f->in_supplement);
    add_day(&p, f->due_day);
    add_day(&p, f->open ? f->crossing_day : STAT_NO_DAY);
    add_day(&p, f->received_day);
    mc_db_add_text(&p, f->received_agency);
    add_day(&p, f->resolved_day);
    mc_db_add_text(&p, f->timeliness);
    mc_db_add_text(&p, f->outcome);
    add_day(&p, f->closed_day);
    mc_db_add_text(&p, f->closed_kind);
    mc_db_add_bool(&p, f->evaluated);
    mc_db_add_int64(&p, f->sequence);
    PGresult *res = mc_db_exec_params(conn, &fact_put, &p);
    if (res == NULL)
        return mc_db_failure(conn);
    PQclear(res);
    return MC_OK;
}

mc_error store_rollup_add(mc_db_conn *conn, const struct stat_delta *d)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_text(&p, d->agency);
    mc_db_add_text(&p, d->procedure);
    mc_db_add_int64(&p, (long long)d->day);
    mc_db_add_text(&p, stat_measure_name(d->measure));
    mc_db_add_text(&p, d->sector);
    mc_db_add_int64(&p, d->value);
    PGresult *res = mc_db_exec_params(conn, &rollup_add, &p);
    if (res == NULL)
        return mc_db_failure(conn);
    PQclear(res);
    return MC_OK;
}
