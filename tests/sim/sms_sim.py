#!/usr/bin/python3
"""An SMS gateway simulator for the local stack and the API tests.

    sms_sim.py --port PORT --dir DIR [--api-key-file FILE]

The interface the tracking service speaks (docs/services/tracking.md, "SMS"):

    POST /v1/messages   Authorization: Bearer <api key>
                        {"to": "0912345678", "text": "...", "reference": "<id>"}
        -> 202 {"message_id": "...", "reference": "<id>"}
        -> 401 without the right key, 400 on a malformed body

Each accepted message is appended as one JSON line to DIR/messages.jsonl (the tests
read it, or GET /v1/messages). For the retry tests, POST /control with
{"fail_next": N, "status": 503} makes the next N sends fail with that status.
Standard library only; single process, one thread per request.
"""
import argparse
import json
import os
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATE = {"fail_next": 0, "status": 503}


def make_handler(outfile, api_key):
    class Handler(BaseHTTPRequestHandler):
        server_version = "motcua-sms-sim/1"

        def log_message(self, fmt, *args):  # no personal data (phone numbers) in logs
            pass

        def reply(self, status, body):
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def read_json(self):
            n = int(self.headers.get("Content-Length") or 0)
            if n <= 0 or n > 65536:
                return None
            try:
                return json.loads(self.rfile.read(n))
            except ValueError:
                return None

        def do_GET(self):
            if self.path == "/healthz":
                return self.reply(200, {"status": "ok"})
            if self.path != "/v1/messages":
                return self.reply(404, {"error": "not found"})
            with LOCK:
                items = []
                if os.path.exists(outfile):
                    with open(outfile, encoding="utf-8") as f:
                        items = [json.loads(line) for line in f if line.strip()]
            return self.reply(200, {"items": items})

        def do_POST(self):
            if self.path == "/control":
                body = self.read_json() or {}
                with LOCK:
                    STATE["fail_next"] = int(body.get("fail_next", 0))
                    STATE["status"] = int(body.get("status", 503))
                return self.reply(200, dict(STATE))
            if self.path != "/v1/messages":
                return self.reply(404, {"error": "not found"})
            if api_key and self.headers.get("Authorization") != "Bearer " + api_key:
                return self.reply(401, {"error": "unauthorized"})
            body = self.read_json()
            if (not isinstance(body, dict) or not isinstance(body.get("to"), str)
                    or not isinstance(body.get("text"), str) or not body["to"] or not body["text"]):
                return self.reply(400, {"error": "to and text are required"})
            with LOCK:
                if STATE["fail_next"] > 0:
                    STATE["fail_next"] -= 1
                    return self.reply(STATE["status"], {"error": "simulated failure"})
                message_id = str(uuid.uuid4())
                record = {"message_id": message_id, "to": body["to"], "text": body["text"],
                          "reference": body.get("reference")}
                with open(outfile, "a", encoding="utf-8") as f:
                    f.write(json.dumps(record, ensure_ascii=False) + "\n")
            return self.reply(202, {"message_id": message_id, "reference": body.get("reference")})

    return Handler


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--api-key-file")
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    api_key = ""
    if args.api_key_file:
        with open(args.api_key_file, encoding="utf-8") as f:
            api_key = f.read().strip()
    server = ThreadingHTTPServer(("127.0.0.1", args.port),
                                 make_handler(os.path.join(args.dir, "messages.jsonl"), api_key))
    server.serve_forever()


if __name__ == "__main__":
    main()
