#!/usr/bin/python3
"""National payment platform simulator: INIT, QUERY, GET_BILL, REFUND, confirm callback.

    tests/sim/npp_sim.py --port P --config FILE

Each merchant of the config has merchant_code (MaDoiTac), secret, token (the bearer
token) and notify_url. How it maps to the real platform: tests/sim/README.md.
"""

import base64
import json
import hmac
import html
import os
import re
import secrets
import sys
import threading
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import signing  # noqa: E402
import simcore  # noqa: E402
from simcore import parse_json, parse_vn_stamp, vn_now, vn_stamp  # noqa: E402

API_PATH = "/api/v1/thanhtoan"
PAGE_PREFIX = "/thanhtoan/"
ACT_PATH = "/thanhtoan/sim/act"
VERSION = "1.0.6"
# Payer's choice -> MaLoi of the confirm callback.
OUTCOMES = {"success": "00", "cancel": "24", "insufficient": "51"}
MESSAGES = {"00": "Thành công", "01": "Mã tham chiếu đã tồn tại", "02": "Đối tác không hợp lệ",
            "03": "Dữ liệu không hợp lệ", "04": "Không tìm thấy giao dịch",
            "05": "Số tiền hoàn không hợp lệ", "06": "Giao dịch gốc chưa thanh toán",
            "97": "Mã xác thực không hợp lệ", "98": "Token không hợp lệ", "99": "Lỗi khác"}
REF_RE = re.compile(r"^[A-Za-z0-9_.-]{1,50}$")
AMOUNT_RE = re.compile(r"^[1-9][0-9]{0,14}$")


def text_of(value):
    """A field's text as hashed (numbers as their decimal text)."""
    return "" if value is None else str(value)


def receipt_pdf(txn):
    """A one-page PDF e-receipt (ASCII text; the fee items as code and amount)."""
    lines = ["BIEN LAI THU PHI, LE PHI DIEN TU", "So bien lai: " + txn["receipt_no"],
             "Ma doi tac: " + txn["merchant"]["merchant_code"], "Ma tham chieu: " + txn["ref"],
             "Ma giao dich: " + txn["txn_no"], "So tien: %d VND" % txn["amount"],
             "Thoi gian: " + txn["paid_at"]]
    for item in (txn["receipt"] or {}).get("fee_items", []) if isinstance(txn["receipt"], dict) else []:
        if isinstance(item, dict):
            lines.append("- %s: %s VND" % (item.get("code", ""), item.get("amount", "")))
    safe = [re.sub(r"[^ -~]", "?", l).replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            for l in lines]
    stream = "BT /F1 11 Tf 50 780 Td 14 TL " + " ".join("(%s) '" % l for l in safe) + " ET"
    objects = ["<< /Type /Catalog /Pages 2 0 R >>",
               "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
               "/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
               "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
               "<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream)]
    out = "%PDF-1.4\n"
    offsets = []
    for i, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += "%d 0 obj\n%s\nendobj\n" % (i, obj)
    xref = len(out)
    out += "xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += "".join("%010d 00000 n \n" % o for o in offsets)
    out += "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out.encode("latin-1")


class NppSimulator(simcore.Simulator):
    """National payment platform simulator"""
    PROVIDER = "national_platform"

    def __init__(self, config):
        super().__init__(config)
        self.txns = {}  # (MaDoiTac, MaThamChieu) -> dict
        self.by_txn_no = {}  # MaGiaoDich -> txn
        self.refunds = {}  # (MaDoiTac, MaHoanTien) -> {"txn", "amount", "state"}
        self.act_lock = threading.Lock()
        self.base_url = ""

    # ---- the API ------------------------------------------------------------------

    def answer(self, h, merchant, kind, code, fields, extra=None):
        doc = {"LoaiBanTin": kind, "MaLoi": code, "MoTaLoi": MESSAGES.get(code, "")}
        doc.update(extra or {})
        if merchant is not None and fields is not None:
            doc["MaXacThuc"] = signing.npp_check(fields, doc, merchant["secret"])
        return h.send_json(200, doc)

    def partner_of(self, h):
        """The merchant whose bearer token the request carries, or None."""
        bearer = h.headers.get("Authorization", "")
        if not bearer.startswith("Bearer ") or len(bearer) <= 7:
            return None
        for merchant in self.merchants.values():
            if hmac.compare_digest(bearer[7:].encode(), str(merchant.get("token", "")).encode()):
                return merchant
        return None

    def api(self, h, body):
        # The token identifies the partner, before anything is read: no valid token (or
        # another partner's MaDoiTac), no answer beyond 401.
        merchant = self.partner_of(h)
        if merchant is None:
            return h.send_json(401, {"MaLoi": "98", "MoTaLoi": MESSAGES["98"]})
        doc = parse_json(body)
        if not isinstance(doc, dict):
            return self.answer(h, None, "", "03", None)
        if text_of(doc.get("MaDoiTac")) != merchant["merchant_code"]:
            return h.send_json(401, {"MaLoi": "98", "MoTaLoi": MESSAGES["98"]})
        kind = text_of(doc.get("LoaiBanTin"))
        fields = signing.NPP_REQUEST_FIELDS.get(kind)
        base = {"MaDoiTac": merchant["merchant_code"], "MaThamChieu": text_of(doc.get("MaThamChieu"))}
        response_fields = {"INIT": signing.NPP_INIT_RESPONSE_FIELDS,
                           "QUERY": signing.NPP_QUERY_RESPONSE_FIELDS,
                           "GET_BILL": signing.NPP_GET_BILL_RESPONSE_FIELDS,
                           "REFUND": signing.NPP_REFUND_RESPONSE_FIELDS,
                           "QUERY_REFUND": signing.NPP_REFUND_RESPONSE_FIELDS}.get(kind)
        if fields is None:
            return self.answer(h, merchant, kind, "03", None)
        if not signing.npp_verify(fields, doc, merchant["secret"]):
            return self.answer(h, merchant, kind, "97", response_fields, base)
        if (text_of(doc.get("PhienBan")) != VERSION or not REF_RE.match(base["MaThamChieu"])
                or parse_vn_stamp(text_of(doc.get("ThoiGianGD"))) is None):
            return self.answer(h, merchant, kind, "03", response_fields, base)
        handler = {"INIT": self.init, "QUERY": self.query, "GET_BILL": self.get_bill,
                   "REFUND": self.refund, "QUERY_REFUND": self.query_refund}[kind]
        code, extra = handler(h, merchant, doc)
        if kind == "REFUND" and self.refund_answer_lost(h):
            return True
        return self.answer(h, merchant, kind, code, response_fields, dict(base, **extra))

    def init(self, h, merchant, doc):
        if (not AMOUNT_RE.match(text_of(doc.get("SoTien"))) or text_of(doc.get("MaTienTe")) != "VND"
                or text_of(doc.get("NgonNgu")) not in ("vi", "en")
                or not text_of(doc.get("ThongTinGiaoDich"))
                or ("UrlTraVe" in doc and not text_of(doc["UrlTraVe"]).startswith(("http://", "https://")))):
            return "03", {}
        key = (merchant["merchant_code"], text_of(doc["MaThamChieu"]))
        with self.lock:
            if key in self.txns:
                return "01", {}
            txn_no = "NPP" + secrets.token_hex(8).upper()
            txn = {"merchant": merchant, "ref": key[1], "txn_no": txn_no,
                   "amount": int(text_of(doc["SoTien"])), "info": text_of(doc["ThongTinGiaoDich"]),
                   "bank": text_of(doc.get("MaNganHang")), "return_url": doc.get("UrlTraVe"),
                   "receipt": doc.get("ThongTinBienLai"), "state": "pending", "paid_at": "",
                   "receipt_no": "", "refunded": 0}
            self.txns[key] = txn
            self.by_txn_no[txn_no] = txn
        host = h.headers.get("Host", "127.0.0.1")
        return "00", {"MaGiaoDich": txn_no, "UrlThanhToan": "http://%s%s%s" % (host, PAGE_PREFIX, txn_no),
                      "ThoiGianGD": vn_stamp()}

    def find(self, merchant, doc):
        with self.lock:
            return self.txns.get((merchant["merchant_code"], text_of(doc.get("MaThamChieu"))))

    def query(self, h, merchant, doc):
        txn = self.find(merchant, doc)
        if txn is None:
            return "04", {}
        with self.act_lock:
            state = {"paid": "1", "pending": "3"}.get(txn["state"], "4")
            return "00", {"MaGiaoDich": txn["txn_no"], "SoTien": str(txn["amount"]),
                          "TrangThaiGD": state, "ThoiGianGD": txn["paid_at"]}

    def get_bill(self, h, merchant, doc):
        txn = self.find(merchant, doc)
        if txn is None:
            return "04", {}
        if txn["state"] != "paid":
            return "06", {}
        return "00", {"MaGiaoDich": txn["txn_no"], "SoBienLai": txn["receipt_no"],
                      "BienLai": base64.b64encode(receipt_pdf(txn)).decode("ascii")}

    def refund(self, h, merchant, doc):
        ref_no = text_of(doc.get("MaHoanTien"))
        if not REF_RE.match(ref_no) or not AMOUNT_RE.match(text_of(doc.get("SoTienHoan"))):
            return "03", {}
        txn = self.find(merchant, doc)
        if txn is None or txn["txn_no"] != text_of(doc.get("MaGiaoDich")):
            return "04", {}
        amount = int(text_of(doc["SoTienHoan"]))
        extra = {"MaHoanTien": ref_no, "SoTienHoan": text_of(doc["SoTienHoan"])}
        with self.lock:
            mode = self.control["refund"]
        with self.act_lock:
            if txn["state"] != "paid":
                return "06", extra
            if (merchant["merchant_code"], ref_no) in self.refunds:
                return "01", extra
            if amount > txn["amount"] - txn["refunded"]:
                return "05", extra
            state = {"succeed": "1", "pending": "3", "reject": "4"}[mode]
            self.refunds[(merchant["merchant_code"], ref_no)] = {"txn": txn, "amount": amount,
                                                                  "state": state}
            if mode == "succeed":
                txn["refunded"] += amount
        if mode == "succeed":
            self.record_refund(txn, ref_no, amount)
        return "00", dict(extra, TrangThaiHoan=state)

    def record_refund(self, txn, ref_no, amount):
        moment = vn_now()
        self.record_statement({"merchant_code": txn["merchant"]["merchant_code"],
                               "txn_ref": txn["ref"], "transaction_no": ref_no,
                               "transaction_type": "02" if amount == txn["amount"] else "03",
                               "amount": amount, "pay_date": vn_stamp(moment),
                               "bank_code": txn["bank"], "status": "00"}, moment)

    def query_refund(self, h, merchant, doc):
        """QUERY_REFUND: where a refund stands (TrangThaiHoan 1 done, 3 pending, 4
        refused); 04 when the platform never received it."""
        ref_no = text_of(doc.get("MaHoanTien"))
        if not REF_RE.match(ref_no):
            return "03", {}
        with self.act_lock:
            refund = self.refunds.get((merchant["merchant_code"], ref_no))
            if refund is None or refund["txn"]["ref"] != text_of(doc.get("MaThamChieu")):
                return "04", {"MaHoanTien": ref_no}
            return "00", {"MaHoanTien": ref_no, "SoTienHoan": str(refund["amount"]),
                          "TrangThaiHoan": refund["state"]}

    def settle_pending_refunds(self, outcome):
        """Refunds in progress (3) end: done (1) or refused (4)."""
        done = []
        with self.act_lock:
            for (_, ref_no), refund in self.refunds.items():
                if refund["state"] != "3":
                    continue
                refund["state"] = "1" if outcome == "succeed" else "4"
                if outcome == "succeed":
                    refund["txn"]["refunded"] += refund["amount"]
                done.append((refund, ref_no))
        for refund, ref_no in done:
            if refund["state"] == "1":
                self.record_refund(refund["txn"], ref_no, refund["amount"])
        return len(done)

    # ---- payment page and the confirm callback ----------------------------------------

    def page(self, txn):
        buttons = "".join('<button name="outcome" value="%s">%s</button> ' % (o, label)
                          for o, label in (("success", "Thanh toán"), ("cancel", "Hủy"),
                                           ("insufficient", "Không đủ số dư"), ("abandon", "Rời trang")))
        return ("<!doctype html><html lang=vi><meta charset=utf-8>"
                "<title>Nền tảng thanh toán quốc gia (mô phỏng)</title>"
                "<h1>Thanh toán trực tuyến (mô phỏng)</h1><p>%s</p><p>Số tiền: %s VND</p>"
                "<form method=post action=%s><input type=hidden name=txn value=\"%s\">%s</form></html>"
                % (html.escape(txn["info"]), format(txn["amount"], ","), ACT_PATH,
                   html.escape(txn["txn_no"]), buttons))

    def act(self, h, txn, outcome):
        if self.answered_without_payment(h, outcome, OUTCOMES):
            return True
        code = OUTCOMES[outcome]
        moment = vn_now()
        with self.act_lock:
            if txn["state"] != "pending":
                return h.send_text(409, "<!doctype html><p>Giao dịch đã kết thúc.</p>",
                                   "text/html; charset=utf-8")
            txn["state"] = "paid" if code == "00" else "failed"
            txn["paid_at"] = vn_stamp(moment)
            if code == "00":
                txn["receipt_no"] = "BL" + moment.strftime("%Y%m%d") + secrets.token_hex(4).upper()
        if code == "00":
            self.record_statement({"merchant_code": txn["merchant"]["merchant_code"],
                                   "txn_ref": txn["ref"], "transaction_no": txn["txn_no"],
                                   "transaction_type": "01", "amount": txn["amount"],
                                   "pay_date": txn["paid_at"], "bank_code": txn["bank"],
                                   "status": "00"}, moment)
        merchant = txn["merchant"]
        message = {"LoaiBanTin": "CONFIRM", "MaLoi": code, "MaDoiTac": merchant["merchant_code"],
                   "MaThamChieu": txn["ref"], "SoTien": str(txn["amount"]), "MaTienTe": "VND",
                   "MaGiaoDich": txn["txn_no"], "MaNganHang": txn["bank"],
                   "ThoiGianGD": txn["paid_at"], "ThongTinGiaoDich": txn["info"]}
        message["MaXacThuc"] = signing.npp_check(signing.NPP_CONFIRM_FIELDS, message, merchant["secret"])
        if merchant.get("notify_url"):
            body = json.dumps(message, ensure_ascii=False)
            timeout = self.config["notify_timeout_seconds"]

            def send():
                status, text = simcore.http_call(
                    "POST", merchant["notify_url"], body, timeout=timeout,
                    headers={"Content-Type": "application/json; charset=utf-8"})
                answer = parse_json(text) if status == 200 else None
                ended = (isinstance(answer, dict) and answer.get("MaLoi") in ("00", "02")
                         and text_of(answer.get("ThoiGianGD")) == message["ThoiGianGD"]
                         and signing.npp_verify(signing.NPP_CONFIRM_ANSWER_FIELDS, answer,
                                                merchant["secret"]))
                return ended, {"http_status": status, "body": text[:500]}
            self.notify(merchant, txn["ref"], send)
        if txn["return_url"]:
            back = txn["return_url"]
            query = urllib.parse.urlencode({"MaThamChieu": txn["ref"], "MaLoi": code})
            return h.redirect(back + ("&" if "?" in back else "?") + query)
        return h.send_text(200, "<!doctype html><p>Kết quả: %s</p>" % html.escape(MESSAGES.get(code, code)),
                           "text/html; charset=utf-8")

    def route(self, h, method, path, query, body):
        if path == API_PATH and method == "POST":
            return self.api(h, body)
        if path == ACT_PATH and method == "POST":
            form = dict(urllib.parse.parse_qsl(body))
            with self.lock:
                txn = self.by_txn_no.get(form.get("txn", ""))
            if txn is None:
                return h.send_text(404, "<p>Không tìm thấy giao dịch</p>", "text/html; charset=utf-8")
            return self.act(h, txn, form.get("outcome", ""))
        if path.startswith(PAGE_PREFIX) and method == "GET":
            with self.lock:
                txn = self.by_txn_no.get(path[len(PAGE_PREFIX):])
            if txn is None:
                return h.send_text(404, "<p>Không tìm thấy giao dịch</p>", "text/html; charset=utf-8")
            if query.get("sim_outcome"):
                return self.act(h, txn, query["sim_outcome"])
            return h.send_text(200, self.page(txn), "text/html; charset=utf-8")
        return False


if __name__ == "__main__":
    simcore.main(NppSimulator, "national_platform")
