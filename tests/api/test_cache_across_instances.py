"""The response cache across instances (issue 14): a write on one catalogue
instance is seen at once by another, through PostgreSQL LISTEN/NOTIFY, not
after the other's cache TTL.

A second catalogue process is started from the stack's own (same binary, same
environment, another port, a one-minute cache TTL, so that only the
notification can explain a fresh answer); writes go through the gateway to the
stack's instance."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time

import pytest
import requests

from catalogue_data import API, create_published_procedure, document_of
from motcua_api import assert_status


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.fixture(scope='module')
def second_instance():
    local = os.environ.get('MOTCUA_TEST_LOCAL_DIR')
    pidfile = os.path.join(local or '', 'run', 'catalogue.pid')
    if not local or not os.path.exists(pidfile):
        pytest.skip('needs the local test stack (MOTCUA_TEST_LOCAL_DIR with run/catalogue.pid)')
    pid = open(pidfile).read().strip()
    try:
        exe = os.readlink(f'/proc/{pid}/exe')
        raw = open(f'/proc/{pid}/environ', 'rb').read().split(b'\0')
    except OSError as e:
        pytest.skip(f'cannot read the running catalogue process: {e}')
    env = dict(kv.decode().split('=', 1) for kv in raw if b'=' in kv)
    port = free_port()
    env.update(MOTCUA_CATALOGUE_PORT=str(port), MOTCUA_CATALOGUE_RESPONSE_CACHE_TTL_MS='60000')
    proc = subprocess.Popen([exe, 'serve'], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f'http://127.0.0.1:{port}'
    try:
        for _ in range(100):
            try:
                if requests.get(f'{url}/readyz', timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        else:
            pytest.fail('the second catalogue instance did not become ready')
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def read_on(url: str, code: str) -> dict:
    r = requests.get(f'{url}{API}/procedures/{code}', timeout=5)
    assert_status(r, 200)
    return r.json()


def test_a_publish_on_one_instance_is_seen_by_the_other_at_once(api, admin, second_instance):
    first = create_published_procedure(api, admin, name='Thủ tục kiểm thử bộ nhớ đệm liên phiên bản')
    code = first['code']
    # The other instance reads version 1 and keeps it for a minute.
    assert read_on(second_instance, code)['version'] == 1
    assert read_on(second_instance, code)['version'] == 1

    body = document_of(first) | {'name': 'Thủ tục kiểm thử bộ nhớ đệm, phiên bản hai'}
    api.put(f'{API}/procedures/{code}/draft', token=admin, json=body, expect=(200, 201))
    draft = api.get(f'{API}/procedures/{code}/draft', token=admin, expect=200)
    api.post(f'{API}/procedures/{code}/publish', token=admin,
             headers={'If-Match': draft.headers['ETag']}, expect=200)

    deadline = time.monotonic() + 1.0   # "at once": well under any TTL
    seen = read_on(second_instance, code)
    while seen['version'] != 2 and time.monotonic() < deadline:
        time.sleep(0.02)
        seen = read_on(second_instance, code)
    assert seen['version'] == 2 and seen['name'].endswith('phiên bản hai')
