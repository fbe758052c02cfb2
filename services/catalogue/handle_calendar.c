/*
 * /api/v1/calendar/{year}, /api/v1/calendar/days/{date} and
 * /api/v1/calendar/due-date: the working-day calendar (days off and extra
 * working days, maintained by system administrators) and the appointment
 * date computed from it with common's deadline engine (calendar.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue.h"
#include "codes.h"
#include "motcua/calendar.h"
#include "procedure_rules.h"
#include "store.h"

/* Vietnam: UTC+07:00 all year (no daylight saving time). */
#define VN_UTC_OFFSET_MIN 420

/* PUT /calendar/days/{date} body, bound into struct day_body. */
struct day_body {
    const char *date;
    const char *kind;
    const char *name;
};
static const struct mc_field day_fields[] = {
    {.name = "date", .type = MC_F_DATE, MC_BIND(struct day_body, date)},
    {.name = "kind", .type = MC_F_STRING, .required = true, .enum_values = catalogue_day_kinds,
     MC_BIND(struct day_body, kind)},
    {.name = "name",
     .type = MC_F_STRING,
     .required = true,
     .max_len = 500,
     .check = catalogue_check_not_blank,
     MC_BIND(struct day_body, name)},
    {0}};

void handle_calendar_year_get(mc_request *req)
{
    int year = 0;
    if (!catalogue_path_year(req, &year))
        return;
    json_t *body = NULL;
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(mc_request_db(req), &conn);
    if (rc == MC_OK) {
        rc = store_calendar_year(conn, year, &body);
        mc_db_release(mc_request_db(req), conn);
    }
    if (rc != MC_OK) {
        mc_reply_error(req, rc, NULL);
        return;
    }
    mc_reply_json_etag(req, 200, body, NULL); /* ETag from the body */
}

void handle_calendar_day_put(mc_request *req)
{
    const char *date = catalogue_path_date(req);
    if (date == NULL)
        return;
    json_t *errors = mc_errors_new();
    struct day_body body = {0};
    mc_json_parse_fields(req->body, day_fields, "", errors, &body);
    const char *body_date = body.date;
    if (body_date != NULL && strcmp(body_date, date) != 0)
        mc_errors_add(errors, "/date", "mismatch",
                      "must equal the date in the URL (or be left out)");
    /* An extra working day only makes sense on a weekend (a worked Saturday);
       a weekday is a working day already. */
    const char *kind = body.kind;
    mc_date d;
    if (kind != NULL && strcmp(kind, "working_day") == 0 && mc_date_parse(date, &d)) {
        int wd = mc_date_weekday(d);
        if (wd != 0 && wd != 6)
            mc_errors_add(errors, "/kind", "not_weekend",
                          "an extra working day must be a Saturday or a Sunday");
    }
    if (!catalogue_no_errors(req, errors))
        return;

    json_t *day = NULL;
    bool created = false;
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(mc_request_db(req), &conn);
    if (rc == MC_OK) {
        rc = store_calendar_put(conn, date, kind, body.name, &day, &created);
        mc_db_release(mc_request_db(req), conn);
    }
    if (rc != MC_OK) {
        mc_reply_error(req, rc, NULL);
        return;
    }
    catalogue_reply_put(req, day, created, "/calendar/days", date);
}

void handle_calendar_day_delete(mc_request *req)
{
    const char *date = catalogue_path_date(req);
    if (date == NULL)
        return;
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(mc_request_db(req), &conn);
    if (rc == MC_OK) {
        rc = store_calendar_delete(conn, date);
        mc_db_release(mc_request_db(req), conn);
    }
    if (rc != MC_OK) {
        mc_reply_error(req, rc, "%s is not listed in the calendar", date);
        return;
    }
    mc_reply_no_content(req);
}

/* ---- due date ----------------------------------------------------------- */

/* The question, once parsed. */
struct due_query {
    int64_t received_at;
    double value;
    mc_time_unit unit;
    bool has_limit;        /* value/unit given directly */
    const char *procedure; /* or take the limit from this procedure */
    const char *case_code; /* NULL: its first case */
    const char *channel;
    const char *agency;
};

/* A time limit value: a plain decimal number 0..3650. */
static bool parse_value(const char *s, double *out)
{
    if (s == NULL || *s == '\0' || strlen(s) > 32)
        return false;
    for (const char *c = s; *c != '\0'; c++)
        if (!((*c >= '0' && *c <= '9') || *c == '.'))
            return false;
    char *end = NULL;
    double v = strtod(s, &end);
    if (end == NULL || *end != '\0' || !isfinite(v) || v < 0 || v > 3650)
        return false;
    *out = v;
    return true;
}

static bool is_case_code(const char *s)
{
    return catalogue_is_case_code(s);
}

static bool is_channel(const char *s)
{
    return catalogue_in_list(catalogue_channels, s);
}

static const char *checked_param(mc_request *req, const char *name, bool (*valid)(const char *),
                                 const char *message, json_t *errors)
{
    const char *v = mc_query_str(req, name, 64, errors);
    if (v != NULL && !valid(v)) {
        mc_errors_add_param(errors, name, "format", message);
        return NULL;
    }
    return v;
}

/* Local calendar year of an instant at +07:00. */
static int local_year(int64_t t)
{
    int64_t local = t + VN_UTC_OFFSET_MIN * 60;
    int64_t days = local / 86400 - (local % 86400 < 0);
    return mc_date_from_days(days).year;
}

/* Parse and cross-check the query; every problem goes to errors. */
static void parse_due_query(mc_request *req, struct due_query *q, json_t *errors)
{
    memset(q, 0, sizeof *q);
    const char *received = mc_query_str(req, "received_at", 64, errors);
    if (received == NULL) {
        if (mc_query_param(req, "received_at") == NULL)
            mc_errors_add_param(errors, "received_at", "required", "is required");
    } else if (mc_rfc3339_parse(received, &q->received_at) != 0 ||
               local_year(q->received_at) < 1900 || local_year(q->received_at) > 2200) {
        mc_errors_add_param(errors, "received_at", "format",
                            "must be an RFC 3339 date-time with offset, in years 1900..2200");
    }

    const char *value = mc_query_str(req, "value", 32, errors);
    const char *unit = mc_query_str(req, "unit", 32, errors);
    q->procedure = checked_param(req, "procedure", catalogue_is_procedure_code,
                                 "must be a procedure code like 1.001193", errors);
    q->case_code = checked_param(req, "case", is_case_code, "must be a case code", errors);
    q->channel = checked_param(req, "channel", is_channel,
                               "must be one of: online in_person postal", errors);
    q->agency = checked_param(req, "agency", catalogue_is_agency_code,
                              "must be an agency code like 000.00.00.H56", errors);
    bool by_procedure = mc_query_param(req, "procedure") != NULL;
    bool has_value = mc_query_param(req, "value") != NULL;
    bool has_unit = mc_query_param(req, "unit") != NULL;

    if (by_procedure) {
        if (has_value)
            mc_errors_add_param(errors, "value", "conflict",
                                "give either value and unit, or procedure, not both");
        if (has_unit)
            mc_errors_add_param(errors, "unit", "conflict",
                                "give either value and unit, or procedure, not both");
        if (q->channel == NULL)
            q->channel = "online";
        return;
    }
    if (mc_query_param(req, "case") != NULL)
        mc_errors_add_param(errors, "case", "conflict", "is only meaningful with procedure");
    if (mc_query_param(req, "channel") != NULL)
        mc_errors_add_param(errors, "channel", "conflict", "is only meaningful with procedure");
    if (!has_value)
        mc_errors_add_param(errors, "value", "required", "is required (or give procedure)");
    else if (value != NULL && !parse_value(value, &q->value))
        mc_errors_add_param(errors, "value", "format", "must be a number from 0 to 3650");
    if (!has_unit)
        mc_errors_add_param(errors, "unit", "required", "is required (or give procedure)");
    else if (unit != NULL && mc_time_unit_parse(unit, &q->unit) != 0)
        mc_errors_add_param(errors, "unit", "enum",
                            "must be one of: working_days calendar_days working_hours");
    else if (unit != NULL && q->unit == MC_UNIT_CALENDAR_DAYS && floor(q->value) != q->value)
        mc_errors_add_param(errors, "value", "not_integral",
                            "a time limit in calendar days must be a whole number");
    q->has_limit = true;
}

/* The time limit of the procedure's current version (case, channel). */
static mc_error procedure_limit(mc_db_conn *conn, struct due_query *q)
{
    struct store_version v;
    mc_error rc = store_procedure_current(conn, q->procedure, &v);
    if (rc != MC_OK)
        return rc;
    rc = mc_catalogue_time_limit(v.body, q->case_code, q->channel, &q->value, &q->unit);
    store_version_clear(&v);
    return rc;
}

/* Office hours and cutoff of the agency, if one was named. */
static mc_error agency_hours(mc_db_conn *conn, const char *agency, mc_calendar *cal)
{
    if (agency == NULL)
        return MC_OK;
    json_t *a = NULL;
    long long revision = 0;
    mc_error rc = store_agency_get(conn, agency, &a, &revision);
    if (rc != MC_OK)
        return rc;
    bool ok = mc_catalogue_calendar_set_hours(cal, json_object_get(a, "office_hours"),
                                              mc_json_str(a, "same_day_cutoff", NULL));
    json_decref(a);
    return ok ? MC_OK : MC_ERR_INTERNAL;
}

static json_t *number_json(double v)
{
    if (floor(v) == v && fabs(v) < 1e15)
        return json_integer((json_int_t)v);
    return json_real(v);
}

void handle_calendar_due_date(mc_request *req)
{
    json_t *errors = mc_errors_new();
    struct due_query q;
    parse_due_query(req, &q, errors);
    if (!mc_query_ok(req, errors))
        return;

    /* One connection for the three reads. */
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(mc_request_db(req), &conn);
    if (rc != MC_OK) {
        mc_reply_error(req, rc, NULL);
        return;
    }
    if (!q.has_limit)
        rc = procedure_limit(conn, &q);
    mc_calendar cal;
    mc_calendar_init_default(&cal);
    if (rc == MC_OK)
        rc = agency_hours(conn, q.agency, &cal);
    if (rc != MC_OK) {
        mc_db_release(mc_request_db(req), conn);
        mc_reply_error(req, rc, NULL);
        return;
    }

    /* Days listed from the year before the reception (a dossier received on
       1 January may start on a day off listed under the old year) to two
       years after, plus about one year per 250 days the limit spans. */
    double span_days = q.unit == MC_UNIT_WORKING_HOURS ? q.value / 8.0 : q.value;
    int year = local_year(q.received_at);
    int last_year = year + 2 + (int)(span_days / 250.0);
    char from[24], to[24];
    snprintf(from, sizeof from, "%04d-01-01", year - 1);
    snprintf(to, sizeof to, "%04d-12-31", last_year > 9999 ? 9999 : last_year);
    mc_date *days_off = NULL, *working = NULL;
    size_t n_off = 0, n_working = 0;
    rc = store_calendar_range(conn, from, to, &days_off, &n_off, &working, &n_working);
    mc_db_release(mc_request_db(req), conn);
    if (rc != MC_OK) {
        mc_reply_error(req, rc, NULL);
        return;
    }
    cal.days_off = days_off;
    cal.n_days_off = n_off;
    cal.extra_working_days = working;
    cal.n_extra_working_days = n_working;
    cal.utc_offset_min = VN_UTC_OFFSET_MIN;

    int64_t due = 0;
    int64_t start = mc_calendar_clock_start(&cal, q.received_at);
    int failed = mc_calendar_due(&cal, q.received_at, q.value, q.unit, NULL, 0, &due);
    free(days_off);
    free(working);
    if (failed != 0 || start == MC_TIME_INVALID) {
        json_t *errs = mc_errors_new();
        mc_errors_add_param(errs, "received_at", "no_due_date",
                            "no due date can be computed for this reception time and limit");
        mc_reply_errors(req, MC_ERR_BAD_QUERY, errs);
        return;
    }
    char received_text[32], start_text[32], due_text[32];
    mc_rfc3339_format(q.received_at, VN_UTC_OFFSET_MIN, received_text);
    mc_rfc3339_format(start, VN_UTC_OFFSET_MIN, start_text);
    mc_rfc3339_format(due, VN_UTC_OFFSET_MIN, due_text);
    json_t *body = json_pack("{ss ss ss s{so ss} so}", "received_at", received_text, "clock_start",
                             start_text, "due_at", due_text, "time_limit", "value",
                             number_json(q.value), "unit", mc_time_unit_name(q.unit), "agency",
                             q.agency != NULL ? json_string(q.agency) : json_null());
    if (body == NULL) {
        mc_reply_error(req, MC_ERR_INTERNAL, NULL);
        return;
    }
    mc_reply_json(req, 200, body);
}
