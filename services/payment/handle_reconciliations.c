/*
 * /payments/reconciliations: the daily comparison of an agency's payments
 * and refunds with each gateway's statement (reconcile.c).
 *
 *   POST /payments/reconciliations   {date, agency_code?}: reconcile that
 *        Vietnam-time day now, for each of the agency's merchant accounts
 *        (system_admin: any agency, or every one when agency_code is
 *        absent; an agency's officers and administrators: their own);
 *        each run supersedes the day's current one. 201 {items}.
 *   GET  /payments/reconciliations   the runs, newest first, keyset pages;
 *        filters date, agency, provider, state
 *   GET  /payments/reconciliations/runs/{id} one run with its mismatches;
 *        ?format=csv: the accountant's CSV (as the statistics reports)
 *
 * Readers: the agency's staff, auditors and system administrators; a run of
 * another agency is 404 to staff, as if it did not exist.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "motcua/download.h"
#include "motcua/json_spec.h"
#include "motcua/uuid_text.h"
#include "payment.h"
#include "store.h"

#define STAFF (MC_ROLE_OFFICER | MC_ROLE_APPROVER | MC_ROLE_AGENCY_ADMIN)

struct create_body {
    const char *date;
    const char *agency_code;
};

static const struct mc_field create_fields[] = {
    {.name = "date", .type = MC_F_DATE, .required = true, MC_BIND(struct create_body, date)},
    {.name = "agency_code", .type = MC_F_STRING, .nullable = true, .min_len = 1, .max_len = 32,
     MC_BIND(struct create_body, agency_code)},
    {0}};

static bool is_global_reader(const mc_principal *p)
{
    return (p->roles & (MC_ROLE_SYSTEM_ADMIN | MC_ROLE_AUDITOR)) != 0 && (p->roles & STAFF) == 0;
}

/* Today in Vietnam, YYYY-MM-DD. */
static void vietnam_today(char out[11])
{
    time_t local = time(NULL) + PAYMENT_UTC_OFFSET_MIN * 60;
    struct tm tm;
    gmtime_r(&local, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

static mc_error read_runs(mc_db_pool *db, const json_t *ids, json_t *items)
{
    mc_db_conn *conn = NULL;
    mc_error rc = mc_db_acquire(db, &conn);
    bool held = rc == MC_OK;
    size_t i;
    const json_t *id;
    json_array_foreach(ids, i, id)
    {
        json_t *run = NULL;
        char agency[33];
        if (rc == MC_OK)
            rc = store_recon_get_json(conn, json_string_value(id), &run, agency);
        if (rc == MC_OK)
            json_array_append_new(items, run);
    }
    if (held)
        mc_db_release(db, conn);
    return rc;
}

void handle_reconciliations_create(mc_request *req)
{
    const mc_principal *p = &req->principal;
    struct create_body body = {0};
    json_t *errors = mc_errors_new();
    mc_json_parse_fields(req->body, create_fields, "", errors, &body);
    char today[11];
    vietnam_today(today);
    if (body.date != NULL && strcmp(body.date, today) > 0)
        mc_errors_add(errors, "/date", "in_future", "a day not begun in Vietnam has nothing to reconcile");
    const char *agency = body.agency_code;
    if ((p->roles & STAFF) != 0) {
        if (agency != NULL && strcmp(agency, p->agency) != 0)
            mc_errors_add(errors, "/agency_code", "not_your_agency",
                          "staff reconcile their own agency's accounts");
        agency = p->agency;
    }
    if (!mc_no_errors(req, MC_ERR_VALIDATION, errors))
        return;
    struct payment_ctx *ctx = payment_ctx(req);
    json_t *ids = json_array(), *items = json_array();
    mc_error rc = payment_reconcile(ctx, body.date, agency, p->sub, ids);
    if (rc == MC_OK)
        rc = read_runs(ctx->db, ids, items);
    json_decref(ids);
    if (rc == MC_ERR_PAYMENT_MERCHANT_NOT_CONFIGURED) {
        json_decref(items);
        mc_reply_error(req, rc, "the agency has no merchant account to reconcile");
        return;
    }
    if (rc != MC_OK) {
        json_decref(items);
        mc_reply_error(req, rc, NULL);
        return;
    }
    mc_reply_created(req, json_pack("{so}", "items", items), NULL, NULL);
}

void handle_reconciliation_get(mc_request *req)
{
    const mc_principal *p = &req->principal;
    const char *id = mc_path_param(req, "id");
    json_t *errors = mc_errors_new();
    const char *format = mc_query_str(req, "format", 8, errors);
    if (format != NULL && strcmp(format, "json") != 0 && strcmp(format, "csv") != 0)
        mc_errors_add_param(errors, "format", "invalid", "json or csv");
    if (!mc_query_ok(req, errors))
        return;
    json_t *run = NULL;
    char agency[33] = "";
    mc_error rc = mc_is_uuid(id) ? MC_OK : MC_ERR_NOT_FOUND;
    mc_db_conn *conn;
    if (rc == MC_OK && (rc = mc_db_acquire(mc_request_db(req), &conn)) == MC_OK) {
        rc = store_recon_get_json(conn, id, &run, agency);
        mc_db_release(mc_request_db(req), conn);
    }
    /* Staff see their agency's runs; another agency's is as if it did not exist. */
    if (rc == MC_OK && !is_global_reader(p) && strcmp(agency, p->agency) != 0)
        rc = MC_ERR_NOT_FOUND;
    if (rc != MC_OK) {
        json_decref(run);
        mc_reply_error(req, rc, rc == MC_ERR_NOT_FOUND ? "no such reconciliation" : NULL);
        return;
    }
    mc_set_header(req, "Cache-Control", "private, no-store");
    if (format != NULL && strcmp(format, "csv") == 0) {
        size_t len = 0;
        char *csv = recon_report_csv(run, &len);
        char name[96];
        snprintf(name, sizeof name, "doi-soat-%s-%s-%s.csv",
                 json_string_value(json_object_get(run, "date")), agency,
                 json_string_value(json_object_get(run, "provider")));
        json_decref(run);
        if (csv == NULL) {
            mc_reply_error(req, MC_ERR_INTERNAL, "out of memory");
            return;
        }
        mc_reply_download(req, "text/csv; charset=utf-8", name, csv, len);
        return;
    }
    mc_reply_json_etag(req, 200, run, NULL);
}

static mc_error list_page(mc_db_conn *conn, const void *query, unsigned limit, json_t **items,
                          json_t **next_keys)
{
    return store_recon_list(conn, query, limit, items, next_keys);
}

void handle_reconciliations_list(mc_request *req)
{
    static const char *const states[] = {"matched", "mismatched", "failed"};
    const mc_principal *p = &req->principal;
    json_t *errors = mc_errors_new();
    struct recon_filter f = {0};
    char after_created[24] = "";
    f.day = mc_query_str(req, "date", 10, errors);
    f.provider = mc_query_str(req, "provider", 32, errors);
    f.state = mc_query_str(req, "state", 16, errors);
    const char *agency = mc_query_str(req, "agency", 32, errors);
    int y, m, d;
    char end;
    if (f.day != NULL && !(strlen(f.day) == 10 && sscanf(f.day, "%4d-%2d-%2d%c", &y, &m, &d, &end) == 3 &&
                           m >= 1 && m <= 12 && d >= 1 && d <= 31))
        mc_errors_add_param(errors, "date", "format", "must be a date YYYY-MM-DD");
    enum pay_provider provider;
    if (f.provider != NULL && !pay_provider_parse(f.provider, &provider))
        mc_errors_add_param(errors, "provider", "enum", "must be one of: vnpay national_platform");
    bool known = false;
    for (size_t i = 0; f.state != NULL && i < sizeof states / sizeof states[0]; i++)
        known = known || strcmp(f.state, states[i]) == 0;
    if (f.state != NULL && !known)
        mc_errors_add_param(errors, "state", "enum", "must be one of: matched mismatched failed");
    if (is_global_reader(p))
        f.agency = agency;
    else {
        if (agency != NULL && strcmp(agency, p->agency) != 0)
            mc_errors_add_param(errors, "agency", "not_your_agency",
                                "staff list their own agency's reconciliations");
        f.agency = p->agency;
    }
    unsigned limit = 0;
    json_t *cursor = NULL;
    if (payment_page_parse(req, errors, &limit, &cursor, after_created, &f.after_id))
        f.after_created = after_created;
    mc_set_header(req, "Cache-Control", "private, no-store");
    mc_reply_list(req, errors, cursor, list_page, &f, limit);
}
