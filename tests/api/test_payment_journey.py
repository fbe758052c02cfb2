"""Whole payments through the gateway simulators (tests/sim), as a payer's browser would
go: the payment service's redirect URL opened at the simulator, the payer's choice
(`sim_outcome`), the simulator's IPN / confirm callback to the payment service through
the gateway, the browser sent back to the return URL. Also what happens when the IPN
never comes (the sweeper asks the gateway) and when the payer abandons the page (the
attempt expires; a new one pays).

The test stack runs the payment service with EXPIRY_SECONDS=30 and a sweep every 2 s.
"""
from __future__ import annotations

import concurrent.futures

import json
import os
import time
import urllib.parse

import pytest
import requests

from dossier_support import API, dossier_in
from test_payment_ipn import PAYMENTS, Merchant, create_payment, payment_events

EXPIRY = 30


def sim_url(name: str) -> str:
    url = os.environ.get(f'MOTCUA_TEST_SIM_URL_{name.upper()}', '')
    if not url:
        pytest.skip(f'MOTCUA_TEST_SIM_URL_{name.upper()} is not set: no simulator')
    return url


@pytest.fixture(scope='module')
def merchants(api, world, admin):
    """The world's agency's accounts as the simulators know them (earlier modules may
    have set them again: the same values)."""
    return {p: Merchant(api, admin, world.agency, p) for p in ('vnpay', 'national_platform')}


@pytest.fixture
def ipn_mode():
    """Set the simulators' IPN mode for one test, back to `deliver` after it."""
    def set_mode(mode: str):
        for sim in ('vnpay', 'npp'):
            requests.post(f'{sim_url(sim)}/sim/control', json={'ipn': mode}, timeout=5).raise_for_status()
    yield set_mode
    set_mode('deliver')


def pay_at_simulator(payment: dict, outcome: str) -> requests.Response:
    """The payer's browser at the gateway's page, choosing `outcome`."""
    url = payment['redirect_url']
    sep = '&' if '?' in url else '?'
    return requests.get(f'{url}{sep}sim_outcome={outcome}', allow_redirects=False, timeout=15)


def wait_state(api, world, payment_id: str, states: set, timeout: float = 15.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        doc = api.get(f'{PAYMENTS}/{payment_id}', token=world.citizen(), expect=200).doc
        if doc['state'] in states or time.monotonic() > deadline:
            return doc
        time.sleep(0.3)


def fresh_payment(api, world, provider: str = 'vnpay') -> dict:
    dossier = dossier_in(world, world.procedure(mandatory=()), 6)
    return create_payment(api, world, dossier, provider)


def test_vnpay_success(api, world, admin, merchants):
    payment = fresh_payment(api, world)
    r = pay_at_simulator(payment, 'success')
    assert r.status_code == 302
    back = urllib.parse.urlparse(r.headers['Location'])
    assert back.path == '/api/v1/payments/return/vnpay'
    doc = wait_state(api, world, payment['id'], {'paid'})
    assert doc['state'] == 'paid' and doc['gateway_code'] == '00' and doc['transaction_no']
    # the browser's return shows it, changing nothing
    shown = api.get(f'{back.path}?{back.query}', expect=200).doc
    assert shown['state'] == 'paid' and shown['payment_id'] == payment['id']
    assert [e['type'] for e in payment_events(api, admin, payment['id'])] == ['payment.payment.succeeded']
    # the simulator's IPN got 00 and stopped
    log = requests.get(f'{sim_url("vnpay")}/sim/ipn-log', params={'txn_ref': doc_ref(payment)}, timeout=5).json()
    assert [rsp_code(a) for a in log['attempts']] == ['00']


def rsp_code(attempt: dict) -> str:
    """What the payment service answered to one IPN attempt the simulator logged."""
    assert attempt['answer']['http_status'] == 200
    return json.loads(attempt['answer']['body'])['RspCode']


def doc_ref(payment: dict) -> str:
    return urllib.parse.parse_qs(urllib.parse.urlparse(payment['redirect_url']).query)['vnp_TxnRef'][0]


@pytest.mark.parametrize('outcome,state,code', [('cancel', 'cancelled', '24'), ('insufficient', 'failed', '51')])
def test_vnpay_not_paid(api, world, merchants, outcome, state, code):
    payment = fresh_payment(api, world)
    assert pay_at_simulator(payment, outcome).status_code == 302
    doc = wait_state(api, world, payment['id'], {state})
    assert doc['state'] == state and doc['gateway_code'] == code
    # a new attempt is allowed
    again = api.post(PAYMENTS, token=world.citizen(), json={'dossier_id': payment['dossier_id'], 'provider': 'vnpay'},
                     expect=201).doc
    assert again['state'] == 'pending'


def test_duplicate_deliveries_one_effect(api, world, admin, merchants, ipn_mode):
    ipn_mode('duplicate')
    payment = fresh_payment(api, world)
    assert pay_at_simulator(payment, 'success').status_code == 302
    assert wait_state(api, world, payment['id'], {'paid'})['state'] == 'paid'
    time.sleep(1.5)
    log = requests.get(f'{sim_url("vnpay")}/sim/ipn-log', params={'txn_ref': doc_ref(payment)}, timeout=5).json()
    assert sorted(rsp_code(a) for a in log['attempts']) == ['00', '02']
    assert [e['type'] for e in payment_events(api, admin, payment['id'])] == ['payment.payment.succeeded']


def test_ipn_never_delivered_sweeper_settles(api, world, admin, merchants, ipn_mode):
    ipn_mode('drop')
    payment = fresh_payment(api, world)
    assert pay_at_simulator(payment, 'success').status_code == 302
    time.sleep(2)
    assert api.get(f'{PAYMENTS}/{payment["id"]}', token=world.citizen(), expect=200).doc['state'] == 'pending'
    # past its expiry the sweeper asks the gateway (querydr), which says paid
    doc = wait_state(api, world, payment['id'], {'paid', 'expired', 'failed'}, timeout=EXPIRY + 20)
    assert doc['state'] == 'paid'
    assert [e['type'] for e in payment_events(api, admin, payment['id'])] == ['payment.payment.succeeded']


def test_abandoned_expires_then_retry_pays(api, world, admin, merchants):
    payment = fresh_payment(api, world)
    assert pay_at_simulator(payment, 'abandon').status_code == 200
    doc = wait_state(api, world, payment['id'], {'expired', 'paid', 'failed'}, timeout=EXPIRY + 20)
    assert doc['state'] == 'expired' and doc['redirect_url'] is None
    assert [e['type'] for e in payment_events(api, admin, payment['id'])] == ['payment.payment.expired']
    again = api.post(PAYMENTS, token=world.citizen(), json={'dossier_id': payment['dossier_id'], 'provider': 'vnpay'},
                     expect=201).doc
    assert pay_at_simulator(again, 'success').status_code == 302
    assert wait_state(api, world, again['id'], {'paid'})['state'] == 'paid'


def test_national_platform_success(api, world, admin, merchants):
    payment = fresh_payment(api, world, 'national_platform')
    assert payment['provider'] == 'national_platform'
    assert payment['redirect_url'].startswith(sim_url('npp'))
    r = pay_at_simulator(payment, 'success')
    assert r.status_code == 302
    back = urllib.parse.urlparse(r.headers['Location'])
    assert back.path == '/api/v1/payments/return/national-platform'
    doc = wait_state(api, world, payment['id'], {'paid'})
    assert doc['state'] == 'paid' and doc['gateway_code'] == '00'
    assert [e['type'] for e in payment_events(api, admin, payment['id'])] == ['payment.payment.succeeded']
    # the browser's return (found by MaThamChieu) shows it, changing nothing
    shown = api.get(f'{back.path}?{back.query}', expect=200).doc
    assert shown['state'] == 'paid' and shown['payment_id'] == payment['id']
    assert [e['type'] for e in payment_events(api, admin, payment['id'])] == ['payment.payment.succeeded']


def test_lists_filter_by_provider_and_day(api, world, merchants):
    payment = fresh_payment(api, world, 'national_platform')
    today = payment['created_at'][:10]
    page = api.get(PAYMENTS, token=world.officer,
                   params={'provider': 'national_platform', 'from': today, 'to': today, 'limit': 100},
                   expect=200).doc
    assert payment['id'] in [p['id'] for p in page['items']]
    assert all(p['provider'] == 'national_platform' for p in page['items'])
    page = api.get(PAYMENTS, token=world.officer, params={'provider': 'vnpay', 'dossier_id': payment['dossier_id']},
                   expect=200).doc
    assert page['items'] == []


def paid_payment(api, world, provider: str = 'vnpay') -> dict:
    payment = fresh_payment(api, world, provider)
    assert pay_at_simulator(payment, 'success').status_code in (200, 302)
    doc = wait_state(api, world, payment['id'], {'paid'})
    assert doc['state'] == 'paid'
    return doc


def etag(api, token: str, payment_id: str) -> str:
    return api.get(f'{PAYMENTS}/{payment_id}', token=token, expect=200).headers['ETag']


def refund(api, token: str, payment_id: str, amount: int, if_match: str | None, expect):
    headers = {'If-Match': if_match} if if_match else {}
    return api.post(f'{PAYMENTS}/{payment_id}/refunds', token=token, headers=headers,
                    json={'amount': amount, 'reason': 'Hồ sơ bị từ chối'}, expect=expect)


@pytest.mark.parametrize('provider', ['vnpay', 'national_platform'])
def test_refund_partial_then_rest(api, world, admin, merchants, provider):
    paid = paid_payment(api, world, provider)
    officer = world.officer
    refund(api, officer, paid['id'], 4000, None, 428)
    refund(api, officer, paid['id'], 4000, '"p999"', 412)
    first = refund(api, officer, paid['id'], 4000, etag(api, officer, paid['id']), 201).doc
    assert first['state'] == 'succeeded' and first['amount'] == 4000
    assert first['refund_summary'] == {'amount_available': 6000, 'amount_refunded': 4000}
    over = refund(api, officer, paid['id'], 7000, etag(api, officer, paid['id']), 409).doc
    assert over['code'] == 'payment.refund_exceeds_available' and over['amount_available'] == 6000
    rest = refund(api, officer, paid['id'], 6000, etag(api, officer, paid['id']), 201).doc
    assert rest['state'] == 'succeeded'
    assert rest['refund_summary'] == {'amount_available': 0, 'amount_refunded': 10000}
    doc = api.get(f'{PAYMENTS}/{paid["id"]}', token=world.citizen(), expect=200).doc
    assert doc['refund_summary'] == {'amount_available': 0, 'amount_refunded': 10000}
    events = payment_events(api, admin, paid['id'])
    assert [e['type'] for e in events] == ['payment.payment.succeeded', 'payment.payment.refunded',
                                           'payment.payment.refunded']
    assert [e['data']['refund']['amount'] for e in events[1:]] == [4000, 6000]


def test_refund_guards(api, world, merchants):
    paid = paid_payment(api, world)
    # the payer, another agency's staff: not theirs to refund
    api.post(f'{PAYMENTS}/{paid["id"]}/refunds', token=world.citizen(), json={'amount': 1, 'reason': 'x'},
             headers={'If-Match': etag(api, world.citizen(), paid['id'])}, expect=403)
    outsider = world.staff(('officer',), world.other_agency)
    refund(api, outsider, paid['id'], 1000, etag(api, world.officer, paid['id']), 404)
    r = api.post(f'{PAYMENTS}/{paid["id"]}/refunds', token=world.officer, json={'amount': 0, 'reason': ''},
                 headers={'If-Match': etag(api, world.officer, paid['id'])}, expect=422)
    assert {e['pointer'] for e in r.doc['errors']} == {'/amount', '/reason'}
    # a pending payment is not refundable
    pending = fresh_payment(api, world)
    assert refund(api, world.officer, pending['id'], 1000, etag(api, world.officer, pending['id']),
                  409).doc['code'] == 'payment.not_refundable'
    # five refunds of the whole amount racing on the same ETag: one refund, never more
    tag = etag(api, world.officer, paid['id'])
    with concurrent.futures.ThreadPoolExecutor(max_workers=5) as pool:
        codes = list(pool.map(lambda _: refund(api, world.officer, paid['id'], 10000, tag, (201, 409, 412))
                              .status_code, range(5)))
    assert codes.count(201) == 1, codes
    doc = api.get(f'{PAYMENTS}/{paid["id"]}', token=world.officer, expect=200).doc
    assert doc['refund_summary'] == {'amount_available': 0, 'amount_refunded': 10000}


def test_refund_refused_by_gateway(api, world, merchants):
    paid = paid_payment(api, world)
    requests.post(f'{sim_url("vnpay")}/sim/control', json={'refund': 'reject'}, timeout=5).raise_for_status()
    try:
        r = refund(api, world.officer, paid['id'], 3000, etag(api, world.officer, paid['id']), 201).doc
    finally:
        requests.post(f'{sim_url("vnpay")}/sim/control', json={'refund': 'succeed'}, timeout=5)
    assert r['state'] == 'failed'
    assert r['refund_summary'] == {'amount_available': 10000, 'amount_refunded': 0}


def test_receipt_of_a_paid_payment(api, world, merchants):
    pending = fresh_payment(api, world)
    r = api.get(f'{PAYMENTS}/{pending["id"]}/receipt', token=world.citizen(), expect=409)
    assert r.doc['code'] == 'resource.conflict'
    paid = paid_payment(api, world, 'vnpay')
    receipt = api.get(f'{PAYMENTS}/{paid["id"]}/receipt', token=world.citizen(), expect=200).doc
    assert receipt['payment_id'] == paid['id'] and receipt['amount'] == 10000
    assert receipt['fee_items'] == paid['fee_items'] and receipt['paid_at'] == paid['paid_at']
    assert receipt['transaction_no'] == paid['transaction_no']
    assert receipt['receipt_no'].startswith('BL-' + paid['paid_at'][:10].replace('-', ''))
    again = api.get(f'{PAYMENTS}/{paid["id"]}/receipt', token=world.officer, expect=200).doc
    assert again == receipt
    api.get(f'{PAYMENTS}/{paid["id"]}/receipt', token=world.citizen(1), expect=404)
