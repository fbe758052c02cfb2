/*
 * What the report routes share (statistics.h): the agency and period of a
 * request, who may see an agency's detail, and the rollup sums of a scope.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "answer_cache.h"
#include "period_memo.h"

#include "agency_tree.h"
#include "statistics.h"
#include "store.h"

#define STAFF_ROLES (MC_ROLE_OFFICER | MC_ROLE_APPROVER | MC_ROLE_AGENCY_ADMIN)

void scope_clear(struct report_scope *s)
{
    json_decref(s->tree);
    json_decref(s->agencies);
}

bool may_see_detail(const mc_request *req, const json_t *tree, const char *agency)
{
    const mc_principal *p = &req->principal;
    if (!req->authenticated)
        return false;
    if (mc_principal_has_any_role(p, MC_ROLE_SYSTEM_ADMIN | MC_ROLE_AUDITOR))
        return true;
    return mc_principal_has_any_role(p, STAFF_ROLES) && p->agency[0] != '\0' &&
           stat_tree_contains(tree, p->agency, agency);
}

/* The period of `period`, or of `from` and `to`: one of the two forms. */
static void parse_period(const mc_request *req, struct stat_period *out, json_t *errors)
{
    const char *period = mc_query_str(req, "period", 16, errors);
    const char *from = mc_query_str(req, "from", 10, errors);
    const char *to = mc_query_str(req, "to", 10, errors);
    if (period != NULL && (from != NULL || to != NULL))
        mc_errors_add_param(errors, "period", "conflict", "give period, or from and to, not both");
    else if (period != NULL) {
        if (!stat_period_parse(period, out))
            mc_errors_add_param(errors, "period", "invalid",
                                "a month (2026-11), a quarter (2026-Q4) or a year (2026)");
    } else if (from != NULL || to != NULL) {
        if (!stat_period_from_range(from, to, out))
            mc_errors_add_param(errors, from == NULL || to == NULL ? (from == NULL ? "from" : "to") : "to",
                                "invalid",
                                "from and to are dates (YYYY-MM-DD), from <= to, at most 3700 days");
    } else if (mc_query_param(req, "period") == NULL && mc_query_param(req, "from") == NULL &&
               mc_query_param(req, "to") == NULL) {
        mc_errors_add_param(errors, "period", "required", "give period, or from and to");
    }
}

/* Read the tree and check the agency: false after answering. */
bool load_scope(mc_request *req, struct report_scope *s, json_t *errors)
{
    memset(s, 0, sizeof *s);
    s->agency = mc_query_str(req, "agency", 32, errors);
    if (s->agency == NULL && mc_query_param(req, "agency") == NULL)
        mc_errors_add_param(errors, "agency", "required", "the agency whose subtree is reported");
    parse_period(req, &s->period, errors);
    if (!mc_query_ok(req, errors))
        return false;
    struct statistics_ctx *ctx = mc_request_service_ctx(req);
    mc_error rc = agency_tree_get(ctx->catalogue, &s->tree);
    if (rc != MC_OK) {
        mc_reply_error(req, rc, "the agency tree cannot be read from the catalogue");
        return false;
    }
    if (json_object_get(s->tree, s->agency) == NULL) {
        mc_reply_error(req, MC_ERR_AGENCY_NOT_FOUND, "no agency %s in the catalogue", s->agency);
        scope_clear(s);
        return false;
    }
    s->agencies = stat_tree_subtree(s->tree, s->agency);
    return true;
}

void refuse_detail(mc_request *req, const char *what)
{
    if (!req->authenticated)
        mc_reply_error(req, MC_ERR_UNAUTHENTICATED, "%s needs a token", what);
    else
        mc_reply_error(req, MC_ERR_FORBIDDEN,
                       "%s is for system administrators, auditors and the agency's own staff", what);
}

/* Forwards each row to the caller and records it for the answer cache. */
struct recording {
    store_sums_fn row;
    void *ctx;
    json_t *rows; /* [agency, sector, procedure, measure, period, at start, at end] */
    int detail;   /* >= 0: only this measure by agency and procedure, the others summed */
    struct stat_sums summed;
};

static void record_row(void *ctx, const char *agency, const char *sector, const char *procedure,
                       int measure, long long period, long long at_start, long long at_end)
{
    struct recording *r = ctx;
    if (r->detail >= 0 && measure != r->detail) {
        r->summed.period[measure] += period;
        r->summed.at_start[measure] += at_start;
        r->summed.at_end[measure] += at_end;
        return;
    }
    r->row(r->ctx, agency, sector, procedure, measure, period, at_start, at_end);
    if (r->rows != NULL &&
        json_array_append_new(r->rows, json_pack("[sssiIII]", agency, sector, procedure, measure,
                                                 (json_int_t)period, (json_int_t)at_start,
                                                 (json_int_t)at_end)) != 0) {
        json_decref(r->rows);
        r->rows = NULL; /* not kept: the answer itself is complete */
    }
}

/* The sums of the measures not kept in detail, as one row each. */
static void record_summed(struct recording *r)
{
    int detail = r->detail;
    r->detail = -1;
    for (int m = 0; detail >= 0 && m < M_COUNT; m++)
        if (m != detail && (r->summed.period[m] != 0 || r->summed.at_start[m] != 0 || r->summed.at_end[m] != 0))
            record_row(r, "", "", "", m, r->summed.period[m], r->summed.at_start[m], r->summed.at_end[m]);
}

static void replay_rows(const json_t *rows, store_sums_fn row, void *ctx)
{
    size_t i;
    const json_t *r;
    json_array_foreach(rows, i, r) {
        row(ctx, json_string_value(json_array_get(r, 0)), json_string_value(json_array_get(r, 1)),
            json_string_value(json_array_get(r, 2)), (int)json_integer_value(json_array_get(r, 3)),
            (long long)json_integer_value(json_array_get(r, 4)),
            (long long)json_integer_value(json_array_get(r, 5)),
            (long long)json_integer_value(json_array_get(r, 6)));
    }
}

/* The canonical query of the sums: the path, the period and the subtree's
   codes (so a changed agency tree is a different query). NULL on failure. */
static char *sums_key(const struct report_scope *s, int detail)
{
    char *agencies = json_dumps(s->agencies, JSON_COMPACT);
    size_t len = agencies != NULL ? strlen(agencies) + 64 : 0;
    char *key = agencies != NULL ? malloc(len) : NULL;
    if (key != NULL)
        snprintf(key, len, "%d|%lld|%lld|%s", detail, (long long)s->period.first,
                 (long long)s->period.last, agencies);
    free(agencies);
    return key;
}

static int64_t monotonic_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The sums by agency only (detail SUMS_BY_AGENCY), by agency, sector and
   procedure (SUMS_BY_PROCEDURE), or the latter for one measure and the others
   summed over the subtree (a measure). */
#define SUMS_BY_AGENCY (-2)
#define SUMS_BY_PROCEDURE (-1)
static mc_error read_scope_sums(mc_request *req, const struct report_scope *s, int64_t today, int detail,
                                store_sums_fn row, void *ctx)
{
    bool by_procedure = detail != SUMS_BY_AGENCY;
    /* Stocks are counted at the period's start and end, but never past
       today: a scheduled "becomes overdue" change is not a fact yet. */
    int64_t start_stock = s->period.first - 1 < today ? s->period.first - 1 : today;
    int64_t end_stock = s->period.last < today ? s->period.last : today;
    struct statistics_ctx *sctx = mc_request_service_ctx(req);
    struct answer_cache *answers = sctx->answers;
    /* Only a period ended before today may have settled; a current one may be
       in the memo of the last second. */
    bool ended = s->period.last < today;
    char *key = (ended ? answers != NULL : sctx->memo != NULL) ? sums_key(s, detail) : NULL;
    bool claimed = false;
    json_t *kept = key == NULL ? NULL
                   : ended     ? answer_cache_get(answers, key)
                               : period_memo_get(sctx->memo, key, monotonic_ms(), &claimed);
    if (kept != NULL) {
        replay_rows(kept, row, ctx);
        json_decref(kept);
        free(key);
        return MC_OK;
    }
    struct recording rec = {row, ctx, key != NULL ? json_array() : NULL, detail, {{0}, {0}, {0}}};
    int64_t applied_until = 0;
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(mc_request_db(req), &conn);
    if (rc == MC_OK) {
        /* How far the feed is counted, read BEFORE the sums: they then hold
           every counter committed with it. */
        if (rec.rows != NULL && ended)
            rc = store_applied_until(conn, &applied_until);
        if (rc == MC_OK)
            rc = by_procedure ? store_report_sums(conn, s->agencies, &s->period, start_stock, end_stock,
                                                  record_row, &rec)
                              : store_agency_sums(conn, s->agencies, &s->period, start_stock, end_stock,
                                                  record_row, &rec);
        mc_db_release(mc_request_db(req), conn);
    }
    if (rc == MC_OK)
        record_summed(&rec);
    if (claimed)
        period_memo_done(sctx->memo, key, rc == MC_OK ? rec.rows : NULL);
    else if (rc == MC_OK && rec.rows != NULL && stat_period_settled(&s->period, today, applied_until))
        answer_cache_put(answers, key, rec.rows);
    json_decref(rec.rows);
    free(key);
    return rc;
}

mc_error scope_sums(mc_request *req, const struct report_scope *s, int64_t today, bool by_procedure,
                    store_sums_fn row, void *ctx)
{
    return read_scope_sums(req, s, today, by_procedure ? SUMS_BY_PROCEDURE : SUMS_BY_AGENCY, row, ctx);
}

mc_error scope_sums_detail(mc_request *req, const struct report_scope *s, int64_t today, int measure,
                           store_sums_fn row, void *ctx)
{
    return read_scope_sums(req, s, today, measure, row, ctx);
}
