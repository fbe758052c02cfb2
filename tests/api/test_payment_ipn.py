"""The payment service: demands from the dossier feed, attempts, and the gateways' callbacks.

Until the gateway simulators are in the stack, these tests play VNPay and the national
platform themselves: they sign IPN / confirm messages in Python (hmac, hashlib) with the
merchant secret they configured, exactly as the real gateways do (DOMAIN.md §6), and
hostile ones the way an attacker would. Every answer is checked against
api-spec/payment.yaml by the ApiClient.
"""
from __future__ import annotations

import concurrent.futures
import hashlib
import hmac
import json
import os
import secrets
import time
import urllib.parse

import pytest

from dossier_support import API, dossier_in, token_sub

PAYMENTS = f'{API}/payments'


def php_urlencode(s: str) -> str:
    return urllib.parse.quote_plus(s, safe='').replace('~', '%7E')


def vnpay_sign(fields: dict, secret: str) -> str:
    keys = sorted(k for k, v in fields.items()
                  if k.startswith('vnp_') and v and k not in ('vnp_SecureHash', 'vnp_SecureHashType'))
    canonical = '&'.join(php_urlencode(k) + '=' + php_urlencode(fields[k]) for k in keys)
    return hmac.new(secret.encode(), canonical.encode(), hashlib.sha512).hexdigest()


def vnpay_query(fields: dict, secret: str) -> str:
    signed = dict(fields, vnp_SecureHash=vnpay_sign(fields, secret))
    return urllib.parse.urlencode(signed)


def npp_check(values: list[str], secret: str) -> str:
    return hashlib.sha256('|'.join(values + [secret]).encode()).hexdigest()


def simulator_merchant(agency: str, provider: str) -> dict:
    """The agency's account with the provider as the local stack generated it for the
    gateway simulators (and loaded into the payment service)."""
    path = os.environ.get('MOTCUA_TEST_PAYMENT_SIMULATORS_FILE', '')
    if not path or not os.path.exists(path):
        pytest.skip('MOTCUA_TEST_PAYMENT_SIMULATORS_FILE is not set: no merchant accounts')
    with open(path, encoding='utf-8') as f:
        doc = json.load(f)
    for m in doc[provider]['merchants']:
        if m['agency_code'] == agency:
            return m
    pytest.fail(f'no {provider} merchant for {agency} in {path}')


class Merchant:
    """An agency's merchant account: the simulators' one, set (again) through the API, so
    the tests sign what the gateway would and the simulators still know the account."""

    def __init__(self, api, admin: str, agency: str, provider: str):
        m = simulator_merchant(agency, provider)
        self.code, self.secret, self.token = m['merchant_code'], m['secret'], m.get('token')
        body = {'merchant_code': self.code, 'secret': self.secret}
        if provider == 'national_platform':
            body['token'] = self.token
        r = api.put(f'{PAYMENTS}/merchants/{agency}/{provider}', token=admin, json=body, expect=200)
        assert r.doc['merchant_code'] == self.code and r.doc['has_token'] == (self.token is not None)
        assert 'secret' not in r.doc and 'token' not in r.doc and self.secret not in r.text


@pytest.fixture(scope='module')
def vnpay(api, world, admin) -> Merchant:
    return Merchant(api, admin, world.agency, 'vnpay')


@pytest.fixture(scope='module')
def other_vnpay(api, world, admin) -> Merchant:
    """Another agency's VNPay account: its signature is valid, its orders are not ours."""
    return Merchant(api, admin, world.other_agency, 'vnpay')


def create_payment(api, world, dossier: dict, provider: str = 'vnpay', timeout: float = 15.0):
    """POST /payments for the dossier, once its demand came through the dossier feed."""
    deadline = time.monotonic() + timeout
    while True:
        r = api.post(PAYMENTS, token=world.citizen(), json={'dossier_id': dossier['id'], 'provider': provider},
                     expect=(201, 409))
        if r.status_code == 201:
            return r.doc
        assert r.doc['code'] == 'payment.no_open_demand', r.doc
        assert time.monotonic() < deadline, 'the demand never arrived from the dossier feed'
        time.sleep(0.2)


def ipn_fields(merchant: Merchant, payment: dict, **over: str) -> dict:
    fields = {
        'vnp_TmnCode': merchant.code, 'vnp_TxnRef': txn_ref(payment),
        'vnp_Amount': str(payment['amount'] * 100), 'vnp_ResponseCode': '00',
        'vnp_TransactionStatus': '00', 'vnp_TransactionNo': '14' + secrets.token_hex(3),
        'vnp_BankCode': 'NCB', 'vnp_CardType': 'ATM', 'vnp_PayDate': time.strftime('%Y%m%d%H%M%S', time.gmtime(time.time() + 7 * 3600)),
        'vnp_OrderInfo': 'Lệ phí hồ sơ & phí ~ a+b=c/d?',
    }
    fields.update(over)
    return fields


def txn_ref(payment: dict) -> str:
    query = urllib.parse.urlparse(payment['redirect_url']).query
    return urllib.parse.parse_qs(query)['vnp_TxnRef'][0]


def ipn(api, query: str) -> str:
    r = api.get(f'{PAYMENTS}/ipn/vnpay?{query}', expect=200)
    return r.doc['RspCode']


@pytest.fixture
def pending(api, world, vnpay) -> dict:
    dossier = dossier_in(world, world.procedure(mandatory=()), 6)
    return create_payment(api, world, dossier)


def test_create_answers_a_signed_vnpay_url(api, world, vnpay, pending):
    assert pending['state'] == 'pending'
    assert pending['amount'] == 10000
    assert pending['fee_items'] == [{'code': 'LEPHI', 'name': 'Lệ phí', 'amount': 10000}]
    url = urllib.parse.urlparse(pending['redirect_url'])
    q = dict(urllib.parse.parse_qsl(url.query))
    assert q['vnp_TmnCode'] == vnpay.code and q['vnp_Amount'] == '1000000'
    assert q['vnp_Command'] == 'pay' and q['vnp_Version'] == '2.1.0' and q['vnp_CurrCode'] == 'VND'
    assert q['vnp_ReturnUrl'].endswith('/api/v1/payments/return/vnpay')
    # the signature is VNPay's, checked independently here
    assert q['vnp_SecureHash'] == vnpay_sign(q, vnpay.secret)
    # a second attempt while this one is pending is refused, naming it
    r = api.post(PAYMENTS, token=world.citizen(), json={'dossier_id': pending['dossier_id'], 'provider': 'vnpay'},
                 expect=409)
    assert r.doc['code'] == 'payment.attempt_pending' and r.doc['payment_id'] == pending['id']


def test_paid_once_then_already_confirmed(api, world, vnpay, pending, admin):
    fields = ipn_fields(vnpay, pending)
    assert ipn(api, vnpay_query(fields, vnpay.secret)) == '00'
    doc = api.get(f'{PAYMENTS}/{pending["id"]}', token=world.citizen(), expect=200).doc
    assert doc['state'] == 'paid' and doc['transaction_no'] == fields['vnp_TransactionNo']
    assert doc['paid_at'] is not None and doc['refund_summary'] == {'amount_available': 10000, 'amount_refunded': 0}
    # replayed: already confirmed, nothing changes
    assert ipn(api, vnpay_query(fields, vnpay.secret)) == '02'
    # the browser's return URL shows the state and changes nothing
    r = api.get(f'{PAYMENTS}/return/vnpay?{vnpay_query(fields, vnpay.secret)}', expect=200)
    assert r.doc == {'payment_id': pending['id'], 'dossier_id': pending['dossier_id'], 'state': 'paid',
                     'amount': 10000}
    # the demand is paid: no new attempt
    r = api.post(PAYMENTS, token=world.citizen(), json={'dossier_id': pending['dossier_id'], 'provider': 'vnpay'},
                 expect=409)
    assert r.doc['code'] == 'payment.no_open_demand'
    # one event
    events = payment_events(api, admin, pending['id'])
    assert [e['type'] for e in events] == ['payment.payment.succeeded']
    assert events[0]['data']['amount'] == 10000 and events[0]['data']['state'] == 'paid'


def payment_events(api, admin: str, payment_id: str, timeout: float = 10.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        found, after = [], 0
        while True:
            page = api.get(f'{API}/events/payment', token=admin, params={'after': after, 'limit': 1000},
                           expect=200).doc
            found += [e for e in page['items'] if e['data']['payment_id'] == payment_id]
            after = page['next_after']
            if len(page['items']) < 1000:
                break
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_return_url_never_changes_state(api, vnpay, pending):
    fields = ipn_fields(vnpay, pending)
    r = api.get(f'{PAYMENTS}/return/vnpay?{vnpay_query(fields, vnpay.secret)}', expect=200)
    assert r.doc['state'] == 'pending'
    assert ipn(api, vnpay_query(fields, vnpay.secret)) == '00'  # still pending until the IPN


def test_hostile_ipns_change_nothing(api, world, vnpay, other_vnpay, pending):
    fields = ipn_fields(vnpay, pending)
    forged = dict(fields, vnp_SecureHash=vnpay_sign(fields, 'not-the-secret'))
    assert ipn(api, urllib.parse.urlencode(forged)) == '97'
    # a signed message altered afterwards
    tampered = dict(urllib.parse.parse_qsl(vnpay_query(fields, vnpay.secret)), vnp_Amount='100')
    assert ipn(api, urllib.parse.urlencode(tampered)) == '97'
    # no signature at all; an unknown merchant
    assert ipn(api, urllib.parse.urlencode(fields)) == '97'
    assert ipn(api, vnpay_query(dict(fields, vnp_TmnCode='NOBODY'), vnpay.secret)) == '97'
    # well signed: an unknown reference, a wrong amount
    assert ipn(api, vnpay_query(dict(fields, vnp_TxnRef=secrets.token_hex(16)), vnpay.secret)) == '01'
    assert ipn(api, vnpay_query(dict(fields, vnp_Amount='100000'), vnpay.secret)) == '04'
    # another agency's merchant, correctly signed with its own secret: not its order
    assert ipn(api, vnpay_query(dict(fields, vnp_TmnCode=other_vnpay.code), other_vnpay.secret)) == '01'
    # a repeated parameter (sign one value, act on another) is malformed
    assert ipn(api, vnpay_query(fields, vnpay.secret) + '&vnp_Amount=1') == '99'
    assert ipn(api, '') == '97'  # nothing to verify: the signature check comes first
    doc = api.get(f'{PAYMENTS}/{pending["id"]}', token=world.citizen(), expect=200).doc
    assert doc['state'] == 'pending'
    # the real one still applies after all that
    assert ipn(api, vnpay_query(fields, vnpay.secret)) == '00'


def test_cancelled_then_retry(api, world, vnpay, pending):
    fields = ipn_fields(vnpay, pending, vnp_ResponseCode='24', vnp_TransactionStatus='02')
    assert ipn(api, vnpay_query(fields, vnpay.secret)) == '00'
    doc = api.get(f'{PAYMENTS}/{pending["id"]}', token=world.citizen(), expect=200).doc
    assert doc['state'] == 'cancelled' and doc['redirect_url'] is None
    again = api.post(PAYMENTS, token=world.citizen(), json={'dossier_id': pending['dossier_id'], 'provider': 'vnpay'},
                     expect=201).doc
    assert again['id'] != pending['id'] and again['state'] == 'pending'
    assert txn_ref(again) != txn_ref(pending)
    # the first attempt's late success is refused (already settled); the second pays
    late = ipn_fields(vnpay, pending)
    assert ipn(api, vnpay_query(late, vnpay.secret)) == '02'
    assert ipn(api, vnpay_query(ipn_fields(vnpay, again), vnpay.secret)) == '00'


def test_concurrent_duplicates_one_effect_one_event(api, world, vnpay, pending, admin):
    query = vnpay_query(ipn_fields(vnpay, pending), vnpay.secret)
    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
        codes = list(pool.map(lambda _: ipn(api, query), range(100)))
    assert codes.count('00') == 1, codes
    assert codes.count('02') == 99, codes
    time.sleep(1.0)  # give a wrongly doubled event the time to be published
    events = payment_events(api, admin, pending['id'])
    assert [e['type'] for e in events] == ['payment.payment.succeeded']


def test_reads_are_scoped(api, world, vnpay, pending):
    other = world.citizen(1)
    r = api.get(f'{PAYMENTS}/{pending["id"]}', token=other, expect=404)
    assert r.doc['code'] == 'payment.not_found'
    # another citizen cannot pay (nor learn of) this dossier's fee
    r = api.post(PAYMENTS, token=other, json={'dossier_id': pending['dossier_id'], 'provider': 'vnpay'}, expect=409)
    assert r.doc['code'] == 'payment.no_open_demand'
    mine = api.get(PAYMENTS, token=world.citizen(), params={'dossier_id': pending['dossier_id']}, expect=200).doc
    assert [p['id'] for p in mine['items']] == [pending['id']]
    assert api.get(PAYMENTS, token=other, params={'dossier_id': pending['dossier_id']}, expect=200).doc['items'] == []
    staff = api.get(PAYMENTS, token=world.officer, params={'state': 'pending', 'provider': 'vnpay'}, expect=200).doc
    assert pending['id'] in [p['id'] for p in staff['items']]
    outsider = world.staff(('officer',), world.other_agency)
    assert api.get(f'{PAYMENTS}/{pending["id"]}', token=outsider, expect=404).doc['code'] == 'payment.not_found'
    # ETags
    r = api.get(f'{PAYMENTS}/{pending["id"]}', token=world.citizen(), expect=200)
    api.get(f'{PAYMENTS}/{pending["id"]}', token=world.citizen(), headers={'If-None-Match': r.headers['ETag']},
            expect=304)
    # bad filters are 400 with every problem
    r = api.get(PAYMENTS, token=world.citizen(), params={'state': 'x', 'dossier_id': 'y', 'from': '2025-13-40'},
                expect=400)
    assert {e['parameter'] for e in r.doc['errors']} == {'state', 'dossier_id', 'from'}


def test_keyset_pages(api, world, vnpay):
    ids = []
    for _ in range(3):
        d = dossier_in(world, world.procedure(mandatory=()), 6)
        ids.append(create_payment(api, world, d)['id'])
    seen, cursor = [], None
    while True:
        params = {'limit': 2}
        if cursor:
            params['cursor'] = cursor
        page = api.get(PAYMENTS, token=world.citizen(), params=params, expect=200).doc
        seen += [p['id'] for p in page['items']]
        cursor = page['next_cursor']
        if not cursor:
            break
    assert len(seen) == len(set(seen))
    assert seen[:3] == list(reversed(ids))


def test_create_validation_and_merchant(api, world, admin):
    r = api.post(PAYMENTS, token=world.citizen(), json={'dossier_id': 'x', 'provider': 'paypal', 'extra': 1},
                 expect=422)
    assert {e['pointer'] for e in r.doc['errors']} == {'/dossier_id', '/provider', '/extra'}
    # staff do not pay online
    api.post(PAYMENTS, token=world.officer, json={'dossier_id': '5b8f7e2c-3a41-4d7e-9c2a-6f1e0d3b7a55',
                                                  'provider': 'vnpay'}, expect=403)
    # merchants: system_admin only; the national platform needs its token
    api.put(f'{PAYMENTS}/merchants/{world.agency}/vnpay', token=world.officer,
            json={'merchant_code': 'X1', 'secret': 'abcdefgh'}, expect=403)
    r = api.put(f'{PAYMENTS}/merchants/{world.agency}/national_platform', token=admin,
                json={'merchant_code': 'X1', 'secret': 'abcdefgh'}, expect=422)
    assert [e['pointer'] for e in r.doc['errors']] == ['/token']
    # a merchant code is one agency's: another agency cannot take it
    taken = simulator_merchant(world.agency, 'vnpay')
    r = api.put(f'{PAYMENTS}/merchants/{world.other_agency}/vnpay', token=admin,
                json={'merchant_code': taken['merchant_code'], 'secret': 'abcdefgh'}, expect=409)
    assert r.doc['code'] == 'resource.conflict'


def test_national_platform_confirm(api, world, admin, vnpay):
    """The confirm callback's checks, on a VNPay attempt's reference under an NPP merchant."""
    npp = Merchant(api, admin, world.agency, 'national_platform')
    d = dossier_in(world, world.procedure(mandatory=()), 6)
    payment = create_payment(api, world, d)

    def confirm(merchant: Merchant, ref: str, amount: int, code: str = '00', secret: str | None = None) -> dict:
        body = {'LoaiBanTin': 'CONFIRM', 'MaLoi': code, 'MaDoiTac': merchant.code, 'MaThamChieu': ref,
                'SoTien': str(amount), 'MaTienTe': 'VND', 'MaGiaoDich': 'GD' + secrets.token_hex(4),
                'MaNganHang': 'NCB', 'ThoiGianGD': '20261203140510', 'ThongTinGiaoDich': 'Lệ phí | hồ sơ'}
        body['MaXacThuc'] = npp_check([body[k] for k in ('LoaiBanTin', 'MaLoi', 'MaDoiTac', 'MaThamChieu', 'SoTien',
                                                          'MaTienTe', 'MaGiaoDich', 'MaNganHang', 'ThoiGianGD',
                                                          'ThongTinGiaoDich')], secret or merchant.secret)
        return api.post(f'{PAYMENTS}/ipn/national-platform', json=body, expect=200).doc

    forged = confirm(npp, txn_ref(payment), 10000, secret='wrong')
    assert forged['MaLoi'] == '97' and forged['MaXacThuc'] == ''
    # a VNPay attempt is not the platform's order
    answer = confirm(npp, txn_ref(payment), 10000)
    assert answer['MaLoi'] == '01'
    # the answer is signed with the merchant's secret
    assert answer['MaXacThuc'] == npp_check([answer['MaLoi'], npp.code, txn_ref(payment), answer['ThoiGianGD']],
                                            npp.secret)


def test_event_feed_readers(api, world):
    api.get(f'{API}/events/payment', token=world.citizen(), expect=403)
    api.get(f'{API}/events/payment', token=world.officer, expect=403)


def test_owner_in_dossier_events(api, world, admin):
    """The dossier feed names the owner the payment service checks (payment-contract.md)."""
    d = dossier_in(world, world.procedure(mandatory=()), 6)
    mine, after, deadline = [], 0, time.monotonic() + 10
    while not mine:
        r = api.get(f'{API}/events/dossier', token=admin,
                    params={'type': 'dossier.dossier.payment_requested', 'after': after, 'limit': 1000},
                    expect=(200, 410))
        if r.status_code == 410:  # retention deleted the oldest (test_event_retention)
            after = r.doc['oldest_after']
            continue
        if not r.doc['items']:  # not published yet
            assert time.monotonic() < deadline, 'no payment_requested event for the dossier'
            time.sleep(0.2)
            continue
        mine = [e for e in r.doc['items'] if e['data']['dossier_id'] == d['id']]
        after = r.doc['next_after']
    assert mine[0]['data']['owner_sub'] == token_sub(world.citizen())
