"""Webhooks of the tracking service for agency systems: subscriptions scoped to the
caller's agency, the secret shown once, Standard Webhooks signatures checked here with
Python's hmac (an implementation independent of the service's), retries after 500,
nothing after 410 (and the owner told), rotation with two live secrets, manual
redelivery, redirects not followed, and SSRF attempts refused
(docs/services/tracking.md, "Webhooks")."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dossier_support import machine_client_token
from motcua_api import assert_problem
from tracking_delivery_support import API, act, contacts, filed_with, wait_for


class Receiver:
    """An agency's system: records every POST per path and answers from a script of
    statuses per path (the last one repeats; default 204)."""

    def __init__(self):
        self.calls: dict[str, list[dict]] = {}
        self.script: dict[str, list] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get('Content-Length') or 0))
                with receiver.lock:
                    receiver.calls.setdefault(self.path, []).append(
                        {'headers': {k.lower(): v for k, v in self.headers.items()}, 'body': body,
                         'at': time.monotonic()})
                    script = receiver.script.get(self.path, [204])
                    answer = script.pop(0) if len(script) > 1 else script[0]
                if isinstance(answer, tuple):  # (status, headers)
                    status, headers = answer
                else:
                    status, headers = answer, {}
                if status == 'slow':
                    time.sleep(8)
                    status = 204
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header('Content-Length', '0')
                self.end_headers()

        self.server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, script=None) -> str:
        path = f'/hook-{uuid.uuid4().hex[:12]}'
        if script is not None:
            self.script[path] = list(script)
        return f'http://127.0.0.1:{self.port}{path}'

    def calls_to(self, url: str) -> list[dict]:
        path = url.split(str(self.port), 1)[1]
        with self.lock:
            return list(self.calls.get(path, []))


@pytest.fixture(scope='module')
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()


def verify(call: dict, secrets: list[str]) -> dict:
    """Check a delivery's Standard Webhooks signature with each secret independently; return
    the payload. Every secret given must have signed it."""
    h = call['headers']
    msg_id, ts, sig_header = h['webhook-id'], h['webhook-timestamp'], h['webhook-signature']
    assert abs(int(ts) - time.time()) < 300
    signed = f'{msg_id}.{ts}.'.encode() + call['body']
    offered = sig_header.split(' ')
    for secret in secrets:
        assert secret.startswith('whsec_')
        key = base64.b64decode(secret[len('whsec_'):])
        expected = 'v1,' + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        assert any(hmac.compare_digest(expected, o) for o in offered), (secret, sig_header)
    return json.loads(call['body'])


def subscribe(api, token, url, expect=201, **body):
    return api.post(f'{API}/tracking/webhooks', token=token, json={'url': url, **body}, expect=expect)


def test_signed_deliveries_of_the_own_agency_only(world, receiver):
    api, admin = world.api, world.agency_admin
    url = receiver.url()
    r = subscribe(api, admin, url, event_types=['dossier.dossier.received'], description='Một cửa')
    sub = r.doc
    secret = sub['secret']
    assert r.headers['Cache-Control'] == 'no-store'
    assert sub['agency_code'] == world.agency and sub['state'] == 'active'
    got = api.get(f'{API}/tracking/webhooks/{sub["id"]}', token=admin, expect=200).doc
    assert 'secret' not in got and got['url'] == url
    assert sub['id'] in [s['id'] for s in api.get(f'{API}/tracking/webhooks', token=admin,
                                                  expect=200).doc['items']]
    # Another agency's administrator neither sees it nor acts on it.
    other = world.tokens.agency_admin(world.other_agency)
    assert_problem(api.get(f'{API}/tracking/webhooks/{sub["id"]}', token=other, expect=404), 404)
    assert_problem(api.delete(f'{API}/tracking/webhooks/{sub["id"]}', token=other, expect=404), 404)
    assert sub['id'] not in [s['id'] for s in api.get(f'{API}/tracking/webhooks', token=other,
                                                      expect=200).doc['items']]
    # Citizens, officers and clients without the scope or an agency may not subscribe.
    for token in (world.citizen(), world.officer, machine_client_token(world, ['tracking:webhooks'])):
        assert_problem(subscribe(api, token, receiver.url(), expect=403), 403)

    who = contacts()
    d = filed_with(world, world.procedure(), who)
    d = act(api, world.officer, d, 'receive').doc
    call = wait_for('a delivery', lambda: receiver.calls_to(url))[0]
    payload = verify(call, [secret])
    assert payload['type'] == 'dossier.dossier.received'
    assert payload['data']['code'] == d['code'] and payload['data']['dossier_id'] == d['id']
    assert call['headers']['content-type'] == 'application/json'
    # Only the types asked for (not the submission), and no applicant data at all.
    time.sleep(1)
    assert len(receiver.calls_to(url)) == 1
    raw = call['body'].decode()
    for personal in (who['email'], who['phone'], who['full_name'], who['personal_id'], 'applicant'):
        assert personal not in raw

    # A machine client of the agency with the scope manages the same agency's webhooks.
    client = machine_client_token(world, ['tracking:webhooks'], agency=world.agency)
    assert sub['id'] in [s['id'] for s in api.get(f'{API}/tracking/webhooks', token=client,
                                                  expect=200).doc['items']]
    log = api.get(f'{API}/tracking/webhooks/{sub["id"]}/deliveries', token=client, expect=200).doc
    assert log['items'][0]['state'] == 'delivered' and log['items'][0]['log'][0]['status'] == 204
    api.delete(f'{API}/tracking/webhooks/{sub["id"]}', token=client, expect=204)
    api.get(f'{API}/tracking/webhooks/{sub["id"]}', token=admin, expect=404)


def test_retries_after_500_then_redelivery_on_request(world, receiver):
    api, admin = world.api, world.agency_admin
    url = receiver.url([500, 500, 204])
    sub = subscribe(api, admin, url, event_types=['dossier.dossier.received']).doc
    d = filed_with(world, world.procedure(), contacts())
    act(api, world.officer, d, 'receive')
    calls = wait_for('three attempts', lambda: len(receiver.calls_to(url)) >= 3 and receiver.calls_to(url),
                     seconds=40)
    ids = {c['headers']['webhook-id'] for c in calls}
    assert len(ids) == 1  # the same message, retried
    for c in calls:
        verify(c, [sub['secret']])
    time.sleep(1)
    assert len(receiver.calls_to(url)) == 3
    entry = wait_for('the log of three attempts', lambda: [
        e for e in api.get(f'{API}/tracking/webhooks/{sub["id"]}/deliveries', token=admin,
                           expect=200).doc['items'] if e['state'] == 'delivered'])[0]
    assert [a['status'] for a in entry['log']] == [500, 500, 204]
    assert entry['id'] == ids.pop()

    again = api.post(f'{API}/tracking/webhooks/{sub["id"]}/deliveries/{entry["id"]}/redeliver',
                     token=admin, expect=202).doc
    assert again['state'] == 'pending' and again['attempts'] == 0
    calls = wait_for('the redelivery', lambda: len(receiver.calls_to(url)) >= 4 and receiver.calls_to(url))
    assert calls[3]['headers']['webhook-id'] == entry['id']
    assert calls[3]['body'] == calls[0]['body']
    assert_problem(api.post(f'{API}/tracking/webhooks/{sub["id"]}/deliveries/{uuid.uuid4()}/redeliver',
                            token=admin, expect=404), 404)


def test_nothing_after_410_and_the_owner_is_told(world, receiver):
    api, admin = world.api, world.agency_admin
    url = receiver.url([410])
    sub = subscribe(api, admin, url).doc
    d = filed_with(world, world.procedure(), contacts())
    wait_for('the first delivery', lambda: receiver.calls_to(url))
    state = wait_for('the subscription disabled', lambda: (
        lambda s: s['state'] == 'disabled' and s)(api.get(f'{API}/tracking/webhooks/{sub["id"]}',
                                                          token=admin, expect=200).doc))
    assert '410' in state['disabled_reason']
    act(api, world.officer, d, 'receive')
    time.sleep(3)
    assert len(receiver.calls_to(url)) == 1
    notices = [n for n in api.get(f'{API}/tracking/notifications', token=admin, expect=200).doc['items']
               if n['kind'] == 'webhook_disabled' and sub['id'] in n['body']]
    assert len(notices) == 1
    # Enabled again, it gets what was held meanwhile.
    receiver.script[url.split(str(receiver.port), 1)[1]] = [204]
    assert api.post(f'{API}/tracking/webhooks/{sub["id"]}/enable', token=admin,
                    expect=200).doc['state'] == 'active'


def test_failing_for_a_day_disables_and_tells_the_owner(world, receiver):
    """The local stack scales the schedule (RETRY_SCALE 0.0002) and disables after 24 h of
    failure (about 17 s there): a receiver that always answers 500 is retried on the
    schedule, then disabled, and its owner told."""
    api, admin = world.api, world.agency_admin
    url = receiver.url([500])
    sub = subscribe(api, admin, url, event_types=['dossier.dossier.submitted']).doc
    filed_with(world, world.procedure(), contacts())
    state = wait_for('the subscription disabled', lambda: (
        lambda s: s['state'] == 'disabled' and s)(api.get(f'{API}/tracking/webhooks/{sub["id"]}',
                                                          token=admin, expect=200).doc), seconds=60)
    assert state['disabled_reason'] == 'no delivery succeeded for the configured time'
    assert state['failing_since'] is not None
    calls = receiver.calls_to(url)
    assert len(calls) >= 5 and len({c['headers']['webhook-id'] for c in calls}) == 1
    gaps = [b['at'] - a['at'] for a, b in zip(calls, calls[1:])]
    # backing off on the scaled schedule (1 ms, 60 ms, 0.36 s, 1.44 s, 3.6 s, 7.2 s, ...)
    assert gaps[0] < 1.0 and max(gaps) >= 3.0, gaps
    assert [n for n in api.get(f'{API}/tracking/notifications', token=admin, expect=200).doc['items']
            if n['kind'] == 'webhook_disabled' and sub['id'] in n['body']]
    api.delete(f'{API}/tracking/webhooks/{sub["id"]}', token=admin, expect=204)


def test_rotation_signs_with_both_secrets(world, receiver):
    api, admin = world.api, world.agency_admin
    url = receiver.url()
    sub = subscribe(api, admin, url, event_types=['dossier.dossier.received']).doc
    r = api.post(f'{API}/tracking/webhooks/{sub["id"]}/rotate-secret', token=admin, expect=200)
    new = r.doc['secret']
    assert new != sub['secret'] and r.doc['previous_secret_expires_at'] is not None
    d = filed_with(world, world.procedure(), contacts())
    act(api, world.officer, d, 'receive')
    call = wait_for('a delivery', lambda: receiver.calls_to(url))[0]
    verify(call, [new, sub['secret']])
    assert len(call['headers']['webhook-signature'].split(' ')) == 2


def test_redirects_are_not_followed(world, receiver):
    api, admin = world.api, world.agency_admin
    target = receiver.url()
    url = receiver.url([(302, {'Location': target})])
    sub = subscribe(api, admin, url, event_types=['dossier.dossier.submitted']).doc
    filed_with(world, world.procedure(), contacts())
    wait_for('an attempt', lambda: receiver.calls_to(url))
    entry = wait_for('the attempt logged', lambda: [
        e for e in api.get(f'{API}/tracking/webhooks/{sub["id"]}/deliveries', token=admin,
                           expect=200).doc['items'] if e['log']])[0]
    assert entry['log'][0]['status'] == 302 and entry['state'] in ('failed', 'pending')
    time.sleep(1)
    assert receiver.calls_to(target) == []
    api.delete(f'{API}/tracking/webhooks/{sub["id"]}', token=admin, expect=204)


def test_a_slow_receiver_delays_no_one_else(world, receiver):
    """The slow receiver holds its answer 8 s (past WEBHOOK_TIMEOUT_MS, 3 s on the local
    stack); the other subscription's delivery of the same event arrives meanwhile."""
    api, admin = world.api, world.agency_admin
    slow, fast = receiver.url(['slow', 204]), receiver.url()
    subs = [subscribe(api, admin, u, event_types=['dossier.dossier.submitted']).doc for u in (slow, fast)]
    try:
        filed_with(world, world.procedure(), contacts())
        wait_for('the slow receiver called', lambda: receiver.calls_to(slow), seconds=20, every=0.05)
        started = time.monotonic()
        wait_for('the fast delivery', lambda: receiver.calls_to(fast), seconds=20, every=0.05)
        assert time.monotonic() - started < 3, 'the fast receiver waited for the slow one'
        entry = wait_for('the slow attempt logged', lambda: [
            e for e in api.get(f'{API}/tracking/webhooks/{subs[0]["id"]}/deliveries', token=admin,
                               expect=200).doc['items'] if e['log']], seconds=20)[0]
        assert entry['log'][0]['status'] is None and entry['log'][0]['error'] == 'timed out'
        assert 2500 <= entry['log'][0]['duration_ms'] < 6000
    finally:
        for sub in subs:
            api.delete(f'{API}/tracking/webhooks/{sub["id"]}', token=admin, expect=204)


@pytest.mark.parametrize('url,code', [
    ('http://169.254.169.254/latest/meta-data/', 'callback_url.address_refused'),
    ('http://2852039166/latest/meta-data/', 'callback_url.address_refused'),  # 169.254.169.254
    ('http://10.0.0.1/hook', 'callback_url.address_refused'),
    ('http://192.168.1.10/hook', 'callback_url.address_refused'),
    ('http://172.16.5.4:8080/hook', 'callback_url.address_refused'),
    ('http://127.0.0.2/hook', 'callback_url.address_refused'),
    ('http://[fd00:ec2::254]/', 'callback_url.address_refused'),
    ('http://[::ffff:10.0.0.1]/', 'callback_url.address_refused'),
    ('http://0.0.0.0/', 'callback_url.address_refused'),
    ('file:///etc/passwd', 'callback_url.scheme_refused'),
    ('gopher://127.0.0.1:25/', 'callback_url.scheme_refused'),
    ('http://user:pass@example.gov.vn/', 'callback_url.credentials_refused'),
    ('http://example.gov.vn/#x', 'callback_url.malformed'),
    ('not a url', 'callback_url.malformed'),
    ('http://no-such-host.invalid/', 'callback_url.unresolvable'),
])
def test_ssrf_attempts_are_refused(world, url, code):
    r = subscribe(world.api, world.agency_admin, url, expect=422)
    doc = assert_problem(r, 422)
    assert {'pointer': '/url', 'code': code} in [{'pointer': e['pointer'], 'code': e['code']}
                                                   for e in doc['errors']]


def test_bad_subscriptions_are_refused(world, receiver):
    api, admin = world.api, world.agency_admin
    r = api.post(f'{API}/tracking/webhooks', token=admin,
                 json={'url': receiver.url(), 'event_types': ['payment.succeeded', 7], 'extra': 1},
                 expect=422)
    pointers = {e['pointer'] for e in assert_problem(r, 422)['errors']}
    assert {'/event_types/0', '/event_types/1', '/extra'} <= pointers
    assert_problem(api.get(f'{API}/tracking/webhooks/not-a-uuid', token=admin, expect=404), 404)
