"""Fixtures of the API test-suite.

Environment (set by tests/run):
  MOTCUA_TEST_BASE_URL               the gateway, e.g. http://127.0.0.1:18080
  MOTCUA_TEST_SERVICE_URL_CATALOGUE  the catalogue service's own port (ops endpoints,
                                     checks the gateway would mask)
  MOTCUA_TEST_ADMIN_USERNAME         the identity service's bootstrap system_admin
                                     (default: admin)
  MOTCUA_TEST_ADMIN_PASSWORD_FILE    its password (default: secrets/identity-admin.password
                                     under MOTCUA_TEST_LOCAL_DIR)
  MOTCUA_TOKEN_BIN                   the motcua-token CLI (optional: openssl signs instead)
  MOTCUA_TEST_PRIVATE_KEY            the dev RSA private key the stack trusts; its public
                                     key is dev-public.pem in the same directory (only for
                                     tests that forge tokens on purpose)
  MOTCUA_TEST_CORS_ORIGIN            optional: a web origin the gateway allows
                                     (default http://localhost:3000)
  MOTCUA_TEST_GATEWAY_RATE           optional: requests per second the gateway client
                                     paces itself to (default 25, under the gateway's
                                     30 r/s limit; 0 = no pacing)

Every response obtained through the `api` (gateway) and `svc` (service) clients is
checked against api-spec/*.yaml; see motcua_api.ApiClient for the per-call opt-outs.
Tests that need the live stack are skipped when MOTCUA_TEST_BASE_URL is not set.
"""
from __future__ import annotations

import os
import random
import threading
import time

import pytest
import requests

import motcua_api

from catalogue_data import API, ROOT_AGENCY
from motcua_api import ApiClient, SpecSet, TokenMinter, unique_suffix


_CLIENTS: list[ApiClient] = []


def pytest_terminal_summary(terminalreporter):
    for c in _CLIENTS:
        statuses: dict[int, int] = {}
        for _, _, status in c.log:
            statuses[status] = statuses.get(status, 0) + 1
        summary = ', '.join(f'{k}: {v}' for k, v in sorted(statuses.items()))
        terminalreporter.write_line(f'motcua {c.via} client: {len(c.log)} checked responses ({summary})')


def pytest_collection_modifyitems(session, config, items):
    motcua_api.SESSION['files'] = {os.path.basename(str(item.fspath)) for item in items}


def pytest_deselected(items):
    if items:
        motcua_api.SESSION['deselected'] = True


def pytest_report_header(config):
    return [f'motcua gateway: {os.environ.get("MOTCUA_TEST_BASE_URL", "(unset: live tests skipped)")}',
            f'motcua catalogue: {os.environ.get("MOTCUA_TEST_SERVICE_URL_CATALOGUE", "(unset)")}']


@pytest.fixture(scope='session')
def spec() -> SpecSet:
    return SpecSet()


def _env_url(name: str) -> str:
    value = os.environ.get(name, '').strip()
    if not value:
        pytest.skip(f'{name} is not set (no running stack)')
    return value.rstrip('/')


def _wait_until_up(url: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        try:
            r = requests.get(url, timeout=5)
            if r.status_code < 500:
                return
            last = f'status {r.status_code}'
        except requests.RequestException as e:
            last = repr(e)
        time.sleep(0.5)
    pytest.fail(f'{url} did not come up: {last}')


@pytest.fixture(scope='session')
def base_url() -> str:
    url = _env_url('MOTCUA_TEST_BASE_URL')
    _wait_until_up(f'{url}{API}/sectors?limit=1')
    return url


@pytest.fixture(scope='session')
def service_url() -> str:
    url = _env_url('MOTCUA_TEST_SERVICE_URL_CATALOGUE')
    _wait_until_up(f'{url}/readyz')
    return url


@pytest.fixture(scope='session')
def api(base_url, spec) -> ApiClient:
    """The gateway, every response checked against the spec."""
    rate = float(os.environ.get('MOTCUA_TEST_GATEWAY_RATE', '25'))
    client = ApiClient(base_url, spec, via='gateway', rate=rate, burst=40)
    _CLIENTS.append(client)
    return client


@pytest.fixture(scope='session')
def svc(service_url, spec) -> ApiClient:
    """The catalogue service directly (no nginx), every response checked."""
    client = ApiClient(service_url, spec, via='service')
    _CLIENTS.append(client)
    return client


@pytest.fixture(scope='session')
def private_key_path() -> str:
    path = os.environ.get('MOTCUA_TEST_PRIVATE_KEY', '').strip()
    if not path or not os.path.exists(path):
        pytest.skip('MOTCUA_TEST_PRIVATE_KEY is not set')
    return path


@pytest.fixture(scope='session')
def public_key_path(private_key_path) -> str:
    path = os.path.join(os.path.dirname(private_key_path), 'dev-public.pem')
    if not os.path.exists(path):
        pytest.skip(f'{path} does not exist')
    return path


@pytest.fixture(scope='session')
def minter(private_key_path) -> TokenMinter:
    return TokenMinter(os.environ.get('MOTCUA_TOKEN_BIN', '').strip() or None, private_key_path)


class Account:
    """One account of the identity service and its access token, obtained through the
    gateway's token endpoint (password grant) and renewed (refresh grant, else a new
    sign-in) when less than MARGIN seconds of its 15 minutes are left. A token handed
    out is thus valid for at least MARGIN seconds: enough for one test module."""

    MARGIN = 300

    def __init__(self, api: ApiClient, username: str, password: str):
        self.api = api
        self.username = username
        self.password = password
        self.access: str | None = None
        self.refresh: str | None = None
        self.expires = 0.0
        self.lock = threading.Lock()

    def _grant(self, form: dict) -> bool:
        started = time.monotonic()
        r = self.api.post(f'{API}/auth/token', data=form)
        if r.status_code != 200:
            return False
        self.access, self.refresh = r.doc['access_token'], r.doc.get('refresh_token')
        self.expires = started + r.doc['expires_in']
        return True

    @property
    def token(self) -> str:
        with self.lock:
            if self.access is None or time.monotonic() > self.expires - self.MARGIN:
                if not (self.refresh and self._grant({'grant_type': 'refresh_token',
                                                      'refresh_token': self.refresh})):
                    assert self._grant({'grant_type': 'password', 'username': self.username,
                                        'password': self.password}), \
                        f'signing in as {self.username} failed'
            assert self.access is not None
            return self.access


class Tokens:
    """Tokens of the usual principals, issued by the identity service.

    system_admin is the bootstrap administrator (MOTCUA_TEST_ADMIN_USERNAME). The other
    accounts are made on first use, through the API like a real administrator would, with
    names unique to this test session (the suite also runs against a reused dev stack):
    an agency_admin per agency (POST /staff as system_admin), an officer and approver of
    the first demo department (POST /staff as that department's agency_admin) and a
    citizen (POST /accounts)."""

    def __init__(self, api: ApiClient, admin_username: str, admin_password: str,
                 departments: list[str]):
        self.api = api
        self.departments = departments
        self.run = unique_suffix(6)
        self.password = f'thu-nghiem-{unique_suffix(12)}'
        self._admin = Account(api, admin_username, admin_password)
        self._agency_admins: dict[str, Account] = {}
        self._officer: Account | None = None
        self._citizen: Account | None = None
        self.citizen_id: str | None = None
        self.lock = threading.RLock()

    def _create_staff(self, token: str, agency: str, roles: list[str], name: str) -> Account:
        username = f't.{self.run}.{name}'
        r = self.api.post(f'{API}/staff', token=token, expect=(201, 409),
                          json={'username': username, 'full_name': 'Cán Bộ Kiểm Thử', 'agency': agency,
                                'roles': roles, 'password': self.password})
        assert r.status_code == 201 or r.doc['code'] == 'identity.username_taken', r.text
        return Account(self.api, username, self.password)

    @property
    def system_admin(self) -> str:
        return self._admin.token

    def agency_admin(self, agency: str) -> str:
        with self.lock:
            account = self._agency_admins.get(agency)
            if account is None:
                n = len(self._agency_admins) + 1
                account = self._create_staff(self.system_admin, agency, ['agency_admin'], f'aa{n}')
                self._agency_admins[agency] = account
        return account.token

    @property
    def officer(self) -> str:
        with self.lock:
            if self._officer is None:
                # made by the department's own agency_admin, as the scope rules intend
                self._officer = self._create_staff(self.agency_admin(self.departments[0]),
                                                   self.departments[0], ['officer', 'approver'],
                                                   'officer')
        return self._officer.token

    @property
    def citizen(self) -> str:
        with self.lock:
            if self._citizen is None:
                for _ in range(10):
                    # a structurally valid CCCD: Hà Nội (001), a man born in 1990
                    person = {'full_name': 'Công Dân Kiểm Thử', 'date_of_birth': '1990-05-17',
                              'personal_id': f'001090{random.randint(0, 999999):06d}',
                              'phone': f'09{random.randint(0, 99999999):08d}',
                              'password': self.password}
                    r = self.api.post(f'{API}/accounts', json=person, expect=(201, 409))
                    if r.status_code == 201:
                        self.citizen_id = r.doc['id']
                        self._citizen = Account(self.api, person['personal_id'], self.password)
                        break
                else:
                    pytest.fail('could not register a test citizen (ten collisions)')
        assert self._citizen is not None
        return self._citizen.token


@pytest.fixture(scope='session')
def departments(api) -> list[str]:
    """Codes of provincial departments (children of the root agency), from the API."""
    r = api.get(f'{API}/agencies', params={'parent': ROOT_AGENCY, 'admin_level': 'province', 'limit': 100},
                expect=200)
    suffix = ROOT_AGENCY[-4:]   # '.H56': demo agencies, not ones earlier test runs created
    codes = [a['code'] for a in r.doc['items'] if a['code'].endswith(suffix)]
    if len(codes) < 2:
        pytest.fail(f'the demo data should have at least two departments under {ROOT_AGENCY}: {codes}')
    return codes


@pytest.fixture(scope='session')
def admin_credentials() -> tuple[str, str]:
    """Username and password of the identity service's bootstrap system_admin."""
    username = os.environ.get('MOTCUA_TEST_ADMIN_USERNAME', '').strip() or 'admin'
    path = os.environ.get('MOTCUA_TEST_ADMIN_PASSWORD_FILE', '').strip()
    local = os.environ.get('MOTCUA_TEST_LOCAL_DIR', '').strip()
    if not path and local:
        path = os.path.join(local, 'secrets', 'identity-admin.password')
    if not path or not os.path.exists(path):
        pytest.skip('MOTCUA_TEST_ADMIN_PASSWORD_FILE (or MOTCUA_TEST_LOCAL_DIR) is not set: '
                    'no bootstrap administrator to sign in as')
    with open(path, encoding='utf-8') as f:
        return username, f.readline().rstrip('\r\n')


@pytest.fixture(scope='session')
def tokens(api, admin_credentials, departments) -> Tokens:
    return Tokens(api, *admin_credentials, departments)


@pytest.fixture(scope='module')
def admin(tokens) -> str:
    """A system_admin token, valid for at least Account.MARGIN seconds (one per module)."""
    return tokens.system_admin

# The dossier tests' shared world (tests/api/dossier_support.py).
from dossier_support import world  # noqa: E402,F401
