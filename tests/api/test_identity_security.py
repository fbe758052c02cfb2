"""API tests of the identity service's defences (docs/services/identity.md): the
password-change throttle, the per-address sign-in window against password spraying,
revocation across services (/.well-known/revocations), reclaiming a personal id,
idempotent registration, the colleagues list and the `name` claim, and no personal
data in the database server's log. Skipped like test_identity_service.py when the
identity service is not in the stack; every response is checked against
api-spec/identity.yaml.
"""
from __future__ import annotations

import os
import random
import time
import uuid

import pytest

from motcua_api import assert_problem, error_pointers, jwt_parts, unique_suffix
from test_identity_service import (API, PASSWORD, _agency, create_staff, fresh_ip,  # noqa: F401
                                   ident, new_person, refresh, register, sign_in, token, trusted)

# Services poll the revocation list every MOTCUA_REVOCATIONS_POLL_SECONDS (3 s by
# default); a revoked token must stop well within this.
PROPAGATION_SECONDS = 12


def wait_for_status(call, status: int, seconds: float = PROPAGATION_SECONDS):
    """Call `call()` until it answers `status`; the last response."""
    deadline = time.monotonic() + seconds
    while True:
        r = call()
        if r.status_code == status or time.monotonic() > deadline:
            return r
        time.sleep(0.3)


def change_password(ident, access: str, current: str, new: str = 'mat-khau-moi-2026', **kw):
    return ident.post(f'{API}/accounts/me/password', token=access,
                      json={'current_password': current, 'new_password': new}, retry_429=False,
                      **kw)


# ---------------------------------------------------------------------------
# 1. The password change is no password oracle

def test_password_change_is_throttled_then_revokes_the_sessions(ident):
    person = register(ident)
    tokens = sign_in(ident, person['personal_id'], PASSWORD)
    other_session = sign_in(ident, person['phone'], PASSWORD)
    at = tokens['access_token']
    for i in range(5):
        r = change_password(ident, at, f'wrong-password-{i}')
        assert '/current_password' in error_pointers(assert_problem(r, 422))
    # Then throttled like sign-in, even with the right password.
    r = change_password(ident, at, PASSWORD)
    assert_problem(r, 429, 'identity.too_many_attempts')
    time.sleep(int(r.headers['Retry-After']) + 0.2)
    # The sixth wrong password revokes every session of the account.
    assert_problem(change_password(ident, at, 'wrong-password-6'), 401, 'auth.unauthenticated')
    for rt in (tokens['refresh_token'], other_session['refresh_token']):
        assert_problem(refresh(ident, rt), 400, 'identity.invalid_grant')
    # The stolen access token stops too, here and at every service.
    r = wait_for_status(lambda: ident.get(f'{API}/accounts/me', token=at), 401)
    assert_problem(r, 401, 'auth.unauthenticated')
    assert 'revoked' in r.json()['detail']
    # The owner, who knows the password, signs in again and may change it.
    fresh = sign_in(ident, person['personal_id'], PASSWORD)
    ident.get(f'{API}/accounts/me', token=fresh['access_token'], expect=200)
    r = change_password(ident, fresh['access_token'], PASSWORD)
    assert r.status_code == 204, r.text


# ---------------------------------------------------------------------------
# 2. Password spraying: failures per address are counted across accounts

def test_a_success_does_not_reset_the_address_count(ident):
    """The test stack allows 5 failures per address per window
    (MOTCUA_IDENTITY_SIGNIN_ADDRESS_FAILURES=5 in tests/run)."""
    sprayer = fresh_ip()
    own = register(ident)

    def spray(n: int) -> None:
        for _ in range(n):
            victim = '001090' + f'{random.randint(0, 999999):06d}'
            r = token(ident, {'grant_type': 'password', 'username': victim,
                              'password': 'Mua-He-2026!'}, sprayer)
            assert_problem(r, 400, 'identity.invalid_grant')

    spray(4)
    # An occasional success from the same address (the sprayer's own account,
    # or a neighbour behind the same NAT) ...
    sign_in(ident, own['personal_id'], PASSWORD, sprayer)
    spray(1)
    # ... does not wipe the failures: the address is slowed down now.
    r = token(ident, {'grant_type': 'password', 'username': own['personal_id'],
                      'password': PASSWORD}, sprayer)
    assert_problem(r, 429, 'identity.too_many_attempts')
    assert int(r.headers['Retry-After']) >= 1
    # Another address is not affected, and the account itself is not locked.
    sign_in(ident, own['personal_id'], PASSWORD, fresh_ip())


# ---------------------------------------------------------------------------
# 3. Revocation across services

def test_revocation_document(ident, api):
    r = ident.get('/.well-known/revocations', expect=200)
    assert isinstance(r.doc['revocations'], dict)
    assert 'ETag' in r.headers and 'max-age' in r.headers['Cache-Control']
    again = ident.get('/.well-known/revocations', headers={'If-None-Match': r.headers['ETag']})
    assert again.status_code in (200, 304)   # 200 when someone revoked meanwhile
    # A logout lists the account, with a "not before" no earlier than the token's iat.
    person = register(ident)
    tokens = sign_in(ident, person['personal_id'], PASSWORD)
    iat = jwt_parts(tokens['access_token'])[1]['iat']
    ident.post(f'{API}/auth/logout', data={'refresh_token': tokens['refresh_token']}, expect=204)
    listed = ident.get('/.well-known/revocations', expect=200).doc['revocations']
    assert listed[person['id']] > iat
    # Services read it from identity directly; the gateway does not publish it.
    assert api.get('/.well-known/revocations', validate=False).status_code == 404
    # Logout cuts the access token (at every service) ...
    r = wait_for_status(lambda: ident.get(f'{API}/accounts/me', token=tokens['access_token']), 401)
    assert_problem(r, 401, 'auth.unauthenticated')
    # ... but a sign-in right after it is not cut.
    again = sign_in(ident, person['personal_id'], PASSWORD)
    assert jwt_parts(again['access_token'])[1]['iat'] >= listed[person['id']]
    ident.get(f'{API}/accounts/me', token=again['access_token'], expect=200)


def test_a_disabled_officer_loses_access_at_the_dossier_service(ident, api, tokens, departments):
    sysadmin = tokens.system_admin
    agency = departments[0]
    body, created = create_staff(ident, sysadmin, agency, ['officer'])
    officer = sign_in(ident, body['username'], body['password'])['access_token']
    # The officer's token works at another service ...
    api.get(f'{API}/dossiers', token=officer, expect=200)
    # ... the administrator disables the officer ...
    read = ident.get(f'{API}/staff/{created.doc["id"]}', token=sysadmin, expect=200)
    ident.patch(f'{API}/staff/{created.doc["id"]}', token=sysadmin, json={'disabled': True},
                headers={'If-Match': read.headers['ETag']}, expect=200)
    # ... and within seconds the dossier service refuses the same token.
    started = time.monotonic()
    r = wait_for_status(lambda: api.get(f'{API}/dossiers', token=officer), 401)
    assert_problem(r, 401, 'auth.unauthenticated')
    assert time.monotonic() - started < PROPAGATION_SECONDS


def test_a_role_change_cuts_the_old_token(ident, tokens):
    sysadmin = tokens.system_admin
    body, created = create_staff(ident, sysadmin, _agency(), ['officer', 'approver'])
    signed = sign_in(ident, body['username'], body['password'])
    read = ident.get(f'{API}/staff/{created.doc["id"]}', token=sysadmin, expect=200)
    ident.patch(f'{API}/staff/{created.doc["id"]}', token=sysadmin, json={'roles': ['officer']},
                headers={'If-Match': read.headers['ETag']}, expect=200)
    r = wait_for_status(lambda: ident.get(f'{API}/accounts/me', token=signed['access_token']), 401)
    assert_problem(r, 401, 'auth.unauthenticated')
    # The refresh token still works and carries the new roles.
    renewed = refresh(ident, signed['refresh_token'], expect=200).doc
    assert jwt_parts(renewed['access_token'])[1]['roles'] == ['officer']
    ident.get(f'{API}/accounts/me', token=renewed['access_token'], expect=200)


# ---------------------------------------------------------------------------
# 4. Reclaiming a personal id

def test_staff_reclaim_a_squatted_personal_id(ident, minter):
    owner = new_person()
    squatter = register(ident, dict(owner, phone=f'09{random.randint(0, 99999999):08d}'))
    squatter_tokens = sign_in(ident, squatter['personal_id'], PASSWORD)
    # The owner cannot register: the number is taken.
    r = ident.post(f'{API}/accounts', json=owner, headers={'X-Real-IP': fresh_ip()})
    assert_problem(r, 409, 'identity.account_exists')

    agency = _agency()
    officer_id = str(uuid.uuid4())
    officer = trusted(minter, officer_id, ['officer'], agency=agency)
    body = {'personal_id': owner['personal_id'], 'reason': 'Đã kiểm tra CCCD tại quầy'}
    # Citizens may not; staff without an agency may not; bad input is 422 with pointers.
    citizen = trusted(minter, str(uuid.uuid4()), ['citizen'])
    assert_problem(ident.post(f'{API}/personal-id-reclaims', token=citizen, json=body), 403,
                   'auth.forbidden')
    assert_problem(ident.post(f'{API}/personal-id-reclaims',
                              token=trusted(minter, str(uuid.uuid4()), ['officer']), json=body),
                   403, 'auth.forbidden')
    r = ident.post(f'{API}/personal-id-reclaims', token=officer,
                   json={'personal_id': '12345', 'reason': '  '})
    assert {'/personal_id', '/reason'} <= error_pointers(assert_problem(r, 422))

    r = ident.post(f'{API}/personal-id-reclaims', token=officer, json=body, expect=201)
    assert r.doc['account_id'] == squatter['id']
    assert r.doc['reclaimed_by'] == f'account:{officer_id}'
    assert r.doc['personal_id'] == '*' * 9 + owner['personal_id'][-3:]
    # The squatting account is disabled: no sign-in, no refresh, its token stops.
    assert_problem(token(ident, {'grant_type': 'password', 'username': squatter['phone'],
                                 'password': PASSWORD}, fresh_ip()), 400, 'identity.invalid_grant')
    assert_problem(refresh(ident, squatter_tokens['refresh_token']), 400, 'identity.invalid_grant')
    r = wait_for_status(lambda: ident.get(f'{API}/accounts/me',
                                          token=squatter_tokens['access_token']), 401)
    assert_problem(r, 401, 'auth.unauthenticated')
    # The owner registers and signs in with the number.
    register(ident, owner)
    sign_in(ident, owner['personal_id'], PASSWORD)
    # Nobody holds a number twice: a second reclaim finds no account.
    assert_problem(ident.post(f'{API}/personal-id-reclaims', token=officer,
                              json={'personal_id': '001090' + f'{random.randint(0, 999999):06d}',
                                    'reason': 'kiểm tra'}), 404, 'identity.account_not_found')


# ---------------------------------------------------------------------------
# 6. Registration a mobile app can retry

def test_registration_replays_with_idempotency_key(ident):
    person = new_person()
    key = f'reg-{uuid.uuid4()}'
    first = ident.post(f'{API}/accounts', json=person, expect=201,
                       headers={'Idempotency-Key': key, 'X-Real-IP': fresh_ip()})
    # The answer was lost; the app retries with the same key and body.
    again = ident.post(f'{API}/accounts', json=person, expect=201,
                       headers={'Idempotency-Key': key, 'X-Real-IP': fresh_ip()})
    assert again.headers.get('Idempotent-Replayed') == 'true'
    assert again.doc == first.doc and again.headers['Location'] == first.headers['Location']
    assert again.doc['personal_id'].startswith('*********')
    # The same key with another body is refused; without a key it is a duplicate.
    other = new_person()
    assert_problem(ident.post(f'{API}/accounts', json=other,
                              headers={'Idempotency-Key': key, 'X-Real-IP': fresh_ip()}),
                   409, 'idempotency.key_reused')
    assert_problem(ident.post(f'{API}/accounts', json=person, headers={'X-Real-IP': fresh_ip()}),
                   409, 'identity.account_exists')


# ---------------------------------------------------------------------------
# 5. No personal data in the database server's log

def _postgres_log() -> str:
    local = os.environ.get('MOTCUA_TEST_LOCAL_DIR', '').strip()
    path = os.path.join(local, 'log', 'postgres.log')
    if not local or not os.path.exists(path):
        pytest.skip('MOTCUA_TEST_LOCAL_DIR/log/postgres.log is needed')
    with open(path, encoding='utf-8', errors='replace') as f:
        return f.read()


def test_colliding_registrations_leave_no_personal_data_in_the_database_log(ident, tokens):
    person = register(ident)
    # The same personal id, then the same phone: both collide.
    same_pid = dict(new_person(), personal_id=person['personal_id'])
    same_phone = dict(new_person(), phone=person['phone'])
    for body in (same_pid, same_phone):
        assert_problem(ident.post(f'{API}/accounts', json=body, headers={'X-Real-IP': fresh_ip()}),
                       409, 'identity.account_exists')
    # A staff username collision too.
    staff, _ = create_staff(ident, tokens.system_admin, _agency(), ['officer'])
    assert_problem(ident.post(f'{API}/staff', token=tokens.system_admin, json=staff), 409,
                   'identity.username_taken')
    time.sleep(0.5)  # the server writes its log asynchronously
    log = _postgres_log()
    phone_e164 = '+84' + person['phone'][1:]
    for secret in (person['personal_id'], person['phone'][1:], phone_e164, staff['username']):
        assert secret not in log, f'the PostgreSQL log names {secret!r}'


# ---------------------------------------------------------------------------
# 7. Colleagues for pickers, and the name claim

def test_officers_list_their_own_agencys_active_colleagues(ident, tokens, minter):
    sysadmin = tokens.system_admin
    agency, other = _agency(), _agency()
    names = ['Trần Thị B', 'Lê Văn A', 'Phạm Văn C']
    ids = []
    for name in names:
        body = {'username': f'cb.{unique_suffix()}', 'full_name': name, 'agency': agency,
                'roles': ['officer'], 'password': 'mot-cua-lien-thong', 'email': 'cb@example.vn'}
        ids.append(ident.post(f'{API}/staff', token=sysadmin, json=body, expect=201).doc['id'])
    gone, _ = create_staff(ident, sysadmin, agency, ['approver'])
    gone_id = ident.get(f'{API}/staff', token=sysadmin, params={'agency': agency, 'limit': 100},
                        expect=200).doc['items']
    gone_id = next(s['id'] for s in gone_id if s['username'] == gone['username'])
    read = ident.get(f'{API}/staff/{gone_id}', token=sysadmin, expect=200)
    ident.patch(f'{API}/staff/{gone_id}', token=sysadmin, json={'disabled': True},
                headers={'If-Match': read.headers['ETag']}, expect=200)
    create_staff(ident, sysadmin, other, ['officer'])

    officer = trusted(minter, ids[0], ['officer'], agency=agency)
    page = ident.get(f'{API}/colleagues', token=officer, expect=200).doc
    assert [c['full_name'] for c in page['items']] == sorted(names, key=lambda n: n.encode())
    assert {c['id'] for c in page['items']} == set(ids)          # not disabled, not other agency
    assert all(set(c) == {'id', 'full_name', 'roles'} for c in page['items'])
    # Keyset pages.
    seen, cursor = [], None
    while True:
        params = {'limit': 1, **({'cursor': cursor} if cursor else {})}
        p = ident.get(f'{API}/colleagues', token=officer, params=params, expect=200).doc
        seen += [c['id'] for c in p['items']]
        cursor = p['next_cursor']
        if cursor is None:
            break
    assert seen == [c['id'] for c in page['items']]
    # Citizens may not; a staff token without an agency may not.
    assert_problem(ident.get(f'{API}/colleagues', token=trusted(minter, str(uuid.uuid4()),
                                                                 ['citizen'])), 403, 'auth.forbidden')
    assert_problem(ident.get(f'{API}/colleagues', token=trusted(minter, str(uuid.uuid4()),
                                                                 ['officer'])), 403, 'auth.forbidden')
    assert_problem(ident.get(f'{API}/colleagues', token=officer, params={'cursor': 'nonsense'}), 400)


def test_staff_tokens_carry_the_display_name(ident, tokens):
    body, _ = create_staff(ident, tokens.system_admin, _agency(), ['officer'])
    staff = sign_in(ident, body['username'], body['password'])
    assert jwt_parts(staff['access_token'])[1]['name'] == body['full_name']
    renewed = refresh(ident, staff['refresh_token'], expect=200).doc
    assert jwt_parts(renewed['access_token'])[1]['name'] == body['full_name']
    # Citizens' tokens carry no name (personal data the services do not need).
    person = register(ident)
    citizen = sign_in(ident, person['personal_id'], PASSWORD)
    assert 'name' not in jwt_parts(citizen['access_token'])[1]
