"""API tests of the identity service's client authentication and administration:
HTTP Basic client authentication on the token endpoint, GET /staff/{id} with
If-Match on PATCH, listing and disabling clients, and rehashing passwords on
sign-in (docs/services/identity.md). Skipped like test_identity_service.py when
MOTCUA_TEST_SERVICE_URL_IDENTITY is not set; every response is checked against
api-spec/identity.yaml.
"""
from __future__ import annotations

import base64
import os
import subprocess
import urllib.parse

import pytest

from motcua_api import assert_problem, jwt_parts
from test_identity_service import (API, PASSWORD, fresh_ip, ident, register, sign_in,  # noqa: F401
                                   token, trusted)


def _pg(sql: str) -> str:
    port = os.environ.get('MOTCUA_TEST_PG_PORT', '').strip()
    local = os.environ.get('MOTCUA_TEST_LOCAL_DIR', '').strip()
    secret = os.path.join(local, 'secrets', 'identity.password')
    if not port or not local or not os.path.exists(secret):
        pytest.skip('MOTCUA_TEST_PG_PORT and MOTCUA_TEST_LOCAL_DIR are needed to reach the database')
    password = open(secret, encoding='utf-8').read().strip()
    conninfo = f'host=127.0.0.1 port={port} dbname=motcua user=motcua_identity password={password}'
    return subprocess.run(['psql', conninfo, '-v', 'ON_ERROR_STOP=1', '-Atqc', sql], check=True,
                          capture_output=True, text=True).stdout.strip()


def new_client(ident, minter, scopes=('dossier.read',)) -> tuple[str, str]:
    sysadmin = trusted(minter, 'test-system-admin', ['system_admin'])
    r = ident.post(f'{API}/clients', token=sysadmin, expect=201,
                   json={'name': 'Hệ thống thử', 'scopes': list(scopes)})
    return r.doc['client_id'], r.doc['client_secret']


def basic(client_id: str, secret: str) -> str:
    raw = f'{urllib.parse.quote_plus(client_id)}:{urllib.parse.quote_plus(secret)}'
    return 'Basic ' + base64.b64encode(raw.encode()).decode()


def token_with(ident, form: dict, authorization: str, ip: str | None = None, *, as_json=False,
               expect=None):
    kw = {'json': form} if as_json else {'data': form}
    return ident.post(f'{API}/auth/token', headers={'X-Real-IP': ip or fresh_ip(),
                                                    'Authorization': authorization},
                      retry_429=False, expect=expect, **kw)


# ---------------------------------------------------------------------------
# 1. HTTP Basic client authentication

def test_basic_client_authentication(ident, minter):
    client_id, secret = new_client(ident, minter, ('dossier.read', 'dossier.write'))
    got = token_with(ident, {'grant_type': 'client_credentials'}, basic(client_id, secret),
                     expect=200).doc
    claims = jwt_parts(got['access_token'])[1]
    assert claims['sub'] == client_id and claims['roles'] == ['service']
    assert 'refresh_token' not in got and got['scope'] == 'dossier.read dossier.write'
    # the scheme name is case-insensitive; scope still applies; JSON bodies too
    got = token_with(ident, {'grant_type': 'client_credentials', 'scope': 'dossier.read'},
                     'basic ' + basic(client_id, secret)[6:], as_json=True, expect=200).doc
    assert got['scope'] == 'dossier.read'
    assert_problem(token_with(ident, {'grant_type': 'client_credentials', 'scope': 'admin'},
                              basic(client_id, secret)), 400, 'identity.invalid_scope')


def test_basic_with_body_credentials_is_invalid_request(ident, minter):
    client_id, secret = new_client(ident, minter)
    for extra in ({'client_id': client_id}, {'client_secret': secret},
                  {'client_id': client_id, 'client_secret': secret}):
        r = token_with(ident, {'grant_type': 'client_credentials', **extra}, basic(client_id, secret))
        assert_problem(r, 400, 'identity.invalid_request')


@pytest.mark.parametrize('header', [
    'Basic',
    'Basic ',
    'Basic !!!!',
    'Basic ' + base64.b64encode(b'no-colon').decode(),
    'Basic ' + base64.b64encode(b':secret').decode(),
    'Basic ' + base64.b64encode(b'cl_x:').decode(),
    'Basic ' + base64.b64encode(b'cl_x:secret').decode().rstrip('='),   # padding removed
    'Basic ' + base64.b64encode(b'cl_x:secret').decode() + '\t',
    'Basic  ' + base64.b64encode(b'cl_x:secret').decode(),             # two spaces
    'Basic ' + base64.urlsafe_b64encode(b'cl_x:s\xfb\xff').decode(),     # base64url alphabet
    'Basic ' + base64.b64encode(b'cl_x:a%00b').decode(),                 # escaped NUL
    'Basic ' + base64.b64encode(b'cl_x:a%zzb').decode(),                 # bad escape
    'Basic ' + base64.b64encode(b'cl_x:\xff\xfe').decode(),              # not UTF-8
    'Basic ' + base64.b64encode(b'cl_x:ab').decode()[:-2] + 'c=',        # non-zero pad bits
])
def test_bad_basic_header_is_invalid_client(ident, header):
    r = token_with(ident, {'grant_type': 'client_credentials'}, header)
    assert_problem(r, 401, 'identity.invalid_client')
    assert r.headers['WWW-Authenticate'] == 'Basic realm="motcua"'


def test_wrong_basic_credentials(ident, minter):
    client_id, secret = new_client(ident, minter)
    ip = fresh_ip()
    for header in (basic(client_id, secret + 'x'), basic('cl_unknown', secret)):
        r = token_with(ident, {'grant_type': 'client_credentials'}, header, ip)
        assert_problem(r, 401, 'identity.invalid_client')
        assert r.headers['WWW-Authenticate'] == 'Basic realm="motcua"'
    # body credentials that are wrong get the same challenge
    r = token(ident, {'grant_type': 'client_credentials', 'client_id': client_id,
                      'client_secret': 'nope'}, ip)
    assert_problem(r, 401, 'identity.invalid_client')
    assert r.headers['WWW-Authenticate'] == 'Basic realm="motcua"'


def test_urlencoded_basic_credentials(ident, minter):
    """RFC 6749 §2.3.1: both parts are form-urlencoded before base64; '+' is a space."""
    client_id, secret = new_client(ident, minter)
    raw = f'{client_id}:{urllib.parse.quote(secret, safe="")}'.replace('-', '%2D')
    r = token_with(ident, {'grant_type': 'client_credentials'},
                   'Basic ' + base64.b64encode(raw.encode()).decode(), expect=200)
    assert jwt_parts(r.doc['access_token'])[1]['sub'] == client_id


def test_authorization_header_on_account_grants(ident, minter):
    person = register(ident)
    # A Bearer token (even an invalid one) is ignored by the password and refresh grants.
    for bearer in ('Bearer not-a-token', f'Bearer {trusted(minter, "someone", ["citizen"])}'):
        r = token_with(ident, {'grant_type': 'password', 'username': person['personal_id'],
                               'password': PASSWORD}, bearer, expect=200)
        token_with(ident, {'grant_type': 'refresh_token', 'refresh_token': r.doc['refresh_token']},
                   bearer, expect=200)
    # Basic client authentication is only for the client_credentials grant.
    client_id, secret = new_client(ident, minter)
    r = token_with(ident, {'grant_type': 'password', 'username': person['personal_id'],
                           'password': PASSWORD}, basic(client_id, secret))
    assert_problem(r, 400, 'identity.invalid_request')
