"""Fixtures of the simulator tests: a simulator in this process on a free port and a
merchant HTTP server that records the notifications and answers as told."""

import http.client
import json
import os
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import npp_sim  # noqa: E402
import signing  # noqa: E402
import vnpay_sim  # noqa: E402


def call(method, url, body=None, headers=None):
    """One request, redirects not followed: (status, headers dict, text)."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    path = parts.path + ("?" + parts.query if parts.query else "")
    data = None
    if isinstance(body, (dict, list)):
        data = json.dumps(body, ensure_ascii=False).encode()
        headers = dict(headers or {}, **{"Content-Type": "application/json"})
    elif isinstance(body, str):
        data = body.encode()
    conn.request(method, path, body=data, headers=headers or {})
    resp = conn.getresponse()
    text = resp.read().decode("utf-8", "replace")
    conn.close()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, text


def wait_for(predicate, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    return predicate()


class Merchant:
    """Records what reaches the notify URL; `answers` (a list, consumed in order, the last
    one repeated) says what to answer: a dict (JSON), or a callable(request) -> dict."""

    def __init__(self):
        self.requests = []
        self.answers = [{"RspCode": "00", "Message": "Confirm Success"}]
        self.lock = threading.Lock()
        merchant = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query,
                                                    keep_blank_values=True))
                request = {"method": self.command, "path": self.path, "query": query,
                           "body": json.loads(body) if body else None}
                with merchant.lock:
                    merchant.requests.append(request)
                    answer = merchant.answers[0] if len(merchant.answers) == 1 else merchant.answers.pop(0)
                if callable(answer):
                    answer = answer(request)
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = _handle
            do_POST = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/notify" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()


@pytest.fixture
def merchant():
    m = Merchant()
    yield m
    m.server.shutdown()
    m.server.server_close()


def start(sim_class, merchant, extra):
    config = {"merchants": {}, "retry_interval_seconds": 0.05, "max_attempts": 4,
              "notify_timeout_seconds": 2}
    for code, secret, token in extra:
        config["merchants"][code] = {"merchant_code": code, "secret": secret, "token": token,
                                     "notify_url": merchant.url}
    sim = sim_class(config)
    server = sim.make_server(0)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    sim.url = "http://127.0.0.1:%d" % server.server_address[1]
    return sim, server


@pytest.fixture
def vnpay(merchant):
    sim, server = start(vnpay_sim.VnpaySimulator, merchant,
                        [("T0006H56", "VNPSECRET0006", None), ("T0007H56", "VNPSECRET0007", None)])
    yield sim
    server.shutdown()
    server.server_close()


@pytest.fixture
def npp(merchant):
    sim, server = start(npp_sim.NppSimulator, merchant,
                        [("DVC0006H56", "NPPSECRET0006", "tok-0006"),
                         ("DVC0007H56", "NPPSECRET0007", "tok-0007")])
    yield sim
    server.shutdown()
    server.server_close()


def assert_attempts(sim, merchant, txn_ref, outcomes):
    """The merchant got exactly len(outcomes) notifications (none more after a pause) and
    the simulator's log shows these outcomes in order."""
    assert wait_for(lambda: len(merchant.requests) >= len(outcomes))
    time.sleep(0.3)
    assert len(merchant.requests) == len(outcomes)
    def log():
        return json.loads(call("GET", sim.url + "/sim/ipn-log?txn_ref=" + txn_ref)[2])["attempts"]
    wait_for(lambda: len(log()) >= len(outcomes))  # logged once each answer is in
    assert [e["outcome"] for e in log()] == outcomes


__all__ = ["call", "wait_for", "assert_attempts", "signing"]
