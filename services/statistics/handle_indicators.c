/*
 * GET /statistics/indicators/766: the indicators of Decision 766/QĐ-TTg our
 * data measures for an agency's subtree and period, and their scores by the
 * formula valid on the period's first day (versioned data, migration
 * 0002_indicator_formulas.sql). The share of online procedures that received
 * a dossier also asks the catalogue which procedures each agency offers
 * online (online_procedures.c, cached); without the catalogue it is null. Who sees what: as report 06a (a root's
 * figures are public, the rest for the agency's staff, auditors and
 * system administrators).
 */
#include <string.h>
#include <time.h>

#include "indicator_rules.h"
#include "motcua/calendar.h"
#include "motcua/log.h"
#include "online_procedures.h"
#include "statistics.h"
#include "store.h"

struct indicator_sums {
    struct stat_sums sums;
    json_t *active;     /* agency -> {procedure: true}: received an online dossier */
};

static void add_row(void *ctx, const char *agency, const char *sector, const char *procedure,
                    int measure, long long period, long long at_start, long long at_end)
{
    (void)sector;
    struct indicator_sums *is = ctx;
    struct stat_sums *s = &is->sums;
    s->period[measure] += period;
    s->at_start[measure] += at_start;
    s->at_end[measure] += at_end;
    if (measure == M_RECEIVED_ONLINE && period > 0) {
        json_t *procedures = json_object_get(is->active, agency);
        if (procedures == NULL) {
            procedures = json_object();
            json_object_set_new(is->active, agency, procedures);
        }
        json_object_set_new(procedures, procedure, json_true());
    }
}

/* The online procedures of the scope's agencies and how many received an
   online dossier; false when the catalogue could not say (logged). */
static bool count_online_procedures(mc_request *req, const struct report_scope *s,
                                    const json_t *active, struct stat_online_procedures *out)
{
    struct statistics_ctx *ctx = mc_request_service_ctx(req);
    json_t *offered = NULL;
    if (online_procedures_get(ctx->catalogue, s->agencies, &offered) != MC_OK) {
        mc_log(MC_LOG_WARNING, req->request_id, "catalogue.unavailable",
               "the online procedures could not be read: their indicator is null");
        return false;
    }
    *out = stat_online_procedures_count(offered, active);
    json_decref(offered);
    return true;
}

void handle_indicators_766(mc_request *req)
{
    struct report_scope s;
    if (!load_scope(req, &s, json_array()))
        return;
    if (!stat_tree_is_root(s.tree, s.agency) && !may_see_detail(req, s.tree, s.agency)) {
        refuse_detail(req, "an agency's indicators (below the province's)");
        scope_clear(&s);
        return;
    }
    int64_t today = stat_day_of((int64_t)time(NULL));
    struct indicator_sums sums = {.active = json_object()};
    json_t *formula = NULL;
    char version[64] = "";
    /* Only the online receipts are needed per procedure (the share of online
       procedures that received one). */
    mc_error rc = scope_sums_detail(req, &s, today, M_RECEIVED_ONLINE, add_row, &sums);
    if (rc == MC_OK) {
        mc_db_conn *conn;
        rc = mc_db_acquire(mc_request_db(req), &conn);
        if (rc == MC_OK) {
            rc = store_formula_for_day(conn, s.period.first, &formula, version, sizeof version);
            mc_db_release(mc_request_db(req), conn);
        }
    }
    const json_t *agency = json_object_get(s.tree, s.agency);
    const char *level = json_string_value(json_object_get(agency, "admin_level"));
    struct stat_online_procedures online;
    bool online_known = rc == MC_OK && count_online_procedures(req, &s, sums.active, &online);
    json_decref(sums.active);
    json_t *values = rc == MC_OK ? stat_766_values(&sums.sums, online_known ? &online : NULL) : NULL;
    json_t *scores = values != NULL ? stat_766_scores(formula, values, level) : NULL;
    if (rc == MC_OK && scores == NULL)
        rc = MC_ERR_INTERNAL;
    json_t *body = NULL;
    if (rc == MC_OK) {
        char from[11], to[11];
        mc_date_format(mc_date_from_days(s.period.first), from);
        mc_date_format(mc_date_from_days(s.period.last), to);
        body = json_pack("{ss sO? sO? s{ssss} ss so so}", "agency_code", s.agency, "agency_name",
                         json_object_get(agency, "name"), "admin_level",
                         level != NULL ? json_object_get(agency, "admin_level") : NULL,
                         "period", "from", from, "to", to, "formula_version", version, "values",
                         values, "scores", scores);
        values = scores = NULL;
    }
    json_decref(values);
    json_decref(scores);
    json_decref(formula);
    scope_clear(&s);
    if (body == NULL) {
        mc_reply_error(req, rc != MC_OK ? rc : MC_ERR_INTERNAL, NULL);
        return;
    }
    mc_reply_json_etag(req, 200, body, NULL);
}
