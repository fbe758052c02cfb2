"""fee_collection of a channel offer: when its fees are paid (after, before_submission,
exempt), the default, the checks against the fees, and the demo procedures using it."""
from __future__ import annotations

import catalogue_data as cd
from catalogue_data import API, BIRTH_REGISTRATION, CRIMINAL_RECORD
from motcua_api import assert_problem, error_pointers


def paid_fee(amount: int) -> dict:
    return {'code': 'LP', 'name': 'Lệ phí', 'amount': amount, 'description': None,
            'effective_from': None, 'effective_to': None}


def test_default_is_after_and_pay_first_is_kept(api, admin):
    body = cd.procedure_body()
    online, in_person = body['cases'][0]['channels'][:2]
    del online['fee_collection']   # left out: the default
    online['fees'] = [paid_fee(15000)]
    in_person['fees'] = [paid_fee(30000)]
    in_person['fee_collection'] = 'before_submission'
    r = api.post(f'{API}/procedures', token=admin, json=body, expect=201)
    channels = r.doc['cases'][0]['channels']
    assert channels[0]['fee_collection'] == 'after'
    assert channels[1]['fee_collection'] == 'before_submission'
    draft = api.get(f'{API}/procedures/{body["code"]}/draft', token=admin, expect=200).doc
    assert [c['fee_collection'] for c in draft['cases'][0]['channels']] == ['after', 'before_submission']


def test_fee_collection_must_fit_the_fees(api, admin):
    body = cd.procedure_body()
    online, in_person = body['cases'][0]['channels'][:2]
    online['fee_collection'] = 'before_submission'   # its only fee is 0
    in_person['fees'] = [paid_fee(5000)]
    in_person['fee_collection'] = 'exempt'           # but charges 5,000
    r = api.post(f'{API}/procedures', token=admin, json=body, expect=422)
    doc = assert_problem(r, 422, 'request.validation_failed')
    assert {'/cases/0/channels/0/fee_collection', '/cases/0/channels/1/fee_collection'} <= \
        error_pointers(doc)
    codes = {e['pointer']: e['code'] for e in doc['errors']}
    assert codes['/cases/0/channels/0/fee_collection'] == 'fee_collection'
    api.get(f'{API}/procedures/{body["code"]}', expect=404)


def test_unknown_fee_collection_is_refused_at_its_pointer(api, admin):
    body = cd.procedure_body()
    body['cases'][0]['channels'][0]['fee_collection'] = 'later'
    r = api.post(f'{API}/procedures', token=admin, json=body, expect=422)
    assert '/cases/0/channels/0/fee_collection' in error_pointers(assert_problem(r, 422, 'request.validation_failed'))


def test_demo_procedures_pay_first_pay_after_exempt(api):
    record = api.get(f'{API}/procedures/{CRIMINAL_RECORD}', expect=200).doc
    by_case = {(c['code'], ch['channel']): ch for c in record['cases'] for ch in c['channels']}
    assert by_case[('default', 'online')]['fee_collection'] == 'before_submission'
    assert by_case[('default', 'online')]['fees'][0]['amount'] > 0
    assert by_case[('sinh_vien', 'online')]['fee_collection'] == 'after'
    assert by_case[('sinh_vien', 'online')]['fees'][0]['amount'] > 0
    birth = api.get(f'{API}/procedures/{BIRTH_REGISTRATION}', expect=200).doc
    assert {ch['fee_collection'] for c in birth['cases'] for ch in c['channels']} == {'exempt'}
