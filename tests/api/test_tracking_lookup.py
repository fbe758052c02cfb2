"""The tracking service (docs/services/tracking.md): a dossier's whole life seen through
the public card and the signed-in timeline, the second factor, one 404 for an unknown
code and a wrong factor, validation before the database, the rate limits in the service
and at the gateway, the short link, and who may read a timeline.

Every answer is validated against api-spec/tracking.yaml by the client; the public card's
members are also asserted one by one, so no personal data can slip in unnoticed."""
from __future__ import annotations

import json
import statistics
import time
import uuid

import requests

from dossier_support import act, filed, token_sub
from motcua_api import ApiClient, assert_problem, error_parameters
from stack_db import psql_as
from tracking_support import (APPLICANT_ID, APPLICANT_PHONE_LAST4, ID_HEADER, PHONE_HEADER,
                              TRACKING, kinds, timeline, tracking_url)

CARD_MEMBERS = {'code', 'short_code', 'status', 'procedure', 'agency_code', 'handling_agency',
                'channel', 'submitted_at', 'received_at', 'appointment_at', 'outcome',
                'updated_at', 'steps', 'applicant', 'asked'}
PUBLIC_STEP_MEMBERS = {'kind', 'at', 'label_vi', 'label_en', 'status', 'agency_code',
                       'appointment_at', 'previous_appointment_at', 'from_agency'}
PRIVATE_STEP_MEMBERS = {'reasons', 'missing_items', 'supplement_due_at', 'fee_amount'}
STATUS_VI = {1: 'Mới đăng ký, chờ tiếp nhận', 2: 'Đã tiếp nhận', 4: 'Đang xử lý',
             5: 'Yêu cầu bổ sung giấy tờ', 6: 'Chờ thực hiện nghĩa vụ tài chính',
             9: 'Đã xử lý xong, có kết quả', 10: 'Đã trả kết quả'}
# what dossier_support.dossier_body files: none of it may appear in a public card
# how long to wait before reading a card again when it does not yet show a change
GATEWAY_CACHE_SECONDS = 2.0
PERSONAL = ('Nguyễn', 'Văn', APPLICANT_ID, '0912345678', APPLICANT_PHONE_LAST4)


def card(api, code: str, headers: dict | None = None, expect=200):
    return api.get(f'{TRACKING}/dossiers/{code}', headers=headers, expect=expect)


def public_card(api, code: str, tl: dict):
    """The public card once it shows what the signed-in timeline `tl` shows: read again once,
    after a pause, if the first read does not show it yet."""
    r = card(api, code)
    if kinds(r.doc) != kinds(tl) or r.doc['status'] != tl['status']:
        time.sleep(GATEWAY_CACHE_SECONDS + 0.2)
        r = card(api, code)
    return r


def assert_public(doc: dict, d: dict, tokens_seen: list[str]) -> None:
    """A card without a factor: every member checked, nothing personal anywhere."""
    assert set(doc) == CARD_MEMBERS
    assert doc['code'] == d['code']
    assert doc['applicant'] is None and doc['asked'] is None
    assert doc['procedure'] == {'code': d['procedure']['code'], 'name': d['procedure']['name']}
    assert doc['agency_code'] == d['agency_code'] and doc['handling_agency'] == d['handling_agency']
    assert doc['channel'] == d['channel']
    assert doc['status']['code'] == d['status']
    assert doc['status']['label_vi'] == STATUS_VI[d['status']]
    assert doc['submitted_at'] is not None
    assert doc['short_code'] is None or len(doc['short_code']) == 10
    for step in doc['steps']:
        assert set(step) == PUBLIC_STEP_MEMBERS, step
    text = json.dumps(doc, ensure_ascii=False)
    for word in PERSONAL:
        assert word not in text, f'{word!r} in a public card: {text}'
    for token in tokens_seen:  # no account id of the citizen or an officer
        assert token_sub(token) not in text


def test_a_dossiers_whole_life_through_the_card_and_the_timeline(world):
    api, citizen, officer, approver = world.api, world.citizen(), world.officer, world.approver
    staff = [citizen, officer, approver]
    code = world.procedure(mandatory=())
    d = filed(world, code, documents=())
    tl = timeline(api, citizen, d['code'], lambda t: kinds(t) == ['submitted'])
    assert tl['status']['code'] == 1 and tl['applicant'] == {'masked_name': 'N*** V*** A***'}
    assert tl['steps'][0]['label_vi'] == 'Nộp hồ sơ'
    assert tl['steps'][0]['label_en'] == 'Dossier submitted'
    assert_public(card(api, d['code']).doc, d, staff)

    d = act(api, officer, d, 'receive').doc
    tl = timeline(api, citizen, d['code'], lambda t: kinds(t)[-1:] == ['received'])
    assert tl['appointment_at'] == d['dates']['appointment_at'] is not None
    assert tl['received_at'] == d['dates']['received_at']
    assert tl['steps'][-1]['appointment_at'] == d['dates']['appointment_at']
    assert tl['steps'][-1]['previous_appointment_at'] is None
    doc = public_card(api, d['code'], tl).doc
    assert_public(doc, d, staff)
    assert doc['appointment_at'] == d['dates']['appointment_at']

    # a supplement: the public card says so, the applicant's part says what is missing
    missing = ['Bản sao giấy chứng sinh', 'Giấy xác nhận cư trú']
    d = act(api, officer, d, 'request_supplement', {'missing_items': missing}).doc
    tl = timeline(api, citizen, d['code'], lambda t: t['status']['code'] == 5)
    doc = public_card(api, d['code'], tl).doc
    assert_public(doc, d, staff)
    assert 'Giấy xác nhận cư trú' not in json.dumps(doc, ensure_ascii=False)
    for headers in ({ID_HEADER: APPLICANT_ID}, {PHONE_HEADER: APPLICANT_PHONE_LAST4}):
        mine = card(api, d['code'], headers=headers).doc
        assert set(mine) == CARD_MEMBERS
        assert mine['applicant'] == {'masked_name': 'N*** V*** A***'}
        assert mine['asked'] == {'missing_items': missing,
                                 'supplement_due_at': d['dates']['supplement_due_at'],
                                 'fee_amount': None}
        assert mine['steps'][-1]['missing_items'] == missing
        assert set(mine['steps'][-1]) == PUBLIC_STEP_MEMBERS | PRIVATE_STEP_MEMBERS
        assert APPLICANT_ID not in json.dumps(mine)

    d = act(api, citizen, d, 'supplement').doc
    d = act(api, officer, d, 'forward').doc
    d = act(api, officer, d, 'request_payment', {'amount': 50000}).doc
    tl = timeline(api, citizen, d['code'], lambda t: t['status']['code'] == 6)
    mine = card(api, d['code'], headers={ID_HEADER: APPLICANT_ID}).doc
    assert mine['asked'] == {'missing_items': None, 'supplement_due_at': None, 'fee_amount': 50000}
    assert_public(public_card(api, d['code'], tl).doc, d, staff)
    d = act(api, officer, d, 'confirm_payment').doc

    # an apology moves the appointment: the step shows both dates
    before = d['dates']['appointment_at']
    new_date = time.strftime('%Y-%m-%dT%H:%M:%S+07:00', time.gmtime(time.time() + 7 * 3600 + 30 * 86400))
    d = act(api, officer, d, 'apologize', {'reasons': ['Cần xác minh thêm'],
                                           'new_appointment_at': new_date}).doc
    d = act(api, approver, d, 'approve', {'result': {'summary': 'Cấp giấy khai sinh'}}).doc
    d = act(api, officer, d, 'return_result').doc
    tl = timeline(api, citizen, d['code'], lambda t: t['status']['code'] == 10)
    assert kinds(tl) == ['submitted', 'received', 'supplement_requested', 'supplement_provided',
                         'step_changed', 'payment_requested', 'payment_confirmed',
                         'apology_issued', 'approved', 'result_returned']
    assert [s['status']['code'] for s in tl['steps']] == [1, 2, 5, 2, 4, 6, 4, 4, 9, 10]
    apology = tl['steps'][7]
    assert apology['previous_appointment_at'] == before
    assert apology['appointment_at'] == d['dates']['appointment_at'] != before
    assert apology['reasons'] == ['Cần xác minh thêm']
    assert tl['outcome'] == 'approved' and tl['status']['label_en'] == 'Result returned'
    assert all(s['agency_code'] == world.agency for s in tl['steps'])
    times = [s['at'] for s in tl['steps']]
    assert times == sorted(times)
    r = public_card(api, d['code'], tl)
    assert_public(r.doc, d, staff)
    assert kinds(r.doc) == kinds(tl)
    # conditional reads: the same card is 304, the applicant's view has another ETag
    assert card(api, d['code'], headers={'If-None-Match': r.headers['ETag']}, expect=304)
    mine = card(api, d['code'], headers={ID_HEADER: APPLICANT_ID})
    assert mine.headers['ETag'] != r.headers['ETag']
    t = api.get(f'{TRACKING}/dossiers/{d["code"]}/timeline', token=citizen, expect=200)
    api.get(f'{TRACKING}/dossiers/{d["code"]}/timeline', token=citizen,
            headers={'If-None-Match': t.headers['ETag']}, expect=304)


def test_unknown_code_and_wrong_factor_get_the_same_404(world):
    api = world.api
    d = filed(world, world.procedure(mandatory=()), documents=())
    timeline(api, world.citizen(), d['code'])
    svc = ApiClient(tracking_url(), api.spec, via='service')
    agency, day, _ = d['code'].rsplit('-', 2)

    def answer(code: str, headers: dict) -> tuple[dict, float]:
        started = time.perf_counter()
        # a fresh client address each time: the per-address limit is not what is measured
        h = dict(headers, **{'X-Real-IP': f'198.51.100.{uuid.uuid4().int % 250 + 1}'})
        r = svc.get(f'{TRACKING}/dossiers/{code}', headers=h, expect=404, retry_429=False)
        elapsed = time.perf_counter() - started
        doc = assert_problem(r, 404, 'resource.not_found')
        return {k: v for k, v in doc.items() if k not in ('instance', 'request_id')}, elapsed

    unknown, wrong = [], []
    for i in range(8):  # the per-code limit (10 a minute) bounds the wrong-factor samples
        unknown.append(answer(f'{agency}-{day}-{9000 + i}', {ID_HEADER: APPLICANT_ID}))
        wrong.append(answer(d['code'], {ID_HEADER: f'00109001{i:04d}'}))
    bodies = {json.dumps(b, sort_keys=True) for b, _ in unknown + wrong}
    assert len(bodies) == 1, bodies
    # same work either way (one query, one HMAC): the medians stay close
    gap = abs(statistics.median(t for _, t in unknown) - statistics.median(t for _, t in wrong))
    assert gap < 0.02, f'unknown vs wrong factor differ by {gap * 1000:.1f} ms'
    # a wrong phone answers the same
    body, _ = answer(d['code'], {PHONE_HEADER: '0000'})
    assert json.dumps(body, sort_keys=True) in bodies


def test_codes_and_factors_are_checked_before_the_database(world):
    api = world.api
    for bad in ('abc', '000.00.06.H56-2310-0001', '000.00.06.H56-231027-01',
                'x' * 40 + '-231027-' + '1' * 30, "000.00.06.H56-231027-0001'"):
        doc = assert_problem(card(api, requests.utils.quote(bad, safe=''), expect=400), 400,
                             'request.bad_query')
        assert error_parameters(doc) == {'code'}
    code = '000.00.06.H56-231027-0361'
    for headers, name in (({ID_HEADER: '12345'}, ID_HEADER), ({PHONE_HEADER: '56789'}, PHONE_HEADER),
                          ({PHONE_HEADER: 'abcd'}, PHONE_HEADER),
                          ({ID_HEADER: APPLICANT_ID, PHONE_HEADER: '5678'}, ID_HEADER)):
        doc = assert_problem(card(api, code, headers=headers, expect=400), 400, 'request.bad_query')
        assert error_parameters(doc) == {name}
    assert_problem(api.get(f'{TRACKING}/short/ILOU1234IL', expect=400), 400, 'request.bad_query')


def test_the_service_limits_lookups_per_code_and_per_address(world):
    svc = ApiClient(tracking_url(), world.api.spec, via='service')
    code = f'000.00.99.H56-200101-{uuid.uuid4().int % 9000 + 1000}'
    # per code, whatever the address: 10 a minute
    for i in range(10):
        svc.get(f'{TRACKING}/dossiers/{code}', headers={'X-Real-IP': f'192.0.2.{i + 1}'},
                expect=404, retry_429=False)
    r = svc.get(f'{TRACKING}/dossiers/{code}', headers={'X-Real-IP': '192.0.2.200'},
                expect=429, retry_429=False)
    assert_problem(r, 429, 'http.rate_limited')
    assert 1 <= int(r.headers['Retry-After']) <= 60
    # per address, whatever the code: LOOKUP_LIMIT_PER_ADDRESS (300 in the test stack)
    address = f'203.0.113.{uuid.uuid4().int % 250 + 1}'
    statuses = [svc.get(f'{TRACKING}/dossiers/000.00.98.H56-200101-{1000 + i}',
                        headers={'X-Real-IP': address}, expect=(404, 429),
                        retry_429=False).status_code for i in range(301)]
    assert statuses[:300] == [404] * 300 and statuses[300] == 429


def test_the_gateway_limits_lookups_per_address(world):
    """limit_req at the gateway (deploy/gateway/services/tracking.conf): 5 r/s, burst 20."""
    api = world.api
    statuses = []
    for i in range(40):
        r = api.get(f'{TRACKING}/dossiers/000.00.97.H56-200101-{1000 + i}', expect=(404, 429),
                    retry_429=False)
        statuses.append(r.status_code)
        if r.status_code == 429:
            doc = assert_problem(r, 429, 'http.rate_limited')
            assert 'address' in doc['detail']  # nginx's answer, not the service's
            assert r.headers['Retry-After']
            break
    # well before the API's own zone (30 r/s, burst 60) would refuse anything
    assert statuses[-1] == 429 and statuses.count(404) <= 21, statuses
    time.sleep(2)  # let the bucket refill for the next tests


def test_the_short_link_opens_the_public_card(world, base_url):
    api = world.api
    d = filed(world, world.procedure(mandatory=()), documents=())
    timeline(api, world.citizen(), d['code'])
    doc = card(api, d['code']).doc
    short = doc['short_code']
    assert short is not None and len(short) == 10
    assert all(c in '0123456789ABCDEFGHJKMNPQRSTVWXYZ' for c in short)
    by_short = api.get(f'{TRACKING}/short/{short.lower()}', expect=200).doc
    assert by_short == doc
    r = requests.get(f'{base_url}/t/{short}', timeout=10)
    assert r.status_code == 200 and r.json() == doc
    # with the factor, the short link answers the applicant's part as well
    mine = api.get(f'{TRACKING}/short/{short}', headers={ID_HEADER: APPLICANT_ID}, expect=200).doc
    assert mine['applicant'] == {'masked_name': 'N*** V*** A***'}
    other = ''.join('0' if c != '0' else '1' for c in short)
    assert_problem(api.get(f'{TRACKING}/short/{other}', expect=404), 404, 'resource.not_found')
    # two dossiers sharing a short code (50 bits: rare): the link names neither
    twin = filed(world, world.procedure(mandatory=()), documents=())
    timeline(api, world.citizen(), twin['code'])
    psql_as('tracking', f"UPDATE dossiers SET short_code = '{short}' WHERE code = '{twin['code']}'")
    assert_problem(api.get(f'{TRACKING}/short/{short}', expect=404), 404, 'resource.not_found')
    assert card(api, twin['code']).doc['code'] == twin['code']


def test_who_may_read_the_timeline(world):
    api = world.api
    d = filed(world, world.procedure(mandatory=()), documents=())
    owner, officer = world.citizen(), world.officer
    timeline(api, owner, d['code'])
    assert timeline(api, officer, d['code'])['applicant'] == {'masked_name': 'N*** V*** A***'}
    timeline(api, world.tokens.system_admin, d['code'])
    for stranger in (world.citizen(1), world.staff(('officer',), world.other_agency)):
        assert_problem(api.get(f'{TRACKING}/dossiers/{d["code"]}/timeline', token=stranger,
                               expect=404), 404, 'resource.not_found')
    assert_problem(api.get(f'{TRACKING}/dossiers/{d["code"]}/timeline', expect=401), 401)
    # a transfer: the receiving agency reads it, and so does the one it went through
    d = act(api, officer, d, 'receive').doc
    d = act(api, officer, d, 'transfer', {'to_agency': world.other_agency,
                                          'reasons': ['Thuộc thẩm quyền nơi khác']}).doc
    other = world.staff(('officer',), world.other_agency)
    tl = timeline(api, other, d['code'], lambda t: kinds(t)[-1:] == ['transferred'])
    assert tl['handling_agency'] == world.other_agency
    assert tl['steps'][-1]['from_agency'] == world.agency
    assert tl['steps'][-1]['agency_code'] == world.other_agency
    timeline(api, officer, d['code'], lambda t: kinds(t)[-1:] == ['transferred'])


def test_a_web_front_end_may_send_the_factor_headers(world):
    """CORS: a portal on another origin sends the factor headers (deploy/gateway/http.conf)."""
    r = world.api.options(f'{TRACKING}/dossiers/000.00.06.H56-231027-0361', validate=False, headers={
        'Origin': 'https://dichvucong.example.vn', 'Access-Control-Request-Method': 'GET',
        'Access-Control-Request-Headers': 'tracking-id-number, tracking-phone-last4'})
    assert r.status_code in (200, 204), r.status_code
    allowed = {h.strip().lower() for h in r.headers.get('Access-Control-Allow-Headers', '').split(',')}
    assert {'tracking-id-number', 'tracking-phone-last4'} <= allowed, allowed
