"""API tests of machine-client management (docs/services/identity.md, "Machine
clients"): GET /clients (keyset pages, agency filter), GET /clients/{client_id}
with an ETag, PATCH with If-Match (428 / 412), disabling (the grant then fails
like a wrong secret), secret rotation, who may do it, and that no answer but
creation and rotation ever carries a secret (and none its hash).

Calls go to the identity service's own port like test_identity_service.py
(skipped when MOTCUA_TEST_SERVICE_URL_IDENTITY is not set); every response is
checked against api-spec/identity.yaml, and every response of this module
against the secret rule (the `_no_secret_leaks` hook below).
"""
from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import urllib.parse

import pytest

from motcua_api import assert_problem, error_parameters, error_pointers, jwt_parts, unique_suffix
from test_identity_service import API, fresh_ip, ident, token, trusted  # noqa: F401

# Answers allowed to carry a client secret: creation and rotation.
_SECRET_ANSWERS = (re.compile(r'^POST /api/v1/clients$'),
                   re.compile(r'^POST /api/v1/clients/[^/]+/secret$'))
SECRETS: set[str] = set()


def _json_or_none(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return None


def _has_key(doc, key: str) -> bool:
    if isinstance(doc, dict):
        return key in doc or any(_has_key(v, key) for v in doc.values())
    if isinstance(doc, list):
        return any(_has_key(v, key) for v in doc)
    return False


def _check_secret_rule(resp, *args, **kwargs):  # noqa: ARG001 (requests hook signature)
    body = resp.content.decode('utf-8', 'replace')
    where = f'{resp.request.method} {urllib.parse.urlsplit(resp.request.url).path}'
    assert '$argon2' not in body, f'{where} answered a secret hash'
    assert 'secret_hash' not in body, f'{where} answered a secret hash field'
    allowed = resp.status_code in (200, 201) and any(p.match(where) for p in _SECRET_ANSWERS)
    if allowed:
        doc = json.loads(body)
        SECRETS.add(doc['client_secret'])
        return
    assert not _has_key(_json_or_none(body), 'client_secret'), \
        f'{where} ({resp.status_code}) answered a client_secret'
    for s in SECRETS:
        assert s not in body, f'{where} ({resp.status_code}) answered a secret'


@pytest.fixture(scope='module', autouse=True)
def _no_secret_leaks(ident):  # noqa: F811
    ident.session.hooks['response'].append(_check_secret_rule)
    yield
    ident.session.hooks['response'].remove(_check_secret_rule)


@pytest.fixture(scope='module')
def sysadmin(minter) -> str:
    return trusted(minter, 'test-system-admin', ['system_admin'])


def _agency() -> str:
    return f'CL.{unique_suffix(8)}'


def new_client(ident, sysadmin, scopes=('dossier.read',), agency=None, name='Hệ thống thử'):  # noqa: F811
    body = {'name': name, 'scopes': list(scopes)}
    if agency is not None:
        body['agency'] = agency
    r = ident.post(f'{API}/clients', token=sysadmin, json=body, expect=201)
    return r


def grant(ident, client_id, secret, ip=None, **extra):  # noqa: F811
    return token(ident, {'grant_type': 'client_credentials', 'client_id': client_id,
                         'client_secret': secret, **extra}, ip or fresh_ip())


def basic(client_id: str, secret: str) -> str:
    raw = f'{urllib.parse.quote_plus(client_id)}:{urllib.parse.quote_plus(secret)}'
    return 'Basic ' + base64.b64encode(raw.encode()).decode()


READ_FIELDS = {'client_id', 'name', 'scopes', 'disabled', 'created_at', 'updated_at', 'revision'}


# ---------------------------------------------------------------------------
# Reading

def test_create_answers_location_and_etag_and_get_matches(ident, sysadmin):  # noqa: F811
    agency = _agency()
    r = new_client(ident, sysadmin, ('dossier.read', 'dossier.write'), agency)
    created = r.doc
    cid = created['client_id']
    assert re.fullmatch(r'cl_[A-Za-z0-9_-]{16}', cid)
    assert r.headers['Cache-Control'] == 'no-store'
    assert r.headers['Location'] == f'{API}/clients/{cid}'
    assert r.headers['ETag'] == '"c1"'
    assert created['revision'] == 1 and created['disabled'] is False and created['agency'] == agency

    got = ident.get(r.headers['Location'], token=sysadmin, expect=200)
    assert got.headers['ETag'] == r.headers['ETag']
    assert got.doc == {k: v for k, v in created.items() if k != 'client_secret'}
    assert READ_FIELDS <= set(got.doc) and got.doc['secret_rotated_at'] is None
    # If-None-Match: 304 without a body
    again = ident.get(f'{API}/clients/{cid}', token=sysadmin,
                      headers={'If-None-Match': got.headers['ETag']}, expect=304)
    assert again.content == b''
    # a client without agency: the member is there, null (README, API conventions)
    plain = new_client(ident, sysadmin).doc
    assert 'agency' in plain and plain['agency'] is None


def test_list_paginates_and_filters_by_agency(ident, sysadmin, api):  # noqa: F811
    agency = _agency()
    ids = sorted(new_client(ident, sysadmin, agency=agency).doc['client_id'] for _ in range(5))
    seen, cursor, pages = [], None, 0
    while True:
        params = {'agency': agency, 'limit': 2}
        if cursor:
            params['cursor'] = cursor
        page = ident.get(f'{API}/clients', token=sysadmin, params=params, expect=200).doc
        pages += 1
        assert len(page['items']) <= 2
        for item in page['items']:
            assert READ_FIELDS <= set(item) and item['agency'] == agency
        seen += [c['client_id'] for c in page['items']]
        cursor = page['next_cursor']
        if cursor is None:
            break
    assert seen == ids and pages == 3
    # Unfiltered: every client, ordered by client_id
    first = ident.get(f'{API}/clients', token=sysadmin, params={'limit': 100}, expect=200).doc
    listed = [c['client_id'] for c in first['items']]
    assert listed == sorted(listed)
    # An agency without clients: an empty page
    empty = ident.get(f'{API}/clients', token=sysadmin, params={'agency': _agency()}, expect=200).doc
    assert empty == {'items': [], 'next_cursor': None}
    # Bad paging parameters are 400 with the parameter named
    for params, name in (({'limit': 0}, 'limit'), ({'limit': 101}, 'limit'),
                         ({'cursor': 'not-a-cursor'}, 'cursor'),
                         ({'agency': 'x' * 33}, 'agency')):
        doc = assert_problem(ident.get(f'{API}/clients', token=sysadmin, params=params), 400,
                             'request.bad_query')
        assert name in error_parameters(doc), doc
    # Through the gateway too
    r = api.get(f'{API}/clients', token=sysadmin, params={'agency': agency, 'limit': 1}, expect=200)
    assert [c['client_id'] for c in r.doc['items']] == ids[:1]


def test_list_has_an_etag_and_refuses_a_foreign_cursor(ident, sysadmin):  # noqa: F811
    """Lists answer like every list (common's mc_reply_page): an ETag of the
    page, 304 for If-None-Match with it, and a cursor that decodes but names
    no client id is the documented invalid_cursor problem."""
    agency = _agency()
    new_client(ident, sysadmin, agency=agency)
    params = {'agency': agency}
    first = ident.get(f'{API}/clients', token=sysadmin, params=params, expect=200)
    etag = first.headers['ETag']
    again = ident.get(f'{API}/clients', token=sysadmin, params=params,
                      headers={'If-None-Match': etag}, expect=304)
    assert again.content == b''
    new_client(ident, sysadmin, agency=agency)
    changed = ident.get(f'{API}/clients', token=sysadmin, params=params,
                        headers={'If-None-Match': etag}, expect=200)
    assert changed.headers['ETag'] != etag and len(changed.doc['items']) == 2
    foreign = base64.urlsafe_b64encode(json.dumps(['no such id!']).encode()).decode().rstrip('=')
    doc = assert_problem(ident.get(f'{API}/clients', token=sysadmin, params={'cursor': foreign}),
                         400, 'request.bad_query')
    assert [e['code'] for e in doc['errors'] if e.get('parameter') == 'cursor'] == \
        ['invalid_cursor'], doc


def test_unknown_client_is_404(ident, sysadmin):  # noqa: F811
    for cid in ('cl_doesnotexist0000', 'a%20b', 'x' * 65, 'cl%2Fx'):
        assert_problem(ident.get(f'{API}/clients/{cid}', token=sysadmin), 404,
                       'identity.client_not_found')
        assert_problem(ident.patch(f'{API}/clients/{cid}', token=sysadmin, json={'disabled': True},
                                   headers={'If-Match': '"c1"'}), 404, 'identity.client_not_found')
        assert_problem(ident.post(f'{API}/clients/{cid}/secret', token=sysadmin), 404,
                       'identity.client_not_found')
    # 404 comes before the missing If-Match (nothing to be precondition of)
    assert_problem(ident.patch(f'{API}/clients/cl_doesnotexist0000', token=sysadmin,
                               json={'disabled': True}), 404, 'identity.client_not_found')


# ---------------------------------------------------------------------------
# Changing

def test_patch_needs_if_match(ident, sysadmin):  # noqa: F811
    cid = new_client(ident, sysadmin).doc['client_id']
    url = f'{API}/clients/{cid}'
    etag = ident.get(url, token=sysadmin, expect=200).headers['ETag']
    assert_problem(ident.patch(url, token=sysadmin, json={'name': 'Khác'}), 428,
                   'http.precondition_required')
    r = ident.patch(url, token=sysadmin, json={'name': 'Cổng tích hợp'}, headers={'If-Match': etag},
                    expect=200)
    assert r.doc['name'] == 'Cổng tích hợp' and r.doc['revision'] == 2
    assert r.headers['ETag'] == '"c2"' != etag
    # stale, foreign or weak tags never match
    for stale in (etag, '"s2"', 'W/"c2"', '"c2', 'c2', '"c-1"'):
        assert_problem(ident.patch(url, token=sysadmin, json={'disabled': True},
                                   headers={'If-Match': stale}), 412, 'http.precondition_failed')
    # the 412s changed nothing
    got = ident.get(url, token=sysadmin, expect=200)
    assert got.doc['disabled'] is False and got.headers['ETag'] == '"c2"'
    # "*" matches any revision
    r = ident.patch(url, token=sysadmin, json={'scopes': ['a', 'b:c']}, headers={'If-Match': '*'},
                    expect=200)
    assert r.doc['scopes'] == ['a', 'b:c'] and r.headers['ETag'] == '"c3"'
    assert ident.get(url, token=sysadmin, expect=200).doc == r.doc


@pytest.mark.parametrize('body, pointers', [
    ({}, {''}),
    ({'disabled': 'yes'}, {'/disabled'}),
    ({'disabled': None}, {'/disabled'}),
    ({'name': ''}, {'/name'}),
    ({'name': 'x' * 201}, {'/name'}),
    ({'name': None}, {'/name'}),
    ({'scopes': []}, {'/scopes'}),
    ({'scopes': 'dossier.read'}, {'/scopes'}),
    ({'scopes': ['a b', 'x', 'x', '']}, {'/scopes/0', '/scopes/2', '/scopes/3'}),
    ({'scopes': [f's{i}' for i in range(9)]}, {'/scopes'}),
    ({'agency': 'T1.01'}, {'/agency'}),
    ({'client_secret': 'mine'}, {'/client_secret'}),
    ({'disabled': True, 'revision': 3}, {'/revision'}),
])
def test_patch_validation(ident, sysadmin, body, pointers):  # noqa: F811
    cid = new_client(ident, sysadmin).doc['client_id']
    # validation comes first: with or without If-Match the answer is 422
    for headers in ({}, {'If-Match': '"c1"'}):
        r = ident.patch(f'{API}/clients/{cid}', token=sysadmin, json=body, headers=headers)
        doc = assert_problem(r, 422, 'request.validation_failed')
        assert pointers <= error_pointers(doc), doc
    assert ident.get(f'{API}/clients/{cid}', token=sysadmin, expect=200).headers['ETag'] == '"c1"'


def test_patch_body_must_be_a_json_object(ident, sysadmin):  # noqa: F811
    cid = new_client(ident, sysadmin).doc['client_id']
    url = f'{API}/clients/{cid}'
    r = ident.patch(url, token=sysadmin, data='{"disabled": true, "disabled": false}',
                    headers={'Content-Type': 'application/json', 'If-Match': '"c1"'})
    assert_problem(r, 400)
    r = ident.patch(url, token=sysadmin, data='disabled=true',
                    headers={'Content-Type': 'application/x-www-form-urlencoded', 'If-Match': '"c1"'})
    assert_problem(r, 415)
    doc = assert_problem(ident.patch(url, token=sysadmin, json=[True], headers={'If-Match': '"c1"'}),
                         422)
    assert '' in error_pointers(doc)


def test_disabled_client_cannot_get_a_token(ident, sysadmin):  # noqa: F811
    created = new_client(ident, sysadmin, ('dossier.read', 'dossier.write'), _agency()).doc
    cid, secret = created['client_id'], created['client_secret']
    url = f'{API}/clients/{cid}'
    ip = fresh_ip()
    grant(ident, cid, secret, ip).raise_for_status()
    wrong = grant(ident, cid, secret + 'x', ip)
    assert_problem(wrong, 401, 'identity.invalid_client')

    r = ident.patch(url, token=sysadmin, json={'disabled': True}, headers={'If-Match': '"c1"'},
                    expect=200)
    assert r.doc['disabled'] is True
    disabled = grant(ident, cid, secret, ip)
    doc = assert_problem(disabled, 401, 'identity.invalid_client')
    # exactly the answer of a wrong secret (nothing tells a disabled client apart)
    assert disabled.headers['WWW-Authenticate'] == wrong.headers['WWW-Authenticate'] \
        == 'Basic realm="motcua"'
    wrong_doc = wrong.json()
    for k in ('type', 'title', 'status', 'detail', 'code'):
        assert doc.get(k) == wrong_doc.get(k), k
    # with HTTP Basic too
    r = ident.post(f'{API}/auth/token', data={'grant_type': 'client_credentials'},
                   headers={'X-Real-IP': ip, 'Authorization': basic(cid, secret)}, retry_429=False)
    assert_problem(r, 401, 'identity.invalid_client')
    # listed and read as disabled
    assert ident.get(url, token=sysadmin, expect=200).doc['disabled'] is True

    # enabled again: the same secret works again
    ident.patch(url, token=sysadmin, json={'disabled': False}, headers={'If-Match': '"c2"'},
                expect=200)
    got = grant(ident, cid, secret, fresh_ip())
    assert got.status_code == 200, got.content
    assert jwt_parts(got.json()['access_token'])[1]['sub'] == cid


def test_scope_change_applies_to_the_next_token(ident, sysadmin):  # noqa: F811
    created = new_client(ident, sysadmin, ('dossier.read', 'dossier.write')).doc
    cid, secret = created['client_id'], created['client_secret']
    ip = fresh_ip()
    ident.patch(f'{API}/clients/{cid}', token=sysadmin, json={'scopes': ['payment.read']},
                headers={'If-Match': '"c1"'}, expect=200)
    got = grant(ident, cid, secret, ip)
    assert got.status_code == 200, got.content
    assert got.json()['scope'] == 'payment.read'
    assert jwt_parts(got.json()['access_token'])[1]['scope'] == 'payment.read'
    assert_problem(grant(ident, cid, secret, ip, scope='dossier.read'), 400, 'identity.invalid_scope')


def test_rotate_secret(ident, sysadmin):  # noqa: F811
    created = new_client(ident, sysadmin).doc
    cid, old = created['client_id'], created['client_secret']
    url = f'{API}/clients/{cid}'
    ip = fresh_ip()
    assert grant(ident, cid, old, ip).status_code == 200
    # a stale If-Match is refused and changes nothing
    assert_problem(ident.post(f'{url}/secret', token=sysadmin, headers={'If-Match': '"c7"'}), 412,
                   'http.precondition_failed')
    assert grant(ident, cid, old, ip).status_code == 200
    # without If-Match: rotated
    r = ident.post(f'{url}/secret', token=sysadmin, expect=200)
    new = r.doc['client_secret']
    assert new != old and len(new) == 43
    assert r.headers['Cache-Control'] == 'no-store' and r.headers['ETag'] == '"c2"'
    assert r.doc['revision'] == 2 and r.doc['secret_rotated_at'] is not None
    assert_problem(grant(ident, cid, old, ip), 401, 'identity.invalid_client')
    assert grant(ident, cid, new, ip).status_code == 200
    # with a matching If-Match
    r = ident.post(f'{url}/secret', token=sysadmin, headers={'If-Match': '"c2"'}, expect=200)
    assert r.doc['client_secret'] not in (old, new)
    got = ident.get(url, token=sysadmin, expect=200).doc
    assert got['revision'] == 3 and 'client_secret' not in got


# ---------------------------------------------------------------------------
# Who may

def test_only_system_admin_manages_clients(ident, sysadmin, minter):  # noqa: F811
    created = new_client(ident, sysadmin, agency='T1.01').doc
    cid = created['client_id']
    others = {
        'citizen': trusted(minter, 'test-citizen-clients', ['citizen']),
        'officer': trusted(minter, 'test-officer-clients', ['officer', 'approver'], agency='T1.01'),
        'agency_admin': trusted(minter, 'test-agency-admin-clients', ['agency_admin'], agency='T1.01'),
        'auditor': trusted(minter, 'test-auditor-clients', ['auditor']),
    }
    for tok in others.values():
        for r in (ident.get(f'{API}/clients', token=tok),
                  ident.get(f'{API}/clients', token=tok, params={'agency': 'T1.01'}),
                  ident.get(f'{API}/clients/{cid}', token=tok),
                  ident.get(f'{API}/clients/cl_doesnotexist0000', token=tok),
                  ident.patch(f'{API}/clients/{cid}', token=tok, json={'disabled': True},
                              headers={'If-Match': '"c1"'}),
                  ident.post(f'{API}/clients/{cid}/secret', token=tok),
                  ident.post(f'{API}/clients', token=tok, json={'name': 'x', 'scopes': ['a']})):
            assert_problem(r, 403, 'auth.forbidden')
    # a machine client itself neither
    tok = grant(ident, cid, created['client_secret']).json()['access_token']
    assert_problem(ident.get(f'{API}/clients', token=tok), 403, 'auth.forbidden')
    # no token: 401
    assert_problem(ident.get(f'{API}/clients'), 401, 'auth.unauthenticated')
    assert_problem(ident.get(f'{API}/clients/{cid}'), 401, 'auth.unauthenticated')
    # nothing changed
    got = ident.get(f'{API}/clients/{cid}', token=sysadmin, expect=200)
    assert got.headers['ETag'] == '"c1"' and got.doc['disabled'] is False


# ---------------------------------------------------------------------------
# Secrets and the audit trail

def test_secret_only_in_creation_and_rotation(ident, sysadmin):  # noqa: F811
    """The module's response hook checks every answer; this walks every
    endpoint once with a known secret so the rule is exercised on each."""
    created = new_client(ident, sysadmin, agency=_agency())
    cid, first = created.doc['client_id'], created.doc['client_secret']
    assert first in SECRETS
    rotated = ident.post(f'{API}/clients/{cid}/secret', token=sysadmin, expect=200).doc
    assert rotated['client_secret'] in SECRETS
    url = f'{API}/clients/{cid}'
    bodies = [
        ident.get(f'{API}/clients', token=sysadmin, params={'agency': created.doc['agency']},
                  expect=200).content,
        ident.get(url, token=sysadmin, expect=200).content,
        ident.patch(url, token=sysadmin, json={'disabled': True}, headers={'If-Match': '"c2"'},
                    expect=200).content,
        ident.patch(url, token=sysadmin, json={'disabled': False}, headers={'If-Match': '"c2"'}).content,
        ident.patch(url, token=sysadmin, json={'bad': 1}).content,
    ]
    for body in bodies:
        text = body.decode()
        assert not _has_key(json.loads(text), 'client_secret') and '$argon2' not in text
        assert first not in text and rotated['client_secret'] not in text


def _psql(sql: str) -> str:
    port = os.environ.get('MOTCUA_TEST_PG_PORT', '').strip()
    local = os.environ.get('MOTCUA_TEST_LOCAL_DIR', '').strip()
    secret = os.path.join(local, 'secrets', 'identity.password')
    if not port or not local or not os.path.exists(secret):
        pytest.skip('MOTCUA_TEST_PG_PORT and MOTCUA_TEST_LOCAL_DIR are needed to read the audit table')
    password = open(secret, encoding='utf-8').read().strip()
    conninfo = f'host=127.0.0.1 port={port} dbname=motcua user=motcua_identity password={password}'
    return subprocess.run(['psql', conninfo, '-v', 'ON_ERROR_STOP=1', '-AtF', '|', '-c', sql],
                          check=True, capture_output=True, text=True).stdout


def test_changes_are_audited(ident, sysadmin):  # noqa: F811
    created = new_client(ident, sysadmin, ('a', 'b')).doc
    cid = created['client_id']
    url = f'{API}/clients/{cid}'
    ip = fresh_ip()
    ident.patch(url, token=sysadmin, json={'disabled': True, 'scopes': ['a'], 'name': 'Mới'},
                headers={'If-Match': '"c1"', 'X-Real-IP': ip}, expect=200)
    # a refused write audits nothing
    assert_problem(ident.patch(url, token=sysadmin, json={'disabled': False},
                               headers={'If-Match': '"c1"'}), 412)
    ident.post(f'{url}/secret', token=sysadmin, expect=200)
    # PATCH that changes nothing still bumps the revision but audits nothing
    ident.patch(url, token=sysadmin, json={'disabled': True}, headers={'If-Match': '"c3"'},
                expect=200)
    out = _psql("SELECT action, actor, coalesce(client_address, ''), detail::text"
                " FROM identity.audit_events WHERE detail->>'client_id' = "
                f"'{cid}' ORDER BY id")
    rows = [line.split('|', 3) for line in out.splitlines()]
    actions = [r[0] for r in rows]
    assert actions == ['client_created', 'client_scopes_changed', 'client_renamed',
                       'client_disabled', 'client_secret_rotated'], rows
    assert all(r[1] == 'account:test-system-admin' for r in rows), rows
    assert rows[1][2] == ip
    scopes = json.loads(rows[1][3])
    assert scopes['from'] == ['a', 'b'] and scopes['to'] == ['a']
    assert created['client_secret'] not in out and '$argon2' not in out
