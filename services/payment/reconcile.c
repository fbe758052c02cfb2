/*
 * Reconciliation: a merchant's payments and refunds of a Vietnam-time day
 * compared with the gateway's statement of that day (docs/services/payment.md,
 * "Reconciliation").
 *
 * Neither gateway has a statement call in its merchant API: VNPay and the
 * national platform deliver the day's reconciliation file (file đối soát)
 * to the merchant, by SFTP or their merchant portals. The service reads the
 * file from where that delivery leaves it, named by a URL template per
 * provider (VNPAY_STATEMENT_URL, NPP_STATEMENT_URL, with {merchant_code} and
 * {date} = YYYYMMDD): an HTTPS location the operator's file drop serves in
 * production, the simulators' statement in the local stack and the tests.
 * A file that is missing or unreadable makes a failed run (never an empty
 * statement), which the schedule tries again an hour later.
 *
 * Runs are shared between replicas: each (day, agency, provider) is run
 * under a transaction-scoped advisory lock, and the schedule takes it with
 * pg_try_advisory_xact_lock and checks inside it that the day is still due,
 * so each merchant's day is claimed once; an accountant's request waits for
 * the lock and then supersedes the current run (history kept).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "motcua/http_client.h"
#include "motcua/log.h"
#include "payment.h"
#include "store.h"

#define STATEMENT_MAX_BYTES (32u * 1024 * 1024)
#define SCHEDULE_BATCH 50
#define REQUEST_MAX_TARGETS 200

struct recon_tx {
    struct payment_ctx *ctx;
    const char *day; /* YYYY-MM-DD */
    const struct recon_target *target;
    bool scheduled;
    const char *requested_by;
    char id[37];
    bool skipped;
    size_t mismatches;
};

/* The statement lines of the target's day, or a failure text in why. */
static bool fetch_statement(const struct recon_tx *t, struct recon_line **lines, size_t *n,
                            char *why, size_t why_len)
{
    const char *templ = strcmp(t->target->provider, "vnpay") == 0 ? t->ctx->vnpay_statement_url
                                                                  : t->ctx->npp_statement_url;
    char day[9], url[PAYMENT_URL_MAX + 128];
    snprintf(day, sizeof day, "%.4s%.2s%.2s", t->day, t->day + 5, t->day + 8);
    if (templ[0] == '\0') {
        snprintf(why, why_len, "statement_source_not_configured");
        return false;
    }
    if (!recon_statement_url(templ, t->target->merchant_code, day, url, sizeof url)) {
        snprintf(why, why_len, "statement_source_invalid");
        return false;
    }
    struct mc_http_result res = {0};
    mc_error rc = mc_http_get(url, NULL, NULL, t->ctx->gateway_timeout_s, STATEMENT_MAX_BYTES, &res);
    bool ok = false;
    if (rc != MC_OK || res.status != 200 || res.body == NULL) {
        snprintf(why, why_len, "statement_unavailable (HTTP %ld)", res.status);
    } else {
        char detail[128];
        ok = recon_statement_parse(res.body, res.body_len, t->target->merchant_code, lines, n,
                                   detail, sizeof detail);
        if (!ok)
            snprintf(why, why_len, "statement_unreadable: %s", detail);
    }
    mc_http_result_free(&res);
    return ok;
}

static mc_error recon_tx_fn(mc_db_conn *conn, void *arg)
{
    struct recon_tx *t = arg;
    t->skipped = false;
    t->id[0] = '\0';
    t->mismatches = 0;
    mc_error rc = store_recon_lock(conn, t->day, t->target, !t->scheduled);
    if (rc == MC_ERR_CONFLICT && t->scheduled) {
        t->skipped = true; /* another replica runs it now */
        return MC_OK;
    }
    bool due = true;
    if (rc == MC_OK && t->scheduled)
        rc = store_recon_due(conn, t->day, t->target, &due);
    if (rc != MC_OK || !due) {
        t->skipped = !due;
        return rc;
    }
    char why[192] = "";
    struct recon_line *lines = NULL;
    struct recon_record *ours = NULL;
    size_t n_lines = 0, n_ours = 0;
    struct recon_result result = {0};
    bool compared = false;
    if (fetch_statement(t, &lines, &n_lines, why, sizeof why)) {
        json_t *refs = json_array();
        for (size_t i = 0; i < n_lines; i++)
            json_array_append_new(refs, json_string(lines[i].txn_ref));
        rc = store_recon_records(conn, t->day, t->target, refs, &ours, &n_ours);
        json_decref(refs);
        if (rc == MC_OK && !recon_compare(ours, n_ours, lines, n_lines, &result))
            rc = MC_ERR_INTERNAL;
        compared = rc == MC_OK;
    }
    if (rc == MC_OK) {
        struct recon_run run = {t->day, t->target, t->scheduled ? "schedule" : "request",
                                t->requested_by, compared ? NULL : why, compared ? &result : NULL};
        rc = store_recon_insert(conn, &run, t->id);
        t->mismatches = result.n_mismatches;
    }
    recon_result_clear(&result);
    free(lines);
    free(ours);
    if (rc == MC_OK && compared)
        mc_log(MC_LOG_INFO, NULL, "payment.reconciled", "%s %s %s: %zu mismatches", t->day,
               t->target->agency_code, t->target->provider, t->mismatches);
    else if (rc == MC_OK)
        mc_log(MC_LOG_WARNING, NULL, "payment.reconcile_failed", "%s %s %s: %s", t->day,
               t->target->agency_code, t->target->provider, why);
    return rc;
}

/* store_recon_targets on a connection of its own. */
static mc_error read_targets(struct payment_ctx *ctx, const char *day, const char *agency,
                             bool due_only, struct recon_target *out, size_t max, size_t *n)
{
    mc_db_conn *conn;
    mc_error rc = mc_db_acquire(ctx->db, &conn);
    if (rc == MC_OK) {
        rc = store_recon_targets(conn, day, agency, due_only, out, max, n);
        mc_db_release(ctx->db, conn);
    }
    return rc;
}

/* The day before `now` in Vietnam time, and the hour it is there. */
static void vietnam_yesterday(time_t now, char day[11], unsigned *hour)
{
    time_t local = now + PAYMENT_UTC_OFFSET_MIN * 60;
    struct tm tm;
    gmtime_r(&local, &tm);
    *hour = (unsigned)tm.tm_hour;
    local -= 86400;
    gmtime_r(&local, &tm);
    strftime(day, 11, "%Y-%m-%d", &tm);
}

mc_error payment_reconcile(struct payment_ctx *ctx, const char *day, const char *agency,
                           const char *requested_by, json_t *ids)
{
    struct recon_target *targets = calloc(REQUEST_MAX_TARGETS, sizeof *targets);
    if (targets == NULL)
        return MC_ERR_INTERNAL;
    size_t n = 0;
    mc_error rc = read_targets(ctx, day, agency, false, targets, REQUEST_MAX_TARGETS, &n);
    if (rc == MC_OK && n == 0)
        rc = MC_ERR_PAYMENT_MERCHANT_NOT_CONFIGURED;
    for (size_t i = 0; rc == MC_OK && i < n; i++) {
        struct recon_tx t = {.ctx = ctx, .day = day, .target = &targets[i],
                             .requested_by = requested_by};
        rc = mc_db_transaction(ctx->db, NULL, recon_tx_fn, &t);
        if (rc == MC_OK)
            json_array_append_new(ids, json_string(t.id));
    }
    free(targets);
    return rc;
}

void payment_reconcile_run(void *arg)
{
    struct payment_ctx *ctx = arg;
    char day[11];
    unsigned hour;
    vietnam_yesterday(time(NULL), day, &hour);
    if (hour < ctx->reconcile_hour)
        return; /* the gateways' files for yesterday are not there yet */
    struct recon_target targets[SCHEDULE_BATCH];
    size_t n = 0;
    mc_error rc = read_targets(ctx, day, NULL, true, targets, SCHEDULE_BATCH, &n);
    for (size_t i = 0; rc == MC_OK && i < n; i++) {
        struct recon_tx t = {.ctx = ctx, .day = day, .target = &targets[i], .scheduled = true};
        mc_error one = mc_db_transaction(ctx->db, NULL, recon_tx_fn, &t);
        if (one != MC_OK)
            mc_log(MC_LOG_WARNING, NULL, "payment.reconcile_failed", "%s %s %s: error %d", day,
                   targets[i].agency_code, targets[i].provider, (int)one);
    }
    if (rc != MC_OK)
        mc_log(MC_LOG_WARNING, NULL, "payment.reconcile_failed", "schedule pass failed (%d)",
               (int)rc);
}
