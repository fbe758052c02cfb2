"""API tests of the identity service's bootstrap administrator
(docs/services/identity.md, "Bootstrap administrator").

The stack's identity service is started with MOTCUA_IDENTITY_BOOTSTRAP_ADMIN_USERNAME
and _PASSWORD_FILE (deploy/local/lib.sh); tests/run passes the same account to the tests
as MOTCUA_TEST_ADMIN_USERNAME / MOTCUA_TEST_ADMIN_PASSWORD_FILE. The last tests run the
identity binary by itself (next to MOTCUA_TOKEN_BIN's build tree) to check that bad
settings stop the start and that a database which is not there yet does not.
"""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time

import pytest

from motcua_api import assert_problem, jwt_parts
from test_identity_service import API, fresh_ip, ident, token  # noqa: F401 (ident is a fixture)

UUID_RE = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')


def _admin_id(tokens) -> str:
    return jwt_parts(tokens.system_admin)[1]['sub']


def test_bootstrap_admin_signs_in_as_system_admin_without_agency(api, admin_credentials):
    username, password = admin_credentials
    r = api.post(f'{API}/auth/token', expect=200,
                 data={'grant_type': 'password', 'username': username, 'password': password})
    claims = jwt_parts(r.doc['access_token'])[1]
    assert claims['roles'] == ['system_admin'] and 'agency' not in claims
    assert UUID_RE.match(claims['sub']) and claims['iss'] == 'motcua-identity'
    assert len(r.doc['refresh_token']) == 43


def test_bootstrap_admin_is_staff_of_no_agency(ident, tokens, departments):
    admin_id = _admin_id(tokens)
    r = ident.get(f'{API}/staff/{admin_id}', token=tokens.system_admin, expect=200)
    assert r.doc['kind'] == 'staff' and r.doc['roles'] == ['system_admin']
    # every member is present, null when empty (README, API conventions)
    assert r.doc['agency'] is None and not r.doc['disabled']
    assert r.doc['personal_id'] is None and r.doc['phone'] is None and r.doc['date_of_birth'] is None
    # an agency_admin neither reads it nor changes it, nor finds it in their list
    agency_admin = tokens.agency_admin(departments[0])
    assert_problem(ident.get(f'{API}/staff/{admin_id}', token=agency_admin), 403, 'auth.forbidden')
    assert_problem(ident.patch(f'{API}/staff/{admin_id}', token=agency_admin, json={'disabled': True},
                               headers={'If-Match': r.headers['ETag']}), 403, 'auth.forbidden')
    listed = ident.get(f'{API}/staff', token=agency_admin, params={'limit': 100}, expect=200).doc
    assert admin_id not in {s['id'] for s in listed['items']}
    # an account of no agency cannot be given agency roles only (the database refuses)
    r2 = ident.patch(f'{API}/staff/{admin_id}', token=tokens.system_admin, json={'roles': ['officer']},
                     headers={'If-Match': r.headers['ETag']})
    assert_problem(r2, 409, 'resource.conflict')
    after = ident.get(f'{API}/staff/{admin_id}', token=tokens.system_admin, expect=200)
    assert after.doc['roles'] == ['system_admin'] and after.headers['ETag'] == r.headers['ETag']


def test_bootstrap_admin_sign_in_failure_is_the_usual_answer(ident, admin_credentials):
    username, _ = admin_credentials
    r = token(ident, {'grant_type': 'password', 'username': username, 'password': 'not-the-password'},
              fresh_ip())
    assert_problem(r, 400, 'identity.invalid_grant')


def test_bootstrap_admin_created_once_and_audited(tokens):
    port = os.environ.get('MOTCUA_TEST_PG_PORT', '').strip()
    local = os.environ.get('MOTCUA_TEST_LOCAL_DIR', '').strip()
    secret = os.path.join(local, 'secrets', 'identity.password')
    if not port or not local or not os.path.exists(secret):
        pytest.skip('MOTCUA_TEST_PG_PORT and MOTCUA_TEST_LOCAL_DIR are needed to read the audit table')
    password = open(secret, encoding='utf-8').read().strip()
    conninfo = f'host=127.0.0.1 port={port} dbname=motcua user=motcua_identity password={password}'
    admin_id = _admin_id(tokens)
    out = subprocess.run(['psql', conninfo, '-v', 'ON_ERROR_STOP=1', '-AtF', '|', '-c',
                          "SELECT action, actor, coalesce(client_address, ''), detail::text"
                          f" FROM identity.audit_events WHERE subject = '{admin_id}'"
                          " AND action = 'staff_created'"],
                         check=True, capture_output=True, text=True).stdout
    rows = [line.split('|') for line in out.splitlines()]
    # however often the service was restarted: one creation, by the bootstrap
    assert len(rows) == 1, rows
    action, actor, address, detail = rows[0]
    assert actor == 'system:bootstrap' and address == ''
    assert '"bootstrap"' in detail and 'system_admin' in detail


# ---------------------------------------------------------------------------
# The binary by itself: settings checked at start

@pytest.fixture(scope='module')
def identity_bin() -> str:
    token_bin = os.environ.get('MOTCUA_TOKEN_BIN', '').strip()
    path = os.path.join(os.path.dirname(os.path.dirname(token_bin)), 'services', 'identity',
                        'motcua-identity') if token_bin else ''
    if not path or not os.access(path, os.X_OK):
        pytest.skip('MOTCUA_TOKEN_BIN does not point into a build tree with motcua-identity')
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _env(private_key_path, public_key_path, **extra) -> dict:
    env = {
        'PATH': '/usr/bin:/bin',
        # nothing listens on port 1: the database is "not there yet"
        'MOTCUA_IDENTITY_DATABASE_URL': 'host=127.0.0.1 port=1 dbname=motcua user=x connect_timeout=1',
        'MOTCUA_IDENTITY_MIGRATE_ON_START': '0',
        'MOTCUA_IDENTITY_LISTEN_ADDRESS': '127.0.0.1',
        'MOTCUA_IDENTITY_PORT': str(_free_port()),
        'MOTCUA_IDENTITY_JWT_PRIVATE_KEY_FILE': private_key_path,
        'MOTCUA_IDENTITY_JWT_KEY_ID': 'dev-1',
        'MOTCUA_JWT_PUBLIC_KEY_FILE': public_key_path,
        'MOTCUA_IDENTITY_HTTP_THREADS': '2',
        'MOTCUA_IDENTITY_DB_POOL_SIZE': '2',
    }
    env.update({k: v for k, v in extra.items() if v is not None})
    return env


BAD_PASSWORDS = {
    'too short': ('ngan-qua', 'too_short'),
    'all digits': ('12345678901234', 'all_digits'),
    'contains the username': ('x-quan.tri.khoi.tao-x', 'contains_username'),
}


@pytest.mark.parametrize('case', sorted(BAD_PASSWORDS))
def test_a_bad_bootstrap_password_stops_the_start(identity_bin, private_key_path, public_key_path,
                                                  tmp_path, case):
    password, code = BAD_PASSWORDS[case]
    pw = tmp_path / 'pw'
    pw.write_text(password + '\n')
    env = _env(private_key_path, public_key_path,
               MOTCUA_IDENTITY_BOOTSTRAP_ADMIN_USERNAME='quan.tri.khoi.tao',
               MOTCUA_IDENTITY_BOOTSTRAP_ADMIN_PASSWORD_FILE=str(pw))
    p = subprocess.run([identity_bin, 'serve'], env=env, capture_output=True, text=True, timeout=30)
    log = p.stdout + p.stderr
    assert p.returncode != 0, log
    assert code in log and 'server.started' not in log
    assert password not in log


@pytest.mark.parametrize('username,file', [
    ('quan.tri', None),                  # a username without a password file
    (None, 'EXISTS'),                    # a password file without a username
    ('Quan Tri', 'EXISTS'),              # not a staff username
    ('quan.tri', 'MISSING'),             # an unreadable file
    ('quan.tri', 'EMPTY'),               # an empty file
])
def test_incomplete_bootstrap_settings_stop_the_start(identity_bin, private_key_path, public_key_path,
                                                      tmp_path, username, file):
    path = None
    if file == 'EXISTS':
        path = tmp_path / 'pw'
        path.write_text('mat-khau-du-dai-2025')
    elif file == 'EMPTY':
        path = tmp_path / 'pw'
        path.write_text('\n')
    elif file == 'MISSING':
        path = tmp_path / 'nothing-here'
    env = _env(private_key_path, public_key_path, MOTCUA_IDENTITY_BOOTSTRAP_ADMIN_USERNAME=username,
               MOTCUA_IDENTITY_BOOTSTRAP_ADMIN_PASSWORD_FILE=str(path) if path else None)
    p = subprocess.run([identity_bin, 'serve'], env=env, capture_output=True, text=True, timeout=30)
    log = p.stdout + p.stderr
    assert p.returncode != 0 and 'config.invalid' in log and 'server.started' not in log, log


def test_a_database_not_there_yet_defers_the_bootstrap(identity_bin, private_key_path, public_key_path,
                                                       tmp_path):
    """With MIGRATE_ON_START=0 the database may be down at start: the service starts
    anyway (like every service), creates the administrator once it can, and stops
    cleanly on SIGTERM while still waiting."""
    pw = tmp_path / 'pw'
    pw.write_text('mat-khau-du-dai-2025')
    env = _env(private_key_path, public_key_path,
               MOTCUA_IDENTITY_BOOTSTRAP_ADMIN_USERNAME='quan.tri',
               MOTCUA_IDENTITY_BOOTSTRAP_ADMIN_PASSWORD_FILE=str(pw))
    log_path = tmp_path / 'log'
    with open(log_path, 'w') as log_file:
        p = subprocess.Popen([identity_bin, 'serve'], env=env, stdout=log_file, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and 'server.started' not in log_path.read_text():
                assert p.poll() is None, log_path.read_text()
                time.sleep(0.1)
            p.send_signal(signal.SIGTERM)
            assert p.wait(timeout=15) == 0
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
    log = log_path.read_text()
    assert 'server.started' in log and 'server.stopped' in log, log
    assert 'the bootstrap administrator is created once it is' in log
    assert 'mat-khau-du-dai-2025' not in log and 'quan.tri' not in log
