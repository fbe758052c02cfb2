"""Reconciliation against the gateway simulators' daily statements (tests/sim): every kind
of mismatch planted at the simulator is found, the report reads back as JSON and as the
accountant's CSV with the same content, a re-run supersedes the day's report, another
agency's staff cannot read it, and the schedule reconciles yesterday by itself.

The test stack reads the statements at the simulators' /sim/statement and runs the
schedule every 5 s from midnight (deploy/local/lib.sh)."""
from __future__ import annotations

import csv
import io
import secrets
import time

import requests

from dossier_support import API
from test_payment_journey import (doc_ref, fresh_payment, merchants,  # noqa: F401
                                  pay_at_simulator, sim_url, wait_state)

RECONCILIATIONS = f'{API}/payments/reconciliations'


def plant(merchant: str, day: str, kind: str, ref: str, amount: int | None = None):
    body = {'merchant_code': merchant, 'date': day.replace('-', ''), 'kind': kind, 'txn_ref': ref}
    if amount is not None:
        body['amount'] = amount
    requests.post(f'{sim_url("vnpay")}/sim/statement/plant', json=body, timeout=5).raise_for_status()


def paid_payment(api, world) -> dict:
    """A VNPay payment paid at the simulator, with its reference there (`txn_ref`)."""
    payment = fresh_payment(api, world)
    assert pay_at_simulator(payment, 'success').status_code == 302
    doc = wait_state(api, world, payment['id'], {'paid'})
    assert doc['state'] == 'paid'
    return dict(doc, txn_ref=doc_ref(payment))


def vnpay_run(items: list) -> dict:
    runs = [r for r in items if r['provider'] == 'vnpay']
    assert len(runs) == 1, items
    return runs[0]


def by_ref(run: dict) -> dict:
    return {(m['txn_ref'], m['transaction_type']): m for m in run['mismatches']}


def test_planted_mismatches_found_csv_and_access(api, world, merchants):  # noqa: F811
    code = merchants['vnpay'].code
    missing = paid_payment(api, world)
    amount = paid_payment(api, world)
    refunded = paid_payment(api, world)
    cancelled = fresh_payment(api, world)
    cancelled['txn_ref'] = doc_ref(cancelled)
    assert pay_at_simulator(cancelled, 'cancel').status_code == 302
    assert wait_state(api, world, cancelled['id'], {'cancelled'})['state'] == 'cancelled'
    day = missing['paid_at'][:10]
    r = api.post(f'{API}/payments/{refunded["id"]}/refunds', token=world.officer,
                 headers={'If-Match': api.get(f'{API}/payments/{refunded["id"]}', token=world.officer,
                                              expect=200).headers['ETag']},
                 json={'amount': 4000, 'reason': 'Hoàn một phần'}, expect=201)
    assert r.doc['state'] == 'succeeded'
    extra = 'EXTRA' + secrets.token_hex(6).upper()
    plant(code, day, 'missing', missing['txn_ref'])
    plant(code, day, 'amount', amount['txn_ref'], 9999)
    plant(code, day, 'extra', cancelled['txn_ref'], 10000)   # paid there, cancelled here
    plant(code, day, 'extra', extra, 7000)                 # only the gateway has it

    # a citizen may not; staff may not name another agency
    api.post(RECONCILIATIONS, token=world.citizen(), json={'date': day}, expect=403)
    bad = api.post(RECONCILIATIONS, token=world.officer, json={'date': day, 'agency_code': world.other_agency},
                   expect=422).doc
    assert [e['pointer'] for e in bad['errors']] == ['/agency_code']
    bad = api.post(RECONCILIATIONS, token=world.officer, json={'date': '2999-01-01', 'extra': 1}, expect=422).doc
    assert {e['pointer'] for e in bad['errors']} == {'/date', '/extra'}

    created = api.post(RECONCILIATIONS, token=world.officer, json={'date': day}, expect=201).doc
    assert {r['provider'] for r in created['items']} == {'vnpay', 'national_platform'}
    run = vnpay_run(created['items'])
    assert run['state'] == 'mismatched' and run['trigger'] == 'request' and run['current']
    assert run['date'] == day and run['agency_code'] == world.agency and run['merchant_code'] == code
    found = by_ref(run)
    assert (missing['txn_ref'], 'payment') in found, (missing, run)
    m = found[(missing['txn_ref'], 'payment')]
    assert m['kind'] == 'missing_there' and m['our_amount'] == 10000 and m['their_amount'] is None
    assert m['payment_id'] == missing['id']
    m = found[(amount['txn_ref'], 'payment')]
    assert m['kind'] == 'amount' and (m['our_amount'], m['their_amount']) == (10000, 9999)
    m = found[(cancelled['txn_ref'], 'payment')]
    assert m['kind'] == 'status' and m['our_state'] == 'cancelled' and m['their_status'] == '00'
    m = found[(extra, 'payment')]
    assert m['kind'] == 'missing_here' and m['their_amount'] == 7000 and m['payment_id'] is None
    # the refunded payment and its refund match the statement
    assert (refunded['txn_ref'], 'payment') not in found and (refunded['txn_ref'], 'refund') not in found
    assert run['summary']['mismatches'] == len(run['mismatches'])
    assert run['summary']['their_refunded'] >= 4000 and run['summary']['our_refunded'] >= 4000

    # read back: the same run, and as CSV with the same content
    again = api.get(f'{RECONCILIATIONS}/runs/{run["id"]}', token=world.officer, expect=200).doc
    assert again == run
    r = api.get(f'{RECONCILIATIONS}/runs/{run["id"]}', token=world.officer, params={'format': 'csv'}, expect=200)
    assert r.headers['Content-Type'].startswith('text/csv')
    assert 'attachment' in r.headers['Content-Disposition'] and '.csv' in r.headers['Content-Disposition']
    assert r.content.startswith(b'\xef\xbb\xbf')
    rows = list(csv.reader(io.StringIO(r.content.decode('utf-8-sig'), newline='')))
    assert rows[0][:4] == ['STT', 'Loại chênh lệch', 'Mã loại', 'Giao dịch']
    blank = rows.index([])
    lines = rows[1:blank]
    assert len(lines) == len(run['mismatches'])
    for row, m in zip(lines, run['mismatches']):
        assert int(row[0]) == m['line'] and row[2] == m['kind'] and row[4] == m['txn_ref']
        assert row[3] == ('Thanh toán' if m['transaction_type'] == 'payment' else 'Hoàn tiền')
        assert row[7] == ('' if m['our_amount'] is None else str(m['our_amount']))
        assert row[8] == ('' if m['their_amount'] is None else str(m['their_amount']))
        assert row[6] == (m['payment_id'] or '')
    assert 'Có trong sao kê, không có trong hệ thống' in {row[1] for row in lines}
    summary = {row[0]: row[1] for row in rows[blank + 1:]}
    assert summary['Tổng hợp đối soát'] == run['id'] and summary['Ngày'] == day
    assert int(summary['Số dòng sao kê']) == run['summary']['statement_lines']
    assert int(summary['Số chênh lệch']) == run['summary']['mismatches']
    assert int(summary['Đã thu theo sao kê (VND)']) == run['summary']['their_paid']

    # another agency's staff: as if it did not exist
    outsider = world.staff(('officer',), world.other_agency)
    api.get(f'{RECONCILIATIONS}/runs/{run["id"]}', token=outsider, expect=404)
    api.get(f'{RECONCILIATIONS}/runs/{run["id"]}', token=outsider, params={'format': 'csv'}, expect=404)
    listed = api.get(RECONCILIATIONS, token=outsider, params={'date': day, 'limit': 100}, expect=200).doc
    assert run['id'] not in [r['id'] for r in listed['items']]
    api.get(RECONCILIATIONS, token=outsider, params={'agency': world.agency}, expect=400)

    # a re-run supersedes the day's report; the first is kept
    rerun = vnpay_run(api.post(RECONCILIATIONS, token=world.officer, json={'date': day}, expect=201).doc['items'])
    assert rerun['id'] != run['id'] and rerun['supersedes'] == run['id'] and rerun['current']
    first = api.get(f'{RECONCILIATIONS}/runs/{run["id"]}', token=world.officer, expect=200).doc
    assert first['current'] is False
    page = api.get(RECONCILIATIONS, token=world.officer,
                   params={'date': day, 'provider': 'vnpay', 'state': 'mismatched', 'limit': 1}, expect=200).doc
    assert [r['id'] for r in page['items']] == [rerun['id']] and 'mismatches' not in page['items'][0]
    page = api.get(RECONCILIATIONS, token=world.officer,
                   params={'date': day, 'provider': 'vnpay', 'limit': 1, 'cursor': page['next_cursor']},
                   expect=200).doc
    assert [r['id'] for r in page['items']] == [run['id']]


def test_schedule_reconciles_yesterday(api, world, admin, merchants):  # noqa: F811
    yesterday = time.strftime('%Y-%m-%d', time.gmtime(time.time() + 7 * 3600 - 86400))
    deadline = time.monotonic() + 30
    while True:
        items = api.get(RECONCILIATIONS, token=world.officer,
                        params={'date': yesterday, 'limit': 100}, expect=200).doc['items']
        scheduled = [r for r in items if r['trigger'] == 'schedule']
        if {r['provider'] for r in scheduled} == {'vnpay', 'national_platform'} or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert {r['provider'] for r in scheduled} == {'vnpay', 'national_platform'}, items
    # once per day and account, however many passes ran since
    assert len(scheduled) == 2 and all(r['state'] in ('matched', 'mismatched') for r in scheduled)
    assert all(r['requested_by'] is None for r in scheduled)
    # a system administrator sees them, for one agency or all
    everyone = api.get(RECONCILIATIONS, token=admin, params={'date': yesterday, 'agency': world.agency},
                       expect=200).doc['items']
    assert {r['id'] for r in scheduled} <= {r['id'] for r in everyone}
