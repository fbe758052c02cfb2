"""Start an extra instance of a service beside the test stack's: the running instance's
environment (from /proc), some settings changed, another port. Used by the tests of
behaviour that needs a restart or a signal (test_drain, test_ready_without_keys)."""
from __future__ import annotations

import os
import subprocess
import time

import requests

from dossier_instances import free_port as _free_port, stack as _stack


class ServiceInstance:
    def __init__(self, svc: str, **settings: str):
        local_dir, _, _ = _stack()
        with open(os.path.join(local_dir, 'run', f'{svc}.pid'), encoding='ascii') as f:
            pid = int(f.read().strip())
        with open(f'/proc/{pid}/environ', 'rb') as f:
            env = dict(e.decode(errors='surrogateescape').split('=', 1)
                       for e in f.read().split(b'\0') if b'=' in e)
        exe = os.readlink(f'/proc/{pid}/exe')
        if exe.endswith(' (deleted)'):
            exe = exe[:-len(' (deleted)')]
        self.port = _free_port()
        env[f'MOTCUA_{svc.upper()}_PORT'] = str(self.port)
        env[f'MOTCUA_{svc.upper()}_MIGRATE_ON_START'] = '0'
        env.update({f'MOTCUA_{svc.upper()}_{k}': v for k, v in settings.items()})
        self.url = f'http://127.0.0.1:{self.port}'
        self.log = open(os.path.join(local_dir, 'log', f'{svc}-instance.log'), 'ab')
        self.process = subprocess.Popen([exe, 'serve'], env=env, stdin=subprocess.DEVNULL,
                                        stdout=self.log, stderr=self.log)

    def wait_listening(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            assert self.process.poll() is None, f'the instance exited with {self.process.returncode}'
            try:
                requests.get(f'{self.url}/healthz', timeout=2)
                return
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, 'the instance does not listen'
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.log.close()
