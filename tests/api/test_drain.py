"""A stopping service drains before it closes (DRAIN_SECONDS, common/src/server.c).

After SIGTERM, for DRAIN_SECONDS, the service still answers, with `Connection: close` on
every answer (a gateway stops reusing its kept-alive connections, so none is cut under
a request it already sent: a rolling restart loses nothing) and 503 on /readyz; then it
closes the listener and stops as before. Runs a catalogue instance of its own beside the
stack's (service_instance.py)."""
from __future__ import annotations

import signal
import time

import requests

from service_instance import ServiceInstance

DRAIN_SECONDS = 3


def test_a_stopping_service_drains_then_stops():
    instance = ServiceInstance('catalogue', DRAIN_SECONDS=str(DRAIN_SECONDS))
    url, p = instance.url, instance.process
    try:
        instance.wait_listening()
        session = requests.Session()
        assert session.get(f'{url}/readyz', timeout=5).status_code == 200
        r = session.get(f'{url}/api/v1/agencies', params={'limit': 1}, timeout=5)
        assert r.status_code == 200
        assert 'close' not in r.headers.get('Connection', '').lower()

        p.send_signal(signal.SIGTERM)
        stopped_at = time.monotonic()
        time.sleep(0.3)
        # Draining: still answering, each answer closing its connection; not ready.
        r = requests.get(f'{url}/readyz', timeout=5)
        assert r.status_code == 503
        assert r.headers['Content-Type'].startswith('application/problem+json')
        assert r.json()['detail'] == 'stopping: draining connections'
        assert r.headers.get('Connection', '').lower() == 'close'
        r = requests.get(f'{url}/api/v1/agencies', params={'limit': 1}, timeout=5)
        assert r.status_code == 200
        assert r.headers.get('Connection', '').lower() == 'close'
        assert p.poll() is None, 'the instance stopped before its drain was over'

        assert p.wait(30) == 0
        assert time.monotonic() - stopped_at >= DRAIN_SECONDS - 0.5
    finally:
        instance.stop()
