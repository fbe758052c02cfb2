"""Pay after (issue 11): request_payment's fee items (optional, adding up to the amount;
by default one item LEPHI) go out with the payment_requested event, and a payment
client's confirm_payment names its payment and is idempotent by payment_id."""
from __future__ import annotations

import time
import uuid

import pytest

from dossier_support import API, act, dossier_events, feed_end, filed, machine_client_token
from motcua_api import assert_problem, error_pointers


def received(world, code) -> dict:
    return act(world.api, world.officer, filed(world, code, documents=()), 'receive').doc


@pytest.fixture(scope='module')
def code(world) -> str:
    """A procedure without mandatory documents (quick to file), paid after."""
    return world.procedure(value=3, mandatory=())


@pytest.fixture(scope='module')
def payer(world) -> str:
    """The payment service's machine client of the world's agency."""
    return machine_client_token(world, ['dossier:payments'], world.agency)


def requested(world, d: dict, start: int) -> dict:
    """The dossier's payment_requested event, after its submitted and received ones."""
    events = dossier_events(world, d['id'], start, 3)
    found = [e for e in events if e['type'] == 'dossier.dossier.payment_requested']
    assert len(found) == 1, events
    return found[0]


def test_fee_items_go_out_with_the_demand(world, code):
    api = world.api
    start = feed_end(world)
    d = received(world, code)
    items = [{'code': 'LP', 'name': 'Lệ phí', 'amount': 100000},
             {'code': 'PH', 'name': 'Phí thẩm định', 'amount': 50000}]
    r = act(api, world.officer, d, 'request_payment', {'amount': 160000, 'fee_items': items}, expect=422)
    assert '/fee_items' in error_pointers(assert_problem(r, 422))
    r = act(api, world.officer, d, 'request_payment',
            {'amount': 150000, 'fee_items': [{'code': 'LP', 'name': ' '}]}, expect=422)
    assert {'/fee_items/0/name', '/fee_items/0/amount'} <= error_pointers(assert_problem(r, 422))
    d = act(api, world.officer, d, 'request_payment', {'amount': 150000, 'fee_items': items}).doc
    assert (d['status'], d['fee_amount']) == (6, 150000)
    event = requested(world, d, start)
    assert event['data']['details'] == {'amount': 150000, 'fee_items': items}


def test_without_items_the_demand_is_one_lephi(world, code):
    start = feed_end(world)
    d = received(world, code)
    act(world.api, world.officer, d, 'request_payment', {'amount': 25000})
    event = requested(world, d, start)
    assert event['data']['details']['fee_items'] == [{'code': 'LEPHI', 'name': 'Lệ phí', 'amount': 25000}]


def test_a_payment_clients_confirmation_is_idempotent(world, code, payer):
    api = world.api
    d = act(api, world.officer, received(world, code), 'request_payment', {'amount': 25000}).doc
    view = api.get(f'{API}/dossiers/{d["id"]}', token=payer, expect=200).doc
    paid = {'payment_id': str(uuid.uuid4()), 'paid_at': '2026-01-02T09:15:30+07:00',
            'amount': 25000, 'provider': 'national_platform'}
    r = act(api, payer, view, 'confirm_payment', dict(paid, amount=20000), expect=422)
    assert '/amount' in error_pointers(assert_problem(r, 422))
    r = act(api, payer, view, 'confirm_payment', {'payment_id': paid['payment_id']}, expect=422)
    assert {'/paid_at', '/amount', '/provider'} <= error_pointers(assert_problem(r, 422))
    start = feed_end(world)
    done = act(api, payer, view, 'confirm_payment', paid).doc
    assert done['status'] == 4
    again = act(api, payer, view, 'confirm_payment', paid).doc  # a retry, with the old ETag
    assert again['status'] == 4 and again['revision'] == done['revision']
    assert_problem(act(api, payer, done, 'confirm_payment', dict(paid, payment_id=str(uuid.uuid4())),
                       expect=409), 409, 'dossier.transition_not_allowed')
    time.sleep(0.5)  # a second confirmation, were there one, would be published by now
    events = [e for e in dossier_events(world, d['id'], start, 1)
              if e['type'] == 'dossier.dossier.payment_confirmed']
    assert len(events) == 1 and events[0]['data']['details']['payment_id'] == paid['payment_id']
    history = api.get(f'{API}/dossiers/{d["id"]}/history', token=world.officer, expect=200).doc['items']
    assert len([h for h in history if h['action'] == 'confirm_payment']) == 1
    # an officer's confirmation still needs no payment
    other = act(api, world.officer, received(world, code), 'request_payment', {'amount': 1000}).doc
    assert act(api, world.officer, other, 'confirm_payment').doc['status'] == 4
