"""Pay first (issue 11): a dossier whose channel's fee is collected before submission
waits in status 11 (awaiting_submission_payment) from the citizen's submit until the
payment service confirms the payment (then 1, submitted at the payment time), the
citizen cancels, or the watcher expires it back to draft. Confirmations are idempotent
by payment_id."""
from __future__ import annotations

import datetime
import time
import uuid

import pytest

from dossier_support import (API, PAY_FIRST_FEE, act, awaiting_submission_payment, create,
                             dossier_events, dossier_sql, feed_end, machine_client_token,
                             pay_first_procedure, submit, upload)
from motcua_api import assert_problem, error_pointers

FEE = PAY_FIRST_FEE
VN = datetime.timezone(datetime.timedelta(hours=7))
REQUIRED = 'dossier.dossier.submission_payment_required'


@pytest.fixture(scope='module')
def pay_first(world) -> str:
    return pay_first_procedure(world)


@pytest.fixture(scope='module')
def payer(world) -> str:
    return machine_client_token(world, ['dossier:payments'], world.agency)


def types(events: list[dict]) -> list[str]:
    return [e['type'] for e in events]


def payment(amount: int = FEE, paid_at: str | None = None, payment_id: str | None = None) -> dict:
    paid_at = paid_at or datetime.datetime.now(VN).replace(microsecond=0).isoformat()
    return {'payment_id': payment_id or str(uuid.uuid4()), 'paid_at': paid_at, 'amount': amount,
            'provider': 'vnpay'}


def test_submit_waits_for_the_fee_and_says_what_to_pay(world, pay_first):
    api = world.api
    start = feed_end(world)
    d = awaiting_submission_payment(world, pay_first)
    assert (d['status'], d['status_name']) == (11, 'awaiting_submission_payment')
    assert d['code'] and d['fee_amount'] == FEE
    assert d['dates']['submitted_at'] is None
    assert d['allowed_actions'] == ['cancel_submission_payment']
    events = dossier_events(world, d['id'], start, 1)
    assert types(events) == [REQUIRED]
    data = events[0]['data']
    assert (data['code'], data['agency_code'], data['procedure_code']) == \
        (d['code'], world.agency, pay_first)
    assert data['fee_amount'] == FEE and data['details']['amount'] == FEE
    assert data['details']['fee_items'] == [
        {'code': 'LP', 'name': 'Lệ phí LP', 'amount': 150000},
        {'code': 'PH', 'name': 'Lệ phí PH', 'amount': 50000}]
    # not the agency's yet: not in its inbox, not readable by its staff
    api.get(f'{API}/dossiers/{d["id"]}', token=world.officer, expect=404)
    inbox = api.get(f'{API}/dossiers', token=world.officer,
                    params={'agency': world.agency, 'limit': 100}, expect=200).doc['items']
    assert d['id'] not in {i['id'] for i in inbox}
    # the citizen cannot submit or edit it again meanwhile
    submit(api, world.citizen(), d, expect=409)


def test_the_payment_submits_it_at_the_payment_time_once(world, pay_first, payer):
    api = world.api
    start = feed_end(world)
    d = awaiting_submission_payment(world, pay_first)
    view = api.get(f'{API}/dossiers/{d["id"]}', token=payer, expect=200).doc
    assert view['allowed_actions'] == ['confirm_submission_payment'] and view['fee_amount'] == FEE
    # the whole payment is named, and must pay the whole demand
    r = act(api, payer, view, 'confirm_submission_payment', {'payment_id': str(uuid.uuid4())},
            expect=422)
    assert {'/paid_at', '/amount', '/provider'} <= error_pointers(assert_problem(r, 422))
    r = act(api, payer, view, 'confirm_submission_payment', payment(amount=FEE - 1), expect=422)
    assert '/amount' in error_pointers(assert_problem(r, 422))
    r = act(api, payer, view, 'confirm_submission_payment', dict(payment(), paid_at='hôm qua'),
            expect=422)
    assert '/paid_at' in error_pointers(assert_problem(r, 422))
    # nobody else confirms a payment
    act(api, world.citizen(), d, 'confirm_submission_payment', payment(), expect=403)

    paid = payment(paid_at='2026-01-02T09:15:30+07:00')
    done = act(api, payer, view, 'confirm_submission_payment', paid)
    doc = done.doc
    assert (doc['status'], doc['status_name']) == (1, 'submitted')
    full = api.get(f'{API}/dossiers/{d["id"]}', token=world.officer, expect=200).doc
    assert full['dates']['submitted_at'] == '2026-01-02T09:15:30+07:00'
    assert full['code'] == d['code']
    # the payment service retries: the same payment answers the dossier as it is
    again = act(api, payer, view, 'confirm_submission_payment', paid)   # the old ETag
    assert again.doc['status'] == 1 and again.doc['revision'] == doc['revision']
    # another payment for a dossier no longer waiting
    r = act(api, payer, doc, 'confirm_submission_payment', payment(), expect=409)
    assert_problem(r, 409, 'dossier.transition_not_allowed')
    time.sleep(0.5)  # a second event, were there one, would be published by now
    events = dossier_events(world, d['id'], start, 2)
    assert types(events) == [REQUIRED, 'dossier.dossier.submitted']
    assert events[1]['data']['action'] == 'confirm_submission_payment'
    assert events[1]['data']['details']['payment_id'] == paid['payment_id']
    assert events[1]['data']['submitted_at'] == '2026-01-02T09:15:30+07:00'
    history = api.get(f'{API}/dossiers/{d["id"]}/history', token=world.officer, expect=200).doc['items']
    confirms = [h for h in history if h['action'] == 'confirm_submission_payment']
    assert len(confirms) == 1 and confirms[0]['actor']['role'] == 'service'
    assert confirms[0]['details']['provider'] == 'vnpay'
    # and the agency receives it as any submitted dossier
    act(api, world.officer, full, 'receive')


def test_cancelled_then_paid_late_still_submits(world, pay_first, payer):
    api = world.api
    citizen = world.citizen()
    start = feed_end(world)
    d = awaiting_submission_payment(world, pay_first)
    back = act(api, citizen, d, 'cancel_submission_payment').doc
    assert (back['status'], back['code']) == (0, d['code'])
    events = dossier_events(world, d['id'], start, 2)
    assert types(events) == [REQUIRED, 'dossier.dossier.submission_payment_cancelled']
    # only the citizen gives up, and only while waiting
    act(api, citizen, back, 'cancel_submission_payment', expect=409)
    # the payment made before the cancellation arrives: the dossier is submitted
    view = api.get(f'{API}/dossiers/{d["id"]}', token=payer, expect=200).doc
    assert view['status'] == 0
    done = act(api, payer, view, 'confirm_submission_payment', payment()).doc
    assert done['status'] == 1


def test_resubmitted_after_cancelling_keeps_its_code(world, pay_first):
    api = world.api
    citizen = world.citizen()
    d = awaiting_submission_payment(world, pay_first)
    back = act(api, citizen, d, 'cancel_submission_payment').doc
    again = submit(api, citizen, back).doc
    assert (again['status'], again['code']) == (11, d['code'])


def test_a_draft_never_submitted_has_no_payment_to_confirm(world, pay_first, payer):
    api = world.api
    draft = create(api, world.citizen(), pay_first, world.agency).doc
    # not even visible to the payment client
    act(api, payer, draft, 'confirm_submission_payment', payment(), expect=404)


def test_unpaid_expires_back_to_draft(world, pay_first):
    api = world.api
    start = feed_end(world)
    d = awaiting_submission_payment(world, pay_first)
    # waiting longer than MOTCUA_DOSSIER_SUBMISSION_PAYMENT_HOURS (24): as if submitted a day ago
    dossier_sql(f"UPDATE dossiers SET updated_at = now() - interval '25 hours' WHERE id = '{d['id']}'")
    deadline = time.monotonic() + 30
    doc = d
    while time.monotonic() < deadline:
        doc = api.get(f'{API}/dossiers/{d["id"]}', token=world.citizen(), expect=200).doc
        if doc['status'] == 0:
            break
        time.sleep(0.5)
    assert (doc['status'], doc['code'], doc['fee_amount']) == (0, d['code'], FEE)
    events = dossier_events(world, d['id'], start, 2)
    assert types(events) == [REQUIRED, 'dossier.dossier.submission_payment_expired']
    assert events[1]['data']['actor_role'] == 'system'
    # one waiting for less long is left alone
    fresh = awaiting_submission_payment(world, pay_first)
    time.sleep(6)  # more than the watcher's interval in the test stack (5 s)
    assert api.get(f'{API}/dossiers/{fresh["id"]}', token=world.citizen(), expect=200).doc['status'] == 11


def test_pay_after_and_in_person_submit_as_before(world, pay_first):
    """The same procedure by post is paid after: submit goes straight to 1, no demand."""
    api = world.api
    token = world.citizen()
    d = create(api, token, pay_first, world.agency, channel='postal').doc
    upload(api, token, d, 'TK')
    d = api.get(f'{API}/dossiers/{d["id"]}', token=token, expect=200).doc
    done = submit(api, token, d).doc
    assert done['status'] == 1 and done['fee_amount'] is None and done['dates']['submitted_at']
