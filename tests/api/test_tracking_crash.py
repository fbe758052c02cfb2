"""The tracking service killed with SIGKILL while a burst of dossier actions runs.

Dossiers filed beforehand are taken through receive, forward, request_payment and
confirm_payment by 8 threads straight against the dossier service; part-way through,
the tracking service is killed with `kill -9` and started again as deploy/local starts
it. The dossier service goes on publishing meanwhile. Then every dossier's timeline
holds each of its events exactly once, in order, and the projection's step rows are
exactly the dossier feed's events of these dossiers (by event id): nothing lost,
nothing doubled (the feed consumer commits a page's effects with its position)."""
from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from dossier_support import act, dossier_events, feed_end, filed
from motcua_api import ApiClient
from service_process import ServiceProcess
from stack_db import psql_as
from tracking_support import kinds, timeline, tracking_url

N_DOSSIERS = 24
WORKERS = 8
KILL_AFTER = 30  # answered actions before the kill
CHAIN = [('receive', {}), ('forward', {}), ('request_payment', {'amount': 20000}),
         ('confirm_payment', {})]
NO_STEP = ('dossier.dossier.due_soon', 'dossier.dossier.overdue', 'dossier.dossier.evaluated')
KINDS = ['submitted', 'received', 'step_changed', 'payment_requested', 'payment_confirmed']


def test_kill_9_during_a_burst_reflects_each_event_once(world, spec):
    local = os.environ.get('MOTCUA_TEST_LOCAL_DIR', '').strip()
    dossier_url = os.environ.get('MOTCUA_TEST_SERVICE_URL_DOSSIER', '').strip()
    if not local or not dossier_url:
        pytest.skip('MOTCUA_TEST_LOCAL_DIR and MOTCUA_TEST_SERVICE_URL_DOSSIER (set by tests/run)')
    proc = ServiceProcess('tracking', local, tracking_url())
    api, officer = world.api, world.officer
    start = feed_end(world)
    procedure = world.procedure(mandatory=())
    dossiers = [filed(world, procedure, documents=()) for _ in range(N_DOSSIERS)]

    answered = 0
    lock = threading.Lock()
    local_clients = threading.local()

    def client() -> ApiClient:
        c = getattr(local_clients, 'client', None)
        if c is None:
            c = local_clients.client = ApiClient(dossier_url, spec, via='service', timeout=60)
        return c

    def run(d: dict) -> dict:
        nonlocal answered
        for action, body in CHAIN:
            d = act(client(), officer, d, action, body).doc
            with lock:
                answered += 1
        return d

    with ThreadPoolExecutor(WORKERS) as pool:
        futures = [pool.submit(run, d) for d in dossiers]
        deadline = time.monotonic() + 60
        while answered < KILL_AFTER and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.kill()
        killed_at = answered
        proc.start()
        done = [f.result() for f in futures]
    assert KILL_AFTER <= killed_at < N_DOSSIERS * len(CHAIN), 'the kill came after the burst'
    assert all(d['status'] == 4 for d in done)

    for d in done:
        tl = timeline(api, officer, d['code'], lambda t: len(t['steps']) >= len(KINDS), timeout=30)
        assert kinds(tl) == KINDS, tl
    # the projection's rows are the feed's events of these dossiers, one each
    ids = ','.join(f"'{d['id']}'" for d in done)
    rows = psql_as('tracking', f'SELECT dossier_id, event_id FROM timeline_steps '
                               f'WHERE dossier_id IN ({ids}) ORDER BY dossier_id, sequence')
    projected = [tuple(line.split('|')) for line in rows.splitlines()]
    expected = []
    for d in sorted(done, key=lambda d: d['id']):
        events = dossier_events(world, d['id'], start, len(KINDS))
        # the watcher's flags (due soon: a one-day procedure) make no step
        expected += [(d['id'], e['id']) for e in events if e['type'] not in NO_STEP]
    assert projected == expected
