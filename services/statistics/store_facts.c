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
    " updated_sequence, fee_paid"
    " FROM facts WHERE dossier_id = $1::uuid FOR UPDATE", 1};

/* The fact comes as one JSON object (more members than a statement takes
   parameters): days as day numbers, "" and null for none. */
static const mc_db_statement fact_put = {
    "statistics_fact_put",
    "INSERT INTO facts (dossier_id, code, agency_code, procedure_code, sector_code, channel, status,"
    " is_open, in_supplement, due_day, crossing_day, received_day, received_agency, resolved_day,"
    " timeliness, outcome, closed_day, closed_kind, evaluated, updated_sequence, fee_paid)"
    " SELECT f.dossier_id, nullif(f.code, ''), f.agency_code, f.procedure_code, f.sector_code,"
    " f.channel, f.status, f.is_open, f.in_supplement, DATE '1970-01-01' + f.due_day,"
    " DATE '1970-01-01' + f.crossing_day, DATE '1970-01-01' + f.received_day,"
    " nullif(f.received_agency, ''), DATE '1970-01-01' + f.resolved_day, nullif(f.timeliness, ''),"
    " nullif(f.outcome, ''), DATE '1970-01-01' + f.closed_day, nullif(f.closed_kind, ''),"
    " f.evaluated, f.updated_sequence, f.fee_paid"
    " FROM jsonb_to_record($1::jsonb) AS f(dossier_id uuid, code text, agency_code text,"
    " procedure_code text, sector_code text, channel text, status smallint, is_open boolean,"
    " in_supplement boolean, due_day integer, crossing_day integer, received_day integer,"
    " received_agency text, resolved_day integer, timeliness text, outcome text, closed_day integer,"
    " closed_kind text, evaluated boolean, updated_sequence bigint, fee_paid boolean)"
    " ON CONFLICT (dossier_id) DO UPDATE SET code = EXCLUDED.code, agency_code = EXCLUDED.agency_code,"
    " procedure_code = EXCLUDED.procedure_code, sector_code = EXCLUDED.sector_code,"
    " channel = EXCLUDED.channel, status = EXCLUDED.status, is_open = EXCLUDED.is_open,"
    " in_supplement = EXCLUDED.in_supplement, due_day = EXCLUDED.due_day,"
    " crossing_day = EXCLUDED.crossing_day, received_day = EXCLUDED.received_day,"
    " received_agency = EXCLUDED.received_agency, resolved_day = EXCLUDED.resolved_day,"
    " timeliness = EXCLUDED.timeliness, outcome = EXCLUDED.outcome, closed_day = EXCLUDED.closed_day,"
    " closed_kind = EXCLUDED.closed_kind, evaluated = EXCLUDED.evaluated,"
    " updated_sequence = EXCLUDED.updated_sequence, fee_paid = EXCLUDED.fee_paid", 1};

/* The daily counter and its agency day and month (migration 0004) in one
   statement: the three always move together. */
static const mc_db_statement rollup_add = {
    "statistics_rollup_add",
    "WITH by_procedure AS (INSERT INTO rollups (agency_code, procedure_code, day, measure, sector_code, value)"
    " VALUES ($1, $2, " DAY_PARAM(3) ", $4, $5, $6::bigint)"
    " ON CONFLICT (agency_code, day, procedure_code, measure)"
    " DO UPDATE SET value = rollups.value + EXCLUDED.value),"
    " by_day AS (INSERT INTO agency_days (agency_code, day, measure, value)"
    " VALUES ($1, " DAY_PARAM(3) ", $4, $6::bigint) ON CONFLICT (agency_code, day, measure)"
    " DO UPDATE SET value = agency_days.value + EXCLUDED.value)"
    " INSERT INTO agency_months (agency_code, month, measure, value)"
    " VALUES ($1, date_trunc('month', " DAY_PARAM(3) "::timestamp)::date, $4, $6::bigint)"
    " ON CONFLICT (agency_code, month, measure) DO UPDATE SET value = agency_months.value + EXCLUDED.value", 6};

static const mc_db_statement applied_until_advance = {
    "statistics_applied_until_advance",
    "INSERT INTO applied_until (feed, occurred_at) VALUES ('dossier', to_timestamp($1::bigint))"
    " ON CONFLICT (feed) DO UPDATE SET occurred_at = greatest(applied_until.occurred_at, EXCLUDED.occurred_at)", 1};
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
        f->fee_paid = mc_db_bool(res, 0, 19);
    }
    PQclear(res);
    return MC_OK;
}

static json_t *day_json(int64_t day)
{
    return day == STAT_NO_DAY ? json_null() : json_integer((json_int_t)day);
}

mc_error store_fact_put(mc_db_conn *conn, const struct stat_fact *f)
{
    json_t *row = json_pack(
        "{ss ss ss ss ss ss si sb sb so so so ss so ss ss so ss sb sI sb}", "dossier_id", f->dossier_id,
        "code", f->code, "agency_code", f->agency, "procedure_code", f->procedure, "sector_code",
        f->sector, "channel", f->channel, "status", f->status, "is_open", f->open, "in_supplement",
        f->in_supplement, "due_day", day_json(f->due_day), "crossing_day",
        day_json(f->open ? f->crossing_day : STAT_NO_DAY), "received_day", day_json(f->received_day),
        "received_agency", f->received_agency, "resolved_day", day_json(f->resolved_day),
        "timeliness", f->timeliness, "outcome", f->outcome, "closed_day", day_json(f->closed_day),
        "closed_kind", f->closed_kind, "evaluated", f->evaluated, "updated_sequence",
        (json_int_t)f->sequence, "fee_paid", f->fee_paid);
    if (row == NULL)
        return MC_ERR_INTERNAL;
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_json(&p, row);
    json_decref(row);
    PGresult *res = mc_db_exec_params(conn, &fact_put, &p);
    mc_db_params_clear(&p);
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

mc_error store_applied_until_advance(mc_db_conn *conn, int64_t at)
{
    mc_db_params p = MC_DB_PARAMS_INIT;
    mc_db_add_int64(&p, (long long)at);
    PGresult *res = mc_db_exec_params(conn, &applied_until_advance, &p);
    mc_db_params_clear(&p);
    if (res == NULL)
        return mc_db_failure(conn);
    PQclear(res);
    return MC_OK;
}
