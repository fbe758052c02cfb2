/*
 * Reconciliation's pure part (services/payment/reconcile_rules.c): reading a
 * gateway's statement, comparing it with our records, the accountant's CSV.
 * Each case builds its statement and records by hand; the expected
 * mismatches follow from the rules in reconcile_rules.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "receipt_rules.h"
#include "reconcile_rules.h"

#define HEADER "merchant_code,txn_ref,transaction_no,transaction_type,amount,pay_date,bank_code,status\r\n"

static void test_parse_keeps_the_merchants_lines(void **state)
{
    (void)state;
    const char *csv = "\xEF\xBB\xBF" HEADER
                      "T1,ref1,111,01,10000,20261202100000,NCB,00\r\n"
                      "T2,refX,222,01,5000,20261202100000,NCB,00\r\n"
                      "\"T1\",\"ref,2\",333,03,4000,20261202110000,NCB,00\n"
                      "\r\n";
    struct recon_line *lines;
    size_t n;
    char why[128];
    assert_true(recon_statement_parse(csv, strlen(csv), "T1", &lines, &n, why, sizeof why));
    assert_int_equal(n, 2);
    assert_string_equal(lines[0].txn_ref, "ref1");
    assert_int_equal(lines[0].type, RECON_PAYMENT);
    assert_int_equal(lines[0].amount, 10000);
    assert_string_equal(lines[1].txn_ref, "ref,2"); /* a quoted comma */
    assert_int_equal(lines[1].type, RECON_REFUND);
    assert_string_equal(lines[1].transaction_no, "333");
    free(lines);
}

static void test_parse_refuses_what_it_cannot_read(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",                                                     /* no header */
        "merchant_code,txn_ref,amount\r\n",                     /* columns missing */
        HEADER "T1,ref1,111,07,10000,x,NCB,00\r\n",             /* unknown type */
        HEADER "T1,ref1,111,01,-5,x,NCB,00\r\n",                /* not an amount */
        HEADER "T1,ref1,111,01,1e3,x,NCB,00\r\n",               /* not an amount */
        HEADER "T1,ref1\r\n",                                   /* too few fields */
        HEADER "T1,\"ref1,111,01,10000,x,NCB,00\r\n",           /* unterminated quote */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct recon_line *lines = (struct recon_line *)1;
        size_t n = 9;
        char why[128] = "";
        assert_false(recon_statement_parse(bad[i], strlen(bad[i]), "T1", &lines, &n, why, sizeof why));
        assert_null(lines);
        assert_int_equal(n, 0);
        assert_true(why[0] != '\0');
    }
}

static struct recon_line line(const char *ref, enum recon_txn_type type, long long amount,
                              const char *status)
{
    struct recon_line l = {.type = type, .amount = amount};
    strcpy(l.txn_ref, ref);
    strcpy(l.transaction_no, "9");
    strcpy(l.status, status);
    return l;
}

static struct recon_record record(const char *ref, enum recon_txn_type type, long long amount,
                                  const char *state, bool in_day)
{
    struct recon_record r = {.type = type, .amount = amount, .in_day = in_day};
    strcpy(r.txn_ref, ref);
    strcpy(r.payment_id, "00000000-0000-0000-0000-000000000001");
    strcpy(r.state, state);
    return r;
}

static const struct recon_mismatch *find(const struct recon_result *r, const char *ref,
                                         enum recon_txn_type type)
{
    for (size_t i = 0; i < r->n_mismatches; i++)
        if (strcmp(r->mismatches[i].txn_ref, ref) == 0 && r->mismatches[i].type == type)
            return &r->mismatches[i];
    return NULL;
}

static void test_compare_finds_each_kind(void **state)
{
    (void)state;
    struct recon_line theirs[] = {
        line("same", RECON_PAYMENT, 10000, "00"),
        line("amount", RECON_PAYMENT, 9000, "00"),
        line("extra", RECON_PAYMENT, 7000, "00"),
        line("expired_here", RECON_PAYMENT, 5000, "00"),
        line("same", RECON_REFUND, 4000, "00"),
        line("refund_amount", RECON_REFUND, 3000, "00"),
        line("failed_there", RECON_PAYMENT, 8000, "02"),
    };
    struct recon_record ours[] = {
        record("same", RECON_PAYMENT, 10000, "paid", true),
        record("amount", RECON_PAYMENT, 10000, "paid", true),
        record("missing", RECON_PAYMENT, 6000, "paid", true),
        record("expired_here", RECON_PAYMENT, 5000, "expired", false),
        record("same", RECON_REFUND, 4000, "succeeded", true),
        record("refund_amount", RECON_REFUND, 2000, "succeeded", true),
        record("refund_missing", RECON_REFUND, 1000, "succeeded", true),
        record("failed_there", RECON_PAYMENT, 8000, "paid", true),
    };
    struct recon_result r;
    assert_true(recon_compare(ours, 8, theirs, 7, &r));
    assert_int_equal(r.statement_lines, 7);
    assert_int_equal(r.matched, 2); /* "same" payment and its refund */
    assert_int_equal(r.n_mismatches, 7);
    const struct recon_mismatch *m = find(&r, "amount", RECON_PAYMENT);
    assert_non_null(m);
    assert_int_equal(m->kind, RECON_AMOUNT);
    assert_int_equal(m->our_amount, 10000);
    assert_int_equal(m->their_amount, 9000);
    m = find(&r, "extra", RECON_PAYMENT);
    assert_non_null(m);
    assert_int_equal(m->kind, RECON_MISSING_HERE);
    assert_int_equal(m->our_amount, -1);
    assert_string_equal(m->payment_id, "");
    m = find(&r, "missing", RECON_PAYMENT);
    assert_non_null(m);
    assert_int_equal(m->kind, RECON_MISSING_THERE);
    assert_int_equal(m->their_amount, -1);
    m = find(&r, "expired_here", RECON_PAYMENT);
    assert_non_null(m);
    assert_int_equal(m->kind, RECON_STATUS);
    assert_string_equal(m->our_state, "expired");
    assert_string_equal(m->their_status, "00");
    m = find(&r, "failed_there", RECON_PAYMENT);
    assert_non_null(m);
    assert_int_equal(m->kind, RECON_STATUS);
    m = find(&r, "refund_amount", RECON_REFUND);
    assert_non_null(m);
    assert_int_equal(m->kind, RECON_AMOUNT);
    assert_int_equal(m->our_amount, 2000);
    assert_int_equal(m->their_amount, 3000);
    m = find(&r, "refund_missing", RECON_REFUND);
    assert_non_null(m);
    assert_int_equal(m->kind, RECON_MISSING_THERE);
    /* As the API shows it: absent values are null. */
    json_t *j = recon_mismatch_json(find(&r, "extra", RECON_PAYMENT), 3);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "line")), 3);
    assert_string_equal(json_string_value(json_object_get(j, "kind")), "missing_here");
    assert_string_equal(json_string_value(json_object_get(j, "transaction_type")), "payment");
    assert_true(json_is_null(json_object_get(j, "payment_id")));
    assert_true(json_is_null(json_object_get(j, "our_amount")));
    assert_true(json_is_null(json_object_get(j, "our_state")));
    assert_int_equal(json_integer_value(json_object_get(j, "their_amount")), 7000);
    assert_string_equal(json_string_value(json_object_get(j, "their_status")), "00");
    json_decref(j);
    j = recon_mismatch_json(find(&r, "missing", RECON_PAYMENT), 1);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "payment_id")),
                        "00000000-0000-0000-0000-000000000001");
    assert_int_equal(json_integer_value(json_object_get(j, "our_amount")), 6000);
    assert_true(json_is_null(json_object_get(j, "their_amount")));
    json_decref(j);
    /* Totals: ours settled in the day; theirs the succeeded lines. */
    assert_int_equal(r.our_paid, 10000 + 10000 + 6000 + 8000);
    assert_int_equal(r.their_paid, 10000 + 9000 + 7000 + 5000);
    assert_int_equal(r.our_refunded, 4000 + 2000 + 1000);
    assert_int_equal(r.their_refunded, 4000 + 3000);
    recon_result_clear(&r);
}

static void test_compare_two_refunds_of_one_payment(void **state)
{
    (void)state;
    /* Refunds pair by amount, whatever their order. */
    struct recon_line theirs[] = {line("p", RECON_REFUND, 6000, "00"), line("p", RECON_REFUND, 4000, "00"),
                                  line("p", RECON_PAYMENT, 10000, "00")};
    struct recon_record ours[] = {record("p", RECON_PAYMENT, 10000, "paid", true),
                                  record("p", RECON_REFUND, 4000, "succeeded", true),
                                  record("p", RECON_REFUND, 6000, "succeeded", true)};
    struct recon_result r;
    assert_true(recon_compare(ours, 3, theirs, 3, &r));
    assert_int_equal(r.matched, 3);
    assert_int_equal(r.n_mismatches, 0);
    recon_result_clear(&r);
    /* Nothing at all: nothing to say. */
    assert_true(recon_compare(NULL, 0, NULL, 0, &r));
    assert_int_equal(r.n_mismatches, 0);
    assert_int_equal(r.matched, 0);
    recon_result_clear(&r);
}

static void test_statement_url(void **state)
{
    (void)state;
    char out[128];
    assert_true(recon_statement_url("http://h/sim/statement?merchant_code={merchant_code}&date={date}",
                                    "T0006H56", "20261202", out, sizeof out));
    assert_string_equal(out, "http://h/sim/statement?merchant_code=T0006H56&date=20261202");
    assert_false(recon_statement_url("http://h/{merchant_code}", "a&b=c", "20261202", out, sizeof out));
    assert_false(recon_statement_url("http://h/{merchant_code}/{date}", "T1", "20261202", out, 10));
}

static void test_csv_of_a_report(void **state)
{
    (void)state;
    json_t *report = json_pack(
        "{ss ss ss ss ss ss s{sisisisisisisi} s[{sisssssssnsssisnss sn}]}", "id", "r1", "date",
        "2026-12-02", "agency_code", "000.00.06.H56", "provider", "vnpay", "merchant_code", "T1",
        "state", "mismatched", "summary", "statement_lines", 3, "matched", 1, "mismatches", 1,
        "our_paid", 10000, "their_paid", 17000, "our_refunded", 0, "their_refunded", 0,
        "mismatches", "line", 1, "kind", "missing_here", "transaction_type", "payment", "txn_ref",
        "=cmd|x", "payment_id", "transaction_no", "99", "their_amount", 7000, "our_amount",
        "their_status", "00", "our_state");
    assert_non_null(report);
    size_t len = 0;
    char *csv = recon_report_csv(report, &len);
    assert_non_null(csv);
    assert_int_equal(strlen(csv), len);
    assert_memory_equal(csv, "\xEF\xBB\xBF\"STT\",\"Loại chênh lệch\"", 3 + 26);
    /* the mismatch line: a formula-looking reference is written as text */
    assert_non_null(strstr(csv, "\r\n1,\"Có trong sao kê, không có trong hệ thống\",\"missing_here\","
                                "\"Thanh toán\",\"'=cmd|x\",\"99\",\"\",\"\",7000,\"\",\"00\"\r\n\r\n"));
    assert_non_null(strstr(csv, "\"Số dòng sao kê\",3\r\n"));
    assert_non_null(strstr(csv, "\"Đã thu theo sao kê (VND)\",17000\r\n"));
    free(csv);
    json_decref(report);
}

static void test_receipt_html(void **state)
{
    (void)state;
    json_t *receipt = json_pack(
        "{ss ss ss ss ss ss ss ss sI sI s[{ss ss sI}{ss ss sI}]}", "receipt_no", "BL-20261203-ABC",
        "agency_code", "000.00.06.H56", "dossier_code", "000.00.06.H56-261203-0001",
        "procedure_code", "1.000001", "payer_account", "sub-1", "paid_at",
        "2026-12-03T10:00:00+07:00", "provider", "vnpay", "transaction_no", "14123456", "amount",
        (json_int_t)1250000, "amount_refunded", (json_int_t)0, "fee_items", "code", "LEPHI",
        "name", "Lệ phí <script>alert(1)</script>", "amount", (json_int_t)1000000, "code", "PHI",
        "name", "Phí \"A\" & B", "amount", (json_int_t)250000);
    assert_non_null(receipt);
    size_t len = 0;
    char *html = receipt_html(receipt, &len);
    assert_non_null(html);
    assert_int_equal(strlen(html), len);
    assert_non_null(strstr(html, "<td>BL-20261203-ABC</td>"));
    assert_non_null(strstr(html, "<td>000.00.06.H56-261203-0001</td>"));
    assert_non_null(strstr(html, "<td>Lệ phí &lt;script&gt;alert(1)&lt;/script&gt;</td>"));
    assert_non_null(strstr(html, "<td>Phí &quot;A&quot; &amp; B</td>"));
    assert_null(strstr(html, "<script"));
    assert_non_null(strstr(html, "1.000.000&nbsp;₫"));
    assert_non_null(strstr(html, "<td class=\"n\">1.250.000&nbsp;₫</td>"));
    assert_null(strstr(html, "Đã hoàn trả")); /* nothing refunded */
    free(html);
    json_object_set_new(receipt, "amount_refunded", json_integer(250000));
    html = receipt_html(receipt, &len);
    assert_non_null(strstr(html, "Đã hoàn trả: 250.000&nbsp;₫"));
    free(html);
    json_decref(receipt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_keeps_the_merchants_lines),
        cmocka_unit_test(test_parse_refuses_what_it_cannot_read),
        cmocka_unit_test(test_compare_finds_each_kind),
        cmocka_unit_test(test_compare_two_refunds_of_one_payment),
        cmocka_unit_test(test_statement_url),
        cmocka_unit_test(test_csv_of_a_report),
        cmocka_unit_test(test_receipt_html),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
