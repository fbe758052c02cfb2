"""A service that cannot listen (its port taken) exits cleanly with its error.

A second instance of a running service is started with the running one's command line and
environment, so its port is taken. By then it has started its threads (the feed consumer,
delivery and notification workers, periodic jobs, the outbox relay, the revocation poller);
it must stop and join them all, log that, and exit 1: never a crash signal. Before the fix
it returned from main with those threads still running, and the exit handlers tore the
libraries down under them (SIGSEGV at 0x18 or SIGABRT in a worker, a few runs in a
hundred). Each service is tried several times, since the crash depended on timing; the
log's `server.stopped` after `server.listen_failed` shows the joins happened every time."""
from __future__ import annotations

import json
import subprocess

import pytest

from service_process import ServiceProcess

# Every service that runs threads of its own besides the HTTP server, and one without.
SERVICES = ['tracking', 'dossier', 'payment', 'statistics', 'identity', 'catalogue']
ATTEMPTS = 4
EXIT_TIMEOUT = 60  # seconds; an ASan build starts and stops slowly


def _events(output: str) -> list[dict]:
    """The service's JSON log lines (the libraries' own plain lines skipped)."""
    events = []
    for line in output.splitlines():
        if line.startswith('{'):
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return events


@pytest.mark.parametrize('service', SERVICES)
def test_a_taken_port_gives_a_clean_exit_1_with_its_error(service):
    running = ServiceProcess(service)
    assert running.alive()
    port = running.url.rsplit(':', 1)[1].split('/')[0]
    env = dict(running.env, **{f'MOTCUA_{service.upper()}_LOG_LEVEL': 'info'})
    for attempt in range(ATTEMPTS):
        p = subprocess.run([running.exe] + running.argv[1:], cwd=running.cwd, env=env,
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=EXIT_TIMEOUT)
        output = (p.stdout + p.stderr).decode(errors='replace')
        tail = output[-3000:]
        assert p.returncode == 1, f'attempt {attempt}: exit {p.returncode} (negative: killed ' \
                                  f'by that signal), expected 1:\n{tail}'
        assert 'Sanitizer' not in output and 'runtime error:' not in output, tail
        names = [e.get('event') for e in _events(output)]
        assert 'server.listen_failed' in names, tail
        failed = next(e for e in _events(output) if e.get('event') == 'server.listen_failed')
        assert failed['level'] == 'error' and port in failed['message'], failed
        assert 'server.started' not in names, tail
        # every thread stopped and joined after the failure, and nothing logged after that
        assert 'server.stopped' in names, tail
        assert names.index('server.stopped') > names.index('server.listen_failed'), names
        assert names[-1] == 'server.stopped', names
    assert running.alive(), f'the running {service} service died meanwhile'
