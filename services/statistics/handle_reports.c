/*
 * GET /statistics/reports/06a: report form 06a (DOMAIN.md §5) of an agency's
 * subtree for a period, in total or by child agency, sector or procedure, as
 * JSON, CSV or XLSX; GET /statistics/reports/06a/dossiers: the dossiers behind one
 * of its numbers.
 *
 * Rows carry the name of their agency (the agency tree), sector or
 * procedure (the catalogue's names, catalogue_names.c; null when the
 * catalogue cannot say), which the CSV and XLSX print as the row's label.
 *
 * Who sees what: the summary of a root of the agency tree (a province) is
 * public, portals publish it. An agency's figures, any breakdown and the
 * dossier lists are for system administrators, auditors and the staff of the
 * agency or an agency above it (their own subtree).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agency_tree.h"
#include "catalogue_names.h"
#include "export_xlsx.h"
#include "motcua/calendar.h"
#include "motcua/log.h"
#include "motcua/download.h"
#include "report_rules.h"
#include "statistics.h"
#include "store.h"

#define DOSSIERS_PAGE_DEFAULT 50
#define DOSSIERS_PAGE_MAX 100
#define XLSX_MEDIA_TYPE "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

enum group_by { GROUP_NONE, GROUP_AGENCY, GROUP_SECTOR, GROUP_PROCEDURE };

/* ---- The report ---- */

struct group {
    char key[STAT_CODE_MAX];
    struct stat_sums sums;
};

struct collect {
    enum group_by by;
    const json_t *tree;
    const char *agency;
    struct stat_sums totals;
    struct group *groups;
    size_t n, cap;
    bool failed;
};

static struct group *group_for(struct collect *c, const char *key)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->groups[i].key, key) == 0)
            return &c->groups[i];
    if (c->n == c->cap) {
        size_t cap = c->cap == 0 ? 16 : c->cap * 2;
        struct group *g = realloc(c->groups, cap * sizeof *g);
        if (g == NULL) {
            c->failed = true;
            return NULL;
        }
        c->groups = g;
        c->cap = cap;
    }
    struct group *g = &c->groups[c->n++];
    memset(g, 0, sizeof *g);
    snprintf(g->key, sizeof g->key, "%s", key);
    return g;
}

static void collect_row(void *ctx, const char *agency, const char *sector, const char *procedure,
                        int measure, long long period, long long at_start, long long at_end)
{
    struct collect *c = ctx;
    struct stat_sums s = {0};
    s.period[measure] = period;
    s.at_start[measure] = at_start;
    s.at_end[measure] = at_end;
    stat_sums_add(&c->totals, &s);
    const char *key = NULL;
    if (c->by == GROUP_AGENCY) {
        key = stat_tree_child_toward(c->tree, c->agency, agency);
        if (key == NULL)
            key = agency;
    } else if (c->by == GROUP_SECTOR) {
        key = sector;
    } else if (c->by == GROUP_PROCEDURE) {
        key = procedure;
    }
    struct group *g = key != NULL ? group_for(c, key) : NULL;
    if (g != NULL)
        stat_sums_add(&g->sums, &s);
}

static int group_cmp(const void *a, const void *b)
{
    return strcmp(((const struct group *)a)->key, ((const struct group *)b)->key);
}

static char *day_text(int64_t day, char out[11])
{
    mc_date_format(mc_date_from_days(day), out);
    return out;
}

/* The names of the rows' keys (a new reference: the agency tree for agency
   rows, the catalogue's sectors or procedures), or NULL. */
static json_t *row_names(mc_request *req, const struct report_scope *s, enum group_by by)
{
    if (by == GROUP_AGENCY)
        return json_incref(s->tree);
    if (by != GROUP_SECTOR && by != GROUP_PROCEDURE)
        return NULL;
    struct statistics_ctx *ctx = mc_request_service_ctx(req);
    json_t *names = NULL;
    if (catalogue_names_get(ctx->catalogue, by == GROUP_SECTOR ? NAMES_OF_SECTORS : NAMES_OF_PROCEDURES,
                            &names) != MC_OK)
        mc_log(MC_LOG_WARNING, req->request_id, "catalogue.unavailable",
               "the catalogue's names could not be read: the rows carry codes only");
    return names;
}

static json_t *report_body(const struct report_scope *s, struct collect *c, const json_t *names,
                           int64_t today)
{
    static const char *const group_names[] = {NULL, "agency", "sector", "procedure"};
    char from[11], to[11], as_of[11];
    json_t *rows = json_array();
    if (c->n > 1) /* c->groups is NULL when nothing was counted */
        qsort(c->groups, c->n, sizeof *c->groups, group_cmp);
    for (size_t i = 0; i < c->n; i++) {
        json_t *row = stat_06a_columns(&c->groups[i].sums);
        json_t *name = json_object_get(names, c->groups[i].key);
        if (c->by == GROUP_AGENCY)
            name = json_object_get(name, "name");
        if (!json_is_string(name))
            name = NULL;
        json_object_set_new(row, "key", json_string(c->groups[i].key));
        json_object_set_new(row, "name", name != NULL ? json_incref(name) : json_null());
        json_array_append_new(rows, row);
    }
    const char *group = group_names[c->by];
    return json_pack("{ss sO? s{ssss} ss so so so}", "agency_code", s->agency, "agency_name",
                     json_object_get(json_object_get(s->tree, s->agency), "name"), "period", "from",
                     day_text(s->period.first, from), "to", day_text(s->period.last, to), "as_of",
                     day_text(today, as_of), "group_by", group != NULL ? json_string(group) : json_null(),
                     "totals", stat_06a_columns(&c->totals), "rows", rows);
}

static void reply_csv(mc_request *req, const json_t *report)
{
    size_t len = 0;
    char *csv = stat_06a_csv(report, &len);
    if (csv == NULL) {
        mc_reply_error(req, MC_ERR_INTERNAL, "out of memory");
        return;
    }
    mc_reply_download(req, "text/csv; charset=utf-8", "06a.csv", csv, len);
}

static long file_read(void *ctx, unsigned long long offset, char *buf, size_t max)
{
    int fd = *(int *)ctx;
    ssize_t n = pread(fd, buf, max, (off_t)offset);
    return n < 0 ? -1 : (long)n;
}

static void file_done(void *ctx)
{
    close(*(int *)ctx);
    free(ctx);
}

static void reply_xlsx(mc_request *req, const json_t *report)
{
    int *fd = malloc(sizeof *fd);
    unsigned long long size = 0;
    if (fd == NULL || stat_06a_xlsx(report, fd, &size) != MC_OK) {
        free(fd);
        mc_reply_error(req, MC_ERR_INTERNAL, "the workbook could not be written");
        return;
    }
    mc_set_header(req, "Content-Disposition", "attachment; filename=\"06a.xlsx\"");
    mc_reply_stream(req, 200, XLSX_MEDIA_TYPE, size, file_read, file_done, fd);
}

void handle_report_06a(mc_request *req)
{
    json_t *errors = json_array();
    const char *group = mc_query_str(req, "group_by", 16, errors);
    const char *format = mc_query_str(req, "format", 8, errors);
    enum group_by by = GROUP_NONE;
    if (group != NULL) {
        if (strcmp(group, "agency") == 0)
            by = GROUP_AGENCY;
        else if (strcmp(group, "sector") == 0)
            by = GROUP_SECTOR;
        else if (strcmp(group, "procedure") == 0)
            by = GROUP_PROCEDURE;
        else
            mc_errors_add_param(errors, "group_by", "invalid", "agency, sector or procedure");
    }
    if (format != NULL && strcmp(format, "json") != 0 && strcmp(format, "csv") != 0 &&
        strcmp(format, "xlsx") != 0)
        mc_errors_add_param(errors, "format", "invalid", "json, csv or xlsx");
    struct report_scope s;
    if (!load_scope(req, &s, errors))
        return;
    bool public_summary = by == GROUP_NONE && stat_tree_is_root(s.tree, s.agency);
    if (!public_summary && !may_see_detail(req, s.tree, s.agency)) {
        refuse_detail(req, "an agency's detail (below the province's summary)");
        scope_clear(&s);
        return;
    }
    int64_t today = stat_day_of((int64_t)time(NULL));
    struct collect c = {.by = by, .tree = s.tree, .agency = s.agency};
    mc_error rc = scope_sums(req, &s, today, by == GROUP_SECTOR || by == GROUP_PROCEDURE, collect_row, &c);
    if (rc == MC_OK && c.failed)
        rc = MC_ERR_INTERNAL;
    json_t *names = rc == MC_OK ? row_names(req, &s, by) : NULL;
    json_t *body = rc == MC_OK ? report_body(&s, &c, names, today) : NULL;
    json_decref(names);
    free(c.groups);
    scope_clear(&s);
    if (rc != MC_OK || body == NULL) {
        mc_reply_error(req, rc != MC_OK ? rc : MC_ERR_INTERNAL, NULL);
        return;
    }
    if (format != NULL && strcmp(format, "json") != 0) {
        if (strcmp(format, "csv") == 0)
            reply_csv(req, body);
        else
            reply_xlsx(req, body);
        json_decref(body);
        return;
    }
    mc_reply_json_etag(req, 200, body, NULL);
}

/* ---- The dossiers behind a number ---- */

/* Each number whose dossiers can be listed: the list and its filter. */
static const struct {
    const char *measure;
    enum store_dossier_list list;
    const char *filter;
} listed_measures[] = {
    {"received", LIST_RECEIVED, NULL},
    {"received_online", LIST_RECEIVED, "online"},
    {"received_in_person_postal", LIST_RECEIVED, "offline"},
    {"resolved", LIST_RESOLVED, NULL},
    {"resolved_early", LIST_RESOLVED, "early"},
    {"resolved_on_time", LIST_RESOLVED, "on_time"},
    {"resolved_overdue", LIST_RESOLVED, "overdue"},
    {"withdrawn", LIST_CLOSED, "withdrawn"},
    {"stopped", LIST_CLOSED, "stopped"},
    {"refused", LIST_CLOSED, "refused"},
};

static bool is_uuid(const char *s)
{
    if (strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : strchr("0123456789abcdef", s[i]) == NULL || s[i] == '\0')
            return false;
    }
    return true;
}

static mc_error list_dossiers(mc_db_conn *conn, const void *query, unsigned limit, json_t **items,
                              json_t **next_keys)
{
    return store_report_dossiers(conn, query, limit, items, next_keys);
}

void handle_report_06a_dossiers(mc_request *req)
{
    json_t *errors = json_array();
    const char *measure = mc_query_str(req, "measure", 32, errors);
    int which = -1;
    for (size_t i = 0; measure != NULL && i < sizeof listed_measures / sizeof listed_measures[0]; i++)
        if (strcmp(listed_measures[i].measure, measure) == 0)
            which = (int)i;
    if (which < 0)
        mc_errors_add_param(errors, "measure", measure == NULL ? "required" : "invalid",
                            "one of received, received_online, received_in_person_postal, resolved, "
                            "resolved_early, resolved_on_time, resolved_overdue, withdrawn, stopped, "
                            "refused");
    unsigned limit = 0;
    json_t *cursor = NULL;
    mc_page_parse(req, DOSSIERS_PAGE_DEFAULT, DOSSIERS_PAGE_MAX, 1, &limit, &cursor, errors);
    const char *after = cursor != NULL ? mc_page_cursor_string(cursor, 0, is_uuid, errors) : NULL;
    struct report_scope s;
    if (!load_scope(req, &s, errors)) {
        json_decref(cursor);
        return;
    }
    if (!may_see_detail(req, s.tree, s.agency)) {
        refuse_detail(req, "the dossiers behind a number");
        json_decref(cursor);
        scope_clear(&s);
        return;
    }
    struct store_dossier_query q = {listed_measures[which].list, s.agencies, s.period,
                                    listed_measures[which].filter, after};
    /* mc_reply_list steals cursor; the scope outlives the call. */
    mc_reply_list(req, NULL, cursor, list_dossiers, &q, limit);
    scope_clear(&s);
}
