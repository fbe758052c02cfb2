"""API tests of the identity service (docs/services/identity.md).

Most calls go to the identity service's own port (MOTCUA_TEST_SERVICE_URL_IDENTITY;
the tests are skipped when it is not set) so that the gateway's sign-in rate limit
(2 r/s) does not pace them, each test sending its own X-Real-IP (the address the
gateway would pass on) so that the per-address sign-in throttle of one test does
not reach another. A few calls go through the gateway to check its routes.
Every response is checked against api-spec/identity.yaml.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import subprocess
import time
import urllib.parse

import pytest

from motcua_api import (ApiClient, assert_problem, b64url, b64url_decode, error_pointers,
                        jwt_parts, sign_rs256, standard_claims, unique_suffix)

API = '/api/v1'
KID = 'dev-1'  # deploy/local/lib.sh: the key id the local stack signs with
PASSWORD = 'hoa-sen-mua-he-2025'


@pytest.fixture(scope='module')
def ident(spec) -> ApiClient:
    url = os.environ.get('MOTCUA_TEST_SERVICE_URL_IDENTITY', '').strip()
    if not url:
        pytest.skip('MOTCUA_TEST_SERVICE_URL_IDENTITY is not set (identity not in the stack)')
    client = ApiClient(url.rstrip('/'), spec, via='service')
    try:
        client.get('/readyz', validate=False, timeout=5)
    except Exception as e:  # noqa: BLE001
        pytest.skip(f'identity service not reachable: {e!r}')
    return client


def fresh_ip() -> str:
    return f'10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}'


def new_person() -> dict:
    """A citizen with a structurally valid CCCD: Hà Nội (001), male born 1990."""
    serial = f'{random.randint(0, 999999):06d}'
    return {
        'full_name': 'Nguyễn Văn Thử',
        'personal_id': f'001090{serial}',
        'date_of_birth': '1990-05-17',
        'phone': f'09{random.randint(0, 99999999):08d}',
        'email': f'thu.{unique_suffix()}@example.vn',
        'password': PASSWORD,
    }


def register(ident: ApiClient, person: dict | None = None, ip: str | None = None) -> dict:
    person = person or new_person()
    r = ident.post(f'{API}/accounts', json=person, headers={'X-Real-IP': ip or fresh_ip()},
                   expect=201)
    return {**person, 'id': r.doc['id']}


def token(ident: ApiClient, form: dict, ip: str, *, as_json: bool = False, expect=None):
    if as_json:
        return ident.post(f'{API}/auth/token', json=form, headers={'X-Real-IP': ip},
                          retry_429=False, expect=expect)
    return ident.post(f'{API}/auth/token', data=form, headers={'X-Real-IP': ip},
                      retry_429=False, expect=expect)


def sign_in(ident: ApiClient, username: str, password: str, ip: str | None = None) -> dict:
    r = token(ident, {'grant_type': 'password', 'username': username, 'password': password},
              ip or fresh_ip(), expect=200)
    return r.doc


def trusted(minter, sub: str, roles: list[str], agency: str | None = None) -> str:
    return minter.mint(sub, roles, agency=agency, kid=KID)


# ---------------------------------------------------------------------------
# Keys

def _rs256_verify(token_text: str, jwk: dict) -> bool:
    """PKCS#1 v1.5 / SHA-256 verification with the JWK's n and e (stdlib only)."""
    head, payload, sig = token_text.split('.')
    n = int.from_bytes(b64url_decode(jwk['n']), 'big')
    e = int.from_bytes(b64url_decode(jwk['e']), 'big')
    k = (n.bit_length() + 7) // 8
    em = pow(int.from_bytes(b64url_decode(sig), 'big'), e, n).to_bytes(k, 'big')
    digest_info = bytes.fromhex('3031300d060960864801650304020105000420')
    digest = hashlib.sha256(f'{head}.{payload}'.encode('ascii')).digest()
    expected = b'\x00\x01' + b'\xff' * (k - 3 - len(digest_info) - len(digest)) + b'\x00' \
        + digest_info + digest
    return em == expected


def test_jwks_verifies_minted_tokens(ident, api):
    jwks = ident.get('/.well-known/jwks.json', expect=200).doc
    assert [k['kid'] for k in jwks['keys']][0] == KID
    key = jwks['keys'][0]
    assert key['kty'] == 'RSA' and key['alg'] == 'RS256' and key['use'] == 'sig'
    assert int.from_bytes(b64url_decode(key['n']), 'big').bit_length() >= 2048
    # Through the gateway too, identical.
    assert api.get('/.well-known/jwks.json', expect=200).doc == jwks

    person = register(ident)
    tokens = sign_in(ident, person['personal_id'], PASSWORD)
    header, claims, _ = jwt_parts(tokens['access_token'])
    assert header['alg'] == 'RS256' and header['kid'] == KID
    assert _rs256_verify(tokens['access_token'], key)
    assert claims['iss'] == 'motcua-identity' and claims['aud'] == 'motcua'
    assert claims['sub'] == person['id'] and claims['roles'] == ['citizen']
    assert claims['exp'] - claims['iat'] == 900 and tokens['expires_in'] == 900
    assert len(claims['jti']) >= 16 and 'agency' not in claims
    assert tokens['token_type'] == 'Bearer' and len(tokens['refresh_token']) == 43
    # A tampered signature or payload fails the same check.
    h, p, s = tokens['access_token'].split('.')
    forged = dict(claims, roles=['system_admin'])
    assert not _rs256_verify(f'{h}.{b64url(json.dumps(forged).encode())}.{s}', key)


def test_jwks_etag(ident):
    r = ident.get('/.well-known/jwks.json', expect=200)
    ident.get('/.well-known/jwks.json', headers={'If-None-Match': r.headers['ETag']}, expect=304)


# ---------------------------------------------------------------------------
# Registration and the account

def test_register_and_me(ident, api):
    person = register(ident)
    tokens = sign_in(ident, person['personal_id'], PASSWORD)
    me = ident.get(f'{API}/accounts/me', token=tokens['access_token'], expect=200).doc
    assert me['id'] == person['id'] and me['kind'] == 'citizen'
    assert me['personal_id'] == '*' * 9 + person['personal_id'][-3:]
    assert me['phone'] == '+84' + person['phone'][1:]
    assert me['roles'] == ['citizen'] and me['disabled'] is False
    # Every documented member is present, null when empty (README, API conventions).
    assert me['username'] is None and me['agency'] is None
    # The same through the gateway; and the token works at another service.
    assert api.get(f'{API}/accounts/me', token=tokens['access_token'], expect=200).doc == me
    api.get(f'{API}/sectors', params={'limit': 1}, token=tokens['access_token'], expect=200)


def test_register_duplicates(ident):
    person = register(ident)
    again = dict(new_person(), personal_id=person['personal_id'])
    r = ident.post(f'{API}/accounts', json=again, headers={'X-Real-IP': fresh_ip()})
    assert_problem(r, 409, 'identity.account_exists')
    same_phone = dict(new_person(), phone='+84 ' + person['phone'][1:])
    r = ident.post(f'{API}/accounts', json=same_phone, headers={'X-Real-IP': fresh_ip()})
    assert_problem(r, 409, 'identity.account_exists')


@pytest.mark.parametrize('change,pointer,code', [
    ({'personal_id': '003090123456'}, '/personal_id', 'province'),
    ({'personal_id': '001290123456'}, '/personal_id', 'century_mismatch'),
    ({'personal_id': '001091123456'}, '/personal_id', 'birth_year_mismatch'),
    ({'personal_id': '00109012345'}, '/personal_id', None),
    ({'phone': '0112345678'}, '/phone', 'format'),
    ({'email': 'not-an-email'}, '/email', 'format'),
    ({'password': 'short1'}, '/password', 'too_short'),
    ({'password': '123456789012345'}, '/password', 'all_digits'),
    ({'password': 'id-001090123456'}, '/password', 'contains_personal_id'),
    ({'date_of_birth': '1990-02-30'}, '/date_of_birth', None),
])
def test_register_validation(ident, change, pointer, code):
    person = dict(new_person(), personal_id='001090123456', **{k: v for k, v in change.items()
                                                              if k != 'personal_id'})
    if 'personal_id' in change:
        person['personal_id'] = change['personal_id']
    r = ident.post(f'{API}/accounts', json=person, headers={'X-Real-IP': fresh_ip()})
    doc = assert_problem(r, 422, 'request.validation_failed')
    assert pointer in error_pointers(doc)
    if code:
        assert any(e['pointer'] == pointer and e['code'] == code for e in doc['errors']), doc


def test_password_contains_phone(ident):
    person = new_person()
    person['password'] = 'so-' + person['phone']
    r = ident.post(f'{API}/accounts', json=person, headers={'X-Real-IP': fresh_ip()})
    doc = assert_problem(r, 422, 'request.validation_failed')
    assert any(e['pointer'] == '/password' and e['code'] == 'contains_phone' for e in doc['errors'])


def test_change_password(ident):
    person = register(ident)
    tokens = sign_in(ident, person['phone'], PASSWORD)
    at = tokens['access_token']
    r = ident.post(f'{API}/accounts/me/password', token=at,
                   json={'current_password': 'wrong-password-1', 'new_password': 'mat-khau-moi-2026'})
    assert '/current_password' in error_pointers(assert_problem(r, 422))
    r = ident.post(f'{API}/accounts/me/password', token=at,
                   json={'current_password': PASSWORD, 'new_password': '1234567890123'})
    assert '/new_password' in error_pointers(assert_problem(r, 422))
    ident.post(f'{API}/accounts/me/password', token=at,
               json={'current_password': PASSWORD, 'new_password': 'mat-khau-moi-2026'}, expect=204)
    # Other sessions end: the refresh token is revoked.
    r = token(ident, {'grant_type': 'refresh_token', 'refresh_token': tokens['refresh_token']},
              fresh_ip())
    assert_problem(r, 400, 'identity.invalid_grant')
    r = token(ident, {'grant_type': 'password', 'username': person['phone'], 'password': PASSWORD},
              fresh_ip())
    assert_problem(r, 400, 'identity.invalid_grant')
    sign_in(ident, person['phone'], 'mat-khau-moi-2026')


def test_me_needs_an_account(ident, minter):
    ident.get(f'{API}/accounts/me', expect=401)
    r = ident.get(f'{API}/accounts/me', token=trusted(minter, 'svc-x', ['service']))
    assert_problem(r, 404, 'identity.account_not_found')


# ---------------------------------------------------------------------------
# Password grant, failures, throttling

def test_password_grant_forms(ident, api):
    person = register(ident)
    ip = fresh_ip()
    # JSON body, phone in another format
    r = token(ident, {'grant_type': 'password', 'username': '+84 ' + person['phone'][1:],
                      'password': PASSWORD}, ip, as_json=True, expect=200)
    assert r.headers['Cache-Control'] == 'no-store'
    assert r.doc['scope'] == ''
    # form with a charset parameter
    body = urllib.parse.urlencode({'grant_type': 'password', 'username': person['personal_id'],
                                   'password': PASSWORD})
    ident.post(f'{API}/auth/token', data=body, expect=200,
               headers={'Content-Type': 'application/x-www-form-urlencoded; charset=UTF-8',
                        'X-Real-IP': ip})
    # through the gateway
    api.post(f'{API}/auth/token', data={'grant_type': 'password', 'username': person['personal_id'],
                                        'password': PASSWORD}, expect=200)


def test_wrong_password_and_unknown_account_look_the_same(ident):
    person = register(ident)
    r1 = token(ident, {'grant_type': 'password', 'username': person['personal_id'],
                       'password': 'wrong-password-1'}, fresh_ip())
    unknown = '001090' + f'{random.randint(0, 999999):06d}'
    r2 = token(ident, {'grant_type': 'password', 'username': unknown,
                       'password': 'wrong-password-1'}, fresh_ip())
    d1, d2 = assert_problem(r1, 400, 'identity.invalid_grant'), assert_problem(r2, 400, 'identity.invalid_grant')
    assert (d1['title'], d1['detail']) == (d2['title'], d2['detail'])


def _times(ident, username: str, n: int = 5) -> list[float]:
    out = []
    for _ in range(n):
        t = time.monotonic()
        token(ident, {'grant_type': 'password', 'username': username, 'password': 'wrong-pass-x1'},
              fresh_ip(), expect=400)
        out.append(time.monotonic() - t)
    return sorted(out)


def test_similar_timing_for_unknown_account(ident):
    person = register(ident)
    known = _times(ident, person['personal_id'], 3)
    unknown = _times(ident, '079305' + f'{random.randint(0, 999999):06d}', 3)
    # Both pay one argon2id verification: medians within a factor of 3 of each other.
    assert unknown[1] > known[1] / 3 and known[1] > unknown[1] / 3, (known, unknown)


@pytest.mark.parametrize('form,code', [
    ({'grant_type': 'password', 'username': 'x'}, 'identity.invalid_request'),
    ({'grant_type': 'magic'}, 'identity.unsupported_grant_type'),
    ({'username': 'x', 'password': 'y'}, 'identity.invalid_request'),
    ({'grant_type': 'password', 'username': 'x', 'password': 'y', 'extra': '1'},
     'identity.invalid_request'),
    ({'grant_type': 'password', 'username': 'x', 'password': 'y', 'scope': 'admin'},
     'identity.invalid_scope'),
])
def test_token_request_errors(ident, form, code):
    assert_problem(token(ident, form, fresh_ip()), 400, code)


def test_token_request_strict_parsing(ident):
    def raw_form(body: str, ctype='application/x-www-form-urlencoded'):
        return ident.post(f'{API}/auth/token', data=body.encode(), retry_429=False,
                          headers={'Content-Type': ctype, 'X-Real-IP': fresh_ip()})
    assert_problem(raw_form('grant_type=password&grant_type=refresh_token'), 400,
                   'identity.invalid_request')
    assert_problem(raw_form('grant_type=password&&username=x'), 400, 'identity.invalid_request')
    assert_problem(raw_form('grant_type=pass%zzword'), 400, 'identity.invalid_request')
    assert_problem(raw_form('grant_type=password%00'), 400, 'identity.invalid_request')
    assert_problem(raw_form('grant_type=password', 'text/plain'), 415)
    assert_problem(raw_form('{"grant_type":"password","grant_type":"x"}', 'application/json'), 400,
                   'request.malformed_json')
    assert_problem(raw_form('{"grant_type":1}', 'application/json'), 400, 'identity.invalid_request')


def test_lockout_with_retry_after(ident):
    person = register(ident)
    ip = fresh_ip()
    wrong = {'grant_type': 'password', 'username': person['personal_id'], 'password': 'wrong-password-1'}
    for _ in range(5):
        assert_problem(token(ident, wrong, fresh_ip()), 400, 'identity.invalid_grant')
    # Locked out for this account whatever the address, even with the right password.
    r = token(ident, dict(wrong, password=PASSWORD), ip)
    assert_problem(r, 429, 'identity.too_many_attempts')
    assert int(r.headers['Retry-After']) >= 1
    time.sleep(int(r.headers['Retry-After']) + 0.2)
    # The back-off doubles on the next failure ...
    assert_problem(token(ident, wrong, ip), 400, 'identity.invalid_grant')
    r = token(ident, dict(wrong, password=PASSWORD), ip)
    assert_problem(r, 429, 'identity.too_many_attempts')
    assert int(r.headers['Retry-After']) >= 2 - 1
    time.sleep(int(r.headers['Retry-After']) + 0.2)
    # ... and a success resets it.
    sign_in(ident, person['personal_id'], PASSWORD, ip)
    assert_problem(token(ident, wrong, ip), 400, 'identity.invalid_grant')


def test_lockout_unknown_account_and_address(ident):
    unknown = '001090' + f'{random.randint(0, 999999):06d}'
    wrong = {'grant_type': 'password', 'username': unknown, 'password': 'wrong-password-1'}
    for _ in range(5):
        assert_problem(token(ident, wrong, fresh_ip()), 400, 'identity.invalid_grant')
    r = token(ident, wrong, fresh_ip())
    assert_problem(r, 429, 'identity.too_many_attempts')
    assert 'Retry-After' in r.headers
    # Per address: five different unknown accounts from one address lock the address.
    ip = fresh_ip()
    for _ in range(5):
        other = {'grant_type': 'password', 'username': '001090' + f'{random.randint(0, 999999):06d}',
                 'password': 'wrong-password-1'}
        assert_problem(token(ident, other, ip), 400, 'identity.invalid_grant')
    person = register(ident)
    r = token(ident, {'grant_type': 'password', 'username': person['personal_id'],
                      'password': PASSWORD}, ip)
    assert_problem(r, 429, 'identity.too_many_attempts')


# ---------------------------------------------------------------------------
# Refresh tokens

def refresh(ident, rt: str, expect=None):
    return token(ident, {'grant_type': 'refresh_token', 'refresh_token': rt}, fresh_ip(),
                 expect=expect)


def test_refresh_rotates_and_reuse_revokes_the_family(ident):
    person = register(ident)
    first = sign_in(ident, person['personal_id'], PASSWORD)
    second = refresh(ident, first['refresh_token'], expect=200).doc
    assert second['refresh_token'] != first['refresh_token']
    assert jwt_parts(second['access_token'])[1]['sub'] == person['id']
    third = refresh(ident, second['refresh_token'], expect=200).doc
    # Reusing the rotated first token: refused, and every descendant is revoked.
    assert_problem(refresh(ident, first['refresh_token']), 400, 'identity.invalid_grant')
    assert_problem(refresh(ident, third['refresh_token']), 400, 'identity.invalid_grant')
    # Another sign-in (another family) is unaffected.
    other = sign_in(ident, person['personal_id'], PASSWORD)
    refresh(ident, other['refresh_token'], expect=200)


def test_refresh_token_unknown_or_malformed(ident):
    assert_problem(refresh(ident, b64url(os.urandom(32))), 400, 'identity.invalid_grant')
    assert_problem(refresh(ident, 'not-a-token'), 400, 'identity.invalid_grant')


def test_logout_revokes_the_family(ident):
    person = register(ident)
    first = sign_in(ident, person['personal_id'], PASSWORD)
    second = refresh(ident, first['refresh_token'], expect=200).doc
    ident.post(f'{API}/auth/logout', data={'refresh_token': first['refresh_token']}, expect=204)
    assert_problem(refresh(ident, second['refresh_token']), 400, 'identity.invalid_grant')
    # Unknown tokens: nothing to do, still 204; JSON works too.
    ident.post(f'{API}/auth/logout', json={'refresh_token': b64url(os.urandom(32))}, expect=204)
    assert_problem(ident.post(f'{API}/auth/logout', json={}), 400, 'identity.invalid_request')


def test_expired_refresh_token(ident):
    port = os.environ.get('MOTCUA_TEST_PG_PORT', '').strip()
    local = os.environ.get('MOTCUA_TEST_LOCAL_DIR', '').strip()
    secret = os.path.join(local, 'secrets', 'identity.password')
    if not port or not local or not os.path.exists(secret):
        pytest.skip('MOTCUA_TEST_PG_PORT and MOTCUA_TEST_LOCAL_DIR are needed to age a token')
    person = register(ident)
    tokens = sign_in(ident, person['personal_id'], PASSWORD)
    digest = hashlib.sha256(tokens['refresh_token'].encode()).hexdigest()
    password = open(secret, encoding='utf-8').read().strip()
    conninfo = f'host=127.0.0.1 port={port} dbname=motcua user=motcua_identity password={password}'
    subprocess.run(['psql', conninfo, '-v', 'ON_ERROR_STOP=1', '-qc',
                    "UPDATE identity.refresh_tokens SET expires_at = now() - interval '1 second'"
                    f" WHERE token_hash = decode('{digest}', 'hex')"], check=True, capture_output=True)
    assert_problem(refresh(ident, tokens['refresh_token']), 400, 'identity.invalid_grant')


# ---------------------------------------------------------------------------
# Tokens other services must refuse

def test_tampered_and_foreign_tokens(ident, minter, tmp_path):
    person = register(ident)
    at = sign_in(ident, person['personal_id'], PASSWORD)['access_token']
    h, p, s = at.split('.')
    claims = json.loads(b64url_decode(p))
    tampered = f'{h}.{b64url(json.dumps(dict(claims, roles=["system_admin"])).encode())}.{s}'
    assert_problem(ident.get(f'{API}/accounts/me', token=tampered), 401, 'auth.unauthenticated')
    assert_problem(ident.post(f'{API}/clients', token=tampered, json={'name': 'x', 'scopes': ['a']}),
                   401, 'auth.unauthenticated')
    flipped = at[:-4] + ('AAAA' if at[-4:] != 'AAAA' else 'BBBB')
    assert_problem(ident.get(f'{API}/accounts/me', token=flipped), 401)
    foreign = minter.mint(person['id'], ['citizen'], iss='https://evil.example', kid=KID)
    assert_problem(ident.get(f'{API}/accounts/me', token=foreign), 401, 'auth.unauthenticated')
    # Signed with a key the service does not know, with our kid.
    other_key = tmp_path / 'other.pem'
    subprocess.run(['openssl', 'genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048',
                    '-out', str(other_key)], check=True, capture_output=True)
    forged = sign_rs256({'alg': 'RS256', 'typ': 'JWT', 'kid': KID},
                        standard_claims(person['id'], ['citizen']), str(other_key))
    assert_problem(ident.get(f'{API}/accounts/me', token=forged), 401, 'auth.unauthenticated')


# ---------------------------------------------------------------------------
# Staff

def _agency() -> str:
    return f'T{unique_suffix(6).upper()}.01'


def create_staff(ident, tok: str, agency: str, roles: list[str], expect=201):
    body = {'username': f'cb.{unique_suffix()}', 'full_name': 'Cán Bộ Thử', 'agency': agency,
            'roles': roles, 'password': 'mot-cua-lien-thong'}
    r = ident.post(f'{API}/staff', token=tok, json=body, expect=expect)
    return body, r


def test_staff_scoping(ident, tokens):
    sysadmin = tokens.system_admin
    a, b = _agency(), _agency()
    admin_body, r = create_staff(ident, sysadmin, a, ['agency_admin'])
    assert r.doc['kind'] == 'staff' and r.doc['agency'] == a and r.doc['roles'] == ['agency_admin']
    _, rb = create_staff(ident, sysadmin, b, ['officer'])
    b_officer = rb.doc['id']

    # The agency admin signs in with the username through the password grant.
    admin = sign_in(ident, admin_body['username'], admin_body['password'])
    claims = jwt_parts(admin['access_token'])[1]
    assert claims['roles'] == ['agency_admin'] and claims['agency'] == a
    at = admin['access_token']

    officer_body, ro = create_staff(ident, at, a, ['officer'])
    officer_id = ro.doc['id']
    # Outside their agency: 403, for create, update and list.
    assert_problem(create_staff(ident, at, b, ['officer'], expect=None)[1], 403, 'auth.forbidden')
    assert_problem(ident.patch(f'{API}/staff/{b_officer}', token=at, json={'disabled': True}),
                   403, 'auth.forbidden')
    assert_problem(ident.get(f'{API}/staff', token=at, params={'agency': b}), 403, 'auth.forbidden')
    listed = ident.get(f'{API}/staff', token=at, expect=200).doc['items']
    assert {s['agency'] for s in listed} == {a}
    assert {s['id'] for s in listed} >= {officer_id}
    assert all(s['personal_id'] is None for s in listed)  # staff have none: null (README)

    # Roles change: the next token carries them.
    officer = sign_in(ident, officer_body['username'], officer_body['password'])
    # Writes need the ETag read (optimistic concurrency): 428 without, 412 when stale.
    read = ident.get(f'{API}/staff/{officer_id}', token=at, expect=200)
    assert read.doc['id'] == officer_id and read.doc['roles'] == ['officer']
    etag = read.headers['ETag']
    assert_problem(ident.patch(f'{API}/staff/{officer_id}', token=at, json={'roles': ['officer']}),
                   428, 'http.precondition_required')
    r = ident.patch(f'{API}/staff/{officer_id}', token=at, json={'roles': ['officer', 'approver']},
                    headers={'If-Match': etag}, expect=200)
    assert r.doc['roles'] == ['officer', 'approver']
    assert r.headers['ETag'] != etag
    assert_problem(ident.patch(f'{API}/staff/{officer_id}', token=at, json={'disabled': True},
                               headers={'If-Match': etag}), 412, 'http.precondition_failed')
    # the reader of another agency learns nothing: 403 on read, and 403 (not 428/412) on write
    assert_problem(ident.get(f'{API}/staff/{b_officer}', token=at), 403, 'auth.forbidden')
    again = refresh(ident, officer['refresh_token'], expect=200).doc
    assert jwt_parts(again['access_token'])[1]['roles'] == ['officer', 'approver']
    # Disabling: no sign-in, refresh tokens revoked.
    ident.patch(f'{API}/staff/{officer_id}', token=at, json={'disabled': True},
                headers={'If-Match': r.headers['ETag']}, expect=200)
    assert_problem(refresh(ident, again['refresh_token']), 400, 'identity.invalid_grant')
    r = token(ident, {'grant_type': 'password', 'username': officer_body['username'],
                      'password': officer_body['password']}, fresh_ip())
    assert_problem(r, 400, 'identity.invalid_grant')
    # system_admin lists any agency
    listed = ident.get(f'{API}/staff', token=sysadmin, params={'agency': b}, expect=200).doc['items']
    assert [s['id'] for s in listed] == [b_officer]


def test_staff_validation_and_conflicts(ident, tokens):
    sysadmin = tokens.system_admin
    a = _agency()
    body, _ = create_staff(ident, sysadmin, a, ['officer'])
    r = ident.post(f'{API}/staff', token=sysadmin, json=dict(body, full_name='Khác'))
    assert_problem(r, 409, 'identity.username_taken')
    r = ident.post(f'{API}/staff', token=sysadmin,
                   json=dict(body, username='1bad', roles=['system_admin'], password='short'))
    doc = assert_problem(r, 422)
    assert {'/username', '/roles/0', '/password'} <= error_pointers(doc)
    assert_problem(ident.patch(f'{API}/staff/00000000-0000-4000-8000-000000000000', token=sysadmin,
                               json={'disabled': True}), 404, 'identity.staff_not_found')
    assert_problem(ident.patch(f'{API}/staff/not-a-uuid', token=sysadmin, json={'disabled': True}),
                   404, 'identity.staff_not_found')
    assert_problem(ident.get(f'{API}/staff/00000000-0000-4000-8000-000000000000', token=sysadmin),
                   404, 'identity.staff_not_found')


def test_citizen_and_officer_cannot_manage_staff(ident, tokens):
    person = register(ident)
    citizen = sign_in(ident, person['personal_id'], PASSWORD)['access_token']
    for tok in (citizen, tokens.officer):
        assert_problem(ident.get(f'{API}/staff', token=tok), 403, 'auth.forbidden')
        assert_problem(create_staff(ident, tok, 'T1.01', ['officer'], expect=None)[1], 403,
                       'auth.forbidden')
        assert_problem(ident.post(f'{API}/clients', token=tok, json={'name': 'x', 'scopes': ['a']}),
                       403, 'auth.forbidden')


# ---------------------------------------------------------------------------
# Machine clients

def test_client_credentials(ident, tokens):
    sysadmin = tokens.system_admin
    r = ident.post(f'{API}/clients', token=sysadmin, expect=201,
                   json={'name': 'Hệ thống thử', 'scopes': ['dossier.read', 'dossier.write'],
                         'agency': 'T9.01'})
    client_id, secret = r.doc['client_id'], r.doc['client_secret']
    assert r.headers['Cache-Control'] == 'no-store'
    ip = fresh_ip()
    got = token(ident, {'grant_type': 'client_credentials', 'client_id': client_id,
                        'client_secret': secret}, ip, expect=200).doc
    assert 'refresh_token' not in got and got['scope'] == 'dossier.read dossier.write'
    claims = jwt_parts(got['access_token'])[1]
    assert claims['sub'] == client_id and claims['roles'] == ['service']
    assert claims['scope'] == 'dossier.read dossier.write' and claims['agency'] == 'T9.01'
    got = token(ident, {'grant_type': 'client_credentials', 'client_id': client_id,
                        'client_secret': secret, 'scope': 'dossier.read'}, ip, as_json=True,
                expect=200).doc
    assert jwt_parts(got['access_token'])[1]['scope'] == 'dossier.read'
    r = token(ident, {'grant_type': 'client_credentials', 'client_id': client_id,
                      'client_secret': secret, 'scope': 'admin'}, ip)
    assert_problem(r, 400, 'identity.invalid_scope')
    r = token(ident, {'grant_type': 'client_credentials', 'client_id': client_id,
                      'client_secret': secret + 'x'}, ip)
    assert_problem(r, 401, 'identity.invalid_client')
    r = token(ident, {'grant_type': 'client_credentials', 'client_id': 'cl_unknown',
                      'client_secret': secret}, ip)
    assert_problem(r, 401, 'identity.invalid_client')
    r = ident.post(f'{API}/clients', token=sysadmin, json={'name': 'x', 'scopes': ['a b', 'a', 'a']})
    assert {'/scopes/0', '/scopes/2'} <= error_pointers(assert_problem(r, 422))


# ---------------------------------------------------------------------------
# Audit trail

def test_audit_events(ident, minter):
    port = os.environ.get('MOTCUA_TEST_PG_PORT', '').strip()
    local = os.environ.get('MOTCUA_TEST_LOCAL_DIR', '').strip()
    secret = os.path.join(local, 'secrets', 'identity.password')
    if not port or not local or not os.path.exists(secret):
        pytest.skip('MOTCUA_TEST_PG_PORT and MOTCUA_TEST_LOCAL_DIR are needed to read the audit table')
    ip = fresh_ip()
    person = register(ident, ip=ip)
    assert_problem(token(ident, {'grant_type': 'password', 'username': person['personal_id'],
                                 'password': 'wrong-password-1'}, ip), 400)
    tokens = sign_in(ident, person['personal_id'], PASSWORD, ip)
    second = refresh(ident, tokens['refresh_token'], expect=200).doc
    assert_problem(refresh(ident, tokens['refresh_token']), 400, 'identity.invalid_grant')
    del second
    password = open(secret, encoding='utf-8').read().strip()
    conninfo = f'host=127.0.0.1 port={port} dbname=motcua user=motcua_identity password={password}'
    out = subprocess.run(['psql', conninfo, '-v', 'ON_ERROR_STOP=1', '-AtF', '|', '-c',
                          'SELECT action, actor, coalesce(client_address, \'\'), coalesce(detail::text, \'\')'
                          f" FROM identity.audit_events WHERE subject = '{person['id']}' ORDER BY id"],
                         check=True, capture_output=True, text=True).stdout
    rows = [line.split('|') for line in out.splitlines()]
    assert [r[0] for r in rows] == ['registered', 'sign_in_failed', 'sign_in', 'revoked'], rows
    assert rows[0][2] == ip and rows[2][1] == f'account:{person["id"]}'
    assert 'refresh_token_reused' in rows[3][3]
    text = out + json.dumps(rows)
    assert person['personal_id'] not in text and PASSWORD not in text
    assert person['phone'][1:] not in text


def test_sign_in_rehashes_a_password_hash_made_with_old_limits(ident):
    """An account whose hash was made with weaker argon2id limits (older
    settings, a migrated account) gets a hash with today's limits at its next
    successful sign-in, without a password reset."""
    port = os.environ.get('MOTCUA_TEST_PG_PORT', '').strip()
    local = os.environ.get('MOTCUA_TEST_LOCAL_DIR', '').strip()
    secret = os.path.join(local, 'secrets', 'identity.password')
    if not port or not local or not os.path.exists(secret):
        pytest.skip('MOTCUA_TEST_PG_PORT and MOTCUA_TEST_LOCAL_DIR are needed to plant an old hash')
    password = open(secret, encoding='utf-8').read().strip()
    conninfo = f'host=127.0.0.1 port={port} dbname=motcua user=motcua_identity password={password}'

    def psql(sql: str) -> str:
        return subprocess.run(['psql', conninfo, '-v', 'ON_ERROR_STOP=1', '-qtAc', sql], check=True,
                              capture_output=True, text=True).stdout.strip()

    person = register(ident)
    # PASSWORD hashed with libsodium's OPSLIMIT_MIN / MEMLIMIT_MIN (m=8 KiB, t=1)
    weak = '$argon2id$v=19$m=8,t=1,p=1$WKYv0TE99GMKaE/9oiuGmw$F/xHK5GcPaQp+VwO3nfmDWGYFTMWDqA8H49E3+lHDrI'
    psql(f"UPDATE identity.accounts SET password_hash = '{weak}' WHERE id = '{person['id']}'")
    sign_in(ident, person['personal_id'], PASSWORD)
    stored = psql(f"SELECT password_hash FROM identity.accounts WHERE id = '{person['id']}'")
    assert stored != weak and stored.startswith('$argon2id$')
    assert 'm=8,' not in stored, stored
    # the new hash still accepts the password, and a wrong one is still refused
    sign_in(ident, person['personal_id'], PASSWORD)
    r = token(ident, {'grant_type': 'password', 'username': person['personal_id'],
                      'password': PASSWORD + 'x'}, fresh_ip())
    assert_problem(r, 400, 'identity.invalid_grant')
