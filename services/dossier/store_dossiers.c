/*
 * Store: the dossiers table and its code counters.
 *
 * A dossier is read as one row into struct dossier (row_to_dossier) and
 * written back whole by store_dossier_save, guarded by its revision; the
 * workflow logic in between is C, not SQL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deadlines.h"
#include "store.h"
#include "workflow.h"

/* clang-format off */
#define EPOCH(col) "floor(extract(epoch FROM " col "))::bigint"
#define AT(n) "CASE WHEN $" #n "::bigint IS NULL THEN NULL ELSE to_timestamp($" #n "::bigint) END"

/*
 * The columns of a dossier row, in select order, one row each:
 * X(kind, member of struct dossier, full select expression, list select
 * expression), SEP between rows. The select lists, their count and the
 * decoding (row_to_dossier) all come from here. Lists (SUMMARY_COLUMNS)
 * read only what a list item (dossier_summary_json) shows; every other
 * column is NULL in its place. Each column a list reads costs PostgreSQL its
 * output (the times go through numeric): the 47 columns of the full row cost
 * a list more than its index scan (tests/bench/README.md, issue 14). Kinds:
 * TEXT (into a char array), INT, LONG, DOUBLE (from text), JSON (owned json_t *), INT_OR_NONE
 * and LONG_OR_NONE (-1 for NULL), TIME (epoch seconds, 0 for NULL).
 */
#define DOSSIER_COLUMN_TABLE(X, SEP)                                                             \
    X(TEXT, id, "id::text", "id::text") SEP                                                       \
    X(TEXT, code, "code", "code") SEP                                                             \
    X(INT, status, "status", "status") SEP                                                        \
    X(LONG, revision, "revision", "revision") SEP                                                 \
    X(TEXT, procedure_code, "procedure_code", "procedure_code") SEP                               \
    X(INT, procedure_version, "procedure_version", "procedure_version") SEP                       \
    X(TEXT, procedure_name, "procedure_name", "procedure_name") SEP                               \
    X(TEXT, sector_code, "sector_code", "NULL") SEP                                               \
    X(TEXT, case_code, "case_code", "NULL") SEP                                                   \
    X(TEXT, channel, "channel", "channel") SEP                                                    \
    X(DOUBLE, limit_value, "time_limit_value", "NULL") SEP                                        \
    X(TEXT, limit_unit, "time_limit_unit", "NULL") SEP                                            \
    X(TEXT, supplement_clock, "supplement_clock", "NULL") SEP                                     \
    X(TEXT, agency_code, "agency_code", "agency_code") SEP                                        \
    X(TEXT, handling_agency, "handling_agency", "handling_agency") SEP                            \
    X(JSON, transfer_chain, "array_to_json(transfer_chain)::text", "NULL") SEP                    \
    X(TEXT, owner_sub, "owner_sub", "NULL") SEP                                                   \
    X(TEXT, filed_by_sub, "filed_by_sub", "NULL") SEP                                             \
    X(TEXT, filed_by_role, "filed_by_role", "NULL") SEP                                           \
    X(JSON, applicant, "applicant::text",                                                         \
      "json_build_object('full_name', applicant->'full_name')::text") SEP                         \
    X(JSON, representative, "representative::text", "NULL") SEP                                   \
    X(JSON, form_data, "form_data::text", "NULL") SEP                                             \
    X(JSON, delivery, "delivery::text", "NULL") SEP                                               \
    X(INT_OR_NONE, step_index, "step_index", "NULL") SEP                                          \
    X(TEXT, assignee_sub, "assignee_sub", "assignee_sub") SEP                                     \
    X(INT_OR_NONE, previous_status, "previous_status", "NULL") SEP                                \
    X(TEXT, outcome, "outcome", "NULL") SEP                                                       \
    X(JSON, result, "result::text", "NULL") SEP                                                   \
    X(JSON, missing_items, "missing_items::text", "NULL") SEP                                     \
    X(LONG_OR_NONE, fee_amount, "fee_amount", "NULL") SEP                                         \
    X(TIME, created_at, EPOCH("created_at"), "NULL") SEP                                          \
    X(TIME, updated_at, EPOCH("updated_at"), "NULL") SEP                                          \
    X(TIME, submitted_at, EPOCH("submitted_at"), EPOCH("submitted_at")) SEP                       \
    X(TIME, received_at, EPOCH("received_at"), "NULL") SEP                                        \
    X(TIME, clock_start_at, EPOCH("clock_start_at"), "NULL") SEP                                  \
    X(TIME, due_at, EPOCH("due_at"), EPOCH("due_at")) SEP                                         \
    X(TIME, appointment_at, EPOCH("appointment_at"), "NULL") SEP                                  \
    X(TIME, paused_since, EPOCH("paused_since"), "NULL") SEP                                      \
    X(TIME, supplement_due_at, EPOCH("supplement_due_at"), "NULL") SEP                            \
    X(TIME, decided_at, EPOCH("decided_at"), EPOCH("decided_at")) SEP                             \
    X(TIME, returned_at, EPOCH("returned_at"), "NULL") SEP                                        \
    X(TIME, finished_at, EPOCH("finished_at"), "NULL") SEP                                        \
    X(TIME, overdue_flagged_at, EPOCH("overdue_flagged_at"), "NULL") SEP                          \
    X(JSON, pauses, "pauses::text", "NULL") SEP                                                   \
    X(INT_OR_NONE, withdrawal_from_status, "withdrawal_from_status", "NULL") SEP                  \
    X(TIME, due_soon_flagged_at, EPOCH("due_soon_flagged_at"), "NULL")

#define FULL_EXPRESSION(kind, member, full, summary) full
#define SUMMARY_EXPRESSION(kind, member, full, summary) summary
#define COUNT_ONE(kind, member, full, summary) 1
#define DOSSIER_COLUMNS DOSSIER_COLUMN_TABLE(FULL_EXPRESSION, ", ")
#define SUMMARY_COLUMNS DOSSIER_COLUMN_TABLE(SUMMARY_EXPRESSION, ", ")
/* The number of columns: where a list's sort key follows them. */
#define N_DOSSIER_COLUMNS (DOSSIER_COLUMN_TABLE(COUNT_ONE, +))
#define MICROS(col) "(extract(epoch FROM " col ") * 1000000)::bigint"
#define BEFORE_MICROS(n) "('epoch'::timestamptz + $" #n "::bigint * interval '1 microsecond')"

static const mc_db_statement dossier_insert = {
    "dossier_insert",
    "INSERT INTO dossiers (procedure_code, procedure_version, procedure_name, sector_code,"
    " case_code, channel, time_limit_value, time_limit_unit, supplement_clock, agency_code,"
    " handling_agency, owner_sub, filed_by_sub, filed_by_role, applicant, representative,"
    " form_data, delivery)"
    " VALUES ($1, $2::integer, $3, $4, $5, $6, $7::double precision, $8, $9, $10, $10, $11, $12,"
    " $13, $14::jsonb, $15::jsonb, $16::jsonb, $17::jsonb)"
    " RETURNING " DOSSIER_COLUMNS,
    17};

static const mc_db_statement dossier_by_id = {
    "dossier_by_id", "SELECT " DOSSIER_COLUMNS " FROM dossiers WHERE id = $1::uuid", 1};
static const mc_db_statement dossier_by_id_locked = {
    "dossier_by_id_locked", "SELECT " DOSSIER_COLUMNS " FROM dossiers WHERE id = $1::uuid FOR UPDATE",
    1};
static const mc_db_statement dossier_by_code = {
    "dossier_by_code", "SELECT " DOSSIER_COLUMNS " FROM dossiers WHERE code = $1", 1};
static const mc_db_statement dossier_by_code_locked = {
    "dossier_by_code_locked", "SELECT " DOSSIER_COLUMNS " FROM dossiers WHERE code = $1 FOR UPDATE",
    1};

static const mc_db_statement dossier_save = {
    "dossier_save",
    "UPDATE dossiers SET code = $3, status = $4::smallint, handling_agency = $5,"
    " transfer_chain = ARRAY(SELECT json_array_elements_text($6::json)),"
    " applicant = $7::jsonb, representative = $8::jsonb, form_data = $9::jsonb,"
    " delivery = $10::jsonb, step_index = $11::integer, assignee_sub = $12,"
    " previous_status = $13::smallint, outcome = $14, result = $15::jsonb,"
    " missing_items = $16::jsonb, fee_amount = $17::bigint,"
    " submitted_at = " AT(18) ", received_at = " AT(19) ", clock_start_at = " AT(20) ","
    " due_at = " AT(21) ", appointment_at = " AT(22) ", paused_since = " AT(23) ","
    " supplement_due_at = " AT(24) ", decided_at = " AT(25) ", returned_at = " AT(26) ","
    " finished_at = " AT(27) ", pauses = $28::jsonb, withdrawal_from_status = $29::smallint,"
    " overdue_flagged_at = CASE WHEN $30::boolean THEN NULL ELSE overdue_flagged_at END,"
    " due_soon_flagged_at = CASE WHEN $31::boolean THEN NULL ELSE due_soon_flagged_at END,"
    " revision = revision + 1, updated_at = now()"
    " WHERE id = $1::uuid AND revision = $2::bigint"
    " RETURNING revision, " EPOCH("updated_at"),
    31};

static const mc_db_statement code_sequence = {
    "dossier_code_sequence",
    "INSERT INTO dossier_code_counters (agency_code, day, last_value) VALUES ($1, $2::date, 1)"
    " ON CONFLICT (agency_code, day) DO UPDATE SET last_value = dossier_code_counters.last_value + 1"
    " RETURNING last_value",
    2};

#define LIST_FILTERS_BUT_OVERDUE                                                                 \
    " AND ($2::smallint IS NULL OR status = $2::smallint)"                                      \
    " AND ($3::text IS NULL OR procedure_code = $3)"                                            \
    " AND ($4::integer IS NULL OR step_index = $4::integer)"                                    \
    " AND ($5::text IS NULL OR assignee_sub = $5)"                                              \
    " AND ($6::text IS NULL OR channel = $6)"                                                   \
    " AND ($7::bigint IS NULL OR due_at < to_timestamp($7::bigint))"
/* The open statuses are the literal WF_OPEN_STATUSES_SQL (workflow.h, checked
   against workflow_status_is_open() by a unit test): the partial index
   dossiers_inbox_open_due is used only when the query repeats its predicate. */
#define LIST_FILTERS                                                                             \
    LIST_FILTERS_BUT_OVERDUE                                                                     \
    " AND ($8::bigint IS NULL OR (status IN (" WF_OPEN_STATUSES_SQL ") AND due_at < to_timestamp($8::bigint)))"

/* The lists' filters are optional ("$n IS NULL OR ..."), so each call must be
   planned with its own values: a generic plan would not use the index that
   fits this request's filters. They are still prepared statements (mc_db_exec),
   so PostgreSQL parses and analyses them once per connection, which cost more
   than planning (tests/bench/README.md, issue 14), and plans each call anew:
   plan_cache_mode "auto" keeps a generic plan only when it costs no more than
   the custom ones, and a generic plan of these statements can use no index
   condition (every filter may be NULL) and must expect a tenth of the agency
   for its unknown LIMIT, so at any realistic size it costs thousands of times
   more (EXPLAIN EXECUTE: a parallel sequential scan at 126,000 against 100 for
   the custom plan at 1.4 M dossiers). ORDER BY names "dossiers.id": a bare
   "id" there would be the text output column. */
static const mc_db_statement list_inbox = {
    "dossier_list_inbox",
    "SELECT " SUMMARY_COLUMNS ", " MICROS("submitted_at") " FROM dossiers"
    " WHERE " WF_FILED_STATUSES_SQL " AND handling_agency = $1" LIST_FILTERS
    " AND ($9::bigint IS NULL OR (submitted_at, id) < (" BEFORE_MICROS(9) ", $10::uuid))"
    " ORDER BY submitted_at DESC, dossiers.id DESC LIMIT $11::integer",
    11};

/* The lists asked for most (a citizen's own dossiers; the whole inbox, and
   the filter combinations of inbox_shapes below), each as its own prepared
   statement: with no optional filters its cached generic plan is the right
   plan, and planning a list costs PostgreSQL more than running it. The
   first page passes a cursor past every row (INBOX_FIRST_PAGE_*,
   DEADLINE_FIRST_PAGE_*), so the keyset is always an index condition. */
#define INBOX_FIRST_PAGE_MICROS "253402300799000000" /* 9999-12-31T23:59:59Z */
#define INBOX_FIRST_PAGE_ID "ffffffff-ffff-ffff-ffff-ffffffffffff"
/* A prepared list: its rows after the cursor ($2 micros, $3 id) by `col`,
   newest first, $4 rows.
   The page is cut twice: inside, at the largest page the API serves
   (LIST_BOUND, a constant), and outside at $4. PostgreSQL keeps a prepared
   statement's generic plan only when it is priced no higher than the custom
   ones, and prices an unknown "LIMIT $4" at a tenth of the agency's rows:
   with "LIMIT $4" alone it planned every call anew (pg_prepared_statements:
   0 generic plans), which cost more than running the list. With the
   constant bound inside, the generic plan is priced at its page and kept
   after five calls. The outer LIMIT pulls only $4 rows from the ordered
   subquery (a subquery scan under a LIMIT keeps its rows' order), so the
   inner bound reads no more rows. */
#define LIST_BOUND "101" /* DOSSIER_PAGE_MAX + 1: a page and its "is there more" row */
_Static_assert(DOSSIER_PAGE_MAX + 1 == 101, "LIST_BOUND is a page of DOSSIER_PAGE_MAX and one more row");
#define NEWEST_FIRST(col, where)                                                                 \
    "SELECT * FROM (SELECT " SUMMARY_COLUMNS ", " MICROS(col) " FROM dossiers WHERE " where      \
    " AND (" col ", id) < (" BEFORE_MICROS(2) ", $3::uuid)"                                      \
    " ORDER BY " col " DESC, dossiers.id DESC LIMIT " LIST_BOUND ") page LIMIT $4::integer"
static const mc_db_statement list_inbox_all = {
    "dossier_list_inbox_all", NEWEST_FIRST("submitted_at", WF_FILED_STATUSES_SQL " AND handling_agency = $1"), 4};
static const mc_db_statement list_inbox_status = {
    "dossier_list_inbox_status",
    NEWEST_FIRST("submitted_at", WF_FILED_STATUSES_SQL " AND handling_agency = $1 AND status = $5::smallint"), 5};
static const mc_db_statement list_owner_all = {
    "dossier_list_owner_all", NEWEST_FIRST("created_at", "owner_sub = $1"), 4};

/* The deadline queue's prepared lists: rows after the cursor ($2 micros, $3
   id) by `col`, earliest first, $4 rows, cut twice as in NEWEST_FIRST. */
#define EARLIEST_FIRST(col, where)                                                               \
    "SELECT * FROM (SELECT " SUMMARY_COLUMNS ", " MICROS(col) " FROM dossiers WHERE " where      \
    " AND (" col ", id) > (" BEFORE_MICROS(2) ", $3::uuid)"                                      \
    " ORDER BY " col ", dossiers.id LIMIT " LIST_BOUND ") page LIMIT $4::integer"
#define DEADLINE_FIRST_PAGE_MICROS "-62135596800000000" /* 0001-01-01T00:00:00Z */
#define DEADLINE_FIRST_PAGE_ID "00000000-0000-0000-0000-000000000000"
#define INBOX_FILED WF_FILED_STATUSES_SQL " AND handling_agency = $1"
#define INBOX_OPEN "handling_agency = $1 AND status IN (" WF_OPEN_STATUSES_SQL ") AND due_at IS NOT NULL"

/* The other filter combinations staff use most (tests/bench/dossier), each a
   prepared list of its own with a generic plan that fits every value: each
   reads one index in the list's order (status and channel:
   dossiers_inbox_status; assignee: dossiers_assignee; the deadline queue:
   dossiers_inbox_open_due; overdue alone: list_inbox_overdue_all below).
   Their filters' parameters follow $4 in the order of enum list_filter
   (inbox_shapes, after the statements). Other combinations use the
   statements with optional filters below, planned per call. */
enum list_filter {
    LF_STATUS = 1 << 0,
    LF_PROCEDURE = 1 << 1,
    LF_ASSIGNEE = 1 << 2,
    LF_CHANNEL = 1 << 3,
    LF_OVERDUE = 1 << 4,
};
static const mc_db_statement list_inbox_status_channel = {
    "dossier_list_inbox_status_channel",
    NEWEST_FIRST("submitted_at", INBOX_FILED " AND status = $5::smallint AND channel = $6"), 6};
static const mc_db_statement list_inbox_status_procedure = {
    "dossier_list_inbox_status_procedure",
    NEWEST_FIRST("submitted_at", INBOX_FILED " AND status = $5::smallint AND procedure_code = $6"), 6};
static const mc_db_statement list_inbox_assignee = {
    "dossier_list_inbox_assignee", NEWEST_FIRST("submitted_at", INBOX_FILED " AND assignee_sub = $5"), 5};
static const mc_db_statement list_inbox_due_all = {
    "dossier_list_inbox_due_all", EARLIEST_FIRST("due_at", INBOX_OPEN), 4};
static const mc_db_statement list_inbox_due_overdue = {
    "dossier_list_inbox_due_overdue",
    EARLIEST_FIRST("due_at", INBOX_OPEN " AND due_at < to_timestamp($5::bigint)"), 5};

/* The overdue filter, newest first. Overdue dossiers are the older open
   ones, so walking the inbox from the newest would pass over every open
   dossier not yet due (most of them: 6,122 index entries for a page at
   1.42 M dossiers). The overdue ones are split in two by the watcher's flag
   (migration 0010), a partition only: each half checks the due date itself,
   so the answer is the same whatever the watcher has flagged yet.
    - flagged: walked newest first from dossiers_inbox_overdue_flagged, whose
      entries are (nearly) all past due: a page reads about a page;
    - not flagged (just past due, or in a status the watcher does not flag):
      the overdue range of dossiers_inbox_unflagged_due, sorted. OFFSET 0
      keeps the planner from walking dossiers_inbox for it instead (it
      expects thousands of unflagged overdue rows, having no statistics on the
      pair: 12 ms against 0.25 ms).
   Both read index entries only; the two pages are merged (a merge append of
   two ordered inputs) and only the page's rows are read from the table. The
   overdue condition is not repeated from LIST_FILTERS: counted twice, it
   made the planner expect a handful of rows and pick another index. */
#define OVERDUE_HALF(flag, after)                                                                \
    "SELECT submitted_at, id FROM dossiers"                                                      \
    " WHERE handling_agency = $1 AND status IN (" WF_OPEN_STATUSES_SQL ")"                       \
    " AND overdue_flagged_at " flag " AND due_at < to_timestamp($8::bigint)"                    \
    LIST_FILTERS_BUT_OVERDUE " AND ($9::bigint IS NULL OR (submitted_at, id) < ("               \
    BEFORE_MICROS(9) ", $10::uuid))" after
static const mc_db_statement list_inbox_overdue = {
    "dossier_list_inbox_overdue",
    "SELECT " SUMMARY_COLUMNS ", " MICROS("submitted_at") " FROM dossiers WHERE id IN"
    " (SELECT id FROM ("
    "   (" OVERDUE_HALF("IS NOT NULL", " ORDER BY submitted_at DESC, id DESC LIMIT $11::integer") ")"
    "   UNION ALL"
    "   (SELECT submitted_at, id FROM ("
    OVERDUE_HALF("IS NULL", " OFFSET 0") ") unflagged"
    "    ORDER BY submitted_at DESC, id DESC LIMIT $11::integer)"
    "  ) overdue ORDER BY submitted_at DESC, id DESC LIMIT $11::integer)"
    " ORDER BY submitted_at DESC, dossiers.id DESC",
    11};

/* The overdue filter alone, newest first: list_inbox_overdue without the
   optional filters, in the parameters of inbox_shapes (the cursor $2 $3,
   $4 rows, now $5), each half cut at LIST_BOUND so that its generic plan is
   priced right and kept. */
#define OVERDUE_HALF_PAGE(flag)                                                                  \
    "SELECT submitted_at, id FROM dossiers"                                                      \
    " WHERE handling_agency = $1 AND status IN (" WF_OPEN_STATUSES_SQL ")"                       \
    " AND overdue_flagged_at " flag " AND due_at < to_timestamp($5::bigint)"                    \
    " AND (submitted_at, id) < (" BEFORE_MICROS(2) ", $3::uuid)"
static const mc_db_statement list_inbox_overdue_all = {
    "dossier_list_inbox_overdue_all",
    "SELECT " SUMMARY_COLUMNS ", " MICROS("submitted_at") " FROM dossiers WHERE id IN"
    " (SELECT id FROM ("
    "   (" OVERDUE_HALF_PAGE("IS NOT NULL") " ORDER BY submitted_at DESC, id DESC LIMIT " LIST_BOUND ")"
    "   UNION ALL"
    "   (SELECT submitted_at, id FROM (" OVERDUE_HALF_PAGE("IS NULL") " OFFSET 0) unflagged"
    "    ORDER BY submitted_at DESC, id DESC LIMIT " LIST_BOUND ")"
    "  ) overdue ORDER BY submitted_at DESC, id DESC LIMIT $4::integer)"
    " ORDER BY submitted_at DESC, dossiers.id DESC",
    5};

struct list_shape {
    unsigned filters; /* enum list_filter */
    bool by_due;
    const mc_db_statement *statement;
};
static const struct list_shape inbox_shapes[] = {
    {0, false, &list_inbox_all},
    {LF_STATUS, false, &list_inbox_status},
    {LF_STATUS | LF_CHANNEL, false, &list_inbox_status_channel},
    {LF_STATUS | LF_PROCEDURE, false, &list_inbox_status_procedure},
    {LF_ASSIGNEE, false, &list_inbox_assignee},
    {LF_OVERDUE, false, &list_inbox_overdue_all},
    {0, true, &list_inbox_due_all},
    {LF_OVERDUE, true, &list_inbox_due_overdue},
};

/* The deadline queue: open dossiers by due date, then id (every open status
   has a due date: it is set at reception). Overdue is only "due_at < $8"
   here: the open statuses are already the statement's (repeated, the
   planner would count them twice, as in list_inbox_overdue). */
static const mc_db_statement list_inbox_by_due = {
    "dossier_list_inbox_by_due",
    "SELECT " SUMMARY_COLUMNS ", " MICROS("due_at") " FROM dossiers"
    " WHERE handling_agency = $1 AND status IN (" WF_OPEN_STATUSES_SQL ") AND due_at IS NOT NULL"
    LIST_FILTERS_BUT_OVERDUE " AND ($8::bigint IS NULL OR due_at < to_timestamp($8::bigint))"
    " AND ($9::bigint IS NULL OR (due_at, id) > (" BEFORE_MICROS(9) ", $10::uuid))"
    " ORDER BY due_at, dossiers.id LIMIT $11::integer",
    11};

static const mc_db_statement list_owner = {
    "dossier_list_owner",
    "SELECT " SUMMARY_COLUMNS ", " MICROS("created_at") " FROM dossiers"
    " WHERE owner_sub = $1" LIST_FILTERS
    " AND ($9::bigint IS NULL OR (created_at, id) < (" BEFORE_MICROS(9) ", $10::uuid))"
    " ORDER BY created_at DESC, dossiers.id DESC LIMIT $11::integer",
    11};
/* clang-format on */

void dossier_clear(struct dossier *d)
{
    json_decref(d->transfer_chain);
    json_decref(d->applicant);
    json_decref(d->representative);
    json_decref(d->form_data);
    json_decref(d->delivery);
    json_decref(d->result);
    json_decref(d->missing_items);
    json_decref(d->pauses);
    memset(d, 0, sizeof *d);
}

static int64_t epoch_col(const PGresult *res, int r, int c)
{
    return mc_db_is_null(res, r, c) ? 0 : (int64_t)mc_db_int(res, r, c);
}

/* Decoding one column of each kind of DOSSIER_COLUMN_TABLE into d. */
#define DECODE_TEXT(m, c) mc_db_copy(d->m, sizeof d->m, res, r, c)
#define DECODE_INT(m, c) d->m = (int)mc_db_int(res, r, c)
#define DECODE_LONG(m, c) d->m = mc_db_int(res, r, c)
#define DECODE_DOUBLE(m, c) d->m = strtod(mc_db_text(res, r, c), NULL)
#define DECODE_JSON(m, c) d->m = mc_db_json(res, r, c)
#define DECODE_INT_OR_NONE(m, c) d->m = mc_db_is_null(res, r, c) ? -1 : (int)mc_db_int(res, r, c)
#define DECODE_LONG_OR_NONE(m, c) d->m = mc_db_is_null(res, r, c) ? -1 : mc_db_int(res, r, c)
#define DECODE_TIME(m, c) d->m = epoch_col(res, r, c)
#define DECODE_COLUMN(kind, member, full, summary) DECODE_##kind(member, c); c++

/* Fill *d from row r of a DOSSIER_COLUMNS or SUMMARY_COLUMNS result. */
static void row_to_dossier(const PGresult *res, int r, struct dossier *d)
{
    memset(d, 0, sizeof *d);
    int c = 0;
    DOSSIER_COLUMN_TABLE(DECODE_COLUMN, ;);
    if (d->transfer_chain == NULL)
        d->transfer_chain = json_array();
    if (d->pauses == NULL)
        d->pauses = json_array();
}

/* JSON text of v, or NULL for NULL / JSON null (malloc'd). */
static char *json_text_or_null(const json_t *v)
{
    if (v == NULL || json_is_null(v))
        return NULL;
    return json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
}

mc_error store_dossier_insert(mc_db_conn *conn, struct dossier *d)
{
    char version[16], limit[40];
    snprintf(version, sizeof version, "%d", d->procedure_version);
    snprintf(limit, sizeof limit, "%.17g", d->limit_value);
    char *applicant = json_text_or_null(d->applicant);
    char *representative = json_text_or_null(d->representative);
    char *form = json_text_or_null(d->form_data);
    char *delivery = json_text_or_null(d->delivery);
    const char *params[17] = {d->procedure_code, version,  d->procedure_name,
                              d->sector_code,    d->case_code, d->channel,
                              limit,             d->limit_unit, d->supplement_clock,
                              d->agency_code,    d->owner_sub[0] != '\0' ? d->owner_sub : NULL,
                              d->filed_by_sub,   d->filed_by_role, applicant,
                              representative,    form != NULL ? form : "{}",
                              delivery};
    PGresult *res = mc_db_exec(conn, &dossier_insert, params);
    free(applicant);
    free(representative);
    free(form);
    free(delivery);
    if (res == NULL)
        return mc_db_failure(conn);
    dossier_clear(d);
    row_to_dossier(res, 0, d);
    PQclear(res);
    return MC_OK;
}

mc_error store_dossier_load(mc_db_conn *conn, const char *id_or_code, bool for_update,
                            struct dossier *d)
{
    memset(d, 0, sizeof *d);
    const mc_db_statement *stmt;
    if (dossier_id_is_valid(id_or_code))
        stmt = for_update ? &dossier_by_id_locked : &dossier_by_id;
    else if (dossier_code_is_valid(id_or_code))
        stmt = for_update ? &dossier_by_code_locked : &dossier_by_code;
    else
        return MC_ERR_DOSSIER_NOT_FOUND;
    const char *params[1] = {id_or_code};
    PGresult *res = mc_db_exec(conn, stmt, params);
    if (res == NULL)
        return mc_db_failure(conn);
    if (PQntuples(res) != 1) {
        PQclear(res);
        return MC_ERR_DOSSIER_NOT_FOUND;
    }
    row_to_dossier(res, 0, d);
    PQclear(res);
    return MC_OK;
}

/* Decimal text of a time, or NULL for 0. */
static const char *time_param(char *buf, size_t len, int64_t t)
{
    if (t == 0)
        return NULL;
    snprintf(buf, len, "%lld", (long long)t);
    return buf;
}

mc_error store_dossier_save(mc_db_conn *conn, struct dossier *d, long long expected_revision)
{
    char revision[24], status[8], step[16], previous[8], withdrawal[8], fee[24];
    char times[10][24];
    snprintf(revision, sizeof revision, "%lld", expected_revision);
    snprintf(status, sizeof status, "%d", d->status);
    snprintf(step, sizeof step, "%d", d->step_index);
    snprintf(previous, sizeof previous, "%d", d->previous_status);
    snprintf(withdrawal, sizeof withdrawal, "%d", d->withdrawal_from_status);
    snprintf(fee, sizeof fee, "%lld", d->fee_amount);
    char *chain = json_text_or_null(d->transfer_chain);
    char *applicant = json_text_or_null(d->applicant);
    char *representative = json_text_or_null(d->representative);
    char *form = json_text_or_null(d->form_data);
    char *delivery = json_text_or_null(d->delivery);
    char *result = json_text_or_null(d->result);
    char *missing = json_text_or_null(d->missing_items);
    char *pauses = json_text_or_null(d->pauses);
    const char *params[31] = {
        d->id,
        revision,
        d->code[0] != '\0' ? d->code : NULL,
        status,
        d->handling_agency,
        chain != NULL ? chain : "[]",
        applicant,
        representative,
        form != NULL ? form : "{}",
        delivery,
        d->step_index >= 0 ? step : NULL,
        d->assignee_sub[0] != '\0' ? d->assignee_sub : NULL,
        d->previous_status >= 0 ? previous : NULL,
        d->outcome[0] != '\0' ? d->outcome : NULL,
        result,
        missing,
        d->fee_amount >= 0 ? fee : NULL,
        time_param(times[0], sizeof times[0], d->submitted_at),
        time_param(times[1], sizeof times[1], d->received_at),
        time_param(times[2], sizeof times[2], d->clock_start_at),
        time_param(times[3], sizeof times[3], d->due_at),
        time_param(times[4], sizeof times[4], d->appointment_at),
        time_param(times[5], sizeof times[5], d->paused_since),
        time_param(times[6], sizeof times[6], d->supplement_due_at),
        time_param(times[7], sizeof times[7], d->decided_at),
        time_param(times[8], sizeof times[8], d->returned_at),
        time_param(times[9], sizeof times[9], d->finished_at),
        pauses != NULL ? pauses : "[]",
        d->withdrawal_from_status >= 0 ? withdrawal : NULL,
        (d->clear_flags & DEADLINE_FLAG_OVERDUE) != 0 ? "true" : "false",
        (d->clear_flags & DEADLINE_FLAG_DUE_SOON) != 0 ? "true" : "false",
    };
    PGresult *res = mc_db_exec(conn, &dossier_save, params);
    free(chain);
    free(applicant);
    free(representative);
    free(form);
    free(delivery);
    free(result);
    free(missing);
    free(pauses);
    if (res == NULL)
        return mc_db_failure(conn);
    if (PQntuples(res) != 1) {
        PQclear(res);
        return MC_ERR_PRECONDITION_FAILED;
    }
    d->revision = mc_db_int(res, 0, 0);
    d->updated_at = mc_db_int(res, 0, 1);
    d->clear_flags = 0;
    PQclear(res);
    return MC_OK;
}

mc_error store_next_code_sequence(mc_db_conn *conn, const char *agency, const char *day,
                                  long *sequence)
{
    const char *params[2] = {agency, day};
    PGresult *res = mc_db_exec(conn, &code_sequence, params);
    if (res == NULL)
        return mc_db_failure(conn);
    *sequence = (long)mc_db_int(res, 0, 0);
    PQclear(res);
    return MC_OK;
}

struct list_ctx {
    const struct dossier_filter *f;
    struct dossier *items;
    size_t n;
};

/* The prepared list of inbox_shapes that serves exactly f's filters, or NULL. */
static const struct list_shape *inbox_shape(const struct dossier_filter *f)
{
    if (f->owner_sub != NULL || f->step_index >= 0 || f->due_before != 0)
        return NULL;
    unsigned filters = (f->status >= 0 ? LF_STATUS : 0u) | (f->procedure_code != NULL ? LF_PROCEDURE : 0u) |
                       (f->assignee_sub != NULL ? LF_ASSIGNEE : 0u) | (f->channel != NULL ? LF_CHANNEL : 0u) |
                       (f->overdue_only ? LF_OVERDUE : 0u);
    for (size_t i = 0; i < sizeof inbox_shapes / sizeof inbox_shapes[0]; i++)
        if (inbox_shapes[i].filters == filters && inbox_shapes[i].by_due == f->by_due)
            return &inbox_shapes[i];
    return NULL;
}

static mc_error list_tx(mc_db_conn *conn, void *arg)
{
    struct list_ctx *ctx = arg;
    const struct dossier_filter *f = ctx->f;
    char status[8], step[16], due_before[24], overdue_now[24], after[24], limit[12];
    snprintf(status, sizeof status, "%d", f->status);
    snprintf(step, sizeof step, "%d", f->step_index);
    snprintf(due_before, sizeof due_before, "%lld", (long long)f->due_before);
    snprintf(overdue_now, sizeof overdue_now, "%lld", (long long)f->now);
    snprintf(after, sizeof after, "%lld", (long long)f->after_time);
    snprintf(limit, sizeof limit, "%u", f->limit + 1);
    const char *params[11] = {
        f->owner_sub != NULL ? f->owner_sub : f->agency,
        f->status >= 0 ? status : NULL,
        f->procedure_code,
        f->step_index >= 0 ? step : NULL,
        f->assignee_sub,
        f->channel,
        f->due_before != 0 ? due_before : NULL,
        f->overdue_only ? overdue_now : NULL,
        f->after_time != 0 ? after : NULL,
        f->after_time != 0 ? f->after_id : NULL,
        limit,
    };
    PGresult *res;
    const struct list_shape *shape = inbox_shape(f);
    bool owner_all = f->owner_sub != NULL && f->status < 0 && f->procedure_code == NULL &&
                     f->step_index < 0 && f->assignee_sub == NULL && f->channel == NULL &&
                     f->due_before == 0 && !f->overdue_only;
    if (shape != NULL || owner_all) {
        /* $1..$4, then the shape's filters in enum list_filter order */
        const char *keyset[9] = {
            owner_all ? f->owner_sub : f->agency,
            f->after_time != 0 ? after
            : f->by_due        ? DEADLINE_FIRST_PAGE_MICROS
                               : INBOX_FIRST_PAGE_MICROS,
            f->after_time != 0 ? f->after_id
            : f->by_due        ? DEADLINE_FIRST_PAGE_ID
                               : INBOX_FIRST_PAGE_ID,
            limit,
        };
        int n = 4;
        unsigned filters = shape != NULL ? shape->filters : 0;
        if ((filters & LF_STATUS) != 0)
            keyset[n++] = status;
        if ((filters & LF_PROCEDURE) != 0)
            keyset[n++] = f->procedure_code;
        if ((filters & LF_ASSIGNEE) != 0)
            keyset[n++] = f->assignee_sub;
        if ((filters & LF_CHANNEL) != 0)
            keyset[n++] = f->channel;
        if ((filters & LF_OVERDUE) != 0)
            keyset[n++] = overdue_now;
        res = mc_db_exec(conn, owner_all ? &list_owner_all : shape->statement, keyset);
    } else {
        const mc_db_statement *list = f->owner_sub != NULL ? &list_owner
                                      : f->by_due            ? &list_inbox_by_due
                                      : f->overdue_only      ? &list_inbox_overdue
                                                             : &list_inbox;
        res = mc_db_exec(conn, list, params);
    }
    if (res == NULL)
        return mc_db_failure(conn);
    int rows = PQntuples(res);
    ctx->items = calloc((size_t)rows + 1, sizeof *ctx->items);
    if (ctx->items == NULL) {
        PQclear(res);
        return MC_ERR_INTERNAL;
    }
    for (int r = 0; r < rows; r++) {
        row_to_dossier(res, r, &ctx->items[r]);
        ctx->items[r].sort_micros = (int64_t)mc_db_int(res, r, N_DOSSIER_COLUMNS);
    }
    ctx->n = (size_t)rows;
    PQclear(res);
    return MC_OK;
}

mc_error store_dossier_list(mc_db_conn *conn, const struct dossier_filter *f, struct dossier **out,
                            size_t *n)
{
    struct list_ctx ctx = {f, NULL, 0};
    *out = NULL;
    *n = 0;
    mc_error rc = list_tx(conn, &ctx);
    if (rc != MC_OK) {
        if (ctx.items != NULL)
            for (size_t i = 0; i < ctx.n; i++)
                dossier_clear(&ctx.items[i]);
        free(ctx.items);
        return rc;
    }
    *out = ctx.items;
    *n = ctx.n;
    return MC_OK;
}
