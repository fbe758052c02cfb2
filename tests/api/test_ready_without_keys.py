"""A service that could not load the keys that verify tokens is not ready.

A replica restarted while identity is unreachable starts without a key (JWKS_URL is
fetched at start, start-up does not wait for it). Before: /readyz answered 200, the
replica took traffic and refused every caller with 401 "token signed with an unknown key"
until its next fetch, 10 s later. Now /readyz answers 503 until a key is loaded, and the
JWKS is fetched again every second while there is none."""
from __future__ import annotations

import http.server
import os
import threading
import time

import requests

from service_instance import ServiceInstance
from dossier_instances import free_port as _free_port


def test_not_ready_until_a_key_is_loaded():
    identity = os.environ.get('MOTCUA_TEST_SERVICE_URL_IDENTITY', '').strip()
    jwks = requests.get(f'{identity}/.well-known/jwks.json', timeout=10).content
    port = _free_port()  # where the keys will be served, later

    class Jwks(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(jwks)))
            self.end_headers()
            self.wfile.write(jwks)

        def log_message(self, *args):
            pass

    instance = ServiceInstance('catalogue', JWKS_URL=f'http://127.0.0.1:{port}/jwks.json')
    server = None
    try:
        instance.wait_listening()
        r = requests.get(f'{instance.url}/readyz', timeout=5)
        assert r.status_code == 503
        assert r.json()['detail'] == 'no key to verify tokens yet (JWKS_URL)'

        server = http.server.ThreadingHTTPServer(('127.0.0.1', port), Jwks)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        deadline = time.monotonic() + 10
        while requests.get(f'{instance.url}/readyz', timeout=5).status_code != 200:
            assert time.monotonic() < deadline, 'still not ready 10 s after the keys were served'
            time.sleep(0.3)
    finally:
        instance.stop()
        if server is not None:
            server.shutdown()
