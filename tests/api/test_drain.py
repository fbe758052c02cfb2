"""A stopping service drains before it closes (DRAIN_SECONDS, common/src/server.c).

After SIGTERM, for DRAIN_SECONDS, the service still answers, with `Connection: close` on
every answer (a gateway stops reusing its kept-alive connections, so none is cut under
a request it already sent: a rolling restart loses nothing) and 503 on /readyz; then it
closes the listener and stops as before. Runs a catalogue instance of its own beside the
stack's (its environment, another port), like test_dossier_storage_limits' sidecar."""
from __future__ import annotations

import os
import signal
import subprocess
import time

import requests

from test_dossier_storage_limits import _free_port, _stack

DRAIN_SECONDS = 3


def test_a_stopping_service_drains_then_stops():
    local_dir, _, _ = _stack()
    with open(os.path.join(local_dir, 'run', 'catalogue.pid'), encoding='ascii') as f:
        pid = int(f.read().strip())
    with open(f'/proc/{pid}/environ', 'rb') as f:
        env = dict(e.decode(errors='surrogateescape').split('=', 1)
                   for e in f.read().split(b'\0') if b'=' in e)
    port = _free_port()
    env.update({'MOTCUA_CATALOGUE_PORT': str(port), 'MOTCUA_CATALOGUE_MIGRATE_ON_START': '0',
                'MOTCUA_CATALOGUE_DRAIN_SECONDS': str(DRAIN_SECONDS)})
    url = f'http://127.0.0.1:{port}'
    with open(os.path.join(local_dir, 'log', 'catalogue-drain.log'), 'ab') as log:
        p = subprocess.Popen([os.readlink(f'/proc/{pid}/exe'), 'serve'], env=env,
                             stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        try:
            session = requests.Session()
            deadline = time.monotonic() + 60
            while True:
                assert p.poll() is None, f'the instance exited with {p.returncode}'
                try:
                    if session.get(f'{url}/readyz', timeout=2).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                assert time.monotonic() < deadline, 'the instance is not ready'
                time.sleep(0.2)
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
            if p.poll() is None:
                p.kill()
                p.wait(10)
