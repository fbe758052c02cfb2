/* Applying a gateway's verdict to a payment (settle.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "motcua/calendar.h"
#include "motcua/events.h"
#include "payment.h"
#include "payment_rules.h"
#include "settle.h"

static json_t *time_json(int64_t t)
{
    if (t <= 0)
        return json_null();
    char buf[32];
    mc_rfc3339_format(t, PAYMENT_UTC_OFFSET_MIN, buf);
    return json_string(buf);
}

static mc_error add_event(mc_db_conn *conn, const struct payment_row *p, const char *type,
                          const char *state, const char *gateway_code, int64_t paid_at,
                          const json_t *refund)
{
    json_t *data = json_pack("{ss ss ss ss ss sI ss ss* so so}", "payment_id", p->id, "dossier_id",
                             p->dossier_id, "demand_kind", p->kind, "agency_code", p->agency_code,
                             "provider", p->provider, "amount", (json_int_t)p->amount, "state",
                             state, "gateway_code", gateway_code != NULL && gateway_code[0] != '\0' ? gateway_code : NULL,
                             "paid_at", time_json(paid_at), "occurred_at",
                             time_json((int64_t)time(NULL)));
    if (data != NULL)
        json_object_set_new(data, "refund", refund != NULL ? json_deep_copy(refund) : json_null());
    char subject[64];
    snprintf(subject, sizeof subject, "payments/%s", p->id);
    mc_error rc = data != NULL ? mc_event_add(conn, type, subject, data, NULL) : MC_ERR_INTERNAL;
    json_decref(data);
    return rc;
}

mc_error payment_settle(mc_db_conn *conn, const struct payment_row *p, const struct pay_result *r,
                        bool expired)
{
    enum pay_provider provider = PAY_VNPAY;
    pay_provider_parse(p->provider, &provider);
    if (expired || r->outcome != PAY_OUTCOME_PAID) {
        const char *state = expired ? "expired" : payment_unpaid_state(provider, r->gateway_code);
        mc_error rc = store_payment_settle(conn, p->id, state, r->gateway_code, r->transaction_no,
                                           r->bank_code, 0);
        if (rc == MC_OK)
            rc = add_event(conn, p, expired ? "payment.payment.expired" : "payment.payment.failed",
                           state, r->gateway_code, 0, NULL);
        return rc;
    }
    int64_t paid_at = 0;
    if (!pay_vn_time_parse(r->pay_date, &paid_at))
        paid_at = (int64_t)time(NULL);
    mc_error rc = store_payment_settle(conn, p->id, "paid", r->gateway_code, r->transaction_no,
                                       r->bank_code, paid_at);
    if (rc == MC_OK)
        rc = store_demand_paid(conn, p->demand_id);
    if (rc == MC_OK)
        rc = add_event(conn, p, "payment.payment.succeeded", "paid", r->gateway_code, paid_at, NULL);
    if (rc == MC_OK) {
        const char *action = strcmp(p->kind, DEMAND_BEFORE_SUBMISSION) == 0
                                 ? "confirm_submission_payment"
                                 : "confirm_payment";
        json_t *body = json_pack("{ss so sI ss}", "payment_id", p->id, "paid_at", time_json(paid_at),
                                 "amount", (json_int_t)p->amount, "provider", p->provider);
        rc = body != NULL ? store_confirmation_add(conn, p->id, p->dossier_id, action, body)
                          : MC_ERR_INTERNAL;
        json_decref(body);
    }
    return rc;
}

mc_error payment_refund_settle(mc_db_conn *conn, const struct payment_row *p, const char *ref,
                               long long amount, bool done, const char *gateway_code,
                               json_t **out)
{
    json_t *settled = NULL;
    mc_error rc = store_refund_settle(conn, ref, done ? "succeeded" : "failed", gateway_code,
                                      &settled);
    if (rc == MC_OK && done)
        rc = add_event(conn, p, "payment.payment.refunded", p->state,
                       json_string_value(json_object_get(settled, "gateway_code")), 0, settled);
    if (rc == MC_OK && !done) /* the reservation given back */
        rc = store_payment_refunded(conn, p->id, -amount);
    if (rc == MC_OK && out != NULL)
        *out = settled;
    else
        json_decref(settled);
    return rc;
}
