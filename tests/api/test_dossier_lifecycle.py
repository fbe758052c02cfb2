"""The whole lifecycle of dossiers of several procedures (DOMAIN.md §3-§4, §7), with
their due dates checked against dates computed here, independently, from the
catalogue's calendar (days off, worked Saturdays, the agency's office hours), and
against the catalogue's own GET /calendar/due-date.

Reception happens "now" (the services' real clock), so the expected dates are computed
from the times the service recorded (received_at, the supplement's and payment's
event times), not hard-coded: on a weekend or at night the clock starts at the next
opening and a pause may cost no working time, and the checks still hold.

The watcher (supplement deadline passed -> stop, due soon, overdue) needs hours to
elapse and is covered by the unit tests of watch.c's rules, not here.
"""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import time

import pytest

from dossier_support import API, act, dossier_events, etag_of, feed_end, filed, token_sub
from motcua_api import assert_problem, error_pointers, parse_rfc3339

VN = dt.timezone(dt.timedelta(hours=7))
RESULT = {'summary': 'Cấp giấy khai sinh', 'number': '123/2026/KS'}
SCORES = {'total_time': 2, 'time_at_each_unit': 2, 'contacts_needed': 2, 'agencies_contacted': 2,
          'one_stop_handling': 2, 'procedure_publication': 1, 'staff_attitude': 2,
          'complaint_handling': 1, 'online_service_quality': 2}


# ---------------------------------------------------------------------------
# an independent deadline calculator (DOMAIN.md §4; motcua/calendar.h semantics)

def epoch(text: str) -> int:
    return int(parse_rfc3339(text).timestamp())


def rfc(t: int) -> str:
    return dt.datetime.fromtimestamp(t, VN).isoformat()


class Calendar:
    """Working days and office sessions of one agency, from the catalogue."""

    def __init__(self, sessions: list[tuple[int, int]], cutoff: int, off: set, extra: set):
        self.sessions, self.cutoff, self.off, self.extra = sessions, cutoff, off, extra

    @classmethod
    def load(cls, api, agency: str, off_extra: set | None = None, off_removed: set | None = None) -> 'Calendar':
        a = api.get(f'{API}/agencies/{agency}', expect=200).doc

        def minutes(hhmm: str) -> int:
            h, m = hhmm.split(':')
            return int(h) * 60 + int(m)
        sessions = [(minutes(s['start']), minutes(s['end'])) for s in a['office_hours']]
        off, extra = set(), set()
        year = dt.datetime.now(VN).year
        for y in range(year, year + 3):
            for day in api.get(f'{API}/calendar/{y}', expect=200).doc['days']:
                (off if day['kind'] == 'day_off' else extra).add(dt.date.fromisoformat(day['date']))
        return cls(sessions, minutes(a.get('same_day_cutoff') or '15:00'),
                   (off | (off_extra or set())) - (off_removed or set()), extra)

    def working(self, day: dt.date) -> bool:
        return day in self.extra or (day.weekday() < 5 and day not in self.off)

    def at(self, day: dt.date, minute: int) -> int:
        return int(dt.datetime(day.year, day.month, day.day, tzinfo=VN).timestamp()) + minute * 60

    def day_of(self, t: int) -> dt.date:
        return dt.datetime.fromtimestamp(t, VN).date()

    def segments(self, t: int, pauses=()):
        """Free working time [s, e) from t on: sessions of working days minus pauses."""
        day = self.day_of(t)
        for _ in range(4000):
            if self.working(day):
                for a, b in self.sessions:
                    s, e = max(self.at(day, a), t), self.at(day, b)
                    if s >= e:
                        continue
                    parts = [(s, e)]
                    for pf, pt in pauses:
                        parts = [q for (x, y) in parts
                                 for q in ((x, min(y, pf)), (max(x, pt), y)) if q[0] < q[1]]
                    yield from sorted(parts)
            day += dt.timedelta(days=1)

    def clock_start(self, t: int) -> int:
        return next(self.segments(t))[0]

    def walk(self, start: int, need: int, pauses=()) -> int:
        for s, e in self.segments(start, pauses):
            if need <= e - s:
                return s + need
            need -= e - s
        raise AssertionError('no due date within the horizon')

    def between(self, a: int, b: int) -> int:
        total = 0
        for s, e in self.segments(a):
            if s >= b:
                break
            total += min(e, b) - s
        return total

    def due(self, received: int, value: float, unit: str, pauses=()) -> int:
        start = self.clock_start(received)
        day_secs = sum(b - a for a, b in self.sessions) * 60
        if unit == 'working_days' and value == 0:
            day = self.day_of(start)
            if start - self.at(day, 0) > self.cutoff * 60:
                day += dt.timedelta(days=1)
                while not self.working(day):
                    day += dt.timedelta(days=1)
            closing = self.at(day, self.sessions[-1][1])
            return closing if not pauses else self.walk(start, self.between(start, closing), pauses)
        assert unit in ('working_days', 'working_hours'), unit
        return self.walk(start, round(value * (day_secs if unit == 'working_days' else 3600)), pauses)


def catalogue_due(api, received_at: str, value: float, unit: str, agency: str) -> str:
    return api.get(f'{API}/calendar/due-date', params={'received_at': received_at, 'value': value,
                                                       'unit': unit, 'agency': agency},
                   expect=200).doc['due_at']


def check_due(world, d: dict, value: float, unit: str, pauses=(), start: str | None = None):
    """d's due date equals the independent computation (and the catalogue's when there is
    no pause) from `start` (default: its received_at)."""
    cal = Calendar.load(world.api, d['handling_agency'])
    start = start or d['dates']['received_at']
    expected = cal.due(epoch(start), value, unit, pauses)
    assert epoch(d['dates']['due_at']) == expected, \
        f'due {d["dates"]["due_at"]}, computed {rfc(expected)} from {start} ({value} {unit}, pauses {pauses})'
    if not pauses:
        assert epoch(catalogue_due(world.api, start, value, unit, d['handling_agency'])) == expected
    return expected


# ---------------------------------------------------------------------------
# helpers

def get(world, d: dict, token: str | None = None) -> dict:
    return world.api.get(f'{API}/dossiers/{d["id"]}', token=token or world.officer, expect=200).doc


def history(world, d: dict, token: str | None = None) -> list[dict]:
    return world.api.get(f'{API}/dossiers/{d["id"]}/history', token=token or world.citizen(),
                         expect=200).doc['items']


def event_time(events: list[dict], action: str) -> int:
    return epoch(next(e['data']['occurred_at'] for e in reversed(events) if e['data']['action'] == action))


def wait_for_event(world, dossier_id: str, start: int, type_: str, count: int = 1,
                   timeout: float = 30) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        events = dossier_events(world, dossier_id, start, 0)
        if sum(e['type'] == type_ for e in events) >= count:
            return events
        assert time.monotonic() < deadline, f'no {type_} event: {[e["type"] for e in events]}'
        time.sleep(0.5)


WATCHER_TYPES = {'dossier.dossier.due_soon', 'dossier.dossier.overdue'}


def workflow_events(world, dossier_id: str, start: int, last: str, count: int = 1) -> list[dict]:
    """The dossier's events after `start` once one of type dossier.dossier.<last> is
    there, without the watcher's due_soon/overdue flags (which may come at any time for
    a dossier due within a day)."""
    events = wait_for_event(world, dossier_id, start, f'dossier.dossier.{last}', count)
    return [e for e in events if e['type'] not in WATCHER_TYPES]


def evaluate(world, d: dict, token: str, expect=201, **over):
    body = {'scores': dict(SCORES), 'satisfaction': 'satisfied', 'comment': 'Nhanh, đúng hẹn.'}
    body.update(over)
    return world.api.put(f'{API}/dossiers/{d["id"]}/evaluation', token=token, json=body, expect=expect)


# ---------------------------------------------------------------------------
# lifecycles

def test_same_day_procedure_from_filing_to_evaluation(world):
    """value 0 working days: due at closing time (or the next working day's after 15:00);
    receive -> steps -> approve -> return -> evaluate; history and events follow."""
    api, citizen, officer, approver = world.api, world.citizen(), world.officer, world.approver
    code = world.procedure(value=0, mandatory=())
    start = feed_end(world)
    d = filed(world, code, documents=())
    d = act(api, officer, d, 'receive').doc
    assert d['status'] == 2 and d['processing']['step_index'] == 0
    check_due(world, d, 0, 'working_days')
    assert d['dates']['appointment_at'] == d['dates']['due_at']
    assert d['dates']['clock_start_at'] == d['dates']['received_at']

    d = act(api, officer, d, 'forward').doc                 # received -> processing, first step
    assert (d['status'], d['processing']['step_index']) == (4, 0)
    d = act(api, officer, d, 'forward', {'assignee': token_sub(approver)}).doc
    assert d['processing'] == {'step_index': 1, 'assignee': token_sub(approver)}
    doc = assert_problem(act(api, officer, d, 'forward', expect=422), 422)
    assert error_pointers(doc) == {'/to_step'}
    d = act(api, officer, d, 'return_step', {'reasons': ['Thiếu chữ ký người khai']}).doc
    assert d['processing']['step_index'] == 0 and d['processing']['assignee'] is None
    d = act(api, officer, d, 'forward').doc
    assert d['processing']['step_index'] == 1

    doc = assert_problem(act(api, approver, d, 'approve', expect=422), 422)
    assert error_pointers(doc) == {'/result'}
    d = act(api, approver, d, 'approve', {'result': RESULT}).doc
    assert d['status'] == 9 and d['outcome'] == 'approved' and d['result']['summary'] == RESULT['summary']
    assert d['dates']['decided_at'] is not None
    assert_problem(evaluate(world, d, citizen, expect=409), 409, 'dossier.transition_not_allowed')
    d = act(api, officer, d, 'return_result').doc
    assert d['status'] == 10 and d['dates']['returned_at'] and d['dates']['finished_at']
    assert d['allowed_actions'] == []

    # the evaluation: bad scores are refused, then once 201, then 409
    doc = assert_problem(evaluate(world, d, citizen, expect=422,
                                  scores={**SCORES, 'total_time': 3, 'staff_attitude': -1}), 422)
    assert {'/scores/total_time', '/scores/staff_attitude'} <= error_pointers(doc), doc
    partial = dict(SCORES)
    del partial['complaint_handling']
    doc = assert_problem(evaluate(world, d, citizen, expect=422, scores=partial, satisfaction='ok'), 422)
    assert {'/scores/complaint_handling', '/satisfaction'} <= error_pointers(doc), doc
    assert_problem(evaluate(world, d, officer, expect=403), 403)
    assert_problem(evaluate(world, d, world.citizen(1), expect=404), 404, 'dossier.not_found')
    ev = evaluate(world, d, citizen).doc
    assert ev['dossier_id'] == d['id'] and ev['scores'] == SCORES
    assert ev['total'] == sum(SCORES.values()) and ev['satisfaction'] == 'satisfied'
    assert_problem(evaluate(world, d, citizen, expect=409, satisfaction='very_satisfied'), 409)
    assert api.get(f'{API}/dossiers/{d["id"]}/evaluation', token=citizen, expect=200).doc == ev
    assert api.get(f'{API}/dossiers/{d["id"]}/evaluation', token=officer, expect=200).doc == ev

    # the audit trail: every transition, in order, with the actor's role
    items = history(world, d)
    steps = [(h['action'], h['from_status'], h['to_status'], h['actor']['role']) for h in items]
    assert steps == [('create', 0, 0, 'citizen'), ('submit', 0, 1, 'citizen'),
                     ('receive', 1, 2, 'officer'), ('forward', 2, 4, 'officer'),
                     ('forward', 4, 4, 'officer'), ('return_step', 4, 4, 'officer'),
                     ('forward', 4, 4, 'officer'), ('approve', 4, 9, 'approver'),
                     ('return_result', 9, 10, 'officer')], steps
    assert [h['seq'] for h in items] == sorted(h['seq'] for h in items)
    assert items[5]['reasons'] == ['Thiếu chữ ký người khai']
    actor = items[2]['actor']
    assert {k: actor[k] for k in ('sub', 'role', 'agency')} == \
        {'sub': token_sub(officer), 'role': 'officer', 'agency': world.agency}
    assert 'name' in actor  # staff see who acted (the token's name claim; null without one)
    assert [parse_rfc3339(h['at']) for h in items] == sorted(parse_rfc3339(h['at']) for h in items)

    # the events: one per change, none for the refused attempts, in order
    events = workflow_events(world, d['id'], start, 'evaluated')
    types = [e['type'].removeprefix('dossier.dossier.') for e in events]
    assert types == ['submitted', 'received', 'step_changed', 'step_changed', 'step_changed',
                     'step_changed', 'approved', 'result_returned', 'evaluated'], types
    seqs = [int(e['sequence']) for e in events]
    assert seqs == sorted(seqs)
    for e in events:
        data = e['data']
        assert data['dossier_id'] == d['id'] and data['code'] == d['code']
        assert data['agency_code'] == world.agency and data['procedure_code'] == code
        assert data['channel'] == 'online' and data['sector_code'] == 'ho-tich'
    received = events[1]['data']
    assert (received['from_status'], received['to_status']) == (1, 2)
    assert received['due_at'] == d['dates']['due_at'] and received['actor_role'] == 'officer'
    assert events[6]['data']['outcome'] == 'approved'
    assert events[8]['data']['details']['total'] == sum(SCORES.values())


def test_working_days_with_a_supplement_that_restarts_the_clock(world):
    api, citizen, officer = world.api, world.citizen(), world.officer
    code = world.procedure(value=2, clock='restart', mandatory=())
    start = feed_end(world)
    d = act(api, officer, filed(world, code, documents=()), 'receive').doc
    check_due(world, d, 2, 'working_days')

    doc = assert_problem(act(api, officer, d, 'request_supplement', expect=422), 422)
    assert error_pointers(doc) == {'/missing_items'}
    doc = assert_problem(act(api, officer, d, 'request_supplement',
                             {'missing_items': ['   '], 'deadline_working_days': 0}, expect=422), 422)
    assert {'/missing_items/0', '/deadline_working_days'} <= error_pointers(doc), doc
    missing = ['Bản sao giấy chứng sinh', 'Giấy xác nhận cư trú']
    d = act(api, officer, d, 'request_supplement',
            {'missing_items': missing, 'deadline_working_days': 3}).doc
    assert d['status'] == 5 and d['missing_items'] == missing
    assert d['dates']['paused_since'] is not None
    requested = event_time(workflow_events(world, d['id'], start, 'supplement_requested'), 'request_supplement')
    cal = Calendar.load(api, world.agency)
    assert epoch(d['dates']['supplement_due_at']) == cal.walk(cal.clock_start(requested), 3 * 8 * 3600)
    assert d['allowed_actions'] == ['stop', 'apologize']
    assert get(world, d, citizen)['allowed_actions'] == ['supplement', 'request_withdrawal']

    # the applicant edits while a supplement is requested, then supplements
    r = api.patch(f'{API}/dossiers/{d["id"]}', token=citizen, headers={'If-Match': etag_of(d)},
                  json={'form_data': {'child_full_name': 'Nguyễn Văn Bé', 'dob': '2025-03-02'}}, expect=200)
    d = act(api, citizen, r.doc, 'supplement').doc
    assert d['status'] == 2 and d['dates']['paused_since'] is None
    assert d['dates']['supplement_due_at'] is None
    events = workflow_events(world, d['id'], start, 'supplement_provided')
    supplemented = event_time(events, 'supplement')
    # restart: the whole time limit again from the supplement
    assert epoch(d['dates']['clock_start_at']) == supplemented
    check_due(world, d, 2, 'working_days', start=d['dates']['clock_start_at'])
    assert d['dates']['appointment_at'] == d['dates']['due_at']
    assert events[-1]['type'] == 'dossier.dossier.supplement_provided'
    assert events[-2]['data']['missing_items'] == missing

    # a supplement requested before reception returns to "submitted", no clock
    e = filed(world, code, documents=())
    e = act(api, officer, e, 'request_supplement', {'missing_items': ['Tờ khai có chữ ký']}).doc
    assert e['status'] == 5 and e['dates']['paused_since'] is None
    e = act(api, citizen, e, 'supplement').doc
    assert e['status'] == 1 and e['dates']['due_at'] is None
    e = act(api, officer, e, 'receive').doc
    check_due(world, e, 2, 'working_days')


def test_extend_clock_moves_the_due_date_by_the_paused_working_time(world):
    """clock 'extend': after a payment wait and a supplement the due date is the original
    one pushed by the working time spent waiting (computed here with the pauses)."""
    api, citizen, officer = world.api, world.citizen(), world.officer
    code = world.procedure(value=3, clock='extend', mandatory=())
    start = feed_end(world)
    d = act(api, officer, filed(world, code, documents=()), 'receive').doc
    first_due = check_due(world, d, 3, 'working_days')

    doc = assert_problem(act(api, officer, d, 'request_payment', {'amount': -5}, expect=422), 422)
    assert '/amount' in error_pointers(doc)
    d = act(api, officer, d, 'request_payment', {'amount': 50000}).doc
    assert d['status'] == 6 and d['fee_amount'] == 50000 and d['dates']['paused_since']
    assert get(world, d, citizen)['allowed_actions'] == ['request_withdrawal']
    assert_problem(act(api, citizen, d, 'confirm_payment', expect=403), 403)
    time.sleep(1.1)   # a pause of at least a second (of working time in office hours)
    d = act(api, officer, d, 'confirm_payment').doc
    assert d['status'] == 4 and d['dates']['paused_since'] is None
    events = workflow_events(world, d['id'], start, 'payment_confirmed')
    pauses = [(event_time(events, 'request_payment'), event_time(events, 'confirm_payment'))]
    assert epoch(d['dates']['clock_start_at']) == epoch(d['dates']['received_at'])
    due = check_due(world, d, 3, 'working_days', pauses)
    cal = Calendar.load(api, world.agency)
    paused_work = sum(cal.between(a, b) for a, b in pauses)
    assert due >= first_due and (due > first_due) == (paused_work > 0)

    d = act(api, officer, d, 'request_supplement', {'missing_items': ['Bản sao CCCD']}).doc
    time.sleep(1.1)
    d = act(api, citizen, d, 'supplement').doc
    assert d['status'] == 4
    events = workflow_events(world, d['id'], start, 'supplement_provided')
    pauses.append((event_time(events, 'request_supplement'), event_time(events, 'supplement')))
    check_due(world, d, 3, 'working_days', pauses)
    assert epoch(d['dates']['appointment_at']) >= epoch(d['dates']['due_at'])
    assert events[-1]['data']['details']['supplement_clock'] == 'extend'


def test_working_hours_procedure(world):
    code = world.procedure(value=4, unit='working_hours', mandatory=())
    d = act(world.api, world.officer, filed(world, code, documents=()), 'receive').doc
    check_due(world, d, 4, 'working_hours')


def test_transfer_to_another_agency(world):
    api, citizen, officer = world.api, world.citizen(), world.officer
    other_officer = world.staff(('officer',), world.other_agency)
    other_approver = world.staff(('approver',), world.other_agency)
    code = world.procedure(value=2, mandatory=())
    start = feed_end(world)
    d = act(api, officer, filed(world, code, documents=()), 'receive').doc
    api.get(f'{API}/dossiers/{d["id"]}', token=other_officer, expect=404)
    assert_problem(act(api, other_officer, d, 'forward', expect=404), 404, 'dossier.not_found')

    doc = assert_problem(act(api, officer, d, 'transfer', {'to_agency': world.agency,
                                                          'reasons': ['x']}, expect=422), 422)
    assert error_pointers(doc) == {'/to_agency'}
    doc = assert_problem(act(api, officer, d, 'transfer', {'to_agency': '999.99.99.Z99'}, expect=422), 422)
    assert error_pointers(doc) == {'/reasons'}
    doc = assert_problem(act(api, officer, d, 'transfer', {'to_agency': '999.99.99.Z99',
                                                          'reasons': ['Liên thông']}, expect=422), 422)
    assert error_pointers(doc) == {'/to_agency'}
    d = act(api, officer, d, 'transfer', {'to_agency': world.other_agency,
                                          'reasons': ['Thuộc thẩm quyền cơ quan khác']}).doc
    assert d['status'] == 4 and d['handling_agency'] == world.other_agency
    assert d['agency_code'] == world.agency and d['transfer_chain'] == [world.agency]
    assert d['processing']['step_index'] == 0 and d['allowed_actions'] == []

    # the first agency still reads it but may not act; the receiving agency acts
    mine = get(world, d, officer)
    assert mine['allowed_actions'] == []
    api.get(f'{API}/dossiers/{d["id"]}/history', token=officer, expect=200)
    assert_problem(act(api, officer, d, 'forward', expect=403), 403)
    theirs = get(world, d, other_officer)
    assert 'forward' in theirs['allowed_actions'] and 'transfer' in theirs['allowed_actions']
    d = act(api, other_officer, d, 'forward').doc
    d = act(api, other_approver, d, 'approve', {'result': RESULT}).doc
    d = act(api, other_officer, d, 'return_result').doc
    assert d['status'] == 10 and d['transfer_chain'] == [world.agency]
    assert get(world, d, citizen)['status'] == 10

    items = history(world, d)
    transfer = next(h for h in items if h['action'] == 'transfer')
    assert transfer['details'] == {'from_agency': world.agency, 'to_agency': world.other_agency}
    assert transfer['reasons'] == ['Thuộc thẩm quyền cơ quan khác']
    assert items[-1]['actor']['agency'] == world.other_agency
    events = workflow_events(world, d['id'], start, 'result_returned')
    t = next(e for e in events if e['type'] == 'dossier.dossier.transferred')
    assert t['data']['handling_agency'] == world.other_agency
    assert t['data']['transfer_chain'] == [world.agency]
    # the other agency's inbox has it, the first agency's does not
    listed = api.get(f'{API}/dossiers', token=other_officer, params={'procedure': code, 'limit': 100},
                     expect=200).doc['items']
    assert d['id'] in {i['id'] for i in listed}
    listed = api.get(f'{API}/dossiers', token=officer, params={'procedure': code, 'limit': 100},
                     expect=200).doc['items']
    assert d['id'] not in {i['id'] for i in listed}


def test_reject_with_reasons(world):
    api, officer, approver = world.api, world.officer, world.approver
    code = world.procedure(value=2, mandatory=())
    d = act(api, officer, filed(world, code, documents=()), 'receive').doc
    d = act(api, officer, d, 'forward').doc
    doc = assert_problem(act(api, approver, d, 'reject', {'result': RESULT}, expect=422), 422)
    assert error_pointers(doc) == {'/reasons'}
    doc = assert_problem(act(api, approver, d, 'reject', {'reasons': [], 'result': {'summary': ' '}},
                             expect=422), 422)
    assert {'/reasons', '/result/summary'} <= error_pointers(doc), doc
    reasons = ['Người yêu cầu không đủ điều kiện']
    d = act(api, approver, d, 'reject', {'reasons': reasons,
                                         'result': {'summary': 'Văn bản từ chối'}}).doc
    assert d['status'] == 9 and d['outcome'] == 'rejected'
    d = act(api, officer, d, 'return_result').doc
    assert d['status'] == 10 and d['outcome'] == 'rejected'
    assert next(h for h in history(world, d) if h['action'] == 'reject')['reasons'] == reasons


def test_refuse_at_intake(world):
    api, officer = world.api, world.officer
    code = world.procedure(value=2, mandatory=())
    start = feed_end(world)
    d = filed(world, code, documents=())
    doc = assert_problem(act(api, officer, d, 'refuse', expect=422), 422, 'request.validation_failed')
    assert error_pointers(doc) == {'/reasons'}
    reasons = ['Hồ sơ không thuộc thẩm quyền', 'Tờ khai không hợp lệ']
    d = act(api, officer, d, 'refuse', {'reasons': reasons, 'note': 'Hướng dẫn nộp tại UBND xã'}).doc
    assert d['status'] == 3 and d['outcome'] == 'refused' and d['dates']['finished_at']
    assert d['dates']['due_at'] is None and d['allowed_actions'] == []
    h = history(world, d)[-1]
    assert (h['action'], h['from_status'], h['to_status'], h['reasons'], h['note']) == \
        ('refuse', 1, 3, reasons, 'Hướng dẫn nộp tại UBND xã')
    events = workflow_events(world, d['id'], start, 'refused')
    assert events[-1]['type'] == 'dossier.dossier.refused' and events[-1]['data']['reasons'] == reasons


def test_withdrawal_declined_then_confirmed(world):
    api, citizen, officer = world.api, world.citizen(), world.officer
    code = world.procedure(value=2, mandatory=())
    d = act(api, officer, filed(world, code, documents=()), 'receive').doc
    d = act(api, officer, d, 'forward').doc
    assert_problem(act(api, citizen, d, 'request_withdrawal', expect=422), 422)
    d = act(api, citizen, d, 'request_withdrawal', {'reasons': ['Tôi đã nộp nhầm']}).doc
    assert d['status'] == 7
    assert get(world, d)['allowed_actions'] == ['confirm_withdrawal', 'decline_withdrawal']
    doc = assert_problem(act(api, officer, d, 'decline_withdrawal', expect=422), 422)
    assert error_pointers(doc) == {'/reasons'}
    d = act(api, officer, d, 'decline_withdrawal', {'reasons': ['Đã ký kết quả']}).doc
    assert d['status'] == 4 and d['outcome'] is None      # back where it was

    # from a payment wait: declined goes back to the payment wait
    d = act(api, officer, d, 'request_payment', {'amount': 20000}).doc
    d = act(api, citizen, d, 'request_withdrawal', {'reasons': ['Không muốn nộp phí']}).doc
    d = act(api, officer, d, 'decline_withdrawal', {'reasons': ['Cần xác nhận lại']}).doc
    assert d['status'] == 6
    d = act(api, citizen, d, 'request_withdrawal', {'reasons': ['Không muốn nộp phí']}).doc
    d = act(api, officer, d, 'confirm_withdrawal').doc
    assert d['status'] == 8 and d['outcome'] == 'withdrawn' and d['dates']['finished_at']
    steps = [(h['action'], h['from_status'], h['to_status']) for h in history(world, d)][-7:]
    assert steps == [('request_withdrawal', 4, 7), ('decline_withdrawal', 7, 4),
                     ('request_payment', 4, 6), ('request_withdrawal', 6, 7),
                     ('decline_withdrawal', 7, 6), ('request_withdrawal', 6, 7),
                     ('confirm_withdrawal', 7, 8)], steps

    # withdrawing a submitted dossier before reception
    e = filed(world, code, documents=())
    e = act(api, citizen, e, 'request_withdrawal', {'reasons': ['Nộp nhầm thủ tục']}).doc
    e = act(api, officer, e, 'confirm_withdrawal').doc
    assert e['status'] == 8 and e['outcome'] == 'withdrawn'


def test_stop(world):
    api, officer = world.api, world.officer
    code = world.procedure(value=2, mandatory=())
    d = act(api, officer, filed(world, code, documents=()), 'receive').doc
    assert_problem(act(api, officer, d, 'stop', expect=422), 422)
    assert_problem(act(api, world.approver, d, 'stop', {'reasons': ['x']}, expect=403), 403)
    d = act(api, officer, d, 'stop', {'reasons': ['Người yêu cầu không bổ sung hồ sơ']}).doc
    assert d['status'] == 8 and d['outcome'] == 'stopped' and d['allowed_actions'] == []
    assert history(world, d)[-1]['actor']['role'] == 'officer'


def test_apology_moves_the_appointment_not_the_due_date(world):
    api, officer, approver = world.api, world.officer, world.approver
    code = world.procedure(value=1, mandatory=())
    start = feed_end(world)
    d = act(api, officer, filed(world, code, documents=()), 'receive').doc
    due, appointment = d['dates']['due_at'], d['dates']['appointment_at']
    doc = assert_problem(act(api, officer, d, 'apologize', {'reasons': ['Quá tải']}, expect=422), 422)
    assert error_pointers(doc) == {'/new_appointment_at'}
    doc = assert_problem(act(api, officer, d, 'apologize', {'reasons': ['Quá tải'],
                                                           'new_appointment_at': '2026-13-01'}, expect=422), 422)
    assert error_pointers(doc) == {'/new_appointment_at'}
    for not_later in (appointment, rfc(epoch(appointment) - 3600)):
        doc = assert_problem(act(api, officer, d, 'apologize', {'reasons': ['Quá tải'],
                                                               'new_appointment_at': not_later},
                                 expect=422), 422)
        assert error_pointers(doc) == {'/new_appointment_at'}, doc
    assert get(world, d)['revision'] == d['revision']     # nothing changed

    later = rfc(epoch(appointment) + 2 * 86400)
    d = act(api, officer, d, 'apologize', {'reasons': ['Cần xác minh thêm'], 'new_appointment_at': later}).doc
    assert d['status'] == 2
    assert epoch(d['dates']['appointment_at']) == epoch(later) and d['dates']['due_at'] == due
    even_later = rfc(epoch(later) + 86400)
    d = act(api, approver, d, 'apologize', {'reasons': ['Chờ ý kiến cơ quan phối hợp'],
                                            'new_appointment_at': even_later}).doc
    assert epoch(d['dates']['appointment_at']) == epoch(even_later) and d['dates']['due_at'] == due
    events = workflow_events(world, d['id'], start, 'apology_issued', 2)
    apology = [e for e in events if e['type'] == 'dossier.dossier.apology_issued']
    assert len(apology) == 2
    assert epoch(apology[0]['data']['details']['previous_appointment_at']) == epoch(appointment)
    assert epoch(apology[0]['data']['details']['new_appointment_at']) == epoch(later)
    assert apology[0]['data']['due_at'] == due


def test_refused_actions_publish_no_event(world):
    """A 409, 412, 422 or 403 changes nothing: no history row, no event."""
    api, citizen, officer = world.api, world.citizen(), world.officer
    code = world.procedure(value=2, mandatory=())
    start = feed_end(world)
    d = filed(world, code, documents=())
    assert_problem(act(api, officer, d, 'approve', {'result': RESULT}, expect=403), 403)
    assert_problem(act(api, officer, d, 'forward', expect=409), 409)
    assert_problem(act(api, officer, d, 'refuse', expect=422), 422)
    assert_problem(act(api, officer, d, 'receive', etag='"r1"', expect=412), 412)
    assert_problem(act(api, citizen, d, 'supplement', expect=409), 409)
    d = act(api, officer, d, 'receive').doc
    events = workflow_events(world, d['id'], start, 'received')
    assert [e['type'] for e in events] == ['dossier.dossier.submitted', 'dossier.dossier.received']
    assert [h['action'] for h in history(world, d)] == ['create', 'submit', 'receive']


def test_the_watcher_flags_due_soon_and_overdue(world):
    """A limit of 0.002 working hours (7 s): in office hours the dossier is overdue
    seconds after reception and the watcher (every 5 s in the local stack) publishes
    `overdue`; outside office hours it is due at the next opening, and if that is within
    DUE_SOON_WORKING_HOURS x 3 hours (24 h by default) the watcher publishes `due_soon`.
    (The supplement deadline is at least one working day: its expiry -> stop is covered
    by the unit tests of the watcher's rules.)"""
    api, officer = world.api, world.officer
    code = world.procedure(value=0.002, unit='working_hours', mandatory=())
    start = feed_end(world)
    d = act(api, officer, filed(world, code, documents=()), 'receive').doc
    check_due(world, d, 0.002, 'working_hours')
    due = epoch(d['dates']['due_at'])
    if due <= time.time() + 30:
        time.sleep(max(0.0, due - time.time()) + 1.5)
        now = get(world, d)
        assert now['overdue'] is True
        listed = api.get(f'{API}/dossiers', token=officer, params={'procedure': code, 'overdue': 'true',
                                                                   'limit': 100}, expect=200).doc['items']
        assert d['id'] in {i['id'] for i in listed}
        assert all(i['overdue'] for i in listed)
        events = wait_for_event(world, d['id'], start, 'dossier.dossier.overdue')
        flagged = [e for e in events if e['type'] == 'dossier.dossier.overdue']
        assert len(flagged) == 1, [e['type'] for e in events]
        # possibly flagged due soon first, between reception and the due time; once each
        assert [e['type'] for e in events].count('dossier.dossier.due_soon') <= 1
        assert flagged[0]['data']['actor_role'] == 'system' and flagged[0]['data']['due_at'] == d['dates']['due_at']
        # an apology now is late; the decision is not on time
        d = act(api, officer, now, 'apologize', {'reasons': ['Quá hạn do cần xác minh'],
                                                 'new_appointment_at': rfc(int(time.time()) + 86400)}).doc
        d = act(api, officer, d, 'forward').doc
        d = act(api, world.approver, d, 'approve', {'result': RESULT}).doc
        assert d['overdue'] is True          # decided after the due date: stays overdue
        events = workflow_events(world, d['id'], start, 'approved')
        late = {e['type'].removeprefix('dossier.dossier.'): e['data'].get('details', {}) for e in events}
        assert late['apology_issued']['late'] is True and late['approved']['on_time'] is False
    elif due <= time.time() + 24 * 3600 - 60:
        events = wait_for_event(world, d['id'], start, 'dossier.dossier.due_soon')
        assert [e['type'] for e in events][-1] == 'dossier.dossier.due_soon', [e['type'] for e in events]
        assert events[-1]['data']['actor_role'] == 'system'
        assert get(world, d)['overdue'] is False
        listed = api.get(f'{API}/dossiers', token=officer, params={'procedure': code, 'overdue': 'false',
                                                                   'limit': 100}, expect=200).doc['items']
        assert d['id'] in {i['id'] for i in listed}
    else:
        pytest.skip(f'received {d["dates"]["received_at"]}: due {d["dates"]["due_at"]} is more than a day '
                    'away, the watcher flags nothing yet')


# ---------------------------------------------------------------------------
# deadlines across days off

def _working_days_past(cal: Calendar, day_off: dt.date) -> int:
    """Working days from today to a day off, plus two: a limit whose window crosses it."""
    n, day = 0, dt.datetime.now(VN).date()
    while day < day_off:
        n += cal.working(day)
        day += dt.timedelta(days=1)
    return n + 2


def test_due_date_across_a_public_holiday(world):
    api = world.api
    cal = Calendar.load(api, world.agency)
    today = dt.datetime.now(VN).date()
    ahead = [day for day in cal.off if day > today + dt.timedelta(days=1) and day.weekday() < 5
             and day not in cal.extra]
    if not ahead:
        pytest.skip('the catalogue has no weekday off in the calendar years ahead')
    holiday = min(ahead)
    value = _working_days_past(cal, holiday)
    code = world.procedure(value=value, mandatory=())
    d = act(api, world.officer, filed(world, code, documents=()), 'receive').doc
    due = check_due(world, d, value, 'working_days')
    assert cal.day_of(due) > holiday
    no_holidays = Calendar(cal.sessions, cal.cutoff, set(), set())
    assert no_holidays.due(epoch(d['dates']['received_at']), value, 'working_days') != due, \
        'the holiday should have moved the due date'


def test_due_date_across_an_added_day_off(world):
    """A day off added by the administrator is used by the dossier service once its
    cached calendar is renewed (at most CATALOGUE_CACHE_SECONDS, 60 s by default).
    The day is two or three weeks ahead, so the other tests' short limits never cross
    it, even while the service's cache still holds it after it is deleted."""
    api, admin = world.api, world.tokens.system_admin
    cal = Calendar.load(api, world.agency)
    day = dt.datetime.now(VN).date() + dt.timedelta(days=15)
    while not cal.working(day) or day.weekday() >= 5:
        day += dt.timedelta(days=1)
    value = _working_days_past(cal, day)
    code = world.procedure(value=value, mandatory=())
    url = f'{API}/calendar/days/{day.isoformat()}'
    api.put(url, token=admin, json={'kind': 'day_off', 'name': 'Ngày nghỉ do bộ kiểm thử thêm'},
            expect=(200, 201))
    try:
        with_day = Calendar.load(api, world.agency)
        assert day in with_day.off
        deadline = time.monotonic() + 75
        while True:
            d = act(api, world.officer, filed(world, code, documents=()), 'receive').doc
            received = epoch(d['dates']['received_at'])
            expected = with_day.due(received, value, 'working_days')
            if epoch(d['dates']['due_at']) == expected:
                break
            assert epoch(d['dates']['due_at']) == cal.due(received, value, 'working_days'), d['dates']
            assert time.monotonic() < deadline, 'the added day off never reached the dossier service'
            time.sleep(5)
        assert epoch(catalogue_due(api, d['dates']['received_at'], value, 'working_days',
                                   world.agency)) == expected
        assert expected > cal.due(received, value, 'working_days')
    finally:
        api.delete(url, token=admin, expect=(200, 204))


# ---------------------------------------------------------------------------
# the audit trail is append-only in the database

def test_history_is_append_only_in_the_database(world):
    port, local = os.environ.get('MOTCUA_TEST_PG_PORT'), os.environ.get('MOTCUA_TEST_LOCAL_DIR')
    secret = os.path.join(local or '', 'secrets', 'dossier.password')
    if not port or not local or not os.path.exists(secret):
        pytest.skip('MOTCUA_TEST_PG_PORT and MOTCUA_TEST_LOCAL_DIR (set by tests/run) reach the database')
    d = filed(world, world.procedure(value=2, mandatory=()), documents=())
    with open(secret, encoding='utf-8') as f:
        password = f.readline().strip()
    conninfo = f'host=127.0.0.1 port={port} dbname=motcua user=motcua_dossier'
    env = dict(os.environ, PGPASSWORD=password, PGCONNECT_TIMEOUT='5')
    for sql in (f"UPDATE dossier_history SET note = 'x' WHERE dossier_id = '{d['id']}'",
                f"DELETE FROM dossier_history WHERE dossier_id = '{d['id']}'",
                'TRUNCATE dossier_history'):
        r = subprocess.run(['psql', conninfo, '-v', 'ON_ERROR_STOP=1', '-qAtc', sql], env=env,
                           capture_output=True, text=True, timeout=30)
        assert r.returncode != 0 and 'append-only' in r.stderr, (sql, r.returncode, r.stderr)
    assert [h['action'] for h in history(world, d)] == ['create', 'submit']
