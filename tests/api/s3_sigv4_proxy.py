"""A checking proxy in front of an S3-protocol server: every request must carry a valid
AWS Signature Version 4 (header form) made with the expected keys, and the SHA-256 it
declares for its payload must be the body's; a request that fails gets 403 with S3's
error XML, one that passes is forwarded as it is and the answer relayed.

It exists because s3rver (the S3 server the tests run) accepts any v4 signature
("Signature version 4 calculation is unimplemented" in its source): without it, a
wrongly signed request from the dossier service would pass the tests and fail against
a real store. The signer here is written from AWS's specification, independently of
libcurl's, and checked against AWS's published example (test_s3_sigv4_proxy.py)."""
from __future__ import annotations

import hashlib
import hmac
import http.server
import threading
import urllib.parse

import requests

HOP_HEADERS = {'connection', 'keep-alive', 'transfer-encoding', 'te', 'upgrade',
               'proxy-connection', 'trailer'}


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def _uri_encode(s: str, keep_slash: bool) -> str:
    return urllib.parse.quote(s, safe='-_.~' + ('/' if keep_slash else ''))


def canonical_query(query: str) -> str:
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    return '&'.join(f'{_uri_encode(k, False)}={_uri_encode(v, False)}' for k, v in sorted(pairs))


def signature(method: str, path: str, query: str, headers: dict[str, str], signed: list[str],
              payload_hash: str, secret: str, date: str, scope: str) -> str:
    """The hex signature of a request. `headers` maps lowercase names to values, `path`
    is the raw (already encoded) path, `date` the x-amz-date and `scope`
    <day>/<region>/<service>/aws4_request."""
    canonical_headers = ''.join(f'{h}:{" ".join(headers.get(h, "").split())}\n' for h in signed)
    canonical = '\n'.join([method, _uri_encode(urllib.parse.unquote(path), True), canonical_query(query),
                           canonical_headers, ';'.join(signed), payload_hash])
    to_sign = '\n'.join(['AWS4-HMAC-SHA256', date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    day, region, service, _ = scope.split('/')
    key = _hmac(_hmac(_hmac(_hmac(('AWS4' + secret).encode(), day), region), service), 'aws4_request')
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def check(method: str, target: str, headers: dict[str, str], body: bytes, access: str,
          secret: str) -> str | None:
    """None when the request is correctly signed with (access, secret), else why not."""
    auth = headers.get('authorization', '')
    if not auth.startswith('AWS4-HMAC-SHA256 '):
        return 'not signed with AWS4-HMAC-SHA256'
    fields = dict(part.strip().split('=', 1) for part in auth[len('AWS4-HMAC-SHA256 '):].split(','))
    credential = fields.get('Credential', '').split('/', 1)
    if len(credential) != 2 or credential[0] != access:
        return 'unknown access key'
    signed = fields.get('SignedHeaders', '').split(';')
    if 'host' not in signed or 'x-amz-date' not in signed or 'x-amz-content-sha256' not in signed:
        return 'host, x-amz-date and x-amz-content-sha256 must be signed'
    declared = headers.get('x-amz-content-sha256', '')
    if declared != 'UNSIGNED-PAYLOAD' and declared != hashlib.sha256(body).hexdigest():
        return 'the payload does not match x-amz-content-sha256'
    url = urllib.parse.urlsplit(target)
    expected = signature(method, url.path, url.query, headers, signed, declared, secret,
                         headers.get('x-amz-date', ''), credential[1])
    if not hmac.compare_digest(expected, fields.get('Signature', '')):
        return 'signature mismatch'
    return None


class SigV4Proxy:
    """Listens on 127.0.0.1:<port>, forwards what passes to `upstream`."""

    def __init__(self, upstream: str, access: str, secret: str):
        self.upstream = upstream.rstrip('/')
        self.refused: list[str] = []  # why, for each refused request
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *args):  # quiet
                pass

            def _handle(self):
                length = int(self.headers.get('Content-Length') or 0)
                body = self.rfile.read(length) if length else b''
                headers = {k.lower(): v for k, v in self.headers.items()}
                why = check(self.command, self.path, headers, body, access, secret)
                if why is not None:
                    proxy.refused.append(why)
                    xml = (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SignatureDoesNotMatch'
                           f'</Code><Message>{why}</Message></Error>').encode()
                    self.send_response(403)
                    self.send_header('Content-Type', 'application/xml')
                    self.send_header('Content-Length', str(len(xml)))
                    self.end_headers()
                    if self.command != 'HEAD':
                        self.wfile.write(xml)
                    return
                fwd = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
                r = requests.request(self.command, proxy.upstream + self.path, headers=fwd, data=body,
                                     allow_redirects=False, timeout=60, stream=True)
                content = r.raw.read() if self.command != 'HEAD' else b''
                self.send_response(r.status_code)
                for k, v in r.raw.headers.items():
                    if k.lower() not in HOP_HEADERS and k.lower() != 'content-length':
                        self.send_header(k, v)
                self.send_header('Content-Length', r.headers.get('Content-Length', str(len(content)))
                                 if self.command == 'HEAD' else str(len(content)))
                self.end_headers()
                if self.command != 'HEAD':
                    self.wfile.write(content)

            do_GET = do_PUT = do_DELETE = do_HEAD = do_POST = _handle

        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.server.daemon_threads = True
        self.url = f'http://127.0.0.1:{self.server.server_address[1]}'
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
