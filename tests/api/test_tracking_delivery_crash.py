"""The tracking service killed with SIGKILL while a burst of dossier actions flows through
its feed: after it starts again, every event of the burst is reflected exactly once in
what goes out of the service (docs/services/tracking.md, "Delivery guarantees").

A webhook subscription of the agency and N submitted dossiers (each applicant with an
e-mail address of its own) are made first; then the officer receives the N dossiers on
8 threads and, part-way through, the tracking service is killed (`kill -9`) and started
again as deploy/local starts it. Then:

  - the database (as the tracking role): one notification per received event, with its
    two outbox rows, and one webhook delivery per event for the subscription;
  - the SMTP sink: every applicant got the receipt e-mail, and every e-mail to one
    applicant carries the same Message-ID (the service's dedup key): one message per
    event. Sending is at-least-once, so a message in flight at the very moment of the
    kill may be sent twice with that same Message-ID; at most one such pair is allowed;
  - the receiver: each event's deliveries carry one webhook-id.
"""
from __future__ import annotations

import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dossier_support import API, act
from service_process import ServiceProcess
from tracking_delivery_support import contacts, filed_with, mails_to, tracking_sql, wait_for

N = 24
KILL_AFTER = 8


@pytest.fixture
def tracking_process():
    local_dir = os.environ.get('MOTCUA_TEST_LOCAL_DIR', '').strip()
    url = os.environ.get('MOTCUA_TEST_SERVICE_URL_TRACKING', '').strip().rstrip('/')
    if not local_dir or not url:
        pytest.skip('MOTCUA_TEST_LOCAL_DIR and MOTCUA_TEST_SERVICE_URL_TRACKING are set by tests/run')
    proc = ServiceProcess('tracking', local_dir, url)
    if not proc.alive():
        pytest.skip(f'the tracking service (pid {proc.pid}) is not running')
    yield proc
    if not proc.alive():
        proc.start()


def test_kill_during_burst_sends_each_message_once(world, tracking_process):
    api, officer, admin = world.api, world.officer, world.agency_admin
    seen: dict[str, set] = {}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            event = json.loads(self.rfile.read(int(self.headers.get('Content-Length') or 0)))['id']
            with lock:  # event id -> the webhook-ids it was delivered with
                seen.setdefault(event, set()).add(self.headers['webhook-id'])
            self.send_response(204)
            self.send_header('Content-Length', '0')
            self.end_headers()

    server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sub = None
    try:
        sub = api.post(f'{API}/tracking/webhooks', token=admin, expect=201, json={
            'url': f'http://127.0.0.1:{server.server_address[1]}/crash',
            'event_types': ['dossier.dossier.received']}).doc
        people = [contacts() for _ in range(N)]
        dossiers = [filed_with(world, world.procedure(), p) for p in people]
        done = [0]

        def receive(d):
            act(api, officer, d, 'receive')
            with lock:
                done[0] += 1

        with ThreadPoolExecutor(8) as pool:
            futures = [pool.submit(receive, d) for d in dossiers]
            wait_for('the first receptions', lambda: done[0] >= KILL_AFTER, seconds=60, every=0.02)
            tracking_process.kill()
            for f in futures:
                f.result()
        time.sleep(1)
        tracking_process.start()

        codes = [d['code'] for d in dossiers]
        code_list = ','.join(f"'{c}'" for c in codes)
        wait_for('every receipt e-mail', lambda: all(mails_to(p['email']) for p in people), seconds=90)
        wait_for('every webhook delivery', lambda: tracking_sql(
            "SELECT count(*) FROM webhook_deliveries WHERE state = 'delivered' AND subscription_id = "
            f"'{sub['id']}'") == str(N), seconds=60)
        time.sleep(2)  # anything sent twice has had the time to arrive

        rows = tracking_sql(
            "SELECT count(*) || ':' || count(DISTINCT event_id) || ':' || "
            "(SELECT count(*) FROM notification_deliveries nd JOIN notifications m ON m.id = "
            f"nd.notification_id WHERE m.kind = 'received' AND m.dossier_code IN ({code_list})) "
            f"FROM notifications WHERE kind = 'received' AND dossier_code IN ({code_list})")
        assert rows == f'{N}:{N}:{2 * N}'
        deliveries = tracking_sql(
            f"SELECT count(*) || ':' || count(DISTINCT event_id) FROM webhook_deliveries "
            f"WHERE subscription_id = '{sub['id']}'")
        assert deliveries == f'{N}:{N}'

        resent = 0
        for p in people:
            mails = mails_to(p['email'])
            assert len({m['Message-ID'] for m in mails}) == 1, [m['Message-ID'] for m in mails]
            resent += len(mails) - 1
        assert resent <= 1
        assert len(seen) == N and all(len(ids) == 1 for ids in seen.values())
    finally:
        server.shutdown()
        if sub is not None:
            api.delete(f'{API}/tracking/webhooks/{sub["id"]}', token=admin, expect=(204, 404))
