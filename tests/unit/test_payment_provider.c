/*
 * The payment gateways' pure parts (services/payment/provider*.c). The
 * expected values were computed independently in Python by
 * tests/unit/payment_vectors.py (hmac, hashlib, urllib.parse.quote_plus as
 * PHP's urlencode), not by this code.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "provider.h"

#define SECRET "SECRETKEY0123456789ABCDEFGHIJKLM"
#define TXN "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
#define ORDER_INFO "Lệ phí hồ sơ 000.00.01.H01-261203-0001 & phí ~ a+b=c/d?"
#define RETURN_URL "https://dichvucong.example.vn/api/v1/payments/return/vnpay"
#define T_CREATED 1796281200 /* 2026-12-03 14:00:00 +07:00 */
#define T_EXPIRES 1796282100 /* 14:15 */
#define T_QUERY 1796283000   /* 14:30 */

static const char expected_canonical[] =
    "vnp_Amount=15000000&vnp_Command=pay&vnp_CreateDate=20261203140000&vnp_CurrCode=VND"
    "&vnp_ExpireDate=20261203141500&vnp_IpAddr=203.0.113.7&vnp_Locale=vn"
    "&vnp_OrderInfo=L%E1%BB%87+ph%C3%AD+h%E1%BB%93+s%C6%A1+000.00.01.H01-261203-0001+%26+ph%C3%AD"
    "+%7E+a%2Bb%3Dc%2Fd%3F&vnp_OrderType=other"
    "&vnp_ReturnUrl=https%3A%2F%2Fdichvucong.example.vn%2Fapi%2Fv1%2Fpayments%2Freturn%2Fvnpay"
    "&vnp_TmnCode=DEMOV210&vnp_TxnRef=" TXN "&vnp_Version=2.1.0";
static const char expected_hash[] =
    "a4eb7915f10a774d956da9a227c5b04464a8e5c303058b901d9b6b54436f896e0d979f8fa91c659f50a82610643a1"
    "7b5b7fe3e0cd8731521213fd4fb79d14483";

static const struct pay_merchant vnpay_merchant = {"DEMOV210", SECRET, NULL};
static const struct pay_order order = {TXN, 150000, ORDER_INFO, RETURN_URL, "203.0.113.7", "vn",
                                       T_CREATED, T_EXPIRES};

static void test_vn_time(void **state)
{
    (void)state;
    char out[15];
    pay_vn_time(T_CREATED, out);
    assert_string_equal(out, "20261203140000");
    pay_vn_time(T_CREATED - 14 * 3600 - 1, out); /* 24-hour clock, the day before in Vietnam */
    assert_string_equal(out, "20261202235959");
    pay_vn_time(T_CREATED - 7 * 3600, out); /* seven hours earlier */
    assert_string_equal(out, "20261203070000");
    int64_t back = 0;
    assert_true(pay_vn_time_parse("20261203140000", &back));
    assert_int_equal(back, T_CREATED);
    assert_false(pay_vn_time_parse("20261303140000", &back)); /* month 13 */
    assert_false(pay_vn_time_parse("20260230120000", &back)); /* 30 February */
    assert_false(pay_vn_time_parse("2026120314000", &back));
    assert_false(pay_vn_time_parse("2026120314000x", &back));
}

static void test_amounts(void **state)
{
    (void)state;
    char out[24];
    long long v = 0;
    assert_true(pay_amount_minor(150000, out, sizeof out));
    assert_string_equal(out, "15000000");
    assert_false(pay_amount_minor(-1, out, sizeof out));
    assert_true(pay_amount_from_minor("15000000", &v));
    assert_int_equal(v, 150000);
    assert_false(pay_amount_from_minor("15000050", &v)); /* not whole VND */
    assert_false(pay_amount_from_minor("0", &v));
    assert_false(pay_amount_from_minor("-100", &v));
    assert_false(pay_amount_from_minor("1e5", &v));
    assert_false(pay_amount_from_minor("", &v));
}

static void test_vnpay_canonical_and_signature(void **state)
{
    (void)state;
    json_t *fields = vnpay_pay_fields(&vnpay_merchant, &order);
    assert_non_null(fields);
    char *canonical = vnpay_canonical(fields);
    assert_string_equal(canonical, expected_canonical);
    char *hash = pay_hmac_sha512_hex(SECRET, canonical);
    assert_string_equal(hash, expected_hash);

    /* The pay URL is the canonical string and its hash. */
    char *url = vnpay_pay_url("http://sim/paymentv2/vpcpay.html", &vnpay_merchant, &order);
    assert_non_null(strstr(url, expected_hash));
    assert_int_equal(strncmp(url, "http://sim/paymentv2/vpcpay.html?vnp_Amount=15000000&", 53), 0);

    /* What the gateway sends back decodes and verifies; upper-case hex too. */
    json_t *back = vnpay_query_decode(strchr(url, '?') + 1);
    assert_non_null(back);
    assert_string_equal(json_string_value(json_object_get(back, "vnp_OrderInfo")), ORDER_INFO);
    assert_true(vnpay_verify(back, SECRET));
    assert_false(vnpay_verify(back, "another-secret"));
    char upper[129];
    for (size_t i = 0; i < 128; i++)
        upper[i] = (char)(expected_hash[i] >= 'a' ? expected_hash[i] - 32 : expected_hash[i]);
    upper[128] = '\0';
    json_object_set_new(back, "vnp_SecureHash", json_string(upper));
    assert_true(vnpay_verify(back, SECRET));
    /* One changed value breaks it. */
    json_object_set_new(back, "vnp_Amount", json_string("15000100"));
    assert_false(vnpay_verify(back, SECRET));
    /* Unsigned extras (not vnp_, empty values, the hash type) do not count. */
    json_object_set_new(back, "vnp_Amount", json_string("15000000"));
    json_object_set_new(back, "vnp_SecureHashType", json_string("HmacSHA512"));
    json_object_set_new(back, "vnp_BankCode", json_string(""));
    json_object_set_new(back, "utm_source", json_string("x"));
    assert_true(vnpay_verify(back, SECRET));
    json_object_del(back, "vnp_SecureHash");
    assert_false(vnpay_verify(back, SECRET));

    json_decref(back);
    free(url);
    free(hash);
    free(canonical);
    json_decref(fields);
}

static void test_vnpay_query_decode_refuses(void **state)
{
    (void)state;
    json_t *f = vnpay_query_decode("vnp_TxnRef=a&vnp_TxnRef=b");
    assert_null(f); /* a repeated name could sign one value and act on another */
    assert_null(vnpay_query_decode("vnp_TxnRef=%zz"));
    assert_null(vnpay_query_decode("vnp_TxnRef=%00"));
    f = vnpay_query_decode("a=1+2&b=%C3%A9&&c");
    assert_non_null(f);
    assert_string_equal(json_string_value(json_object_get(f, "a")), "1 2");
    assert_string_equal(json_string_value(json_object_get(f, "b")), "é");
    assert_string_equal(json_string_value(json_object_get(f, "c")), "");
    json_decref(f);
}

static void test_vnpay_callback_read(void **state)
{
    (void)state;
    json_t *f = json_pack("{ss ss ss ss ss ss ss ss}", "vnp_TmnCode", "DEMOV210", "vnp_TxnRef", TXN,
                          "vnp_Amount", "15000000", "vnp_ResponseCode", "00",
                          "vnp_TransactionStatus", "00", "vnp_TransactionNo", "14123456",
                          "vnp_BankCode", "NCB", "vnp_PayDate", "20261203140510");
    struct pay_result r;
    assert_true(vnpay_callback_read(f, &r));
    assert_int_equal(r.outcome, PAY_OUTCOME_PAID);
    assert_int_equal(r.amount, 150000);
    assert_string_equal(r.transaction_no, "14123456");
    /* Paid only when both codes are 00. */
    json_object_set_new(f, "vnp_TransactionStatus", json_string("02"));
    assert_true(vnpay_callback_read(f, &r));
    assert_int_equal(r.outcome, PAY_OUTCOME_FAILED);
    json_object_set_new(f, "vnp_TransactionStatus", json_string("00"));
    json_object_set_new(f, "vnp_ResponseCode", json_string("24"));
    assert_true(vnpay_callback_read(f, &r));
    assert_int_equal(r.outcome, PAY_OUTCOME_FAILED);
    json_object_del(f, "vnp_TxnRef");
    assert_false(vnpay_callback_read(f, &r));
    json_decref(f);
}

static void test_vnpay_querydr(void **state)
{
    (void)state;
    json_t *q = vnpay_querydr_request(&vnpay_merchant, "REQ1", TXN, T_CREATED, T_QUERY, "127.0.0.1");
    assert_non_null(q);
    assert_string_equal(json_string_value(json_object_get(q, "vnp_SecureHash")),
                        "aaa446a450fe2813fa8c23f8dda6236cf1a23d4f7951ce2a97eb642ddcad7d2fbe68e5484af"
                        "f62d496a91a7f115c7e31cbd2f519181d97816865fd04cac86553");
    json_decref(q);

    /* An answer signed over the documented order reads; a forged one does not. */
    json_t *a = json_pack("{ss ss ss ss ss ss ss ss ss ss ss ss ss ss ss}", "vnp_ResponseId", "R1",
                          "vnp_Command", "querydr", "vnp_ResponseCode", "00", "vnp_Message", "OK",
                          "vnp_TmnCode", "DEMOV210", "vnp_TxnRef", TXN, "vnp_Amount", "15000000",
                          "vnp_BankCode", "NCB", "vnp_PayDate", "20261203140510",
                          "vnp_TransactionNo", "14123456", "vnp_TransactionType", "01",
                          "vnp_TransactionStatus", "00", "vnp_OrderInfo", "x",
                          "vnp_PromotionCode", "", "vnp_PromotionAmount", "");
    const char *parts[] = {"R1",       "querydr", "00",     "OK", "DEMOV210", TXN, "15000000", "NCB",
                           "20261203140510", "14123456", "01", "00", "x", "", ""};
    char *data = pay_join_pipe(parts, 15);
    char *hash = pay_hmac_sha512_hex(SECRET, data);
    json_object_set_new(a, "vnp_SecureHash", json_string(hash));
    struct pay_result r;
    assert_true(vnpay_querydr_read(a, SECRET, &r));
    assert_int_equal(r.outcome, PAY_OUTCOME_PAID);
    assert_int_equal(r.amount, 150000);
    json_object_set_new(a, "vnp_TransactionStatus", json_string("01"));
    assert_false(vnpay_querydr_read(a, SECRET, &r));
    free(hash);
    free(data);
    json_decref(a);
}

/* A querydr answer about TXN with this TransactionType and status, signed
   over the documented order with SECRET. */
static json_t *querydr_answer(const char *type, const char *status)
{
    const char *parts[] = {"R2", "querydr", "00", "OK", "DEMOV210", TXN, "15000000", "NCB",
                           "20261203140510", "14123456", type, status, "x", "", ""};
    char *data = pay_join_pipe(parts, 15);
    char *hash = pay_hmac_sha512_hex(SECRET, data);
    json_t *a = json_pack("{ss ss ss ss ss ss ss ss ss ss ss ss ss ss ss ss}", "vnp_ResponseId",
                          "R2", "vnp_Command", "querydr", "vnp_ResponseCode", "00", "vnp_Message",
                          "OK", "vnp_TmnCode", "DEMOV210", "vnp_TxnRef", TXN, "vnp_Amount",
                          "15000000", "vnp_BankCode", "NCB", "vnp_PayDate", "20261203140510",
                          "vnp_TransactionNo", "14123456", "vnp_TransactionType", type,
                          "vnp_TransactionStatus", status, "vnp_OrderInfo", "x",
                          "vnp_PromotionCode", "", "vnp_PromotionAmount", "", "vnp_SecureHash",
                          hash);
    free(hash);
    free(data);
    return a;
}

/* A refund whose answer was lost, read from a querydr of its payment. */
static void test_vnpay_refund_status(void **state)
{
    (void)state;
    static const struct {
        const char *type, *status;
        long long refunded_before;
        bool decided;
        enum pay_refund_outcome outcome;
    } cases[] = {
        {"01", "05", 0, true, PAY_REFUND_PENDING},    /* the gateway is still refunding */
        {"03", "06", 4000, true, PAY_REFUND_PENDING},
        {"01", "09", 0, true, PAY_REFUND_REFUSED},    /* refund rejected */
        {"01", "00", 0, true, PAY_REFUND_REFUSED},    /* never refunded: it did not happen */
        {"02", "00", 0, true, PAY_REFUND_DONE},       /* all refunded */
        {"02", "00", 4000, true, PAY_REFUND_DONE},
        {"03", "00", 0, true, PAY_REFUND_DONE},       /* partly, and it was the only refund */
        {"03", "00", 4000, true, PAY_REFUND_PENDING}, /* an earlier refund reads the same */
        {"01", "00", 4000, false, PAY_REFUND_PENDING}, /* contradicts what we know */
        {"01", "07", 0, false, PAY_REFUND_PENDING},   /* suspected fraud: says nothing of it */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *a = querydr_answer(cases[i].type, cases[i].status);
        enum pay_refund_outcome out = PAY_REFUND_PENDING;
        char code[16] = "";
        bool read = vnpay_refund_status_read(a, SECRET, TXN, cases[i].refunded_before, &out, code);
        assert_int_equal(read, cases[i].decided);
        if (read) {
            assert_int_equal(out, cases[i].outcome);
            assert_string_equal(code, cases[i].status);
        }
        json_decref(a);
    }
    /* about another order, forged, or a failed query: not trusted */
    enum pay_refund_outcome out;
    char code[16];
    json_t *a = querydr_answer("02", "00");
    assert_false(vnpay_refund_status_read(a, SECRET, "another", 0, &out, code));
    assert_false(vnpay_refund_status_read(a, "other-secret", TXN, 0, &out, code));
    json_object_set_new(a, "vnp_TransactionType", json_string("03"));
    assert_false(vnpay_refund_status_read(a, SECRET, TXN, 0, &out, code));
    json_decref(a);
}

/* QUERY_REFUND: the request's MaXacThuc and the answer, vectors from
   tests/unit/payment_vectors.py. */
static void test_npp_refund_query(void **state)
{
    (void)state;
    const struct pay_merchant m = {"NPP01", "npp-secret", "tok"};
    json_t *q = npp_refund_query_request(&m, TXN, "RF1", T_QUERY);
    assert_non_null(q);
    assert_string_equal(json_string_value(json_object_get(q, "LoaiBanTin")), "QUERY_REFUND");
    assert_string_equal(json_string_value(json_object_get(q, "MaHoanTien")), "RF1");
    assert_string_equal(json_string_value(json_object_get(q, "MaXacThuc")),
                        "bdff1a7785e116cced13ac2d17d19bb739796551b3c3786fc0a157621e15834c");
    json_decref(q);

    json_t *a = json_pack("{ss ss ss ss ss ss ss ss}", "LoaiBanTin", "QUERY_REFUND", "MaLoi", "00",
                          "MaDoiTac", "NPP01", "MaThamChieu", TXN, "MaHoanTien", "RF1",
                          "SoTienHoan", "4000", "TrangThaiHoan", "1", "MaXacThuc",
                          "c4c22e33db3de8af564404f9c511a8a1c223d45a2eb386c59aad0a4abfce7bb9");
    enum pay_refund_outcome out = PAY_REFUND_PENDING;
    char code[16] = "";
    assert_true(npp_refund_query_read(a, &m, TXN, "RF1", &out, code));
    assert_int_equal(out, PAY_REFUND_DONE);
    assert_string_equal(code, "1");
    /* about another refund or order: not this one's answer */
    assert_false(npp_refund_query_read(a, &m, TXN, "RF2", &out, code));
    assert_false(npp_refund_query_read(a, &m, "another", "RF1", &out, code));
    /* a REFUND answer is not a QUERY_REFUND answer; a changed state breaks the check */
    json_object_set_new(a, "TrangThaiHoan", json_string("4"));
    assert_false(npp_refund_query_read(a, &m, TXN, "RF1", &out, code));
    json_decref(a);

    /* pending (3), refused (4), never received (04), a failed query (97) */
    static const struct {
        const char *error, *state;
        bool decided;
        enum pay_refund_outcome outcome;
        const char *code;
    } cases[] = {
        {"00", "3", true, PAY_REFUND_PENDING, "3"},
        {"00", "4", true, PAY_REFUND_REFUSED, "4"},
        {"04", "", true, PAY_REFUND_REFUSED, "04"},
        {"97", "", false, PAY_REFUND_PENDING, ""},
        {"00", "", false, PAY_REFUND_PENDING, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *fields[] = {"QUERY_REFUND", cases[i].error, "NPP01", TXN, "RF1", "4000",
                                cases[i].state};
        char *check = npp_check_code(fields, 7, "npp-secret");
        json_t *b = json_pack("{ss ss ss ss ss ss ss ss}", "LoaiBanTin", "QUERY_REFUND", "MaLoi",
                              cases[i].error, "MaDoiTac", "NPP01", "MaThamChieu", TXN, "MaHoanTien",
                              "RF1", "SoTienHoan", "4000", "TrangThaiHoan", cases[i].state,
                              "MaXacThuc", check);
        assert_int_equal(npp_refund_query_read(b, &m, TXN, "RF1", &out, code), cases[i].decided);
        if (cases[i].decided) {
            assert_int_equal(out, cases[i].outcome);
            assert_string_equal(code, cases[i].code);
        }
        free(check);
        json_decref(b);
    }
}

static void test_npp_check_codes(void **state)
{
    (void)state;
    const struct pay_merchant m = {"NPP01", "npp-secret", "tok"};
    const struct pay_order o = {TXN, 150000, "Lệ phí hồ sơ | số 1", "http://r", "203.0.113.7", "vn",
                                T_CREATED, T_EXPIRES};
    json_t *init = npp_init_request(&m, &o, NULL);
    assert_non_null(init);
    assert_string_equal(json_string_value(json_object_get(init, "MaXacThuc")),
                        "e5e54b0c7123d0aa65185afd406b55205d7c70e28c5e8c248ce8e7679bb683f2");
    assert_string_equal(json_string_value(json_object_get(init, "SoTien")), "150000"); /* VND */
    json_decref(init);

    /* A confirm callback signed with the secret verifies; with another it does not. */
    const char *fields[] = {"CONFIRM", "00", "NPP01", TXN, "150000", "VND", "GD1", "NCB",
                            "20261203140510", "Lệ phí"};
    char *check = npp_check_code(fields, 10, "npp-secret");
    json_t *c = json_pack("{ss ss ss ss ss ss ss ss ss ss ss}", "LoaiBanTin", "CONFIRM", "MaLoi",
                          "00", "MaDoiTac", "NPP01", "MaThamChieu", TXN, "SoTien", "150000",
                          "MaTienTe", "VND", "MaGiaoDich", "GD1", "MaNganHang", "NCB", "ThoiGianGD",
                          "20261203140510", "ThongTinGiaoDich", "Lệ phí", "MaXacThuc", check);
    assert_true(npp_confirm_verify(c, "npp-secret"));
    assert_false(npp_confirm_verify(c, "other"));
    struct pay_result r;
    assert_true(npp_confirm_read(c, &r));
    assert_int_equal(r.outcome, PAY_OUTCOME_PAID);
    assert_int_equal(r.amount, 150000);
    /* an amount sent as a JSON number is hashed as its decimal text */
    json_object_set_new(c, "SoTien", json_integer(150000));
    assert_true(npp_confirm_verify(c, "npp-secret"));
    assert_true(npp_confirm_read(c, &r));
    assert_int_equal(r.amount, 150000);
    json_object_set_new(c, "SoTien", json_string("150001"));
    assert_false(npp_confirm_verify(c, "npp-secret"));
    free(check);
    json_decref(c);
}

static void test_masking(void **state)
{
    (void)state;
    char *m = pay_mask_query("vnp_Amount=1&vnp_SecureHash=abcdef&vnp_TxnRef=x&vnp_SecureHashType=a");
    assert_string_equal(m, "vnp_Amount=1&vnp_SecureHash=***&vnp_TxnRef=x&vnp_SecureHashType=***");
    free(m);
    json_t *j = json_pack("{ss ss}", "MaXacThuc", "abc", "SoTien", "1");
    json_t *masked = pay_mask_json(j);
    assert_string_equal(json_string_value(json_object_get(masked, "MaXacThuc")), "***");
    assert_string_equal(json_string_value(json_object_get(masked, "SoTien")), "1");
    json_decref(masked);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vn_time),
        cmocka_unit_test(test_amounts),
        cmocka_unit_test(test_vnpay_canonical_and_signature),
        cmocka_unit_test(test_vnpay_query_decode_refuses),
        cmocka_unit_test(test_vnpay_callback_read),
        cmocka_unit_test(test_vnpay_querydr),
        cmocka_unit_test(test_vnpay_refund_status),
        cmocka_unit_test(test_npp_refund_query),
        cmocka_unit_test(test_npp_check_codes),
        cmocka_unit_test(test_masking),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
