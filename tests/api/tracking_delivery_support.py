"""What the tracking notification and webhook tests share: the sinks of the local stack
(the SMTP sink's Maildir, the SMS simulator), a polling helper, dossiers whose applicant
has contact details unique to the test, and the tracking schema read through psql.

The sinks are started by deploy/local/lib.sh (motcua_sinks_start) with the tracking
service; tests/run passes MOTCUA_TEST_LOCAL_DIR and MOTCUA_TEST_SMS_SIM_URL.
"""
from __future__ import annotations

import email
import email.policy
import glob
import os
import time
from typing import Any, Callable

import pytest
import requests

from dossier_support import API, act, create, submit, upload
from motcua_api import unique_suffix
from stack_db import psql_as


def wait_for(what: str, probe: Callable[[], Any], seconds: float = 30.0, every: float = 0.3) -> Any:
    """probe() until it returns something truthy; fail with `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f'after {seconds:.0f} s still no {what}')
        time.sleep(every)


def local_dir() -> str:
    local = os.environ.get('MOTCUA_TEST_LOCAL_DIR', '').strip()
    if not local or not os.path.isdir(os.path.join(local, 'mail')):
        pytest.skip('MOTCUA_TEST_LOCAL_DIR with the SMTP sink (set by tests/run)')
    return local


def mails_to(address: str) -> list[email.message.EmailMessage]:
    """Every message the SMTP sink received for `address`, oldest first."""
    found = []
    for path in glob.glob(os.path.join(local_dir(), 'mail', 'new', '*')):
        with open(path, 'rb') as f:
            msg = email.message_from_binary_file(f, policy=email.policy.default)
        if msg['To'] == address:
            found.append((os.path.getmtime(path), msg))
    return [m for _, m in sorted(found, key=lambda x: x[0])]


def sms_url() -> str:
    url = os.environ.get('MOTCUA_TEST_SMS_SIM_URL', '').strip()
    if not url:
        pytest.skip('MOTCUA_TEST_SMS_SIM_URL (set by tests/run)')
    return url


def sms_to(phone: str) -> list[dict]:
    r = requests.get(f'{sms_url()}/v1/messages', timeout=5)
    r.raise_for_status()
    return [m for m in r.json()['items'] if m['to'] == phone]


def sms_fail_next(n: int, status: int = 503) -> None:
    requests.post(f'{sms_url()}/control', json={'fail_next': n, 'status': status}, timeout=5).raise_for_status()


def contacts() -> dict:
    """An applicant with an e-mail address and a phone number no other test uses."""
    tag = unique_suffix(8).lower()
    digits = ''.join(str(ord(c) % 10) for c in tag)[:8]
    return {'type': 'citizen', 'full_name': 'Trần Thị Bình', 'personal_id': '001090012345',
            'phone': f'09{digits}', 'email': f'cd-{tag}@example.vn'}


def filed_with(world, procedure: str, applicant: dict) -> dict:
    """A submitted dossier of the suite's citizen with this applicant."""
    token = world.citizen()
    d = create(world.api, token, procedure, world.agency, applicant=applicant).doc
    upload(world.api, token, d, 'TK')
    d = world.api.get(f'{API}/dossiers/{d["id"]}', token=token, expect=200).doc
    return submit(world.api, token, d).doc


def tracking_sql(sql: str) -> str:
    """SQL as the tracking service's role in the test stack's database (unaligned output)."""
    return psql_as('tracking', sql)


__all__ = ['wait_for', 'mails_to', 'sms_to', 'sms_fail_next', 'contacts', 'filed_with', 'tracking_sql',
           'act', 'API']
