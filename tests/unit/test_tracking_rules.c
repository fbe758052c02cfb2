/*
 * Unit tests of the tracking service's pure logic: what an event says to a
 * citizen (services/tracking/timeline.c), dossier and short codes and who
 * may read a timeline (lookup_rules.c), and the lookup's rate limits
 * (rate_limit.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lookup_rules.h"
#include "projection.h"
#include "rate_limit.h"
#include "timeline.h"

/* A dossier event's data as services/dossier/dossier_event.c makes it. */
static json_t *event_data(int to_status, const char *appointment)
{
    return json_pack(
        "{ss ss ss ss ss ss ss si ss ss? ss ss ss s[] s[s] s[ss] si so so}", "dossier_id",
        "5b8f7e2c-3a41-4d7e-9c2a-6f1e0d3b7a55", "code", "000.00.06.H56-250303-0001", "agency_code",
        "000.00.06.H56", "handling_agency", "000.00.06.H56", "procedure_code", "1.001193",
        "procedure_name", "Đăng ký khai sinh", "channel", "online", "to_status", to_status,
        "status_name", "x", "appointment_at", appointment, "submitted_at",
        "2025-03-03T08:40:12+07:00", "received_at", "2025-03-03T09:10:00+07:00", "occurred_at",
        "2025-03-04T10:00:00+07:00", "transfer_chain", "reasons", "Thiếu giấy tờ", "missing_items",
        "Tờ khai", "Giấy chứng sinh", "fee_amount", 50000, "details",
        json_pack("{ss ss ss}", "assignee", "officer-sub-123", "supplement_due_at",
                  "2025-03-12T17:00:00+07:00", "from_agency", "000.00.01.H56"),
        "outcome", json_null());
}

static void test_labels(void **state)
{
    (void)state;
    const char *vi, *en;
    for (int s = 1; s <= 10; s++)
        assert_true(timeline_status_labels(s, &vi, &en));
    assert_true(timeline_status_labels(5, &vi, &en));
    assert_string_equal(vi, "Yêu cầu bổ sung giấy tờ");
    assert_string_equal(en, "Supplement requested");
    assert_false(timeline_status_labels(0, &vi, &en)); /* drafts are never tracked */
    assert_false(timeline_status_labels(11, &vi, &en));
    assert_true(timeline_step_labels("dossier.dossier.apology_issued", &vi, &en));
    assert_string_equal(vi, "Xin lỗi và hẹn lại ngày trả kết quả");
    /* the watcher's flags and evaluations make no step; neither do other feeds */
    assert_false(timeline_step_labels("dossier.dossier.overdue", &vi, &en));
    assert_false(timeline_step_labels("dossier.dossier.due_soon", &vi, &en));
    assert_false(timeline_step_labels("dossier.dossier.evaluated", &vi, &en));
    assert_false(timeline_step_labels("payment.payment.succeeded", &vi, &en));
    assert_false(timeline_step_labels(NULL, &vi, &en));
}

static void test_card(void **state)
{
    (void)state;
    json_t *data = event_data(2, "2025-03-17T10:00:00+07:00");
    json_t *card = timeline_card(data);
    assert_non_null(card);
    assert_string_equal(json_string_value(json_object_get(card, "code")), "000.00.06.H56-250303-0001");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(card, "status"), "code")), 2);
    assert_string_equal(json_string_value(json_object_get(json_object_get(card, "procedure"), "name")),
                        "Đăng ký khai sinh");
    assert_true(json_is_null(json_object_get(card, "outcome")));
    /* nothing of the applicant, the officer or the reasons */
    assert_null(json_object_get(card, "reasons"));
    assert_null(json_object_get(card, "missing_items"));
    assert_null(json_object_get(card, "details"));
    json_decref(card);
    /* no code, an unknown status: no card */
    json_object_del(data, "code");
    assert_null(timeline_card(data));
    json_decref(data);
    data = event_data(0, NULL);
    assert_null(timeline_card(data));
    json_decref(data);
}

static void test_asked(void **state)
{
    (void)state;
    json_t *data = event_data(5, NULL);
    json_t *asked = timeline_asked("dossier.dossier.supplement_requested", data, NULL);
    assert_int_equal(json_array_size(json_object_get(asked, "missing_items")), 2);
    assert_string_equal(json_string_value(json_object_get(asked, "supplement_due_at")),
                        "2025-03-12T17:00:00+07:00");
    assert_true(json_is_null(json_object_get(asked, "fee_amount")));
    /* a later event at 5 (an apology) keeps the request's deadline */
    json_object_del(json_object_get(data, "details"), "supplement_due_at");
    json_t *later = timeline_asked("dossier.dossier.apology_issued", data, asked);
    assert_string_equal(json_string_value(json_object_get(later, "supplement_due_at")),
                        "2025-03-12T17:00:00+07:00");
    json_decref(later);
    json_decref(asked);
    json_decref(data);
    /* at 6 the fee; elsewhere nothing */
    data = event_data(6, NULL);
    asked = timeline_asked("dossier.dossier.payment_requested", data, NULL);
    assert_int_equal(json_integer_value(json_object_get(asked, "fee_amount")), 50000);
    assert_true(json_is_null(json_object_get(asked, "missing_items")));
    json_decref(asked);
    json_decref(data);
    data = event_data(4, NULL);
    asked = timeline_asked("dossier.dossier.payment_confirmed", data, NULL);
    assert_true(json_is_null(json_object_get(asked, "fee_amount")));
    assert_true(json_is_null(json_object_get(asked, "supplement_due_at")));
    json_decref(asked);
    json_decref(data);
}

static void test_step(void **state)
{
    (void)state;
    json_t *earlier = event_data(4, "2025-03-17T10:00:00+07:00");
    json_t *before = timeline_card(earlier);
    json_decref(earlier);
    json_t *data = event_data(4, "2025-03-20T10:00:00+07:00");
    json_t *step = timeline_step("dossier.dossier.apology_issued", data, before);
    assert_non_null(step);
    assert_string_equal(json_string_value(json_object_get(step, "kind")), "apology_issued");
    assert_string_equal(json_string_value(json_object_get(step, "previous_appointment_at")),
                        "2025-03-17T10:00:00+07:00");
    assert_string_equal(json_string_value(json_object_get(step, "appointment_at")),
                        "2025-03-20T10:00:00+07:00");
    assert_string_equal(json_string_value(json_object_get(step, "from_agency")), "000.00.01.H56");
    /* the assignee (an officer) of the details is never kept */
    char *text = json_dumps(step, 0);
    assert_null(strstr(text, "officer-sub-123"));
    free(text);
    json_t *shown = timeline_step_public(step);
    assert_null(json_object_get(shown, "reasons"));
    assert_null(json_object_get(shown, "missing_items"));
    assert_null(json_object_get(shown, "fee_amount"));
    assert_null(json_object_get(shown, "supplement_due_at"));
    assert_non_null(json_object_get(shown, "label_vi"));
    json_decref(shown);
    json_decref(step);
    /* the same appointment: no previous one */
    json_t *same = timeline_card(data);
    step = timeline_step("dossier.dossier.step_changed", data, same);
    assert_true(json_is_null(json_object_get(step, "previous_appointment_at")));
    json_decref(step);
    json_decref(same);
    assert_null(timeline_step("dossier.dossier.overdue", data, before));
    json_decref(data);
    json_decref(before);
}

static void test_codes(void **state)
{
    (void)state;
    assert_true(lookup_code_valid("000.00.06.H56-231027-0361"));
    assert_true(lookup_code_valid("000.00.06.H56-231027-12345"));
    assert_true(lookup_code_valid("M01.123.45-250101-AB0001")); /* the 2025 format */
    assert_false(lookup_code_valid(NULL));
    assert_false(lookup_code_valid(""));
    assert_false(lookup_code_valid("000.00.06.H56"));
    assert_false(lookup_code_valid("-231027-0361"));
    assert_false(lookup_code_valid("000.00.06.H56-2310-0361"));
    assert_false(lookup_code_valid("000.00.06.H56-231027-036"));
    assert_false(lookup_code_valid("000.00.06.H56-231027-0361'"));
    assert_false(lookup_code_valid("000/00-231027-0361"));
    char long_code[80];
    memset(long_code, 'A', sizeof long_code);
    memcpy(long_code + 51, "-231027-0361", 13); /* 63 characters: the longest taken */
    assert_true(lookup_code_valid(long_code));
    memcpy(long_code + 52, "-231027-0361", 13);
    assert_false(lookup_code_valid(long_code));
}

static void test_short_codes(void **state)
{
    (void)state;
    const unsigned char key[] = "0123456789abcdef";
    char a[TRACKING_SHORT_LEN + 1], b[TRACKING_SHORT_LEN + 1];
    assert_true(lookup_short_code(key, 16, "5b8f7e2c-3a41-4d7e-9c2a-6f1e0d3b7a55", a));
    assert_true(lookup_short_code(key, 16, "5b8f7e2c-3a41-4d7e-9c2a-6f1e0d3b7a55", b));
    assert_string_equal(a, b);
    assert_int_equal(strlen(a), TRACKING_SHORT_LEN);
    assert_int_equal(strspn(a, "0123456789ABCDEFGHJKMNPQRSTVWXYZ"), TRACKING_SHORT_LEN);
    assert_true(lookup_short_valid(a));
    assert_true(lookup_short_code(key, 16, "5b8f7e2c-3a41-4d7e-9c2a-6f1e0d3b7a56", b));
    assert_string_not_equal(a, b);
    assert_true(lookup_short_code(key, 15, "5b8f7e2c-3a41-4d7e-9c2a-6f1e0d3b7a55", b));
    assert_string_not_equal(a, b); /* another key, another code */
    assert_false(lookup_short_code(key, 0, "5b8f7e2c-3a41-4d7e-9c2a-6f1e0d3b7a55", b));
    char lower[] = "7k3qx9m2rd";
    assert_true(lookup_short_valid(lower));
    lookup_short_normalise(lower);
    assert_string_equal(lower, "7K3QX9M2RD");
    assert_false(lookup_short_valid("7K3QX9M2R"));
    assert_false(lookup_short_valid("7K3QX9M2RDX"));
    assert_false(lookup_short_valid("7K3QX9M2RI")); /* I, L, O, U are not in the alphabet */
    assert_false(lookup_short_valid("7K3QX9M2R-"));
    assert_false(lookup_short_valid(NULL));
}

/* The key id the stored public cards carry (lookup_rules.h): HMAC-SHA256 of a fixed label
   under the key, computed here with Python's hmac; another key gives another id. */
static void test_key_ids(void **state)
{
    (void)state;
    const unsigned char key[] = "0123456789abcdef";
    char a[TRACKING_KEY_ID_LEN + 1], b[TRACKING_KEY_ID_LEN + 1];
    lookup_key_id(key, 16, a);
    assert_string_equal(a, "1abc33b028d6061c");
    lookup_key_id(key, 15, b);
    assert_int_equal(strlen(b), TRACKING_KEY_ID_LEN);
    assert_string_not_equal(a, b);
    lookup_key_id(key, 0, b);
    assert_string_equal(b, ""); /* no key: no short codes, and "" names that */
}

static void test_who_may_read_a_timeline(void **state)
{
    (void)state;
    json_t *chain = json_pack("[s]", "000.00.01.H56");
    mc_principal p = {.roles = MC_ROLE_CITIZEN};
    strcpy(p.sub, "owner");
    assert_true(lookup_may_read_timeline(&p, "owner", "000.00.06.H56", chain));
    strcpy(p.sub, "someone-else");
    assert_false(lookup_may_read_timeline(&p, "owner", "000.00.06.H56", chain));
    assert_false(lookup_may_read_timeline(&p, "", "000.00.06.H56", chain));
    mc_principal officer = {.roles = MC_ROLE_OFFICER};
    strcpy(officer.agency, "000.00.06.H56");
    assert_true(lookup_may_read_timeline(&officer, "owner", "000.00.06.H56", chain));
    strcpy(officer.agency, "000.00.01.H56"); /* it went through this agency */
    assert_true(lookup_may_read_timeline(&officer, "owner", "000.00.06.H56", chain));
    strcpy(officer.agency, "000.00.02.H56");
    assert_false(lookup_may_read_timeline(&officer, "owner", "000.00.06.H56", chain));
    officer.agency[0] = '\0';
    assert_false(lookup_may_read_timeline(&officer, "owner", "", chain));
    mc_principal auditor = {.roles = MC_ROLE_AUDITOR};
    assert_true(lookup_may_read_timeline(&auditor, "owner", "000.00.06.H56", chain));
    mc_principal machine = {.roles = MC_ROLE_SERVICE};
    strcpy(machine.agency, "000.00.06.H56");
    assert_false(lookup_may_read_timeline(&machine, "owner", "000.00.06.H56", chain));
    json_decref(chain);
}

static void test_rate_limits(void **state)
{
    (void)state;
    struct tracking_rate_limits *l = tracking_rate_limits_new(3, 2, 60);
    assert_non_null(l);
    int64_t now = 6000; /* a window starts */
    assert_int_equal(tracking_rate_check(l, "192.0.2.1", "A", now), 0);
    assert_int_equal(tracking_rate_check(l, "192.0.2.2", "A", now), 0);
    /* the code's third lookup, from a third address: 60 s to the window's end */
    assert_int_equal(tracking_rate_check(l, "192.0.2.3", "A", now), 60);
    assert_int_equal(tracking_rate_check(l, "192.0.2.1", "B", now + 10), 0);
    assert_int_equal(tracking_rate_check(l, "192.0.2.1", "C", now + 10), 0);
    assert_int_equal(tracking_rate_check(l, "192.0.2.1", "D", now + 10), 50); /* 4th from .1 */
    assert_int_equal(tracking_rate_check(l, "192.0.2.1", "E", now + 59), 1);
    /* a new window forgets */
    assert_int_equal(tracking_rate_check(l, "192.0.2.1", "A", now + 60), 0);
    tracking_rate_limits_free(l);
}

static void test_dossier_from_event(void **state)
{
    (void)state;
    json_t *data = event_data(5, NULL);
    json_object_set_new(data, "owner_sub", json_string("citizen-sub"));
    json_object_set_new(data, "applicant_lookup",
                        json_pack("{ss ss sn}", "masked_name", "N*** V*** A***", "id_number_hash",
                                  "97f8c42cae2c73744ad3e7762b044e58039115c2fecd809a5f379b4ca8eb1253",
                                  "phone_last4_hash"));
    struct tracked_dossier d;
    assert_true(projection_dossier_from_event("dossier.dossier.supplement_requested", data, 42, NULL, &d));
    assert_string_equal(d.dossier_id, "5b8f7e2c-3a41-4d7e-9c2a-6f1e0d3b7a55");
    assert_string_equal(d.owner_sub, "citizen-sub");
    assert_string_equal(d.masked_name, "N*** V*** A***");
    assert_int_equal(strlen(d.id_hash), 64);
    assert_string_equal(d.phone_hash, "");
    assert_int_equal(d.last_sequence, 42);
    assert_int_equal(json_array_size(json_object_get(d.asked, "missing_items")), 2);
    /* a later event keeps the request's deadline through `before` */
    json_object_del(json_object_get(data, "details"), "supplement_due_at");
    struct tracked_dossier later;
    assert_true(projection_dossier_from_event("dossier.dossier.apology_issued", data, 43, &d, &later));
    assert_string_equal(json_string_value(json_object_get(later.asked, "supplement_due_at")),
                        "2025-03-12T17:00:00+07:00");
    tracked_dossier_clear(&later);
    tracked_dossier_clear(&d);
    /* an ID hash that is not a string, or no code: refused */
    json_object_set_new(json_object_get(data, "applicant_lookup"), "id_number_hash", json_integer(1));
    assert_false(projection_dossier_from_event("dossier.dossier.received", data, 44, NULL, &d));
    json_object_del(data, "applicant_lookup");
    json_object_del(data, "code");
    assert_false(projection_dossier_from_event("dossier.dossier.received", data, 44, NULL, &d));
    json_decref(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_labels),       cmocka_unit_test(test_card),
        cmocka_unit_test(test_asked),        cmocka_unit_test(test_step),
        cmocka_unit_test(test_codes),        cmocka_unit_test(test_short_codes),
        cmocka_unit_test(test_key_ids),
        cmocka_unit_test(test_who_may_read_a_timeline), cmocka_unit_test(test_rate_limits),
        cmocka_unit_test(test_dossier_from_event),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
