"""What both payment gateway simulators share: configuration, the HTTP server, the
merchant notification worker (retries, drops, duplicates), the test controls under
/sim/* and the daily statement. Python 3 standard library only.

A simulator subclasses Simulator, sets PROVIDER and STATEMENT_COLUMNS, and implements
route(handler, method, path, query, body) for its protocol; notifications go through
Simulator.notify(merchant, send) where send() performs one delivery attempt and returns
(ended, answer_for_the_log): ended=True when the merchant's answer stops the retries.
"""

import argparse
import csv
import datetime
import io
import json
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VN_TZ = datetime.timezone(datetime.timedelta(hours=7))
MAX_BODY = 1 << 20
IPN_MODES = ("deliver", "drop", "duplicate")


def vn_now():
    return datetime.datetime.now(VN_TZ)


def vn_stamp(moment=None):
    """yyyyMMddHHmmss, 24-hour, Vietnam time: the providers' time format."""
    return (moment or vn_now()).astimezone(VN_TZ).strftime("%Y%m%d%H%M%S")


def parse_vn_stamp(text):
    """datetime of a yyyyMMddHHmmss Vietnam time, or None when malformed."""
    if not isinstance(text, str) or len(text) != 14 or not text.isdigit():
        return None
    try:
        return datetime.datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=VN_TZ)
    except ValueError:
        return None


def load_config(path, section):
    """The simulator's configuration: the file's `section` member when it has one
    (deploy/local's payment-simulators.json holds both providers), else the file."""
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    if isinstance(doc, dict) and isinstance(doc.get(section), dict):
        doc = doc[section]
    merchants = doc.get("merchants")
    if not isinstance(merchants, list) or not merchants:
        raise ValueError("config: merchants must be a non-empty list")
    for m in merchants:
        if not isinstance(m, dict) or not m.get("merchant_code") or not m.get("secret"):
            raise ValueError("config: each merchant needs merchant_code and secret")
    return {
        "merchants": {m["merchant_code"]: m for m in merchants},
        "retry_interval_seconds": float(doc.get("retry_interval_seconds", 300)),
        "max_attempts": int(doc.get("max_attempts", 10)),
        "notify_timeout_seconds": float(doc.get("notify_timeout_seconds", 10)),
    }


def http_call(method, url, body=None, headers=None, timeout=10.0):
    """One HTTP request: (status, body text) or (None, error text) when it did not answer."""
    data = None if body is None else body.encode("utf-8")
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read(MAX_BODY).decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read(MAX_BODY).decode("utf-8", "replace")
    except (OSError, ValueError) as e:
        return None, str(e)


class Simulator:
    PROVIDER = ""
    STATEMENT_COLUMNS = ("merchant_code", "txn_ref", "transaction_no", "transaction_type",
                         "amount", "pay_date", "bank_code", "status")

    def __init__(self, config):
        self.config = config
        self.merchants = config["merchants"]
        self.lock = threading.Lock()
        self.control = {"ipn": "deliver",
                        "retry_interval_seconds": config["retry_interval_seconds"],
                        "max_attempts": config["max_attempts"],
                        "refund": "succeed",
                        "refund_answer": "deliver",
                        "refund_answer_hold_seconds": 30}
        self.ipn_log = []
        self.statement_rows = []  # dicts with STATEMENT_COLUMNS plus "date"
        self.plants = []
        self.threads = []

    # ---- notifications -------------------------------------------------------------

    def notify(self, merchant, txn_ref, send):
        """Deliver a notification the way the real gateway does: retried every
        retry_interval_seconds until the merchant's answer ends it or max_attempts;
        `drop` sends nothing, `duplicate` runs two deliveries side by side."""
        with self.lock:
            mode = self.control["ipn"]
            interval = float(self.control["retry_interval_seconds"])
            attempts = int(self.control["max_attempts"])
        if mode == "drop":
            self._log(merchant, txn_ref, 0, "dropped", None, False)
            return
        copies = 2 if mode == "duplicate" else 1
        for copy in range(copies):
            t = threading.Thread(target=self._deliver, daemon=True,
                                 args=(merchant, txn_ref, send, interval, attempts, copy))
            t.start()
            self.threads.append(t)

    def _deliver(self, merchant, txn_ref, send, interval, attempts, copy):
        for attempt in range(1, attempts + 1):
            ended, answer = send()
            self._log(merchant, txn_ref, attempt, "delivered" if ended else "failed",
                      answer, ended, copy)
            if ended:
                return
            if attempt < attempts:
                time.sleep(interval)

    def _log(self, merchant, txn_ref, attempt, outcome, answer, ended, copy=0):
        with self.lock:
            self.ipn_log.append({"merchant_code": merchant["merchant_code"],
                                 "txn_ref": txn_ref, "attempt": attempt, "copy": copy,
                                 "outcome": outcome, "answer": answer, "ended": ended,
                                 "at": vn_now().isoformat()})

    @staticmethod
    def answered_without_payment(h, outcome, outcomes):
        """The payer's choice when nothing is paid or failed: an unknown one (400), or
        `abandon` (the payer left the page: nothing is sent, the order stays pending).
        True when answered here."""
        if outcome not in outcomes and outcome != "abandon":
            return h.send_text(400, "unknown sim_outcome", "text/plain; charset=utf-8")
        if outcome == "abandon":
            return h.send_text(200, "<!doctype html><p>Người thanh toán đã rời trang.</p>",
                               "text/html; charset=utf-8")
        return False

    # ---- statement ------------------------------------------------------------------

    def record_statement(self, row, moment):
        """Adds a settled transaction (payment or refund) to the day's statement."""
        with self.lock:
            self.statement_rows.append(dict(row, date=moment.astimezone(VN_TZ).strftime("%Y%m%d")))

    def statement_csv(self, merchant_code, date):
        with self.lock:
            rows = [dict(r) for r in self.statement_rows
                    if r["merchant_code"] == merchant_code and r["date"] == date]
            plants = [p for p in self.plants
                      if p["merchant_code"] == merchant_code and p["date"] == date]
        for p in plants:
            if p["kind"] == "missing":
                rows = [r for r in rows if r["txn_ref"] != p["txn_ref"]]
            elif p["kind"] == "amount":
                for r in rows:
                    if r["txn_ref"] == p["txn_ref"]:
                        r["amount"] = p["amount"]
            else:  # extra
                rows.append({"merchant_code": merchant_code, "txn_ref": p["txn_ref"],
                             "transaction_no": p.get("transaction_no", "99" + p["txn_ref"][-6:]),
                             "transaction_type": "01", "amount": p["amount"],
                             "pay_date": date + "120000", "bank_code": "NCB",
                             "status": "00", "date": date})
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=self.STATEMENT_COLUMNS, extrasaction="ignore",
                                lineterminator="\r\n")
        writer.writeheader()
        for r in rows:
            writer.writerow(r)
        return out.getvalue()

    # ---- /sim/* controls ----------------------------------------------------------------

    def sim_route(self, h, method, path, query, body):
        """The test controls shared by both simulators; False when path is not one."""
        if path == "/sim/control" and method == "POST":
            doc = parse_json(body)
            if not isinstance(doc, dict):
                return h.send_json(400, {"error": "body must be a JSON object"})
            if "ipn" in doc and doc["ipn"] not in IPN_MODES:
                return h.send_json(400, {"error": "ipn must be one of " + ", ".join(IPN_MODES)})
            if "refund" in doc and doc["refund"] not in ("succeed", "pending", "reject"):
                return h.send_json(400, {"error": "refund must be succeed, pending or reject"})
            if "refund_answer" in doc and doc["refund_answer"] not in ("deliver", "drop"):
                return h.send_json(400, {"error": "refund_answer must be deliver or drop"})
            if "settle_refunds" in doc and doc["settle_refunds"] not in ("succeed", "reject"):
                return h.send_json(400, {"error": "settle_refunds must be succeed or reject"})
            for key in ("retry_interval_seconds", "max_attempts", "refund_answer_hold_seconds"):
                if key in doc and (not isinstance(doc[key], (int, float)) or doc[key] < 0):
                    return h.send_json(400, {"error": key + " must be a number >= 0"})
            with self.lock:
                for key in ("ipn", "refund", "retry_interval_seconds", "max_attempts",
                            "refund_answer", "refund_answer_hold_seconds"):
                    if key in doc:
                        self.control[key] = doc[key]
                if doc.get("reset_log"):
                    self.ipn_log.clear()
                answer = dict(self.control)
            if "settle_refunds" in doc:
                answer["refunds_settled"] = self.settle_pending_refunds(doc["settle_refunds"])
            return h.send_json(200, answer)
        if path == "/sim/ipn-log" and method == "GET":
            ref = query.get("txn_ref")
            with self.lock:
                entries = [e for e in self.ipn_log if ref is None or e["txn_ref"] == ref]
            return h.send_json(200, {"attempts": entries})
        if path == "/sim/statement" and method == "GET":
            code, date = query.get("merchant_code"), query.get("date")
            if code not in self.merchants or not date or parse_vn_stamp(date + "000000") is None:
                return h.send_json(400, {"error": "merchant_code (known) and date=YYYYMMDD required"})
            return h.send_text(200, self.statement_csv(code, date), "text/csv; charset=utf-8")
        if path == "/sim/statement/plant" and method == "POST":
            doc = parse_json(body)
            if (not isinstance(doc, dict) or doc.get("merchant_code") not in self.merchants
                    or doc.get("kind") not in ("extra", "missing", "amount")
                    or not isinstance(doc.get("txn_ref"), str) or not doc["txn_ref"]
                    or not isinstance(doc.get("date"), str)
                    or parse_vn_stamp(doc["date"] + "000000") is None
                    or (doc["kind"] != "missing" and not isinstance(doc.get("amount"), int))):
                return h.send_json(400, {"error": "need merchant_code, date YYYYMMDD, kind "
                                                  "extra|missing|amount, txn_ref, amount (VND)"})
            with self.lock:
                self.plants.append(doc)
            return h.send_json(201, doc)
        return False

    # ---- refunds ----------------------------------------------------------------------

    def refund_answer_lost(self, h):
        """`refund_answer: drop`: the refund was handled (as `refund` says) but its answer
        never reaches the merchant, as in a real time-out: the connection stays silent for
        refund_answer_hold_seconds, then closes with no response at all. True when the
        answer was lost (the caller must not answer)."""
        with self.lock:
            mode = self.control["refund_answer"]
            hold = float(self.control["refund_answer_hold_seconds"])
        if mode != "drop":
            return False
        time.sleep(hold)
        h.close_connection = True
        return True

    def settle_pending_refunds(self, outcome):  # pragma: no cover - abstract
        """The gateway finishes its pending refunds: `succeed` or `reject`. Their number."""
        raise NotImplementedError

    # ---- serving ----------------------------------------------------------------------

    def route(self, h, method, path, query, body):  # pragma: no cover - abstract
        raise NotImplementedError

    def make_server(self, port, host="127.0.0.1"):
        sim = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = sim.PROVIDER + "-sim"

            def log_message(self, fmt, *args):  # no query strings (signatures) in logs
                sys.stderr.write("%s %s\n" % (self.command, self.path.split("?", 1)[0]))

            def send_json(self, status, doc, headers=None):
                return self.send_text(status, json.dumps(doc, ensure_ascii=False),
                                      "application/json; charset=utf-8", headers)

            def send_text(self, status, text, content_type, headers=None):
                data = text.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                return True

            def redirect(self, location):
                return self.send_text(302, "", "text/plain", {"Location": location})

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length < 0 or length > MAX_BODY:
                    return self.send_json(413, {"error": "body too large"})
                body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
                parts = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
                try:
                    done = (sim.sim_route(self, self.command, parts.path, query, body)
                            or sim.route(self, self.command, parts.path, query, body))
                except Exception as e:  # a simulator bug answers 500, like a real one
                    sys.stderr.write("error: %r\n" % (e,))
                    return self.send_json(500, {"error": "internal error"})
                if not done:
                    self.send_json(404, {"error": "not found"})

            do_GET = _handle
            do_POST = _handle

        return ThreadingHTTPServer((host, port), Handler)


def parse_json(text):
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def main(sim_class, section, argv=None):
    parser = argparse.ArgumentParser(description=sim_class.__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    sim = sim_class(load_config(args.config, section))
    server = sim.make_server(args.port, args.host)
    sys.stderr.write("%s simulator on http://%s:%d\n" % (sim.PROVIDER, args.host, args.port))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
