"""Fixtures of the API test-suite.

Environment (set by tests/run):
  MOTCUA_TEST_BASE_URL               the gateway, e.g. http://127.0.0.1:18080
  MOTCUA_TEST_SERVICE_URL_CATALOGUE  the catalogue service's own port (ops endpoints,
                                     checks the gateway would mask)
  MOTCUA_TOKEN_BIN                   the motcua-token CLI (optional: openssl signs instead)
  MOTCUA_TEST_PRIVATE_KEY            the dev RSA private key the stack trusts; its public
                                     key is dev-public.pem in the same directory
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
import time

import pytest
import requests

from catalogue_data import API, ROOT_AGENCY
from motcua_api import ApiClient, SpecSet, TokenMinter


_CLIENTS: list[ApiClient] = []


def pytest_terminal_summary(terminalreporter):
    for c in _CLIENTS:
        statuses: dict[int, int] = {}
        for _, _, status in c.log:
            statuses[status] = statuses.get(status, 0) + 1
        summary = ', '.join(f'{k}: {v}' for k, v in sorted(statuses.items()))
        terminalreporter.write_line(f'motcua {c.via} client: {len(c.log)} checked responses ({summary})')


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


class Tokens:
    """Trusted tokens for the usual principals."""

    def __init__(self, minter: TokenMinter, departments: list[str]):
        self.minter = minter
        self.departments = departments

    @property
    def system_admin(self) -> str:
        return self.minter.mint('test-system-admin', ['system_admin'])

    @property
    def citizen(self) -> str:
        return self.minter.mint('test-citizen-001', ['citizen'])

    @property
    def officer(self) -> str:
        return self.minter.mint('test-officer-001', ['officer', 'approver'], agency=self.departments[0])

    def agency_admin(self, agency: str) -> str:
        return self.minter.mint(f'test-agency-admin-{agency}', ['agency_admin'], agency=agency)


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
def tokens(minter, departments) -> Tokens:
    return Tokens(minter, departments)


@pytest.fixture(scope='session')
def admin(tokens) -> str:
    """A system_admin token."""
    return tokens.system_admin
