"""Two tracking instances on one database: one consumes the dossier feed, the other stands
by and serves lookups from the same projection; when the consuming one is killed the other
takes over, and every event is still reflected exactly once (the feed consumer's instance
lock and position check, docs/architecture.md "Consuming an event feed")."""
from __future__ import annotations

import os
import subprocess
import time

import pytest
import requests

from dossier_support import filed
from service_process import ServiceProcess
from stack_db import psql_as
from tracking_support import TRACKING, kinds, timeline, tracking_url


def wait_log(path: str, text: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(path, encoding='utf-8', errors='replace') as f:
            if text in f.read():
                return
        time.sleep(0.1)
    pytest.fail(f'{text!r} never appeared in {path}')


def test_a_second_instance_stands_by_then_takes_over(world, tmp_path):
    local = os.environ.get('MOTCUA_TEST_LOCAL_DIR', '').strip()
    if not local:
        pytest.skip('MOTCUA_TEST_LOCAL_DIR (set by tests/run)')
    first = ServiceProcess('tracking', local, tracking_url())
    port = int(first.env['MOTCUA_TRACKING_PORT']) + 50
    env = dict(first.env, MOTCUA_TRACKING_PORT=str(port))
    log = tmp_path / 'second.log'
    with open(log, 'ab') as out, open(os.devnull, 'rb') as devnull:
        second = subprocess.Popen([first.exe] + first.argv[1:], cwd=first.cwd, env=env, stdin=devnull,
                                  stdout=out, stderr=out, start_new_session=True)
    try:
        wait_log(str(log), 'server.started')
        url = f'http://127.0.0.1:{port}'
        api, officer = world.api, world.officer
        procedure = world.procedure(mandatory=())
        before = [filed(world, procedure, documents=()) for _ in range(3)]
        for d in before:
            timeline(api, officer, d['code'])
        # the stand-by serves the same projection
        r = requests.get(f'{url}{TRACKING}/dossiers/{before[0]["code"]}', timeout=10)
        assert r.status_code == 200 and r.json()['code'] == before[0]['code']

        with open(log, encoding='utf-8') as f:
            assert 'feed.consumer_leading' not in f.read(), 'the second instance consumed too'
        first.kill()
        wait_log(str(log), 'feed.consumer_leading')
        after = [filed(world, procedure, documents=()) for _ in range(3)]
        deadline = time.monotonic() + 20
        for d in after:  # the gateway's upstream is down: ask the second instance directly
            while True:
                r = requests.get(f'{url}{TRACKING}/dossiers/{d["code"]}', timeout=10)
                if r.status_code == 200:
                    assert kinds(r.json()) == ['submitted']
                    break
                assert r.status_code == 404 and time.monotonic() < deadline, r.text
                time.sleep(0.1)
        ids = ','.join(f"'{d['id']}'" for d in before + after)
        counts = psql_as('tracking', f'SELECT count(*), count(DISTINCT event_id) FROM timeline_steps '
                                     f'WHERE dossier_id IN ({ids})')
        assert counts == '6|6'
    finally:
        second.terminate()
        second.wait(timeout=30)
        if not first.alive():
            first.start()
