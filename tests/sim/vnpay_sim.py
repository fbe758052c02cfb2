#!/usr/bin/python3
"""VNPay 2.1.0 sandbox simulator: payment page, IPN, querydr and refund, statement.

    tests/sim/vnpay_sim.py --port P --config FILE

How it maps to the real gateway: tests/sim/README.md.
"""

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

PAY_PATH = "/paymentv2/vpcpay.html"
ACT_PATH = "/paymentv2/sim/act"
ERROR_PATH = "/paymentv2/Payment/Error.html"
API_PATH = "/merchant_webapi/api/transaction"

PAY_REQUIRED = ("vnp_Version", "vnp_Command", "vnp_TmnCode", "vnp_Amount", "vnp_CurrCode",
                "vnp_TxnRef", "vnp_OrderInfo", "vnp_OrderType", "vnp_Locale",
                "vnp_ReturnUrl", "vnp_IpAddr", "vnp_CreateDate")
# Payer's choice -> (vnp_ResponseCode, vnp_TransactionStatus).
OUTCOMES = {"success": ("00", "00"), "cancel": ("24", "02"), "insufficient": ("51", "02")}
ERROR_TEXT = {"01": "Giao dịch đã tồn tại", "02": "Merchant không hợp lệ",
              "03": "Dữ liệu gửi sang không đúng định dạng", "97": "Chữ ký không hợp lệ"}
TXN_REF_RE = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9]{1,32}$")
DIGITS_RE = re.compile(r"^[0-9]{1,15}$")


def random_digits(n):
    return "".join(secrets.choice("0123456789") for _ in range(n))


class VnpaySimulator(simcore.Simulator):
    """VNPay 2.1.0 sandbox simulator"""
    PROVIDER = "vnpay"

    def __init__(self, config):
        super().__init__(config)
        self.txns = {}  # (tmn_code, txn_ref) -> dict
        self.request_ids = set()  # (tmn_code, vn date, request id)
        self.act_lock = threading.Lock()

    # ---- payment page -------------------------------------------------------------

    def check_pay_request(self, params):
        """(error code, merchant): the real gateway's order: merchant, signature, fields."""
        merchant = self.merchants.get(params.get("vnp_TmnCode", ""))
        if merchant is None:
            return "02", None
        if not signing.vnpay_verify(params, merchant["secret"]):
            return "97", merchant
        for name in PAY_REQUIRED:
            if not params.get(name):
                return "03", merchant
        if (params["vnp_Version"] != "2.1.0" or params["vnp_Command"] != "pay"
                or params["vnp_CurrCode"] != "VND" or params["vnp_Locale"] not in ("vn", "en")
                or not DIGITS_RE.match(params["vnp_Amount"]) or int(params["vnp_Amount"]) <= 0
                or int(params["vnp_Amount"]) % 100 != 0
                or not TXN_REF_RE.match(params["vnp_TxnRef"])
                or parse_vn_stamp(params["vnp_CreateDate"]) is None
                or not params["vnp_ReturnUrl"].startswith(("http://", "https://"))):
            return "03", merchant
        expire = params.get("vnp_ExpireDate")
        if expire is not None and (parse_vn_stamp(expire) is None or parse_vn_stamp(expire) < vn_now()):
            return "03", merchant
        return None, merchant

    def open_payment(self, h, params):
        code, merchant = self.check_pay_request(params)
        if code is None:
            key = (merchant["merchant_code"], params["vnp_TxnRef"])
            with self.lock:
                txn = self.txns.get(key)
                if txn is not None and (txn["state"] != "pending"
                                        or txn["amount"] != params["vnp_Amount"]):
                    code = "01"
                elif txn is None:
                    txn = {"merchant": merchant, "txn_ref": params["vnp_TxnRef"],
                           "amount": params["vnp_Amount"], "order_info": params["vnp_OrderInfo"],
                           "return_url": params["vnp_ReturnUrl"],
                           "create_date": params["vnp_CreateDate"],
                           "bank_code": params.get("vnp_BankCode") or "NCB",
                           "state": "pending", "response_code": None, "status": "01",
                           "transaction_no": "", "pay_date": "", "refunded": 0,
                           "refund_pending": False}
                    self.txns[key] = txn
        if code is not None:
            return h.redirect(ERROR_PATH + "?code=" + code), None
        return None, txn

    def page(self, txn):
        amount = int(txn["amount"]) // 100
        buttons = "".join(
            '<button name="outcome" value="%s">%s</button> ' % (o, label)
            for o, label in (("success", "Thanh toán"), ("cancel", "Hủy giao dịch"),
                             ("insufficient", "Tài khoản không đủ số dư"),
                             ("abandon", "Rời trang")))
        return ("<!doctype html><html lang=vi><meta charset=utf-8><title>VNPAY (simulator)</title>"
                "<h1>Cổng thanh toán VNPAY (mô phỏng)</h1><p>Merchant %s, đơn hàng %s</p>"
                "<p>%s</p><p>Số tiền: %s VND</p><form method=post action=%s>"
                "<input type=hidden name=tmn value=\"%s\"><input type=hidden name=txn_ref value=\"%s\">"
                "%s</form></html>" % (
                    html.escape(txn["merchant"]["merchant_code"]), html.escape(txn["txn_ref"]),
                    html.escape(txn["order_info"]), format(amount, ","), ACT_PATH,
                    html.escape(txn["merchant"]["merchant_code"]), html.escape(txn["txn_ref"]),
                    buttons))

    def act(self, h, txn, outcome):
        """The payer's choice: settle, notify the merchant, send the browser back."""
        if self.answered_without_payment(h, outcome, OUTCOMES):
            return True
        with self.act_lock:
            if txn["state"] != "pending":
                return h.redirect(ERROR_PATH + "?code=01")
            response_code, status = OUTCOMES[outcome]
            moment = vn_now()
            txn.update(state="paid" if outcome == "success" else "failed",
                       response_code=response_code, status=status,
                       transaction_no=random_digits(8), pay_date=vn_stamp(moment))
        if outcome == "success":
            self.record_statement({"merchant_code": txn["merchant"]["merchant_code"],
                                   "txn_ref": txn["txn_ref"],
                                   "transaction_no": txn["transaction_no"],
                                   "transaction_type": "01",
                                   "amount": int(txn["amount"]) // 100,
                                   "pay_date": txn["pay_date"], "bank_code": txn["bank_code"],
                                   "status": "00"}, moment)
        result = self.result_params(txn)
        secret = txn["merchant"]["secret"]
        notify_url = txn["merchant"].get("notify_url")
        if notify_url:
            query = signing.vnpay_query_string(result, secret)
            url = notify_url + ("&" if "?" in notify_url else "?") + query
            timeout = self.config["notify_timeout_seconds"]

            def send():
                status_code, text = simcore.http_call("GET", url, timeout=timeout)
                answer = parse_json(text) if status_code == 200 else None
                ended = isinstance(answer, dict) and answer.get("RspCode") in ("00", "02")
                return ended, {"http_status": status_code, "body": text[:500]}
            self.notify(txn["merchant"], txn["txn_ref"], send)
        back = txn["return_url"]
        return h.redirect(back + ("&" if "?" in back else "?")
                          + signing.vnpay_query_string(result, secret))

    def result_params(self, txn):
        """The signed result VNPay sends to the IPN and the return URL."""
        params = {"vnp_Amount": txn["amount"], "vnp_BankCode": txn["bank_code"],
                  "vnp_CardType": "ATM", "vnp_OrderInfo": txn["order_info"],
                  "vnp_PayDate": txn["pay_date"], "vnp_ResponseCode": txn["response_code"],
                  "vnp_TmnCode": txn["merchant"]["merchant_code"],
                  "vnp_TransactionNo": txn["transaction_no"],
                  "vnp_TransactionStatus": txn["status"], "vnp_TxnRef": txn["txn_ref"]}
        if txn["state"] == "paid":
            params["vnp_BankTranNo"] = "VNP" + txn["transaction_no"]
        return params

    # ---- merchant API -------------------------------------------------------------

    def api(self, h, body):
        doc = parse_json(body)
        if not isinstance(doc, dict):
            return self.api_answer(h, None, {"vnp_ResponseCode": "03", "vnp_Message": "Invalid data format"})
        command = doc.get("vnp_Command")
        fields = {"querydr": signing.VNPAY_QUERYDR_FIELDS,
                  "refund": signing.VNPAY_REFUND_FIELDS}.get(command)
        base = {"vnp_Command": command if fields else "",
                "vnp_TmnCode": str(doc.get("vnp_TmnCode", "")),
                "vnp_TxnRef": str(doc.get("vnp_TxnRef", ""))}
        if fields is None:
            return self.api_answer(h, None, dict(base, vnp_ResponseCode="03",
                                                 vnp_Message="Invalid command"))
        merchant = self.merchants.get(base["vnp_TmnCode"])
        if merchant is None:
            return self.api_answer(h, None, dict(base, vnp_ResponseCode="02",
                                                 vnp_Message="Merchant is not valid"), command)
        if not signing.vnpay_api_verify(fields, doc, merchant["secret"]):
            return self.api_answer(h, merchant, dict(base, vnp_ResponseCode="97",
                                                     vnp_Message="Invalid Checksum"), command)
        if not self.api_fields_ok(command, doc):
            return self.api_answer(h, merchant, dict(base, vnp_ResponseCode="03",
                                                     vnp_Message="Invalid data format"), command)
        seen = (merchant["merchant_code"], vn_stamp()[:8], doc["vnp_RequestId"])
        with self.lock:
            duplicate = seen in self.request_ids
            self.request_ids.add(seen)
        if duplicate:
            return self.api_answer(h, merchant, dict(base, vnp_ResponseCode="94",
                                                     vnp_Message="Duplicate request"), command)
        with self.lock:
            txn = self.txns.get((merchant["merchant_code"], doc["vnp_TxnRef"]))
        if txn is None or txn["create_date"] != doc["vnp_TransactionDate"]:
            return self.api_answer(h, merchant, dict(base, vnp_ResponseCode="91",
                                                     vnp_Message="Transaction not found"), command)
        if command == "querydr":
            return self.api_answer(h, merchant, self.querydr_answer(txn), command)
        answer = self.refund(txn, doc)
        if self.refund_answer_lost(h):
            return True
        return self.api_answer(h, merchant, answer, command)

    @staticmethod
    def api_fields_ok(command, doc):
        for name in ("vnp_RequestId", "vnp_Version", "vnp_TxnRef", "vnp_TransactionDate",
                     "vnp_CreateDate", "vnp_IpAddr", "vnp_OrderInfo"):
            if not isinstance(doc.get(name), str) or not doc[name]:
                return False
        if (not REQUEST_ID_RE.match(doc["vnp_RequestId"]) or doc["vnp_Version"] != "2.1.0"
                or parse_vn_stamp(doc["vnp_TransactionDate"]) is None
                or parse_vn_stamp(doc["vnp_CreateDate"]) is None):
            return False
        if command == "refund":
            if (doc.get("vnp_TransactionType") not in ("02", "03")
                    or not DIGITS_RE.match(str(doc.get("vnp_Amount", "")))
                    or int(doc["vnp_Amount"]) <= 0
                    or not isinstance(doc.get("vnp_CreateBy"), str) or not doc["vnp_CreateBy"]
                    or not isinstance(doc.get("vnp_TransactionNo", "0"), str)):
                return False
        return True

    def querydr_answer(self, txn):
        with self.act_lock:
            # A refund in progress (05) or the last one rejected (09) is what querydr shows.
            status = "05" if txn["refund_pending"] else txn.get("refund_status") or txn["status"]
            kind = "01" if txn["refunded"] == 0 else (
                "02" if txn["refunded"] * 100 == int(txn["amount"]) else "03")
            return {"vnp_ResponseCode": "00", "vnp_Message": "QueryDR Success",
                    "vnp_TmnCode": txn["merchant"]["merchant_code"], "vnp_TxnRef": txn["txn_ref"],
                    "vnp_Amount": txn["amount"], "vnp_OrderInfo": txn["order_info"],
                    "vnp_BankCode": txn["bank_code"], "vnp_PayDate": txn["pay_date"],
                    "vnp_TransactionNo": txn["transaction_no"], "vnp_TransactionType": kind,
                    "vnp_TransactionStatus": status, "vnp_PromotionCode": "",
                    "vnp_PromotionAmount": ""}

    def refund(self, txn, doc):
        base = {"vnp_TmnCode": txn["merchant"]["merchant_code"], "vnp_TxnRef": txn["txn_ref"],
                "vnp_Amount": doc["vnp_Amount"], "vnp_OrderInfo": doc["vnp_OrderInfo"]}
        amount = int(doc["vnp_Amount"])
        with self.lock:
            mode = self.control["refund"]
        with self.act_lock:
            if txn["state"] != "paid":
                return dict(base, vnp_ResponseCode="95", vnp_Message="Transaction is not successful")
            if txn["refund_pending"]:
                return dict(base, vnp_ResponseCode="94", vnp_Message="Refund is being processed")
            left = int(txn["amount"]) - txn["refunded"] * 100
            if amount % 100 != 0 or amount > left or (doc["vnp_TransactionType"] == "02"
                                                      and amount != left):
                return dict(base, vnp_ResponseCode="93", vnp_Message="Invalid refund amount")
            moment = vn_now()
            number = random_digits(8)
            status = {"succeed": "00", "pending": "05", "reject": "09"}[mode]
            txn["refund_status"] = None if mode == "succeed" else status
            if mode == "succeed":
                txn["refunded"] += amount // 100
            elif mode == "pending":
                txn["refund_pending"] = {"amount": amount // 100, "number": number,
                                         "type": doc["vnp_TransactionType"]}
        if mode == "succeed":
            self.record_refund(txn, number, doc["vnp_TransactionType"], amount // 100, moment)
        return dict(base, vnp_ResponseCode="00", vnp_Message="Refund success",
                    vnp_BankCode=txn["bank_code"], vnp_PayDate=vn_stamp(moment),
                    vnp_TransactionNo=number,
                    vnp_TransactionType=doc["vnp_TransactionType"],
                    vnp_TransactionStatus=status)

    def record_refund(self, txn, number, kind, amount, moment):
        self.record_statement({"merchant_code": txn["merchant"]["merchant_code"],
                               "txn_ref": txn["txn_ref"], "transaction_no": number,
                               "transaction_type": kind, "amount": amount,
                               "pay_date": vn_stamp(moment), "bank_code": txn["bank_code"],
                               "status": "00"}, moment)

    def settle_pending_refunds(self, outcome):
        """Refunds in progress (05) end: done (querydr then shows 02/03 with status 00)
        or rejected (status 09)."""
        done, count = [], 0
        with self.lock:
            txns = list(self.txns.values())
        with self.act_lock:
            for txn in txns:
                pending = txn["refund_pending"]
                if not pending:
                    continue
                txn["refund_pending"] = False
                count += 1
                if outcome == "succeed":
                    txn["refunded"] += pending["amount"]
                    txn["refund_status"] = None
                    done.append((txn, pending))
                else:
                    txn["refund_status"] = "09"
        moment = vn_now()
        for txn, pending in done:
            self.record_refund(txn, pending["number"], pending["type"], pending["amount"], moment)
        return count

    @staticmethod
    def api_answer(h, merchant, answer, command=None):
        """Answers are signed like the real ones (unsigned when no merchant is known)."""
        answer = dict(answer)
        answer["vnp_ResponseId"] = secrets.token_hex(16)
        answer.setdefault("vnp_Command", command or "")
        if merchant is not None:
            fields = (signing.VNPAY_QUERYDR_RESPONSE_FIELDS if answer["vnp_Command"] == "querydr"
                      else signing.VNPAY_REFUND_RESPONSE_FIELDS)
            answer["vnp_SecureHash"] = signing.vnpay_api_sign(fields, answer, merchant["secret"])
        return h.send_json(200, answer)

    # ---- routing ------------------------------------------------------------------

    def route(self, h, method, path, query, body):
        if path == PAY_PATH and method == "GET":
            params = {k: v for k, v in query.items() if k.startswith("vnp_")}
            done, txn = self.open_payment(h, params)
            if done:
                return done
            outcome = query.get("sim_outcome")
            if outcome:
                return self.act(h, txn, outcome)
            return h.send_text(200, self.page(txn), "text/html; charset=utf-8")
        if path == ACT_PATH and method == "POST":
            form = dict(urllib.parse.parse_qsl(body))
            with self.lock:
                txn = self.txns.get((form.get("tmn", ""), form.get("txn_ref", "")))
            if txn is None:
                return h.redirect(ERROR_PATH + "?code=03")
            return self.act(h, txn, form.get("outcome", ""))
        if path == ERROR_PATH and method == "GET":
            code = query.get("code", "99")
            return h.send_text(200, "<!doctype html><meta charset=utf-8><title>VNPAY</title>"
                               "<p>Mã lỗi: %s</p><p>%s</p>" % (
                                   html.escape(code), html.escape(ERROR_TEXT.get(code, "Lỗi"))),
                               "text/html; charset=utf-8")
        if path == API_PATH and method == "POST":
            return self.api(h, body)
        return False


if __name__ == "__main__":
    simcore.main(VnpaySimulator, "vnpay")
