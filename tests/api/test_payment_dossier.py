"""The payment moves the dossier on: pay after (6 -> back to 4, processing) and pay first
(11 -> 1, submitted at the payment time), confirmed by the payment service from its own
outbox with its own token; a dossier service that is not answering when the IPN arrives
(here: stopped with SIGSTOP) loses nothing: the confirmation goes through once it answers.
"""
from __future__ import annotations

import os
import signal
import time

import pytest

from dossier_support import API, awaiting_submission_payment, dossier_in, pay_first_procedure
from test_payment_ipn import PAYMENTS, create_payment, payment_events
from test_payment_journey import merchants, pay_at_simulator, wait_state  # noqa: F401 (fixture)


def wait_dossier(api, world, dossier_id: str, status: int, timeout: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        d = api.get(f'{API}/dossiers/{dossier_id}', token=world.citizen(), expect=200).doc
        if d['status'] == status or time.monotonic() > deadline:
            return d
        time.sleep(0.3)


def test_pay_after_dossier_back_in_processing(api, world, merchants):  # noqa: F811
    d = dossier_in(world, world.procedure(mandatory=()), 6)
    payment = create_payment(api, world, d)
    assert pay_at_simulator(payment, 'success').status_code == 302
    assert wait_state(api, world, payment['id'], {'paid'})['state'] == 'paid'
    d = wait_dossier(api, world, d['id'], 4)
    assert d['status'] == 4


def test_pay_first_dossier_submitted_at_payment_time(api, world, admin, merchants):  # noqa: F811
    d = awaiting_submission_payment(world, pay_first_procedure(world))
    assert d['status'] == 11
    payment = create_payment(api, world, d, 'national_platform')
    assert payment['demand_kind'] == 'before_submission' and payment['amount'] == 200000
    assert [i['code'] for i in payment['fee_items']] == ['LP', 'PH']
    assert pay_at_simulator(payment, 'success').status_code in (200, 302)
    paid = wait_state(api, world, payment['id'], {'paid'})
    d = wait_dossier(api, world, d['id'], 1)
    assert d['status'] == 1
    assert d['dates']['submitted_at'] == paid['paid_at']


def test_dossier_service_not_answering_loses_nothing(api, world, admin, merchants):  # noqa: F811
    local = os.environ.get('MOTCUA_TEST_LOCAL_DIR', '')
    pidfile = os.path.join(local, 'run', 'dossier.pid')
    if not local or not os.path.exists(pidfile):
        pytest.skip('MOTCUA_TEST_LOCAL_DIR/run/dossier.pid: not the test stack')
    d = dossier_in(world, world.procedure(mandatory=()), 6)
    payment = create_payment(api, world, d)
    pid = int(open(pidfile).read().strip())
    os.kill(pid, signal.SIGSTOP)
    try:
        assert pay_at_simulator(payment, 'success').status_code == 302
        assert wait_state(api, world, payment['id'], {'paid'})['state'] == 'paid'
        time.sleep(3)  # the sender tries, times out, backs off
    finally:
        os.kill(pid, signal.SIGCONT)
    d = wait_dossier(api, world, d['id'], 4, timeout=60)
    assert d['status'] == 4
    assert [e['type'] for e in payment_events(api, admin, payment['id'])] == ['payment.payment.succeeded']
