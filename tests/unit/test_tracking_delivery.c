/* Unit tests: the tracking service's pure delivery logic: Standard Webhooks
   signatures, the retry schedule, notification templates and which events
   notify the citizen. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../services/tracking/delivery_schedule.h"
#include "../../services/tracking/notify.h"
#include "../../services/tracking/notify_rules.h"
#include "../../services/tracking/notify_template.h"
#include "../../services/tracking/webhook.h"
#include "../../services/tracking/webhook_signature.h"

/* The example of the Standard Webhooks specification (and its libraries' tests). */
#define SPEC_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define SPEC_ID "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define SPEC_TS 1614265330
#define SPEC_BODY "{\"test\": 2432232314}"
#define SPEC_SIG "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

static void signs_the_specification_example(void **state)
{
    (void)state;
    char sig[WEBHOOK_SIGNATURE_MAX];
    assert_true(webhook_sign(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY, strlen(SPEC_BODY), sig));
    assert_string_equal(sig, SPEC_SIG);
    /* Any change to id, timestamp or body changes the signature. */
    assert_true(webhook_sign(SPEC_SECRET, SPEC_ID, SPEC_TS + 1, SPEC_BODY, strlen(SPEC_BODY), sig));
    assert_string_not_equal(sig, SPEC_SIG);
    assert_true(webhook_sign(SPEC_SECRET, "msg_other", SPEC_TS, SPEC_BODY, strlen(SPEC_BODY), sig));
    assert_string_not_equal(sig, SPEC_SIG);
    assert_true(webhook_sign(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY, strlen(SPEC_BODY) - 1, sig));
    assert_string_not_equal(sig, SPEC_SIG);
}

static void header_carries_both_secrets_during_rotation(void **state)
{
    (void)state;
    char fresh[WEBHOOK_SECRET_MAX];
    assert_true(webhook_secret_generate(fresh));
    const char *live[2] = {fresh, SPEC_SECRET};
    char header[2 * WEBHOOK_SIGNATURE_MAX];
    assert_true(webhook_signature_header(live, 2, SPEC_ID, SPEC_TS, SPEC_BODY, strlen(SPEC_BODY), header,
                                         sizeof header));
    char first[WEBHOOK_SIGNATURE_MAX];
    assert_true(webhook_sign(fresh, SPEC_ID, SPEC_TS, SPEC_BODY, strlen(SPEC_BODY), first));
    char expected[2 * WEBHOOK_SIGNATURE_MAX];
    snprintf(expected, sizeof expected, "%s %s", first, SPEC_SIG);
    assert_string_equal(header, expected);
    /* One secret: one signature; too small a buffer or three secrets: refused. */
    assert_true(webhook_signature_header(live + 1, 1, SPEC_ID, SPEC_TS, SPEC_BODY, strlen(SPEC_BODY),
                                         header, sizeof header));
    assert_string_equal(header, SPEC_SIG);
    assert_false(webhook_signature_header(live, 2, SPEC_ID, SPEC_TS, SPEC_BODY, strlen(SPEC_BODY), header,
                                          60));
    const char *three[3] = {fresh, SPEC_SECRET, fresh};
    assert_false(webhook_signature_header(three, 3, SPEC_ID, SPEC_TS, SPEC_BODY, strlen(SPEC_BODY),
                                          header, sizeof header));
}

static void secrets_are_validated_and_fresh(void **state)
{
    (void)state;
    char a[WEBHOOK_SECRET_MAX], b[WEBHOOK_SECRET_MAX];
    assert_true(webhook_secret_generate(a));
    assert_true(webhook_secret_generate(b));
    assert_true(webhook_secret_valid(a));
    assert_int_equal(strlen(a), 6 + 44);
    assert_string_not_equal(a, b);
    assert_true(webhook_secret_valid(SPEC_SECRET));
    assert_false(webhook_secret_valid(NULL));
    assert_false(webhook_secret_valid(""));
    assert_false(webhook_secret_valid("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")); /* no prefix */
    assert_false(webhook_secret_valid("whsec_"));
    assert_false(webhook_secret_valid("whsec_c2hvcnQ=")); /* 5 key bytes: too short */
    assert_false(webhook_secret_valid("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2La*aSw"));
    assert_false(webhook_secret_valid("whsec_MfKQ9r8GKYqrTwjUPD8ILPZI=2LaLaSw"));
    char sig[WEBHOOK_SIGNATURE_MAX];
    assert_false(webhook_sign("whsec_", SPEC_ID, SPEC_TS, SPEC_BODY, strlen(SPEC_BODY), sig));
}

static void retry_schedule_follows_the_domain(void **state)
{
    (void)state;
    const int64_t expected[] = {5000, 300000, 1800000, 7200000, 18000000, 36000000, 36000000};
    for (unsigned i = 0; i < 7; i++)
        assert_int_equal(delivery_retry_delay_ms(i + 1, 1.0), expected[i]);
    assert_int_equal(delivery_retry_delay_ms(0, 1.0), -1);
    assert_int_equal(delivery_retry_delay_ms(DELIVERY_MAX_ATTEMPTS, 1.0), -1); /* given up */
    assert_int_equal(delivery_retry_delay_ms(100, 1.0), -1);
    /* Scaled for tests, never below 1 ms; a bad scale gives up rather than spin. */
    assert_int_equal(delivery_retry_delay_ms(2, 0.001), 300);
    assert_int_equal(delivery_retry_delay_ms(1, 1e-9), 1);
    assert_int_equal(delivery_retry_delay_ms(1, 0.0), -1);
    assert_int_equal(delivery_retry_delay_ms(1, -1.0), -1);
}

static void answers_classify_and_disable(void **state)
{
    (void)state;
    assert_int_equal(delivery_outcome_of(200), DELIVERY_DELIVERED);
    assert_int_equal(delivery_outcome_of(204), DELIVERY_DELIVERED);
    assert_int_equal(delivery_outcome_of(301), DELIVERY_RETRY); /* redirects are not followed */
    assert_int_equal(delivery_outcome_of(500), DELIVERY_RETRY);
    assert_int_equal(delivery_outcome_of(0), DELIVERY_RETRY);
    assert_int_equal(delivery_outcome_of(410), DELIVERY_GONE);
    const int64_t day = 86400000;
    assert_true(webhook_should_disable(DELIVERY_GONE, 0, 10, 5 * day));
    assert_false(webhook_should_disable(DELIVERY_DELIVERED, 1, 100 * day, 5 * day));
    assert_false(webhook_should_disable(DELIVERY_RETRY, 0, 100 * day, 5 * day));
    assert_false(webhook_should_disable(DELIVERY_RETRY, 1 * day, 5 * day, 5 * day));
    assert_true(webhook_should_disable(DELIVERY_RETRY, 1 * day, 6 * day, 5 * day));
}

static void renders_placeholders(void **state)
{
    (void)state;
    json_t *vars = json_pack("{ss si sn}", "code", "H40.01-261203-0001", "n", 3, "none");
    char bad[64];
    char *s = notify_render("Hồ sơ {{code}}: {{n}} mục{{none}}.", vars, bad, sizeof bad);
    assert_non_null(s);
    assert_string_equal(s, "Hồ sơ H40.01-261203-0001: 3 mục.");
    free(s);
    s = notify_render("no placeholder", vars, bad, sizeof bad);
    assert_string_equal(s, "no placeholder");
    free(s);
    assert_null(notify_render("{{unknown}}", vars, bad, sizeof bad));
    assert_string_equal(bad, "unknown");
    assert_null(notify_render("x {{code", vars, bad, sizeof bad));
    assert_null(notify_render("{{}}", vars, bad, sizeof bad));
    json_decref(vars);
}

static void chooses_agency_override_then_language(void **state)
{
    (void)state;
    const struct notify_template c[] = {
        {"", "vi", "vi default", "b", "s"},
        {"", "en", "en default", "b", "s"},
        {"H40.01", "vi", "agency vi", "b", "s"},
    };
    assert_string_equal(notify_template_choose(c, 3, "H40.01", "vi")->subject, "agency vi");
    assert_string_equal(notify_template_choose(c, 3, "H40.01", "en")->subject, "agency vi");
    assert_string_equal(notify_template_choose(c, 3, "H40.02", "en")->subject, "en default");
    assert_string_equal(notify_template_choose(c, 3, "H40.02", "fr")->subject, "vi default");
    assert_string_equal(notify_template_choose(c, 2, NULL, NULL)->subject, "vi default");
    assert_null(notify_template_choose(c + 1, 1, "H40.02", "vi"));
}

static void events_map_to_kinds_and_variables(void **state)
{
    (void)state;
    assert_string_equal(notify_kind_for_event("dossier.dossier.received")->kind, "received");
    assert_true(notify_kind_for_event("dossier.dossier.supplement_requested")->legally_required);
    assert_false(notify_kind_for_event("dossier.dossier.payment_requested")->legally_required);
    assert_string_equal(notify_kind_for_event("dossier.dossier.rejected")->kind, "result_ready");
    assert_null(notify_kind_for_event("dossier.dossier.step_changed"));
    assert_null(notify_kind_for_event(NULL));

    json_t *data = json_pack(
        "{ss ss ss s[ss] s{ss} si ss s[s] sn}", "code", "H40.01-261203-0001", "handling_agency", "H40.01",
        "appointment_at", "2026-12-17T17:00:00+07:00", "missing_items", "Bản sao CCCD", "Văn bản ủy quyền",
        "details", "supplement_due_at", "2026-12-10T17:00:00+07:00", "fee_amount", 1500000, "status_name",
        "supplement_requested", "reasons", "Thiếu giấy tờ", "outcome");
    json_t *vars = notify_template_vars(data);
    assert_string_equal(json_string_value(json_object_get(vars, "appointment_date")), "17/12/2026");
    assert_string_equal(json_string_value(json_object_get(vars, "supplement_deadline")), "10/12/2026");
    assert_string_equal(json_string_value(json_object_get(vars, "missing_items")),
                        "Bản sao CCCD; Văn bản ủy quyền");
    assert_string_equal(json_string_value(json_object_get(vars, "amount")), "1.500.000 đồng");
    assert_string_equal(json_string_value(json_object_get(vars, "agency_code")), "H40.01");
    assert_string_equal(json_string_value(json_object_get(vars, "reasons")), "Thiếu giấy tờ");
    assert_true(json_is_null(json_object_get(vars, "outcome")));
    assert_true(json_is_null(json_object_get(vars, "procedure_code")));
    json_decref(vars);
    json_decref(data);

    char text[64];
    notify_format_amount(0, text, sizeof text);
    assert_string_equal(text, "0 đồng");
    notify_format_amount(999, text, sizeof text);
    assert_string_equal(text, "999 đồng");
    notify_format_amount(1000, text, sizeof text);
    assert_string_equal(text, "1.000 đồng");
    char d[11];
    assert_false(notify_format_date("17/12/2026", d));
    assert_false(notify_format_date("2026-12", d));
}

static void mail_is_encoded_and_refuses_header_injection(void **state)
{
    (void)state;
    char *m = notify_mail_compose("tb@dichvucong.local", "an@example.vn", "Hồ sơ X cần bổ sung",
                                  "Thiếu: Bản sao", "n1.email@motcua-tracking",
                                  "Thu, 03 Dec 2026 14:00:00 +0000");
    assert_non_null(m);
    /* "Hồ sơ X cần bổ sung" and "Thiếu: Bản sao" in base64 (UTF-8). */
    assert_non_null(strstr(m, "Subject: =?UTF-8?B?SOG7kyBzxqEgWCBj4bqnbiBi4buVIHN1bmc=?=\r\n"));
    assert_non_null(strstr(m, "To: an@example.vn\r\n"));
    assert_non_null(strstr(m, "Message-ID: <n1.email@motcua-tracking>\r\n"));
    assert_non_null(strstr(m, "Content-Transfer-Encoding: base64\r\n\r\nVGhp4bq/dTogQuG6o24gc2Fv\r\n"));
    free(m);
    assert_null(notify_mail_compose("tb@x", "an@example.vn\r\nBcc: all@evil", "s", "b", "id", "d"));
    assert_null(notify_mail_compose("tb@x", "an@example.vn\nBcc: all@evil", "s", "b", "id", "d"));
    assert_null(notify_mail_compose("tb@x", "a b@example.vn", "s", "b", "id", "d"));
    assert_null(notify_mail_compose("tb@x", "", "s", "b", "id", "d"));
    assert_null(notify_mail_compose("tb@x", "a@b", "s", "b", "id\r\nX: y", "d"));
}

static void payload_carries_no_applicant_data(void **state)
{
    (void)state;
    json_t *data = json_pack("{ss ss ss s{ss ss} ss ss si}", "dossier_id", "d-1", "code", "C-1",
                             "owner_sub", "citizen-7", "applicant_lookup", "masked_name", "N*** V** A*",
                             "id_number_hash", "abc", "status_name", "received", "occurred_at",
                             "2026-12-03T09:00:00+07:00", "fee_amount", 1000);
    char *body = webhook_payload("e-1", "dossier.dossier.received", data);
    json_t *doc = json_loads(body, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(doc, "id")), "e-1");
    assert_string_equal(json_string_value(json_object_get(doc, "type")), "dossier.dossier.received");
    assert_string_equal(json_string_value(json_object_get(doc, "timestamp")), "2026-12-03T09:00:00+07:00");
    const json_t *d = json_object_get(doc, "data");
    assert_string_equal(json_string_value(json_object_get(d, "code")), "C-1");
    assert_int_equal(json_integer_value(json_object_get(d, "fee_amount")), 1000);
    assert_null(json_object_get(d, "owner_sub"));
    assert_null(json_object_get(d, "applicant_lookup"));
    assert_null(strstr(body, "citizen-7"));
    assert_null(strstr(body, "N*** V** A*"));
    assert_true(json_is_null(json_object_get(d, "appointment_at"))); /* every member, null when absent */
    json_decref(doc);
    free(body);
    json_decref(data);
    assert_true(webhook_event_type_valid("dossier.dossier.received"));
    assert_false(webhook_event_type_valid("dossier.dossier."));
    assert_false(webhook_event_type_valid("payment.payment.succeeded"));
    assert_false(webhook_event_type_valid("dossier.dossier.Received"));
    assert_false(webhook_event_type_valid(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(signs_the_specification_example),
        cmocka_unit_test(header_carries_both_secrets_during_rotation),
        cmocka_unit_test(secrets_are_validated_and_fresh),
        cmocka_unit_test(retry_schedule_follows_the_domain),
        cmocka_unit_test(answers_classify_and_disable),
        cmocka_unit_test(renders_placeholders),
        cmocka_unit_test(chooses_agency_override_then_language),
        cmocka_unit_test(events_map_to_kinds_and_variables),
        cmocka_unit_test(mail_is_encoded_and_refuses_header_injection),
        cmocka_unit_test(payload_carries_no_applicant_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
