"""A running service of the local test stack, to kill with SIGKILL and start again the way
deploy/local/lib.sh's motcua_service_start does (crash tests: test_dossier_crash.py,
test_tracking_crash.py). Needs MOTCUA_TEST_LOCAL_DIR with run/<service>.pid naming the
running service; skips the test otherwise."""
from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
import requests

READY_TIMEOUT = 90    # seconds; an ASan build starts slowly


class ServiceProcess:
    """A running service of the local stack: kill it, start it again."""

    def __init__(self, service: str, local_dir: str | None = None, url: str | None = None):
        """local_dir and url default to the stack tests/run describes
        (MOTCUA_TEST_LOCAL_DIR, MOTCUA_TEST_SERVICE_URL_<SERVICE>)."""
        local_dir = local_dir or os.environ.get('MOTCUA_TEST_LOCAL_DIR', '')
        url = url or os.environ.get(f'MOTCUA_TEST_SERVICE_URL_{service.upper()}', '')
        if not local_dir or not url:
            pytest.skip(f'no local stack directory or URL for the {service} service')
        self.service = service
        self.local_dir = local_dir
        self.url = url
        self.pidfile = os.path.join(local_dir, 'run', f'{service}.pid')
        self.log = os.path.join(local_dir, 'log', f'{service}.log')
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
        if not self.argv or f'motcua-{service}' not in os.path.basename(self.argv[0]) \
                or 'serve' not in self.argv:
            pytest.skip(f'pid {self.pid} is not a running motcua-{service} serve: {self.argv}')
        if self.exe.endswith(' (deleted)'):
            pytest.skip(f'the running service binary was replaced on disk: {self.exe}')

    def alive(self) -> bool:
        """Running, or dying: after SIGKILL the main thread can be a zombie while other
        threads still exit holding the process's files, its listening socket among them
        (slow under ASan, whose exit unmaps large shadow memory): a restart then fails to
        bind the port. Gone only once no thread but a zombie main one is left."""
        try:
            with open(f'/proc/{self.pid}/stat', encoding='ascii') as f:
                if f.read().rsplit(')', 1)[1].split()[0] != 'Z':
                    return True
            return len(os.listdir(f'/proc/{self.pid}/task')) > 1
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
        """Start it as deploy/local/lib.sh's motcua_service_start does (nohup setsid
        BIN serve, output appended to the log), with `env` added to its environment;
        record the pid, wait for /readyz."""
        with open(self.log, 'ab') as log, open(os.devnull, 'rb') as devnull:
            p = subprocess.Popen([self.exe] + self.argv[1:], cwd=self.cwd, env=dict(self.env, **env),
                                 stdin=devnull, stdout=log, stderr=log, start_new_session=True)
        self.pid = p.pid
        tmp = self.pidfile + '.tmp'
        with open(tmp, 'w', encoding='ascii') as f:
            f.write(f'{p.pid}\n')
        os.replace(tmp, self.pidfile)
        deadline = time.monotonic() + READY_TIMEOUT
        last = ''
        while time.monotonic() < deadline:
            if p.poll() is not None:
                pytest.fail(f'the restarted {self.service} service exited with {p.returncode}: '
                            f'{self._log_tail()}')
            try:
                r = requests.get(f'{self.url}/readyz', timeout=2)
                if r.status_code == 200:
                    return
                last = f'status {r.status_code}'
            except requests.RequestException as e:
                last = repr(e)
            time.sleep(0.2)
        pytest.fail(f'the restarted {self.service} service is not ready after {READY_TIMEOUT} s '
                    f'({last}): {self._log_tail()}')

    def _log_tail(self) -> str:
        try:
            with open(self.log, 'rb') as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - 3000))
                return f.read().decode(errors='replace')
        except OSError:
            return '(no log)'
