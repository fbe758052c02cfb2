"""More dossier instances beside the local stack's, on the same database: started the way
deploy/local starts the service (the running service's binary and environment, a few
settings changed, its own port), ready when /readyz answers 200, stopped with SIGTERM.
Used by the tests of what several replicas share (the sweeper, the deadline watcher,
the document store). Skips the calling test without the local stack of tests/run."""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time

import pytest
import requests

READY_TIMEOUT = 90  # seconds; an ASan build starts slowly


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def stack() -> tuple[str, str, str]:
    """(MOTCUA_TEST_LOCAL_DIR, the dossier service's URL, MOTCUA_TEST_PG_PORT), or skip."""
    local_dir = os.environ.get('MOTCUA_TEST_LOCAL_DIR', '').strip()
    url = os.environ.get('MOTCUA_TEST_SERVICE_URL_DOSSIER', '').strip()
    pg_port = os.environ.get('MOTCUA_TEST_PG_PORT', '').strip()
    if not local_dir or not url or not pg_port or shutil.which('psql') is None:
        pytest.skip('needs the local test stack of tests/run and psql')
    return local_dir, url, pg_port


class DossierInstance:
    """One more motcua-dossier serve process."""

    def __init__(self, name: str, settings: dict[str, str]):
        local_dir, _, _ = stack()
        with open(os.path.join(local_dir, 'run', 'dossier.pid'), encoding='ascii') as f:
            pid = int(f.read().strip())
        with open(f'/proc/{pid}/environ', 'rb') as f:
            env = dict(e.decode(errors='surrogateescape').split('=', 1)
                       for e in f.read().split(b'\0') if b'=' in e)
        exe = os.readlink(f'/proc/{pid}/exe')
        if exe.endswith(' (deleted)'):
            pytest.skip('the running service binary was replaced on disk')
        self.port = free_port()
        env['MOTCUA_DOSSIER_PORT'] = str(self.port)
        env.update(settings)
        self.url = f'http://127.0.0.1:{self.port}'
        self.log_path = os.path.join(local_dir, 'log', f'dossier-{name}.log')
        self._log = open(self.log_path, 'ab')
        self.process = subprocess.Popen([exe, 'serve'], env=env, stdin=subprocess.DEVNULL,
                                        stdout=self._log, stderr=self._log)

    def wait_ready(self) -> 'DossierInstance':
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            assert self.process.poll() is None, \
                f'{self.log_path}: the instance exited with {self.process.returncode}'
            try:
                if requests.get(f'{self.url}/readyz', timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, f'{self.log_path}: the instance is not ready'
            time.sleep(0.2)

    def metric(self, name: str, labels: str = '') -> float:
        """The value of one sample of its /metrics (0 when absent): `labels` is the text
        after service="dossier", e.g. 'kind="overdue"'."""
        return metric_of(self.url, name, labels)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()


def metric_of(url: str, name: str, labels: str = '') -> float:
    text = requests.get(f'{url}/metrics', timeout=10).text
    want = 'service="dossier"' + (',' + labels if labels else '')
    for line in text.splitlines():
        m = re.fullmatch(rf'{re.escape(name)}\{{(.*)\}} (\S+)', line)
        if m and m.group(1) == want:
            return float(m.group(2))
    return 0.0
