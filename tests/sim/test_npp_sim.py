"""The national payment platform simulator: bearer token, MaXacThuc on every message,
INIT / QUERY / GET_BILL / REFUND, the confirm callback with retries, statement."""

import base64
import http.client
import json
import time
import urllib.parse

from conftest import assert_attempts, call, wait_for
import signing
from simcore import vn_stamp

SECRET = "NPPSECRET0006"
TOKEN = "tok-0006"


def message(kind, ref, secret=SECRET, **extra):
    body = {"LoaiBanTin": kind, "PhienBan": "1.0.6", "MaDoiTac": "DVC0006H56",
            "MaThamChieu": ref, "ThoiGianGD": vn_stamp()}
    body.update(extra)
    body["MaXacThuc"] = signing.npp_check(signing.NPP_REQUEST_FIELDS[kind], body, secret)
    return body


def init_message(ref, amount=200000, **extra):
    fields = {"SoTien": amount, "LoaiHinhThanhToan": "01", "MaKenhThanhToan": "WEB",
              "MaThietBi": "DESKTOP", "NgonNgu": "vi", "MaTienTe": "VND", "MaNganHang": "",
              "ThongTinGiaoDich": "Lệ phí hồ sơ | H56", "Ip": "127.0.0.1",
              "UrlTraVe": "http://shop.example/back",
              "ThongTinBienLai": {"fee_items": [{"code": "LEPHI", "name": "Lệ phí", "amount": amount}]}}
    fields.update(extra)
    return message("INIT", ref, **fields)


def post(sim, body, token=TOKEN):
    status, _, text = call("POST", sim.url + "/api/v1/thanhtoan", body,
                           {"Authorization": "Bearer " + token} if token else {})
    return status, json.loads(text)


def verified(answer, kind):
    fields = {"INIT": signing.NPP_INIT_RESPONSE_FIELDS, "QUERY": signing.NPP_QUERY_RESPONSE_FIELDS,
              "GET_BILL": signing.NPP_GET_BILL_RESPONSE_FIELDS,
              "REFUND": signing.NPP_REFUND_RESPONSE_FIELDS,
              "QUERY_REFUND": signing.NPP_REFUND_RESPONSE_FIELDS}[kind]
    assert signing.npp_verify(fields, answer, SECRET), answer
    return answer


def merchant_answer(request):
    """What a correct merchant answers to the confirm callback."""
    body = request["body"]
    answer = {"MaLoi": "00", "MoTaLoi": "OK", "MaDoiTac": body["MaDoiTac"],
              "MaThamChieu": body["MaThamChieu"], "ThoiGianGD": body["ThoiGianGD"]}
    answer["MaXacThuc"] = signing.npp_check(signing.NPP_CONFIRM_ANSWER_FIELDS, answer, SECRET)
    return answer


def init_and_pay(sim, ref, outcome, amount=200000):
    status, answer = post(sim, init_message(ref, amount))
    assert status == 200 and verified(answer, "INIT")["MaLoi"] == "00"
    path = urllib.parse.urlsplit(answer["UrlThanhToan"]).path
    status, headers, _ = call("GET", sim.url + path + "?sim_outcome=" + outcome)
    return answer, status, headers


def test_init_pay_confirm_query_bill(npp, merchant):
    merchant.answers = [merchant_answer]
    answer, status, headers = init_and_pay(npp, "N1", "success")
    assert answer["MaGiaoDich"].startswith("NPP") and "/thanhtoan/" in answer["UrlThanhToan"]
    assert status == 302 and headers["location"] == "http://shop.example/back?MaThamChieu=N1&MaLoi=00"
    request = wait_for(lambda: merchant.requests)[0]
    body = request["body"]
    assert request["method"] == "POST" and body["LoaiBanTin"] == "CONFIRM" and body["MaLoi"] == "00"
    assert signing.npp_verify(signing.NPP_CONFIRM_FIELDS, body, SECRET)
    assert (body["SoTien"], body["MaGiaoDich"]) == ("200000", answer["MaGiaoDich"])
    log = wait_for(lambda: json.loads(call("GET", npp.url + "/sim/ipn-log?txn_ref=N1")[2])["attempts"])
    assert [(e["outcome"], e["ended"]) for e in log] == [("delivered", True)]
    status, query = post(npp, message("QUERY", "N1"))
    assert verified(query, "QUERY")["TrangThaiGD"] == "1" and query["SoTien"] == "200000"
    status, bill = post(npp, message("GET_BILL", "N1"))
    assert verified(bill, "GET_BILL")["MaLoi"] == "00" and bill["SoBienLai"].startswith("BL")
    pdf = base64.b64decode(bill["BienLai"])
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF") and b"LEPHI" in pdf


def test_token_and_check_value_refused(npp):
    status, answer = post(npp, init_message("T1"), token="tok-0007")  # another partner's token
    assert status == 401 and answer["MaLoi"] == "98"
    status, answer = post(npp, init_message("T1"), token=None)
    assert status == 401
    bad = init_message("T1")
    bad["SoTien"] = 1
    status, answer = post(npp, bad)
    assert status == 200 and verified(answer, "INIT")["MaLoi"] == "97"
    status, answer = post(npp, message("INIT", "T1", secret="WRONG"))
    assert answer["MaLoi"] == "97"
    status, answer = post(npp, message("QUERY", "T1"))
    assert verified(answer, "QUERY")["MaLoi"] == "04"  # nothing was created
    status, answer = post(npp, init_message("T2", amount=0))
    assert answer["MaLoi"] == "03"
    status, answer = post(npp, message("QUERY", "T2", PhienBan="1.0.5"))
    assert answer["MaLoi"] == "03"
    status, answer = post(npp, init_message("T3"))
    assert answer["MaLoi"] == "00"
    status, answer = post(npp, init_message("T3"))
    assert answer["MaLoi"] == "01"


def test_failed_outcomes_pending_and_abandon(npp, merchant):
    merchant.answers = [merchant_answer]
    _, status, headers = init_and_pay(npp, "P1", "insufficient")
    assert headers["location"].endswith("MaLoi=51")
    _, status, headers = init_and_pay(npp, "P2", "cancel")
    assert headers["location"].endswith("MaLoi=24")
    _, status, _ = init_and_pay(npp, "P3", "abandon")
    assert status == 200
    assert post(npp, message("QUERY", "P1"))[1]["TrangThaiGD"] == "4"
    assert post(npp, message("QUERY", "P3"))[1]["TrangThaiGD"] == "3"
    assert post(npp, message("GET_BILL", "P1"))[1]["MaLoi"] == "06"
    wait_for(lambda: len(merchant.requests) == 2)
    time.sleep(0.1)
    assert sorted(r["body"]["MaLoi"] for r in merchant.requests) == ["24", "51"]


def test_confirm_retried_until_a_valid_answer(npp, merchant):
    forged = lambda request: dict(merchant_answer(request), MaXacThuc="00" * 32)  # noqa: E731
    merchant.answers = [{"MaLoi": "99"}, forged, merchant_answer]
    init_and_pay(npp, "R1", "success")
    assert_attempts(npp, merchant, "R1", ["failed", "failed", "delivered"])


def test_drop_duplicate(npp, merchant):
    merchant.answers = [merchant_answer]
    call("POST", npp.url + "/sim/control", {"ipn": "drop"})
    init_and_pay(npp, "D1", "success")
    time.sleep(0.2)
    assert merchant.requests == []
    call("POST", npp.url + "/sim/control", {"ipn": "duplicate"})
    init_and_pay(npp, "D2", "success")
    assert wait_for(lambda: len(merchant.requests) == 2)
    assert merchant.requests[0]["body"] == merchant.requests[1]["body"]


def test_refunds_and_statement(npp, merchant):
    merchant.answers = [merchant_answer]
    answer, _, _ = init_and_pay(npp, "F1", "success", amount=100000)
    txn_no = answer["MaGiaoDich"]
    status, r = post(npp, message("REFUND", "F1", MaGiaoDich=txn_no, MaHoanTien="H1",
                                  SoTienHoan="40000", LyDo="Hồ sơ bị từ chối"))
    assert verified(r, "REFUND")["MaLoi"] == "00" and r["TrangThaiHoan"] == "1"
    status, r = post(npp, message("REFUND", "F1", MaGiaoDich=txn_no, MaHoanTien="H1", SoTienHoan="1"))
    assert r["MaLoi"] == "01"
    status, r = post(npp, message("REFUND", "F1", MaGiaoDich=txn_no, MaHoanTien="H2", SoTienHoan="60001"))
    assert r["MaLoi"] == "05"
    status, r = post(npp, message("REFUND", "F1", MaGiaoDich="NPPWRONG", MaHoanTien="H3", SoTienHoan="1"))
    assert r["MaLoi"] == "04"
    unpaid, _, _ = init_and_pay(npp, "F2", "cancel")
    status, r = post(npp, message("REFUND", "F2", MaGiaoDich=unpaid["MaGiaoDich"], MaHoanTien="H4",
                                  SoTienHoan="1"))
    assert r["MaLoi"] == "06"
    today = vn_stamp()[:8]
    call("POST", npp.url + "/sim/statement/plant",
         {"merchant_code": "DVC0006H56", "date": today, "kind": "missing", "txn_ref": "F1"})
    status, _, text = call("GET", npp.url + "/sim/statement?merchant_code=DVC0006H56&date=" + today)
    assert status == 200 and text.splitlines()[0].startswith("merchant_code,txn_ref")
    assert "F1" not in text  # planted: the gateway "lost" it
    status, _, text = call("GET", npp.url + "/sim/statement?merchant_code=UNKNOWN&date=" + today)
    assert status == 400


def test_query_refund_lost_answer_and_pending(npp, merchant):
    """QUERY_REFUND tells where a refund stands by its MaHoanTien, also when the REFUND's
    answer was lost (`refund_answer: drop`) or said pending (3) until `settle_refunds`."""
    merchant.answers = [merchant_answer]
    answer, _, _ = init_and_pay(npp, "Q1", "success", amount=100000)
    txn_no = answer["MaGiaoDich"]
    status, r = post(npp, message("QUERY_REFUND", "Q1", MaHoanTien="QH1"))
    assert verified(r, "QUERY_REFUND")["MaLoi"] == "04"  # never received
    call("POST", npp.url + "/sim/control", {"refund_answer": "drop", "refund_answer_hold_seconds": 0.2})
    try:
        post(npp, message("REFUND", "Q1", MaGiaoDich=txn_no, MaHoanTien="QH1", SoTienHoan="40000"))
        raise AssertionError("a lost answer was answered")
    except (ConnectionError, http.client.HTTPException):
        pass
    call("POST", npp.url + "/sim/control", {"refund_answer": "deliver", "refund": "pending"})
    status, r = post(npp, message("QUERY_REFUND", "Q1", MaHoanTien="QH1"))
    assert (verified(r, "QUERY_REFUND")["MaLoi"], r["TrangThaiHoan"], r["SoTienHoan"]) == ("00", "1", "40000")
    status, r = post(npp, message("REFUND", "Q1", MaGiaoDich=txn_no, MaHoanTien="QH2", SoTienHoan="60000"))
    assert r["TrangThaiHoan"] == "3"
    status, r = post(npp, message("QUERY_REFUND", "Q1", MaHoanTien="QH2"))
    assert verified(r, "QUERY_REFUND")["TrangThaiHoan"] == "3"
    _, _, text = call("POST", npp.url + "/sim/control", {"settle_refunds": "succeed", "refund": "succeed"})
    assert json.loads(text)["refunds_settled"] == 1
    status, r = post(npp, message("QUERY_REFUND", "Q1", MaHoanTien="QH2"))
    assert verified(r, "QUERY_REFUND")["TrangThaiHoan"] == "1"
    # another order's reference, or a forged check value: not answered about it
    status, r = post(npp, message("QUERY_REFUND", "OTHER", MaHoanTien="QH2"))
    assert r["MaLoi"] == "04"
    status, r = post(npp, message("QUERY_REFUND", "Q1", secret="WRONG", MaHoanTien="QH2"))
    assert r["MaLoi"] == "97"


def test_garbage_and_unknown_messages_get_codes(npp):
    status, _, text = call("POST", npp.url + "/api/v1/thanhtoan", "{oops",
                           {"Content-Type": "application/json"})
    assert status == 401  # the token is checked before anything is read
    status, _, text = call("POST", npp.url + "/api/v1/thanhtoan", "{oops",
                           {"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"})
    assert status == 200 and json.loads(text)["MaLoi"] == "03"
    body = message("QUERY", "X1")
    body["LoaiBanTin"] = "PAY_TWICE"
    status, answer = post(npp, body)
    assert status == 200 and answer["MaLoi"] == "03"
    status, _, _ = call("GET", npp.url + "/thanhtoan/NPPNOSUCH")
    assert status == 404
