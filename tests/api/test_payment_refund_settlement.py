"""Refunds whose gateway answer never came (a time-out) or said "in progress", settled
later by the sweeper with a status query: VNPay's querydr of the payment, the national
platform's QUERY_REFUND (tests/sim/README.md). The simulators are told to handle the
refund and then lose its answer (`refund_answer: drop`: the connection stays silent past
the payment service's GATEWAY_TIMEOUT_SECONDS, 4 s in the test stack, then closes).

Whatever the gateway decided, the refund ends in it exactly once: succeeded with one
`payment.payment.refunded` event, or failed with its amount back in the payment's
`refund_summary`. The test stack asks first after REFUND_QUERY_SECONDS = 1 s, then with
back-off (2, 4, 8 s ...).
"""
from __future__ import annotations

import time

import pytest
import requests

from stack_db import psql_as
from test_payment_ipn import PAYMENTS, Merchant, payment_events
from test_payment_journey import etag, paid_payment, refund, sim_url

SIMS = {'vnpay': 'vnpay', 'national_platform': 'npp'}
HOLD = 7  # seconds the simulator keeps a lost answer's connection silent (> the 4 s time-out)


@pytest.fixture(scope='module')
def merchants(api, world, admin):
    return {p: Merchant(api, admin, world.agency, p) for p in SIMS}


@pytest.fixture
def sim_control():
    """Set a simulator's controls for one test; its refunds answered and done after it."""
    touched = set()

    def control(provider: str, **settings):
        touched.add(SIMS[provider])
        r = requests.post(f'{sim_url(SIMS[provider])}/sim/control', json=settings, timeout=5)
        r.raise_for_status()
        return r.json()
    yield control
    for sim in touched:
        requests.post(f'{sim_url(sim)}/sim/control',
                      json={'refund': 'succeed', 'refund_answer': 'deliver'}, timeout=5)


def refund_row(refund_id: str) -> tuple[str, int, bool]:
    """The refund as stored: state, status queries made, whether another is due."""
    out = psql_as('payment', "SELECT state || '|' || query_attempts || '|'"
                             " || CASE WHEN next_query_at IS NULL THEN 'none' ELSE 'due' END"
                             f" FROM payment.refunds WHERE id = '{refund_id}'")
    state, attempts, due = out.split('|')
    assert due in ('none', 'due'), out
    return state, int(attempts), due == 'due'


def wait_refund(refund_id: str, pred, timeout: float = 30.0) -> tuple[str, int, bool]:
    deadline = time.monotonic() + timeout
    while True:
        row = refund_row(refund_id)
        if pred(row) or time.monotonic() > deadline:
            return row
        time.sleep(0.3)


def refunded_events(api, admin, payment_id: str, at_least: int = 0, timeout: float = 10.0) -> list[dict]:
    """The payment's refunded events in the feed, once there are `at_least` of them (the
    outbox publishes after the commit) or the timeout passed."""
    deadline = time.monotonic() + timeout
    while True:
        found = [e for e in payment_events(api, admin, payment_id)
                 if e['type'] == 'payment.payment.refunded']
        if len(found) >= at_least or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def lost_answer_refund(api, world, control, provider: str, amount: int, mode: str) -> tuple[dict, dict]:
    """A paid payment of 10 000 VND and a refund of `amount` the gateway handles as `mode`
    but whose answer is lost: the request answers 201, the refund pending, its amount
    reserved."""
    paid = paid_payment(api, world, provider)
    control(provider, refund=mode, refund_answer='drop', refund_answer_hold_seconds=HOLD)
    started = time.monotonic()
    doc = refund(api, world.officer, paid['id'], amount, etag(api, world.officer, paid['id']), 201).doc
    assert time.monotonic() - started >= 3.5  # it waited for the answer until the time-out
    control(provider, refund_answer='deliver', refund='succeed')  # refunds made from now on: done
    assert doc['state'] == 'pending' and doc['settled_at'] is None
    assert doc['refund_summary'] == {'amount_available': 10000 - amount, 'amount_refunded': amount}
    return paid, doc


@pytest.mark.parametrize('provider', ['vnpay', 'national_platform'])
def test_lost_answer_of_a_done_refund_settles_once(api, world, admin, merchants, sim_control,
                                                   provider):
    paid, doc = lost_answer_refund(api, world, sim_control, provider, 4000, 'succeed')
    state, attempts, due = wait_refund(doc['id'], lambda row: row[0] != 'pending')
    assert (state, due) == ('succeeded', False) and attempts >= 1
    events = refunded_events(api, admin, paid['id'], 1)
    assert len(events) == 1
    assert events[0]['data']['refund']['id'] == doc['id']
    assert events[0]['data']['refund']['state'] == 'succeeded'
    assert events[0]['data']['refund']['amount'] == 4000
    after = api.get(f'{PAYMENTS}/{paid["id"]}', token=world.officer, expect=200).doc
    assert after['refund_summary'] == {'amount_available': 6000, 'amount_refunded': 4000}
    # later sweeps change nothing: still one event, and the rest can be refunded
    time.sleep(3)
    assert len(refunded_events(api, admin, paid['id'])) == 1
    rest = refund(api, world.officer, paid['id'], 6000, etag(api, world.officer, paid['id']), 201).doc
    assert rest['state'] == 'succeeded'
    assert rest['refund_summary'] == {'amount_available': 0, 'amount_refunded': 10000}
    assert len(refunded_events(api, admin, paid['id'], 2)) == 2


@pytest.mark.parametrize('provider', ['vnpay', 'national_platform'])
def test_refund_in_progress_is_asked_again_until_done(api, world, admin, merchants, sim_control,
                                                      provider):
    paid, doc = lost_answer_refund(api, world, sim_control, provider, 10000, 'pending')
    # the gateway says "in progress": asked again with back-off, nothing settled
    state, attempts, due = wait_refund(doc['id'], lambda row: row[1] >= 2)
    assert (state, due) == ('pending', True) and attempts >= 2
    assert refunded_events(api, admin, paid['id']) == []
    settled = sim_control(provider, settle_refunds='succeed')
    assert settled['refunds_settled'] >= 1
    state, _, due = wait_refund(doc['id'], lambda row: row[0] != 'pending')
    assert (state, due) == ('succeeded', False)
    events = refunded_events(api, admin, paid['id'], 1)
    assert [e['data']['refund']['id'] for e in events] == [doc['id']]
    after = api.get(f'{PAYMENTS}/{paid["id"]}', token=world.officer, expect=200).doc
    assert after['refund_summary'] == {'amount_available': 0, 'amount_refunded': 10000}


@pytest.mark.parametrize('provider', ['vnpay', 'national_platform'])
def test_lost_answer_of_a_rejected_refund_gives_the_amount_back(api, world, admin, merchants,
                                                                sim_control, provider):
    paid, doc = lost_answer_refund(api, world, sim_control, provider, 3000, 'reject')
    state, _, due = wait_refund(doc['id'], lambda row: row[0] != 'pending')
    assert (state, due) == ('failed', False)
    after = api.get(f'{PAYMENTS}/{paid["id"]}', token=world.officer, expect=200).doc
    assert after['refund_summary'] == {'amount_available': 10000, 'amount_refunded': 0}
    time.sleep(2)
    assert refunded_events(api, admin, paid['id']) == []
    # the amount given back can be refunded again
    again = refund(api, world.officer, paid['id'], 10000, etag(api, world.officer, paid['id']), 201).doc
    assert again['state'] == 'succeeded'
