"""The services survive their database going away and coming back.

PostgreSQL is stopped under a running catalogue: requests that need the
database get a clean 503 problem (never a crash, a hang or a 500) and
/readyz says not ready; after PostgreSQL restarts, the connection pool
reconnects by itself and the same requests succeed without restarting the
service. Needs the test stack's PostgreSQL port (MOTCUA_TEST_PG_PORT, set by
tests/run); skipped otherwise.
"""
from __future__ import annotations

import os
import subprocess
import time

import pytest

API = '/api/v1'
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


def pg_ctl(action: str) -> None:
    env = dict(os.environ, MOTCUA_LOCAL_DIR=os.environ['MOTCUA_TEST_LOCAL_DIR'],
               MOTCUA_PG_PORT=os.environ['MOTCUA_TEST_PG_PORT'])
    script = f'set -euo pipefail; source "{ROOT}/deploy/local/lib.sh"; motcua_config; motcua_pg_{action}'
    subprocess.run(['bash', '-c', script], env=env, check=True, stdout=subprocess.DEVNULL, timeout=120)


@pytest.fixture
def database_restart():
    if not os.environ.get('MOTCUA_TEST_PG_PORT') or not os.environ.get('MOTCUA_TEST_LOCAL_DIR'):
        pytest.skip('MOTCUA_TEST_PG_PORT and MOTCUA_TEST_LOCAL_DIR are set by tests/run')
    yield
    pg_ctl('start')  # whatever happened, leave the database running


def test_database_outage_is_a_503_and_recovery_needs_no_restart(svc, database_restart):
    # an uncached read that needs the database
    path = f'{API}/procedures/1.001193/versions'
    before = svc.get(path, expect=200).json()
    svc.get('/readyz', expect=200)

    pg_ctl('stop')
    started = time.monotonic()
    r = svc.get(path, expect=503)
    assert time.monotonic() - started < 15, 'a dead database must not hang requests'
    problem = r.json()
    assert problem['status'] == 503 and problem['code'].startswith('server.')
    assert r.headers.get('Retry-After')
    svc.get('/readyz', expect=503)
    svc.get('/healthz', expect=200)  # the process itself is alive

    pg_ctl('start')
    deadline = time.monotonic() + 30
    while True:
        r = svc.get(path, expect=(200, 503))
        if r.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert r.status_code == 200, 'the pool did not reconnect after PostgreSQL came back'
    assert r.json() == before
    svc.get('/readyz', expect=200)
    # every pooled connection recovers, not just one: a burst of reads all succeed
    for _ in range(40):
        svc.get(path, expect=200)
