"""What the dossier test modules share: a published test procedure with a small form
and known time limits, staff of two demo departments (the second one receives
transfers), citizens, sample files, and short helpers for filing and acting.

Everything is made through the public APIs (catalogue, identity, dossier), with codes
unique to the run, so the suite can run again and again against the same stack.

The `world` fixture (session scope) is registered in conftest.py.
"""
from __future__ import annotations

import itertools
import os
import random
import subprocess
import threading
from typing import Any

import pytest

from catalogue_data import procedure_body
from motcua_api import ApiClient, assert_status

API = '/api/v1'

# The smallest files whose content really is what they claim (the service checks
# the content, not only the Content-Type).
PDF = b'%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n'
PNG = (b'\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00'
       b'\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84'
       b'\x00\x00\x00\x00IEND\xaeB`\x82')
JPEG = b'\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9'

FORM = {'child_full_name': 'Nguyễn Văn Bé', 'dob': '2025-03-01'}


def procedure_for_tests(agencies: list[str], *, value: float = 1, unit: str = 'working_days',
                        clock: str = 'restart', steps: int = 2, mandatory: tuple = ('TK',),
                        optional: tuple = ('UQ',)) -> dict:
    """A procedure offered by `agencies` online and in person with the same time limit."""
    body = procedure_body(agencies=agencies, supplement_clock=clock)
    case = body['cases'][0]
    for ch in case['channels']:
        ch['time_limit'] = {'value': value, 'unit': unit}
    case['channels'].append({'channel': 'postal', 'time_limit': {'value': value, 'unit': unit},
                             'fees': []})
    case['documents'] = (
        [{'code': c, 'name': f'Giấy tờ {c}', 'template_url': None, 'originals': 1, 'copies': 0,
          'mandatory': True, 'description': None} for c in mandatory] +
        [{'code': c, 'name': f'Giấy tờ {c} (nếu có)', 'template_url': None, 'originals': 0,
          'copies': 1, 'mandatory': False, 'description': None} for c in optional])
    case['processing_steps'] = [
        {'name': f'Bước {i + 1}', 'role': 'approver' if i == steps - 1 else 'officer',
         'allowance_hours': 1} for i in range(steps)]
    return body


_staff_numbers = itertools.count(1)  # staff account names, unique in the test run


class World:
    """Principals and procedures for the dossier tests (see the module doc)."""

    def __init__(self, api: ApiClient, tokens: Any, departments: list[str]):
        self.api = api
        self.tokens = tokens
        self.agency = departments[0]        # files and processes
        self.other_agency = departments[1]  # receives transfers
        self._staff: dict[tuple, Any] = {}
        self._citizens: list[Any] = []
        self._procedures: dict[tuple, str] = {}
        self.lock = threading.RLock()

    # ---- principals ----
    def staff(self, roles: tuple = ('officer',), agency: str | None = None) -> str:
        """A token of a staff account of `agency` (default: the filing agency) with `roles`."""
        agency = agency or self.agency
        key = (agency, tuple(sorted(roles)))
        with self.lock:
            account = self._staff.get(key)
            if account is None:
                # unique across Worlds: a name taken by another World's account (of another
                # agency) would hand back that account (409 username_taken)
                name = f'dv{next(_staff_numbers)}'
                account = self.tokens._create_staff(self.tokens.agency_admin(agency), agency,
                                                    list(roles), name)
                self._staff[key] = account
        return account.token

    @property
    def officer(self) -> str:
        return self.staff(('officer',))

    @property
    def approver(self) -> str:
        return self.staff(('approver',))

    @property
    def agency_admin(self) -> str:
        return self.tokens.agency_admin(self.agency)

    def citizen(self, n: int = 0) -> str:
        """Citizen number n (0 is the suite's usual citizen; others are registered here)."""
        if n == 0:
            return self.tokens.citizen
        from conftest import Account  # the same sign-in and renewal logic
        with self.lock:
            while len(self._citizens) < n:
                for _ in range(10):
                    person = {'full_name': 'Công Dân Thứ Hai', 'date_of_birth': '1990-05-17',
                              'personal_id': f'001090{random.randint(0, 999999):06d}',
                              'phone': f'09{random.randint(0, 99999999):08d}',
                              'password': self.tokens.password}
                    r = self.api.post(f'{API}/accounts', json=person, expect=(201, 409))
                    if r.status_code == 201:
                        self._citizens.append(Account(self.api, person['personal_id'],
                                                      self.tokens.password))
                        break
                else:
                    pytest.fail('could not register a test citizen')
            return self._citizens[n - 1].token

    # ---- procedures ----
    def procedure(self, **kw: Any) -> str:
        """The code of a published test procedure (one per distinct set of options)."""
        key = tuple(sorted(kw.items()))
        with self.lock:
            code = self._procedures.get(key)
            if code is None:
                body = procedure_for_tests([self.agency, self.other_agency], **kw)
                doc = _publish(self.api, self.tokens.system_admin, body)
                code = doc['code']
                self._procedures[key] = code
        return code


def _publish(api: ApiClient, token: str, body: dict) -> dict:
    r = api.post(f'{API}/procedures', token=token, json=body, expect=201)
    code = r.doc['code']
    etag = api.get(f'{API}/procedures/{code}/draft', token=token, expect=200).headers['ETag']
    return api.post(f'{API}/procedures/{code}/publish', token=token, headers={'If-Match': etag},
                    expect=200).doc


# ---- filing and acting ----

def dossier_body(procedure: str, agency: str, *, channel: str = 'online', form: dict | None = None,
                 **over: Any) -> dict:
    body = {
        'procedure_code': procedure,
        'channel': channel,
        'agency_code': agency,
        'applicant': {'type': 'citizen', 'full_name': 'Nguyễn Văn An', 'personal_id': '001090012345',
                      'phone': '0912345678'},
        'form_data': dict(FORM if form is None else form),
        'delivery': {'method': 'online'} if channel == 'online' else {'method': 'counter'},
    }
    body.update(over)
    return body


def etag_of(doc: dict) -> str:
    return f'"r{doc["revision"]}"'


def create(api: ApiClient, token: str, procedure: str, agency: str, expect: Any = 201,
           headers: dict | None = None, **kw: Any):
    return api.post(f'{API}/dossiers', token=token, json=dossier_body(procedure, agency, **kw),
                    headers=headers, expect=expect)


def upload(api: ApiClient, token: str, dossier: dict, slot: str, content: bytes = PDF,
           media_type: str = 'application/pdf', file_name: str = 'giay-to.pdf', expect: Any = (200, 201)):
    return api.request('PUT', f'{API}/dossiers/{dossier["id"]}/documents/{slot}', token=token,
                       params={'file_name': file_name}, data=content,
                       headers={'Content-Type': media_type}, expect=expect)


def submit(api: ApiClient, token: str, dossier: dict, expect: Any = 200, headers: dict | None = None):
    h = {'If-Match': etag_of(dossier)}
    h.update(headers or {})
    return api.post(f'{API}/dossiers/{dossier["id"]}/submit', token=token, json={}, headers=h,
                    expect=expect)


def act(api: ApiClient, token: str, dossier: dict, action: str, body: dict | None = None,
        expect: Any = 200, etag: str | None = None):
    return api.post(f'{API}/dossiers/{dossier["id"]}/actions/{action}', token=token,
                    json=body or {}, headers={'If-Match': etag or etag_of(dossier)}, expect=expect)


def filed(world: World, procedure: str, citizen: int = 0, documents: tuple = ('TK',), **kw: Any) -> dict:
    """A submitted dossier (status 1) of citizen n for `procedure` at the world's agency."""
    token = world.citizen(citizen)
    d = create(world.api, token, procedure, world.agency, **kw).doc
    for slot in documents:
        upload(world.api, token, d, slot)
    d = world.api.get(f'{API}/dossiers/{d["id"]}', token=token, expect=200).doc
    return submit(world.api, token, d).doc


def dossier_in(world: World, code: str, status: int, result: dict | None = None) -> dict:
    """A citizen's dossier brought to `status` through the API (9, 10: approved with `result`)."""
    result = result or {'summary': 'Cấp giấy khai sinh'}
    api, officer, approver, citizen = world.api, world.officer, world.approver, world.citizen()
    if status == 0:
        return create(api, citizen, code, world.agency).doc
    d = filed(world, code, documents=())
    if status == 1:
        return d
    if status == 3:
        return act(api, officer, d, 'refuse', {'reasons': ['Không thuộc thẩm quyền']}).doc
    if status == 7:
        return act(api, citizen, d, 'request_withdrawal', {'reasons': ['Nộp nhầm']}).doc
    d = act(api, officer, d, 'receive').doc
    steps = {2: [], 4: [('forward', officer, {})],
             5: [('request_supplement', officer, {'missing_items': ['Tờ khai']})],
             6: [('request_payment', officer, {'amount': 10000})],
             8: [('stop', officer, {'reasons': ['Dừng']})],
             9: [('forward', officer, {}), ('approve', approver, {'result': result})],
             10: [('forward', officer, {}), ('approve', approver, {'result': result}),
                  ('return_result', officer, {})]}[status]
    for action, token, body in steps:
        d = act(api, token, d, action, body).doc
    assert d['status'] == status
    return d


@pytest.fixture(scope='session')
def world(api, tokens, departments) -> World:
    return World(api, tokens, departments)


__all__ = ['API', 'PDF', 'PNG', 'JPEG', 'FORM', 'World', 'world', 'dossier_body', 'etag_of', 'create',
           'upload', 'submit', 'act', 'filed', 'procedure_for_tests', 'assert_status']


# ---- principals, the event feed (added for the lifecycle and access tests) ----

def token_sub(token: str) -> str:
    """The `sub` claim of an access token (the account id the service records)."""
    import base64
    import json as _json
    payload = token.split('.')[1]
    return _json.loads(base64.urlsafe_b64decode(payload + '=' * (-len(payload) % 4)))['sub']


def feed_end(world: World) -> int:
    """The sequence number of the last published dossier event (start of a test's window)."""
    after = getattr(world, '_feed_end', 0)
    while True:
        r = world.api.get(f'{API}/events/dossier', token=world.tokens.system_admin,
                          params={'after': after, 'limit': 1000}, expect=(200, 410))
        if r.status_code == 410:  # retention deleted events behind `after` (test_event_retention)
            after = r.doc['oldest_after']
            continue
        page = r.doc
        after = page['next_after']
        if len(page['items']) < 1000:
            break
    world._feed_end = after  # type: ignore[attr-defined]
    return after


def dossier_events(world: World, dossier_id: str, after: int, count: int,
                   timeout: float = 15.0) -> list[dict]:
    """The published events of one dossier after `after`, in order, once at least `count`
    are there (the relay publishes shortly after the commit)."""
    import time
    deadline = time.monotonic() + timeout
    while True:
        found: list[dict] = []
        cursor = after
        while True:
            page = world.api.get(f'{API}/events/dossier', token=world.tokens.system_admin,
                                 params={'after': cursor, 'limit': 1000}, expect=200).doc
            found += [e for e in page['items'] if e['subject'] == f'dossiers/{dossier_id}']
            cursor = page['next_after']
            if len(page['items']) < 1000:
                break
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


__all__ += ['token_sub', 'feed_end', 'dossier_events', 'dossier_sql', 'machine_client_token']


def dossier_sql(sql: str) -> str:
    """Run SQL as the dossier service's own role in the test stack's database and return
    its unaligned output; skips the test without the database (MOTCUA_TEST_PG_PORT and
    MOTCUA_TEST_LOCAL_DIR, set by tests/run)."""
    port, local = os.environ.get('MOTCUA_TEST_PG_PORT'), os.environ.get('MOTCUA_TEST_LOCAL_DIR')
    secret = os.path.join(local or '', 'secrets', 'dossier.password')
    if not port or not local or not os.path.exists(secret):
        pytest.skip('MOTCUA_TEST_PG_PORT and MOTCUA_TEST_LOCAL_DIR (set by tests/run) reach the database')
    with open(secret, encoding='utf-8') as f:
        password = f.readline().strip()
    env = dict(os.environ, PGPASSWORD=password, PGCONNECT_TIMEOUT='5')
    r = subprocess.run(['psql', f'host=127.0.0.1 port={port} dbname=motcua user=motcua_dossier',
                        '-v', 'ON_ERROR_STOP=1', '-qAtc', sql], env=env, capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def expire_feed_through(end: int, timeout: float = 30.0) -> int:
    """Age the dossier feed's published events up to position `end` past the retention and
    wait for the relay to prune them; the new horizon (pruned_through), at least `end`."""
    import time
    dossier_sql("UPDATE outbox SET published_at = published_at - interval '100 days'"
                f' WHERE published_seq <= {end}')
    deadline = time.monotonic() + timeout
    while int(dossier_sql('SELECT pruned_through FROM outbox_horizon')) < end:
        assert time.monotonic() < deadline, f'the relay did not prune aged events within {timeout} s'
        time.sleep(0.5)
    return int(dossier_sql('SELECT pruned_through FROM outbox_horizon'))


__all__ += ['expire_feed_through']


# ---- machine clients (the client credentials grant of identity) ----

def machine_client_token(world: World, scopes: list[str], agency: str | None = None) -> str:
    """An access token of a new machine client with `scopes` (and `agency`), created by the
    system administrator through identity's API and granted with client credentials."""
    body: dict = {'name': 'Hệ thống thử', 'scopes': scopes}
    if agency is not None:
        body['agency'] = agency
    client = world.api.post(f'{API}/clients', token=world.tokens.system_admin, json=body,
                            expect=201).doc
    r = world.api.post(f'{API}/auth/token', data={'grant_type': 'client_credentials',
                                                  'client_id': client['client_id'],
                                                  'client_secret': client['client_secret']},
                       expect=200)
    return r.doc['access_token']


# ---- paying first (issue 11) ----

PAY_FIRST_FEE = 200000  # the total of pay_first_procedure's online fees


def pay_first_procedure(world: World) -> str:
    """A published procedure (one per run) whose online offer is paid first: LP 150,000
    and PH 50,000 (and a zero item that is not paid); by post it is paid after."""
    with world.lock:
        code = getattr(world, '_pay_first_procedure', None)
        if code is None:
            body = procedure_for_tests([world.agency, world.other_agency], optional=())
            online = body['cases'][0]['channels'][0]
            assert online['channel'] == 'online'
            online['fees'] = [{'code': c, 'name': f'Lệ phí {c}', 'amount': a, 'description': None,
                               'effective_from': None, 'effective_to': None}
                              for c, a in (('LP', 150000), ('PH', 50000), ('MP', 0))]
            online['fee_collection'] = 'before_submission'
            code = _publish(world.api, world.tokens.system_admin, body)['code']
            world._pay_first_procedure = code  # type: ignore[attr-defined]
    return code


def awaiting_submission_payment(world: World, code: str, citizen: int = 0) -> dict:
    """A citizen's dossier of a pay-first procedure, submitted: waiting for its fee (11)."""
    return filed(world, code, citizen)


__all__ += ['PAY_FIRST_FEE', 'pay_first_procedure', 'awaiting_submission_payment']
