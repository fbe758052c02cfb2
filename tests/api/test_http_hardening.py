"""Hardening of the services' HTTP layer (issue 9):

  - X-Real-IP is believed only from a trusted proxy (HTTP_TRUSTED_PROXIES: the gateway,
    127.0.0.1 in the local stack); from any other address the connection's own address
    is the client's, whatever the header says;
  - answers with personal data are `Cache-Control: private, no-store`, and answers carry
    `X-Content-Type-Options: nosniff`;
  - idle connections from one address cannot fill a service: beyond
    HTTP_MAX_CONNECTIONS_PER_CLIENT (32) they are closed at once, while another address
    and the gateway are served promptly;
  - the gateway gives up on a stuck service within seconds (504), not nginx's 60 s.

Other client addresses are other loopback addresses (127.0.0.2, 127.0.0.3: the whole
127.0.0.0/8 is local on Linux), bound as the source of the client socket.
"""
from __future__ import annotations

import http.client
import json
import os
import random
import select
import signal
import socket
import time
import urllib.parse

import pytest

from dossier_support import API
from motcua_api import unique_suffix
from stack_db import psql_as

PER_CLIENT = 32  # HTTP_MAX_CONNECTIONS_PER_CLIENT's default (README "Connections and timeouts")


def _service(name: str) -> tuple[str, int]:
    url = os.environ.get(f'MOTCUA_TEST_SERVICE_URL_{name.upper()}', '').strip()
    if not url:
        pytest.skip(f'MOTCUA_TEST_SERVICE_URL_{name.upper()} is not set')
    u = urllib.parse.urlsplit(url)
    return u.hostname, u.port


def _request(host: str, port: int, source: str, method: str, path: str, body: bytes | None = None,
             headers: dict | None = None, timeout: float = 5.0) -> tuple[int, dict, bytes, float]:
    """One request from the loopback address `source`: status, headers, body, seconds."""
    started = time.monotonic()
    conn = http.client.HTTPConnection(host, port, timeout=timeout, source_address=(source, 0))
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data, time.monotonic() - started
    finally:
        conn.close()


def _register_from(source: str, claimed: str) -> str:
    """Register a citizen from `source`, claiming to be `claimed` in X-Real-IP; the
    address the identity service audited for it."""
    host, port = _service('identity')
    person = {
        'full_name': 'Nguyễn Văn Thử',
        'personal_id': f'001090{random.randint(0, 999999):06d}',
        'date_of_birth': '1990-05-17',
        'phone': f'09{random.randint(0, 99999999):08d}',
        'email': f'thu.{unique_suffix()}@example.vn',
        'password': 'hoa-sen-mua-he-2025',
    }
    status, _, body, _ = _request(host, port, source, 'POST', f'{API}/accounts',
                                  json.dumps(person).encode(),
                                  {'Content-Type': 'application/json', 'X-Real-IP': claimed})
    assert status == 201, (status, body[:300])
    account = json.loads(body)['id']
    return psql_as('identity', "SELECT coalesce(client_address, '') FROM identity.audit_events"
                          f" WHERE subject = '{account}' AND action = 'registered'")


def test_forwarded_address_is_believed_only_from_the_trusted_proxy():
    claimed = f'198.51.100.{random.randint(1, 254)}'
    # from the gateway's address: the address it forwards is the client's
    assert _register_from('127.0.0.1', claimed) == claimed
    # from anyone else: the header is ignored, the connection's address is the client's
    assert _register_from('127.0.0.2', claimed) == '127.0.0.2'


def test_personal_answers_are_not_stored_and_all_are_nosniff(world):
    from dossier_support import create
    host, port = _service('dossier')
    citizen = world.citizen()
    d = create(world.api, citizen, world.procedure(mandatory=()), world.agency).doc
    for path in (f'{API}/dossiers/{d["id"]}', f'{API}/dossiers?limit=1'):
        status, headers, _, _ = _request(host, port, '127.0.0.1', 'GET', path,
                                         headers={'Authorization': f'Bearer {citizen}'})
        assert status == 200
        assert headers.get('cache-control') == 'private, no-store', (path, headers)
        assert headers.get('x-content-type-options') == 'nosniff'
    # the creation answer (personal data too) and through the gateway
    r = create(world.api, citizen, world.procedure(mandatory=()), world.agency)
    assert r.headers.get('Cache-Control') == 'private, no-store'
    assert r.headers.get('X-Content-Type-Options') == 'nosniff'
    # errors and public reads are nosniff as well; a public read stays cacheable
    status, headers, _, _ = _request(host, port, '127.0.0.1', 'GET', f'{API}/dossiers')
    assert status == 401 and headers.get('x-content-type-options') == 'nosniff'
    c_host, c_port = _service('catalogue')
    status, headers, _, _ = _request(c_host, c_port, '127.0.0.1', 'GET', f'{API}/sectors')
    assert status == 200 and headers.get('x-content-type-options') == 'nosniff'
    assert 'no-store' not in headers.get('cache-control', '')


def _open_idle(host: str, port: int, source: str, n: int) -> list[socket.socket]:
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((source, 0))
        s.settimeout(5)
        s.connect((host, port))
        socks.append(s)
    return socks


def _closed_by_server(socks: list[socket.socket], wait: float) -> int:
    """How many of the sockets the server closed within `wait` seconds."""
    closed: set[int] = set()
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        open_ = [s for s in socks if s.fileno() not in closed]
        readable, _, _ = select.select(open_, [], [], 0.1)
        for s in readable:
            try:
                if s.recv(1) == b'':
                    closed.add(s.fileno())
            except OSError:
                closed.add(s.fileno())
    return len(closed)


def test_idle_connections_of_one_address_cannot_stop_the_service(base_url):
    host, port = _service('dossier')
    flood = _open_idle(host, port, '127.0.0.2', 200)
    try:
        # beyond the per-address limit they are closed at once, not left in the backlog
        closed = _closed_by_server(flood, 2.0)
        assert closed >= 200 - PER_CLIENT, f'only {closed} of 200 idle connections were refused'
        # another address is served promptly
        status, _, _, took = _request(host, port, '127.0.0.3', 'GET', '/healthz')
        assert status == 200 and took < 2, (status, took)
        # and so is the gateway (a trusted proxy): the dossier service answers its 401
        g = urllib.parse.urlsplit(base_url)
        status, _, _, took = _request(g.hostname, g.port, '127.0.0.1', 'GET', f'{API}/dossiers')
        assert status == 401 and took < 2, (status, took)
    finally:
        for s in flood:
            s.close()


def test_the_trusted_proxy_is_not_limited_per_address():
    host, port = _service('dossier')
    held = _open_idle(host, port, '127.0.0.1', PER_CLIENT + 16)
    try:
        assert _closed_by_server(held, 1.0) == 0
        status, _, _, _ = _request(host, port, '127.0.0.1', 'GET', '/healthz')
        assert status == 200
    finally:
        for s in held:
            s.close()


def test_the_gateway_gives_up_on_a_stuck_service_in_seconds(base_url):
    """A service that accepts but never answers (stopped with SIGSTOP) costs the gateway
    proxy_read_timeout (10 s), not nginx's default 60 s: 504 problem+json."""
    local = os.environ.get('MOTCUA_TEST_LOCAL_DIR', '').strip()
    pidfile = os.path.join(local, 'run', 'dossier.pid')
    if not local or not os.path.exists(pidfile):
        pytest.skip('MOTCUA_TEST_LOCAL_DIR with run/dossier.pid is needed to stop the service')
    pid = int(open(pidfile, encoding='ascii').read().strip())
    g = urllib.parse.urlsplit(base_url)
    os.kill(pid, signal.SIGSTOP)
    try:
        status, headers, body, took = _request(g.hostname, g.port, '127.0.0.1', 'GET',
                                               f'{API}/dossiers', timeout=30)
    finally:
        os.kill(pid, signal.SIGCONT)
    assert status == 504, (status, body[:200])
    assert headers.get('content-type', '').startswith('application/problem+json')
    assert took < 15, f'the gateway waited {took:.1f} s for a stuck service'
    # and the service, running again, answers as before
    deadline = time.monotonic() + 10
    while True:
        status, _, _, _ = _request(g.hostname, g.port, '127.0.0.1', 'GET', f'{API}/dossiers')
        if status == 401 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert status == 401
