/* The payment service's pure rules (services/payment/payment_rules.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "payment_rules.h"

static json_t *event(const char *type, json_t *data)
{
    return json_pack("{ss ss so}", "id", "ev-1", "type", type, "data", data);
}

static void test_pay_after_demand(void **state)
{
    (void)state;
    json_t *e = event("dossier.dossier.payment_requested",
                      json_pack("{ss ss ss ss ss ss sI s{sI}}", "dossier_id",
                                "6f1c3a52-0000-4000-8000-000000000001", "code", "H01-1",
                                "agency_code", "H01", "handling_agency", "H02", "procedure_code",
                                "1.001", "owner_sub", "citizen-1", "fee_amount", (json_int_t)50000,
                                "details", "amount", (json_int_t)50000));
    struct demand d;
    assert_int_equal(demand_from_event(e, &d), DEMAND_OK);
    assert_string_equal(d.kind, DEMAND_AFTER);
    assert_string_equal(d.agency_code, "H02"); /* the handling agency collects */
    assert_string_equal(d.owner_sub, "citizen-1");
    assert_int_equal(d.amount, 50000);
    /* no fee items sent: one LEPHI item of the whole amount */
    assert_int_equal(json_array_size(d.fee_items), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(d.fee_items, 0), "code")),
                        "LEPHI");
    demand_clear(&d);
    json_decref(e);
}

static void test_pay_first_demand_with_items(void **state)
{
    (void)state;
    json_t *e = event("dossier.dossier.submission_payment_required",
                      json_pack("{ss sn ss ss ss sI s[{ss ss sI}{ss ss sI}] sn}", "dossier_id",
                                "6f1c3a52-0000-4000-8000-000000000002", "code", "agency_code",
                                "H01", "handling_agency", "H01", "procedure_code", "1.002", "amount",
                                (json_int_t)30000, "fee_items", "code", "LEPHI", "name", "Lệ phí",
                                "amount", (json_int_t)10000, "code", "PHI", "name", "Phí",
                                "amount", (json_int_t)20000, "details"));
    struct demand d;
    assert_int_equal(demand_from_event(e, &d), DEMAND_OK);
    assert_string_equal(d.kind, DEMAND_BEFORE_SUBMISSION);
    assert_null(d.dossier_code);
    assert_null(d.owner_sub);
    assert_int_equal(d.amount, 30000);
    assert_int_equal(json_array_size(d.fee_items), 2);
    demand_clear(&d);
    /* items that do not add up to the amount are refused */
    json_object_set_new(json_array_get(json_object_get(json_object_get(e, "data"), "fee_items"), 1),
                        "amount", json_integer(25000));
    assert_int_equal(demand_from_event(e, &d), DEMAND_INVALID);
    demand_clear(&d);
    json_decref(e);
}

static void test_not_demands(void **state)
{
    (void)state;
    struct demand d;
    json_t *e = event("dossier.dossier.received", json_pack("{ss}", "dossier_id", "x"));
    assert_int_equal(demand_from_event(e, &d), DEMAND_NONE);
    json_decref(e);
    /* a demand of no amount, or of zero, is unusable */
    e = event("dossier.dossier.payment_requested",
              json_pack("{ss ss ss sI}", "dossier_id", "6f1c3a52-0000-4000-8000-000000000003",
                        "handling_agency", "H01", "procedure_code", "1", "fee_amount",
                        (json_int_t)0));
    assert_int_equal(demand_from_event(e, &d), DEMAND_INVALID);
    demand_clear(&d);
    json_decref(e);
}

static void test_answers_and_states(void **state)
{
    (void)state;
    assert_string_equal(ipn_message(IPN_OK), "Confirm Success");
    assert_string_equal(ipn_message(IPN_INVALID_SIGNATURE), "Invalid signature");
    assert_string_equal(ipn_message("42"), "Unknown error");
    assert_string_equal(payment_unpaid_state(PAY_VNPAY, "24"), "cancelled");
    assert_string_equal(payment_unpaid_state(PAY_VNPAY, "51"), "failed");
    assert_string_equal(payment_unpaid_state(PAY_NATIONAL_PLATFORM, "24"), "cancelled");
    assert_string_equal(payment_unpaid_state(PAY_NATIONAL_PLATFORM, "51"), "failed");
}

/* The back-off of the status queries of a refund whose answer never came. */
static void test_refund_query_delay(void **state)
{
    (void)state;
    assert_int_equal(refund_query_delay(60, 0), 60);
    assert_int_equal(refund_query_delay(60, 1), 120);
    assert_int_equal(refund_query_delay(60, 4), 960);
    assert_int_equal(refund_query_delay(60, 11), REFUND_QUERY_MAX_DELAY_S); /* 122880 s: a day */
    assert_int_equal(refund_query_delay(60, 4000), REFUND_QUERY_MAX_DELAY_S); /* no overflow */
    assert_int_equal(refund_query_delay(0, 0), 1);
    assert_int_equal(refund_query_delay(86400 * 2, 0), REFUND_QUERY_MAX_DELAY_S);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pay_after_demand),
        cmocka_unit_test(test_pay_first_demand_with_items),
        cmocka_unit_test(test_not_demands),
        cmocka_unit_test(test_answers_and_states),
        cmocka_unit_test(test_refund_query_delay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
