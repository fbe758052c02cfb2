"""A running service of the local test stack, to kill and start again the way
deploy/local/lib.sh's motcua_service_start does (same binary, arguments and
environment, the pid file updated, ready when /readyz answers 200). Skips the calling
test when the stack's run directory or the service is not there."""
from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
import requests

READY_TIMEOUT = 60  # seconds


class ServiceProcess:
    def __init__(self, service: str):
        local = os.environ.get('MOTCUA_TEST_LOCAL_DIR', '')
        self.service = service
        self.pidfile = os.path.join(local, 'run', f'{service}.pid')
        self.log = os.path.join(local, 'log', f'{service}.log')
        self.url = os.environ.get(f'MOTCUA_TEST_SERVICE_URL_{service.upper()}', '')
        try:
            with open(self.pidfile, encoding='ascii') as f:
                self.pid = int(f.read().strip())
            with open(f'/proc/{self.pid}/cmdline', 'rb') as f:
                self.argv = [a.decode() for a in f.read().split(b'\0') if a]
            with open(f'/proc/{self.pid}/environ', 'rb') as f:
                self.env = dict(e.decode(errors='surrogateescape').split('=', 1)
                                for e in f.read().split(b'\0') if b'=' in e)
            self.exe = os.readlink(f'/proc/{self.pid}/exe')
            self.cwd = os.readlink(f'/proc/{self.pid}/cwd')
        except (OSError, ValueError) as e:
            pytest.skip(f'cannot inspect the {service} service from {self.pidfile}: {e}')
        if not self.url or f'motcua-{service}' not in os.path.basename(self.argv[0]) \
                or 'serve' not in self.argv:
            pytest.skip(f'pid {self.pid} is not a running motcua-{service} serve: {self.argv}')

    def alive(self) -> bool:
        try:
            with open(f'/proc/{self.pid}/stat', encoding='ascii') as f:
                return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL, and wait until it is gone (a no-op when it already is)."""
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 10
        while self.alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not self.alive(), f'pid {self.pid} survived SIGKILL'

    def start(self, **env: str) -> None:
        """Start it again (with `env` added to its environment) and wait for /readyz."""
        with open(self.log, 'ab') as log, open(os.devnull, 'rb') as devnull:
            p = subprocess.Popen([self.exe] + self.argv[1:], cwd=self.cwd, env=dict(self.env, **env),
                                 stdin=devnull, stdout=log, stderr=log, start_new_session=True)
        self.pid = p.pid
        with open(self.pidfile + '.tmp', 'w', encoding='ascii') as f:
            f.write(f'{p.pid}\n')
        os.replace(self.pidfile + '.tmp', self.pidfile)
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            assert p.poll() is None, f'the restarted {self.service} service exited with {p.returncode}'
            try:
                if requests.get(f'{self.url}/readyz', timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        pytest.fail(f'the restarted {self.service} service is not ready after {READY_TIMEOUT} s')
