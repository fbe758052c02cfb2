"""The VNPay simulator against the 2.1.0 protocol: pay page, IPN with retries, querydr,
refund, statement, test controls."""

import csv
import http.client
import io
import json
import time
import urllib.parse

from conftest import assert_attempts, call, wait_for
import signing
from simcore import vn_stamp

SECRET = "VNPSECRET0006"


def pay_params(txn_ref, amount=150000, **over):
    params = {"vnp_Version": "2.1.0", "vnp_Command": "pay", "vnp_TmnCode": "T0006H56",
              "vnp_Amount": str(amount * 100), "vnp_CurrCode": "VND", "vnp_TxnRef": txn_ref,
              "vnp_OrderInfo": "Lệ phí hồ sơ H56 & 100%", "vnp_OrderType": "other",
              "vnp_Locale": "vn", "vnp_ReturnUrl": "http://shop.example/return?x=1",
              "vnp_IpAddr": "127.0.0.1", "vnp_CreateDate": "20261203100000"}
    params.update(over)
    return {k: v for k, v in params.items() if v is not None}


def pay(sim, params, secret=SECRET, outcome=None):
    url = sim.url + "/paymentv2/vpcpay.html?" + signing.vnpay_query_string(params, secret)
    if outcome:
        url += "&sim_outcome=" + outcome
    return call("GET", url)


def query_of(location):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


def querydr(sim, txn_ref, request_id, transaction_date="20261203100000", secret=SECRET):
    body = {"vnp_RequestId": request_id, "vnp_Version": "2.1.0", "vnp_Command": "querydr",
            "vnp_TmnCode": "T0006H56", "vnp_TxnRef": txn_ref, "vnp_OrderInfo": "Truy vấn",
            "vnp_TransactionDate": transaction_date, "vnp_CreateDate": vn_stamp(),
            "vnp_IpAddr": "127.0.0.1"}
    body["vnp_SecureHash"] = signing.vnpay_api_sign(signing.VNPAY_QUERYDR_FIELDS, body, secret)
    status, _, text = call("POST", sim.url + "/merchant_webapi/api/transaction", body)
    assert status == 200
    return json.loads(text)


def refund(sim, txn_ref, amount, request_id, kind="03", transaction_no="0"):
    body = {"vnp_RequestId": request_id, "vnp_Version": "2.1.0", "vnp_Command": "refund",
            "vnp_TmnCode": "T0006H56", "vnp_TransactionType": kind, "vnp_TxnRef": txn_ref,
            "vnp_Amount": str(amount * 100), "vnp_OrderInfo": "Hoàn tiền",
            "vnp_TransactionNo": transaction_no, "vnp_TransactionDate": "20261203100000",
            "vnp_CreateBy": "officer", "vnp_CreateDate": vn_stamp(), "vnp_IpAddr": "127.0.0.1"}
    body["vnp_SecureHash"] = signing.vnpay_api_sign(signing.VNPAY_REFUND_FIELDS, body, SECRET)
    status, _, text = call("POST", sim.url + "/merchant_webapi/api/transaction", body)
    assert status == 200
    answer = json.loads(text)
    assert signing.vnpay_api_verify(signing.VNPAY_REFUND_RESPONSE_FIELDS, answer, SECRET)
    return answer


def test_success_redirects_signed_and_delivers_signed_ipn(vnpay, merchant):
    status, headers, _ = pay(vnpay, pay_params("A1"), outcome="success")
    assert status == 302
    location = headers["location"]
    assert location.startswith("http://shop.example/return?x=1&")
    result = query_of(location)
    result.pop("x")
    assert signing.vnpay_verify(result, SECRET)
    assert result["vnp_ResponseCode"] == "00" and result["vnp_TransactionStatus"] == "00"
    assert result["vnp_Amount"] == "15000000" and result["vnp_TxnRef"] == "A1"
    assert result["vnp_OrderInfo"] == "Lệ phí hồ sơ H56 & 100%"
    ipn = wait_for(lambda: merchant.requests)
    assert ipn[0]["method"] == "GET" and ipn[0]["path"].startswith("/notify?")
    assert signing.vnpay_verify(ipn[0]["query"], SECRET)
    assert ipn[0]["query"]["vnp_TransactionNo"] == result["vnp_TransactionNo"]
    # the attempt is logged once the merchant's answer is in
    log = wait_for(lambda: json.loads(call("GET", vnpay.url + "/sim/ipn-log?txn_ref=A1")[2])["attempts"])
    assert [(e["attempt"], e["outcome"], e["ended"]) for e in log] == [(1, "delivered", True)]


def test_cancel_and_insufficient_funds_codes(vnpay, merchant):
    for ref, outcome, codes in (("C1", "cancel", ("24", "02")), ("C2", "insufficient", ("51", "02"))):
        _, headers, _ = pay(vnpay, pay_params(ref), outcome=outcome)
        result = query_of(headers["location"])
        assert (result["vnp_ResponseCode"], result["vnp_TransactionStatus"]) == codes
        assert "vnp_BankTranNo" not in result
    wait_for(lambda: len(merchant.requests) == 2)
    assert sorted(r["query"]["vnp_ResponseCode"] for r in merchant.requests) == ["24", "51"]


def test_bad_requests_get_the_real_error_codes(vnpay):
    cases = [
        (pay_params("E1"), "WRONGSECRET", "97"),
        (pay_params("E2", vnp_TmnCode="NOSUCH01"), SECRET, "02"),
        (pay_params("E3", vnp_Amount="12.5"), SECRET, "03"),
        (pay_params("E4", vnp_Locale="fr"), SECRET, "03"),
        (pay_params("E5", vnp_ReturnUrl=None), SECRET, "03"),
        (pay_params("E6", vnp_ExpireDate="20200101000000"), SECRET, "03"),
    ]
    for params, secret, code in cases:
        status, headers, _ = pay(vnpay, params, secret, outcome="success")
        assert status == 302, params
        assert headers["location"] == "/paymentv2/Payment/Error.html?code=" + code, params
    # A tampered amount after signing is refused too.
    query = signing.vnpay_query_string(pay_params("E7"), SECRET).replace("vnp_Amount=15000000", "vnp_Amount=100")
    status, headers, _ = call("GET", vnpay.url + "/paymentv2/vpcpay.html?" + query)
    assert headers["location"].endswith("code=97")
    assert querydr(vnpay, "E1", "Q1")["vnp_ResponseCode"] == "91"
    status, _, text = call("GET", vnpay.url + "/paymentv2/Payment/Error.html?code=97")
    assert status == 200 and "Chữ ký không hợp lệ" in text


def test_page_buttons_then_same_txn_ref_refused(vnpay, merchant):
    status, _, page = pay(vnpay, pay_params("B1"))
    assert status == 200 and 'value="success"' in page and 'value="abandon"' in page
    status, headers, _ = call("POST", vnpay.url + "/paymentv2/sim/act",
                              "tmn=T0006H56&txn_ref=B1&outcome=success",
                              {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 302 and query_of(headers["location"])["vnp_ResponseCode"] == "00"
    status, headers, _ = pay(vnpay, pay_params("B1"), outcome="success")
    assert headers["location"].endswith("code=01")
    wait_for(lambda: merchant.requests)
    assert len(merchant.requests) == 1


def test_abandon_sends_nothing_and_querydr_says_incomplete(vnpay, merchant):
    status, _, _ = pay(vnpay, pay_params("AB1"), outcome="abandon")
    assert status == 200
    answer = querydr(vnpay, "AB1", "Q2")
    assert signing.vnpay_api_verify(signing.VNPAY_QUERYDR_RESPONSE_FIELDS, answer, SECRET)
    assert answer["vnp_ResponseCode"] == "00" and answer["vnp_TransactionStatus"] == "01"
    assert merchant.requests == []


def test_ipn_retried_until_00_or_02(vnpay, merchant):
    merchant.answers = [{"RspCode": "99"}, {"RspCode": "04"}, {"RspCode": "02", "Message": "Order already confirmed"}]
    pay(vnpay, pay_params("R1"), outcome="success")
    assert_attempts(vnpay, merchant, "R1", ["failed", "failed", "delivered"])


def test_ipn_gives_up_after_max_attempts(vnpay, merchant):
    merchant.answers = [{"RspCode": "99"}]
    call("POST", vnpay.url + "/sim/control", {"max_attempts": 3, "retry_interval_seconds": 0.02})
    pay(vnpay, pay_params("R2"), outcome="success")
    assert_attempts(vnpay, merchant, "R2", ["failed", "failed", "failed"])


def test_drop_and_duplicate_controls(vnpay, merchant):
    status, _, text = call("POST", vnpay.url + "/sim/control", {"ipn": "sideways"})
    assert status == 400
    call("POST", vnpay.url + "/sim/control", {"ipn": "drop"})
    pay(vnpay, pay_params("D1"), outcome="success")
    time.sleep(0.2)
    assert merchant.requests == []
    assert querydr(vnpay, "D1", "Q3")["vnp_TransactionStatus"] == "00"  # paid, IPN lost
    call("POST", vnpay.url + "/sim/control", {"ipn": "duplicate"})
    pay(vnpay, pay_params("D2"), outcome="success")
    assert wait_for(lambda: len(merchant.requests) == 2)
    a, b = merchant.requests
    assert a["query"] == b["query"]


def test_querydr_checks_signature_request_id_and_date(vnpay):
    pay(vnpay, pay_params("Q1"), outcome="success")
    answer = querydr(vnpay, "Q1", "QA")
    assert signing.vnpay_api_verify(signing.VNPAY_QUERYDR_RESPONSE_FIELDS, answer, SECRET)
    assert (answer["vnp_ResponseCode"], answer["vnp_TransactionStatus"], answer["vnp_Amount"]) == ("00", "00", "15000000")
    assert answer["vnp_TransactionType"] == "01" and len(answer["vnp_PayDate"]) == 14
    assert querydr(vnpay, "Q1", "QA")["vnp_ResponseCode"] == "94"
    assert querydr(vnpay, "Q1", "QB", secret="WRONG")["vnp_ResponseCode"] == "97"
    assert querydr(vnpay, "Q1", "QC", transaction_date="20261203100001")["vnp_ResponseCode"] == "91"
    assert querydr(vnpay, "Q1", "bad-id!")["vnp_ResponseCode"] == "03"


def test_refunds_partial_full_over_and_unpaid(vnpay):
    pay(vnpay, pay_params("F1", amount=100000), outcome="success")
    first = refund(vnpay, "F1", 30000, "RF1")
    assert (first["vnp_ResponseCode"], first["vnp_TransactionStatus"]) == ("00", "00")
    assert refund(vnpay, "F1", 80000, "RF2")["vnp_ResponseCode"] == "93"  # only 70000 left
    assert refund(vnpay, "F1", 60000, "RF3", kind="02")["vnp_ResponseCode"] == "93"  # full must be all
    assert refund(vnpay, "F1", 70000, "RF4", kind="02")["vnp_ResponseCode"] == "00"
    assert querydr(vnpay, "F1", "RQ1")["vnp_TransactionType"] == "02"
    pay(vnpay, pay_params("F2"), outcome="cancel")
    assert refund(vnpay, "F2", 1000, "RF5")["vnp_ResponseCode"] == "95"
    assert refund(vnpay, "NOPE", 1000, "RF6")["vnp_ResponseCode"] == "91"
    call("POST", vnpay.url + "/sim/control", {"refund": "pending"})
    pay(vnpay, pay_params("F3"), outcome="success")
    assert refund(vnpay, "F3", 1000, "RF7")["vnp_TransactionStatus"] == "05"
    assert refund(vnpay, "F3", 1000, "RF8")["vnp_ResponseCode"] == "94"


def test_refund_answer_lost_and_pending_refunds_settled(vnpay):
    """`refund_answer: drop` handles the refund but never answers (the connection closes
    after the hold, no response); querydr then tells what happened. Refunds in progress
    end when told (`settle_refunds`)."""
    pay(vnpay, pay_params("L1", amount=100000), outcome="success")
    status, _, _ = call("POST", vnpay.url + "/sim/control", {"refund_answer": "sometimes"})
    assert status == 400
    call("POST", vnpay.url + "/sim/control", {"refund_answer": "drop",
                                              "refund_answer_hold_seconds": 0.2})
    try:
        refund(vnpay, "L1", 30000, "LR1")
        raise AssertionError("a lost answer was answered")
    except (ConnectionError, http.client.HTTPException):
        pass
    call("POST", vnpay.url + "/sim/control", {"refund_answer": "deliver"})
    answer = querydr(vnpay, "L1", "LQ1")
    assert (answer["vnp_TransactionType"], answer["vnp_TransactionStatus"]) == ("03", "00")
    # in progress (05) until the gateway finishes: done, or rejected (09)
    call("POST", vnpay.url + "/sim/control", {"refund": "pending"})
    assert refund(vnpay, "L1", 70000, "LR2", kind="02")["vnp_TransactionStatus"] == "05"
    assert querydr(vnpay, "L1", "LQ2")["vnp_TransactionStatus"] == "05"
    _, _, text = call("POST", vnpay.url + "/sim/control", {"settle_refunds": "succeed"})
    assert json.loads(text)["refunds_settled"] == 1
    answer = querydr(vnpay, "L1", "LQ3")
    assert (answer["vnp_TransactionType"], answer["vnp_TransactionStatus"]) == ("02", "00")
    pay(vnpay, pay_params("L2"), outcome="success")
    refund(vnpay, "L2", 1000, "LR3")
    call("POST", vnpay.url + "/sim/control", {"settle_refunds": "reject"})
    answer = querydr(vnpay, "L2", "LQ4")
    assert (answer["vnp_TransactionType"], answer["vnp_TransactionStatus"]) == ("01", "09")
    call("POST", vnpay.url + "/sim/control", {"refund": "succeed"})


def test_statement_lists_payments_refunds_and_plants(vnpay):
    pay(vnpay, pay_params("S1", amount=50000), outcome="success")
    pay(vnpay, pay_params("S2", amount=20000), outcome="success")
    pay(vnpay, pay_params("S3"), outcome="cancel")
    refund(vnpay, "S1", 10000, "SR1")
    today = vn_stamp()[:8]
    status, _, _ = call("POST", vnpay.url + "/sim/statement/plant",
                        {"merchant_code": "T0006H56", "date": today, "kind": "bogus", "txn_ref": "X"})
    assert status == 400
    for plant in ({"kind": "extra", "txn_ref": "GHOST", "amount": 12345},
                  {"kind": "amount", "txn_ref": "S2", "amount": 19000}):
        status, _, _ = call("POST", vnpay.url + "/sim/statement/plant",
                            dict(plant, merchant_code="T0006H56", date=today))
        assert status == 201
    status, headers, text = call("GET", vnpay.url + "/sim/statement?merchant_code=T0006H56&date=" + today)
    assert status == 200 and headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    got = sorted((r["txn_ref"], r["transaction_type"], r["amount"]) for r in rows)
    assert got == [("GHOST", "01", "12345"), ("S1", "01", "50000"), ("S1", "03", "10000"),
                   ("S2", "01", "19000")]
    _, _, other = call("GET", vnpay.url + "/sim/statement?merchant_code=T0007H56&date=" + today)
    assert other.strip().count("\n") == 0  # header only


def test_merchant_api_refuses_garbage_with_codes_not_crashes(vnpay):
    url = vnpay.url + "/merchant_webapi/api/transaction"
    for body in ("not json", "[]", json.dumps({"vnp_Command": "pay"}),
                 json.dumps({"vnp_Command": "querydr", "vnp_TmnCode": "NOSUCH01"})):
        status, _, text = call("POST", url, body, {"Content-Type": "application/json"})
        assert status == 200
        assert json.loads(text)["vnp_ResponseCode"] in ("02", "03"), body
    status, _, _ = call("POST", vnpay.url + "/sim/control", "[1]")
    assert status == 400
    status, _, _ = call("GET", vnpay.url + "/nowhere")
    assert status == 404
