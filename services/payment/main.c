/*
 * motcua-payment: online fees through VNPay and the national payment
 * platform, exactly once (docs/services/payment.md).
 *
 * Everything generic is common's mc_service_main (which also runs the outbox
 * relay, since this service publishes events); this file reads the service's
 * own settings and starts its background jobs: the dossier feed consumer
 * (demands), the confirmation sender, the sweeper and the reconciliation
 * schedule.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "motcua/config.h"
#include "motcua/log.h"
#include "payment.h"

MC_SERVICE_EMBEDDED(payment); /* services/payment/meson.build */

struct payment_ctx *payment_ctx(const mc_request *req)
{
    return mc_request_service_ctx(req);
}

/* A URL setting into out, without a trailing '/'. */
static bool url_setting(const char *key, const char *fallback, char *out, size_t len)
{
    const char *v = mc_config_str("payment", key, fallback);
    size_t n = v != NULL ? strlen(v) : 0;
    while (n > 0 && v[n - 1] == '/')
        n--;
    if (n == 0 || n >= len || (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0)) {
        mc_log(MC_LOG_ERROR, NULL, "config.invalid", "MOTCUA_PAYMENT_%s must be an http(s) URL", key);
        return false;
    }
    memcpy(out, v, n);
    out[n] = '\0';
    return true;
}

/* A statement URL template (reconcile.c): empty (not configured), or an
   http(s) URL with {merchant_code} and {date}. */
static bool statement_setting(const char *v, const char *key, char *out, size_t len)
{
    if (v == NULL || v[0] == '\0') {
        out[0] = '\0';
        return true;
    }
    if (strlen(v) >= len || (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0) ||
        strstr(v, "{merchant_code}") == NULL || strstr(v, "{date}") == NULL) {
        mc_log(MC_LOG_ERROR, NULL, "config.invalid",
               "MOTCUA_PAYMENT_%s must be an http(s) URL with {merchant_code} and {date}", key);
        return false;
    }
    memcpy(out, v, strlen(v) + 1);
    return true;
}

static void payment_ctx_free(struct payment_ctx *ctx)
{
    mc_periodic_stop(ctx->reconciler);
    mc_periodic_stop(ctx->sweeper);
    mc_periodic_stop(ctx->confirmer);
    mc_feed_consumer_stop(ctx->consumer);
    mc_service_token_free(ctx->token);
    free(ctx);
}

static mc_error payment_start(mc_app *app)
{
    struct payment_ctx *ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL)
        return MC_ERR_INTERNAL;
    ctx->db = mc_app_db(app);
    char dossier_url[64], gateway_url[64];
    mc_service_default_url("dossier", dossier_url, sizeof dossier_url);
    snprintf(gateway_url, sizeof gateway_url, "http://127.0.0.1:8080");
    bool ok = mc_config_uint("payment", "EXPIRY_SECONDS", 900, 10, 86400, &ctx->expiry_seconds) &&
              mc_config_uint("payment", "CONFIRM_INTERVAL_SECONDS", 2, 1, 3600,
                             &ctx->confirm_interval_s) &&
              mc_config_uint("payment", "SWEEP_INTERVAL_SECONDS", 60, 0, 86400,
                             &ctx->sweep_interval_s) &&
              mc_config_uint("payment", "GATEWAY_TIMEOUT_SECONDS", 10, 1, 120,
                             &ctx->gateway_timeout_s) &&
              mc_config_uint("payment", "REFUND_QUERY_SECONDS", 60, 1, 86400,
                             &ctx->refund_query_s) &&
              url_setting("VNPAY_PAY_URL", "https://sandbox.vnpayment.vn/paymentv2/vpcpay.html",
                          ctx->vnpay_pay_url, sizeof ctx->vnpay_pay_url) &&
              url_setting("VNPAY_API_URL",
                          "https://sandbox.vnpayment.vn/merchant_webapi/api/transaction",
                          ctx->vnpay_api_url, sizeof ctx->vnpay_api_url) &&
              url_setting("NPP_URL", "http://127.0.0.1:8121/api/v1/thanhtoan", ctx->npp_url,
                          sizeof ctx->npp_url) &&
              url_setting("PUBLIC_URL", gateway_url, ctx->public_url, sizeof ctx->public_url) &&
              url_setting("DOSSIER_URL", dossier_url, ctx->dossier_url, sizeof ctx->dossier_url);
    ok = ok &&
         statement_setting(mc_config_str("payment", "VNPAY_STATEMENT_URL", NULL),
                           "VNPAY_STATEMENT_URL", ctx->vnpay_statement_url,
                           sizeof ctx->vnpay_statement_url) &&
         statement_setting(mc_config_str("payment", "NPP_STATEMENT_URL", NULL), "NPP_STATEMENT_URL",
                           ctx->npp_statement_url, sizeof ctx->npp_statement_url) &&
         mc_config_uint("payment", "RECONCILE_HOUR", 6, 0, 23, &ctx->reconcile_hour) &&
         mc_config_uint("payment", "RECONCILE_INTERVAL_SECONDS", 600, 0, 86400,
                        &ctx->reconcile_interval_s);
    bool has_client = false;
    if (ok) {
        ctx->token = mc_service_token_from_config("payment", &has_client);
        if (has_client && ctx->token == NULL)
            ok = false;
        else if (!has_client)
            mc_log(MC_LOG_WARNING, NULL, "config.missing",
                   "no CLIENT_ID: the dossier feed is not read and dossiers are not confirmed");
    }
    const char *conninfo = mc_config_str("payment", "DATABASE_URL", NULL);
    if (ok && ctx->token != NULL) {
        ctx->consumer = payment_demands_start(ctx, conninfo);
        ctx->confirmer = mc_periodic_start(ctx->confirm_interval_s, payment_confirm_run, ctx);
        ok = ctx->consumer != NULL && ctx->confirmer != NULL;
    }
    if (ok && ctx->sweep_interval_s > 0) {
        ctx->sweeper = mc_periodic_start(ctx->sweep_interval_s, payment_sweep_run, ctx);
        ok = ctx->sweeper != NULL;
    }
    if (ok && ctx->reconcile_interval_s > 0) {
        ctx->reconciler = mc_periodic_start(ctx->reconcile_interval_s, payment_reconcile_run, ctx);
        ok = ctx->reconciler != NULL;
    }
    if (!ok) {
        payment_ctx_free(ctx);
        return MC_ERR_INTERNAL;
    }
    mc_app_set_ctx(app, ctx);
    return MC_OK;
}

static void payment_stop(mc_app *app)
{
    struct payment_ctx *ctx = mc_app_ctx(app);
    if (ctx == NULL)
        return;
    payment_ctx_free(ctx);
    mc_app_set_ctx(app, NULL);
}

int main(int argc, char **argv)
{
    /* Port: MOTCUA_PAYMENT_PORT, else mc_service_default_port (8105). */
    const struct mc_service svc = {
        MC_SERVICE_PARTS(payment),
        .publishes_events = true,
        .start = payment_start,
        .stop = payment_stop,
    };
    return mc_service_main(&svc, argc, argv);
}
