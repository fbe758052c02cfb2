"""Helpers of the tracking tests: the card and the timeline of a dossier, waited for until
the tracking service has consumed the dossier events that made them."""
from __future__ import annotations

import os
import time
from typing import Any, Callable

import pytest

from dossier_support import API

TRACKING = f'{API}/tracking'
ID_HEADER = 'Tracking-Id-Number'
PHONE_HEADER = 'Tracking-Phone-Last4'
# what dossier_support.dossier_body files as the applicant
APPLICANT_ID = '001090012345'
APPLICANT_PHONE_LAST4 = '5678'


def tracking_url() -> str:
    """The tracking service itself (no gateway); skips without the test stack."""
    url = os.environ.get('MOTCUA_TEST_SERVICE_URL_TRACKING', '').strip().rstrip('/')
    if not url:
        pytest.skip('MOTCUA_TEST_SERVICE_URL_TRACKING is not set (no tracking service in the stack)')
    return url


def timeline(api: Any, token: str, code: str, until: Callable[[dict], bool] = lambda d: True,
             timeout: float = 15.0) -> dict:
    """The signed-in timeline of `code` once `until(doc)` holds (the projection follows the
    dossier feed within a poll interval or so)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        r = api.get(f'{TRACKING}/dossiers/{code}/timeline', token=token, expect=(200, 404))
        if r.status_code == 200:
            last = r.doc
            if until(last):
                return last
        time.sleep(0.1)
    pytest.fail(f'the timeline of {code} did not get there in {timeout} s: {last}')


def kinds(doc: dict) -> list[str]:
    return [s['kind'] for s in doc['steps']]
