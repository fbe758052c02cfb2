/*
 * The dossier confirmations (an outbox of this service): a paid payment's
 * transaction wrote a row of dossier_confirmations; this job sends each to
 * the dossier service (POST /dossiers/{id}/actions/confirm_payment or
 * confirm_submission_payment) with the service's own token, until the
 * dossier service answers. A dossier service that is down, or a crash of
 * this one, delays a confirmation; it never loses it. The dossier side is
 * idempotent by payment_id, so a confirmation sent twice (a crash after the
 * call, before its row was marked) has one effect.
 *
 * Instances share the rows: a claim is a lease taken with SKIP LOCKED.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "motcua/http_client.h"
#include "motcua/log.h"
#include "payment.h"
#include "store.h"

#define BATCH 16
#define LEASE_SECONDS 60
#define MAX_DELAY_SECONDS 300

struct claim_tx {
    struct confirmation_row rows[BATCH];
    size_t n;
};

static mc_error claim_tx_fn(mc_db_conn *conn, void *arg)
{
    struct claim_tx *t = arg;
    for (size_t i = 0; i < t->n; i++)
        json_decref(t->rows[i].body);
    t->n = 0;
    return store_confirmations_claim(conn, BATCH, LEASE_SECONDS, t->rows, &t->n);
}

struct outcome_tx {
    const char *payment_id;
    int status;
    bool done;
    unsigned delay_s;
};

static mc_error outcome_tx_fn(mc_db_conn *conn, void *arg)
{
    struct outcome_tx *t = arg;
    return t->done ? store_confirmation_done(conn, t->payment_id, t->status)
                   : store_confirmation_retry(conn, t->payment_id, t->status, t->delay_s);
}

/* Send one confirmation: the HTTP status, 0 when the dossier service could
   not be reached. The dossier's ETag is read first (its payment view): a
   confirmation is a workflow action, guarded by If-Match like any other; a
   412 (the dossier changed in between) is read again once. */
static long send_one(struct payment_ctx *ctx, const struct confirmation_row *c)
{
    char bearer[MC_FEED_TOKEN_MAX];
    if (ctx->token == NULL ||
        mc_service_token_get(ctx->token, (int64_t)time(NULL), bearer, sizeof bearer) != MC_OK)
        return 0;
    char dossier_url[PAYMENT_URL_MAX + 64], action_url[PAYMENT_URL_MAX + 128], key[64];
    snprintf(dossier_url, sizeof dossier_url, "%s/api/v1/dossiers/%s", ctx->dossier_url,
             c->dossier_id);
    snprintf(action_url, sizeof action_url, "%s/actions/%s", dossier_url, c->action);
    snprintf(key, sizeof key, "payment-%s", c->payment_id);
    char *body = json_dumps(c->body, JSON_COMPACT);
    long status = 0;
    for (int attempt = 0; body != NULL && attempt < 2; attempt++) {
        struct mc_http_result res = {0};
        status = 0;
        if (mc_http_get(dossier_url, NULL, bearer, 10, 256 * 1024, &res) == MC_OK)
            status = res.status;
        char etag[160];
        snprintf(etag, sizeof etag, "%s", res.etag);
        mc_http_result_free(&res);
        if (status != 200)
            break;
        const char *headers[] = {"If-Match", etag, "Idempotency-Key", key, NULL};
        status = 0;
        if (mc_http_post_json_headers(action_url, body, bearer, headers, 10, 256 * 1024, &res) ==
            MC_OK)
            status = res.status;
        mc_http_result_free(&res);
        if (status != 412)
            break;
    }
    if (status == 401)
        mc_service_token_invalidate(ctx->token);
    free(body);
    return status;
}

void payment_confirm_run(void *arg)
{
    struct payment_ctx *ctx = arg;
    struct claim_tx claim = {.n = 0};
    if (mc_db_transaction(ctx->db, NULL, claim_tx_fn, &claim) != MC_OK)
        return;
    for (size_t i = 0; i < claim.n; i++) {
        const struct confirmation_row *c = &claim.rows[i];
        long status = send_one(ctx, c);
        /* 2xx: done. 409: the dossier moved on without this payment (withdrawn,
           stopped, or paid otherwise): done, and staff refund it. Others: retry. */
        bool done = (status >= 200 && status < 300) || status == 409;
        if (status == 409)
            mc_log(MC_LOG_WARNING, NULL, "payment.confirmation_refused",
                   "the dossier service refused the confirmation of payment %s (409): refund it",
                   c->payment_id);
        else if (!done)
            mc_log(MC_LOG_INFO, NULL, "payment.confirmation_retry",
                   "confirmation of payment %s answered %ld; retrying", c->payment_id, status);
        /* back-off: the interval doubled per attempt, at most five minutes */
        unsigned delay = ctx->confirm_interval_s;
        for (unsigned k = 1; k < c->attempts && delay < MAX_DELAY_SECONDS; k++)
            delay *= 2;
        struct outcome_tx o = {c->payment_id, (int)status, done,
                               delay < MAX_DELAY_SECONDS ? delay : MAX_DELAY_SECONDS};
        mc_db_transaction(ctx->db, NULL, outcome_tx_fn, &o);
        json_decref(claim.rows[i].body);
    }
}
