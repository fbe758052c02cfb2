"""The statistics service: report 06a counted from the dossier event feed.

Dossier histories are written as events of the real shape (services/dossier/dossier_event.c)
into the dossier service's outbox, with the days they happen on (a test cannot wait for a
due date to pass); the dossier relay publishes them and the statistics service consumes
the feed like any other. Each test makes agencies of its own in the catalogue (a
department with two communes under it, and a second department), so its numbers are
exact whatever else the suite files.

  - a hand-built month around a period edge: every column of 06a (early / on time /
    overdue / in progress on both sides of the edge, carried over, withdrawn, stopped,
    refused, awaiting supplement, a transfer, an apology), drill-down rows adding up to
    the parent, the dossier ids behind a number, CSV and XLSX (read back) holding the
    same numbers, a late
    event that leaves the closed month alone, and who may see what;
  - random histories compared cell by cell with an independent computation (each
    dossier's state at the period's edges), again after the feed is replayed from the
    start (position reset to 0), and after a kill -9 of the service mid-stream.

Needs the test stack (tests/run): MOTCUA_TEST_LOCAL_DIR, MOTCUA_TEST_PG_PORT and psql.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import random
import time
import uuid

import pytest
from catalogue_data import (ROOT_AGENCY, create_agency, create_sector,
                            create_published_procedure, procedure_body, publish as publish_procedure)
from motcua_api import assert_problem
from service_process import ServiceProcess
from stack_db import psql_as

API = '/api/v1'
REPORT = f'{API}/statistics/reports/06a'
DOSSIERS = f'{REPORT}/dossiers'
# The event type of each action, as the dossier service names them (its workflow table,
# services/dossier/workflow.c): the injected events are the feed's real shapes, which the
# other consumers' tests read and check against api-spec too.
EVENT_TYPES = {a: f'dossier.dossier.{t}' for a, t in {
    'submit': 'submitted', 'receive': 'received', 'refuse': 'refused',
    'request_supplement': 'supplement_requested', 'supplement': 'supplement_provided',
    'forward': 'step_changed', 'transfer': 'transferred', 'approve': 'approved',
    'return_result': 'result_returned', 'request_withdrawal': 'withdrawal_requested',
    'confirm_withdrawal': 'withdrawn', 'decline_withdrawal': 'withdrawal_declined',
    'stop': 'stopped', 'apologize': 'apology_issued', 'evaluate': 'evaluated',
    'reject': 'rejected', 'request_payment': 'payment_requested', 'confirm_payment': 'payment_confirmed',
    'submit_pay_first': 'submission_payment_required',
    'confirm_submission_payment': 'submitted'}.items()}
# The nine criteria of an evaluation (DOMAIN.md §7) adding up to 16 points.
SCORES_16 = {'total_time': 2, 'time_at_each_unit': 2, 'contacts_needed': 2, 'agencies_contacted': 2,
             'one_stop_handling': 2, 'procedure_publication': 2, 'staff_attitude': 2,
             'complaint_handling': 1, 'online_service_quality': 1}
STATUS_NAMES = {0: 'draft', 1: 'submitted', 2: 'received', 3: 'refused', 4: 'processing',
                5: 'supplement_requested', 6: 'awaiting_payment', 7: 'withdrawal_requested',
                8: 'stopped', 9: 'result_ready', 10: 'result_returned', 11: 'awaiting_submission_payment'}
OPEN = {2, 4, 5, 6, 7}


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def at(d: dt.date, hour: int = 10) -> str:
    return f'{d.isoformat()}T{hour:02d}:00:00+07:00'


# ---------------------------------------------------------------------------
# dossier histories and their events

class Dossier:
    """One dossier's history: (day, from, to, agency, due, action) steps, in order."""

    def __init__(self, agency: str, channel: str = 'online', procedure: str = '1.001193',
                 sector: str = 'ho-tich'):
        self.id = str(uuid.uuid4())
        self.agency = agency
        self.channel = channel
        self.procedure = procedure
        self.sector = sector
        self.status = 0
        self.due: dt.date | None = None
        self.fee: int | None = None
        self.steps: list[tuple[dt.date, int, int, str, dt.date | None, str, dict | None]] = []
        # per step: the event's fee_amount (the demand so far) and document_counts
        self.payload: list[dict] = []

    def step(self, on: str | dt.date, to: int, action: str, *, due: str | dt.date | None | bool = False,
             agency: str | None = None, details: dict | None = None, fee: int | None = None,
             documents: dict | None = None) -> 'Dossier':
        if fee is not None:
            self.fee = fee
        self.payload.append({'fee_amount': self.fee, 'document_counts': documents})
        on = day(on) if isinstance(on, str) else on
        if due is not False:
            self.due = day(due) if isinstance(due, str) else due
        if agency is not None:
            self.agency = agency
        self.steps.append((on, self.status, to, self.agency, self.due, action, details))
        self.status = to
        return self

    # the usual steps
    def received(self, on, due):
        return self.step(on, 1, 'submit').step(on, 2, 'receive', due=due)

    def resolved(self, on):
        return self.step(on, 4, 'forward').step(on, 9, 'approve')

    def events(self) -> list[dict]:
        out = []
        for (on, frm, to, agency, due, action, details), payload in zip(self.steps, self.payload):
            data = {
                'dossier_id': self.id, 'code': None, 'agency_code': self.steps[0][3],
                'handling_agency': agency, 'procedure_code': self.procedure,
                'procedure_version': 1, 'sector_code': self.sector, 'channel': self.channel,
                'action': action, 'from_status': frm, 'to_status': to,
                'status_name': STATUS_NAMES[to], 'actor_role': 'officer',
                'due_at': at(due, 15) if due is not None else None,
                'appointment_at': at(due, 15) if due is not None else None,
                'submitted_at': at(self.steps[0][0]), 'received_at': None,
                'occurred_at': at(on), 'transfer_chain': [], 'outcome': None, 'reasons': None,
                'missing_items': None, 'fee_amount': None, 'details': details,
            }
            data.update({'owner_sub': None, 'procedure_name': 'Đăng ký khai sinh',
                         'applicant_lookup': {'masked_name': None, 'id_number_hash': None,
                                              'phone_last4_hash': None}})
            data.update(payload)
            out.append({'day': on, 'type': EVENT_TYPES[action], 'subject': f'dossiers/{self.id}',
                        'data': data})
        return out


def inject(dossiers: list[Dossier]) -> None:
    """Write the dossiers' events into the dossier outbox (day order; each dossier's own
    order kept), for its relay to publish."""
    events = sorted((e for d in dossiers for e in d.events()), key=lambda e: e['day'])
    rows = [{'type': e['type'], 'subject': e['subject'], 'data': e['data']} for e in events]
    for i in range(0, len(rows), 50):   # one statement per 50 events: psql's argument stays small
        payload = json.dumps(rows[i:i + 50])
        assert '$ev$' not in payload
        psql_as('dossier', "INSERT INTO outbox (type, source, subject, data) SELECT r->>'type', "
                           "'/motcua/dossier', r->>'subject', r->'data' FROM "
                           f"jsonb_array_elements($ev${payload}$ev$::jsonb) WITH ORDINALITY AS t(r, n) "
                           "ORDER BY n")


def published_end() -> int:
    """Wait until the relay published everything; the last feed position."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        left = psql_as('dossier', 'SELECT count(*) FROM outbox WHERE published_seq IS NULL')
        if left == '0':
            return int(psql_as('dossier', 'SELECT coalesce(max(published_seq), 0) FROM outbox'))
        time.sleep(0.2)
    pytest.fail('the dossier relay did not publish the injected events')


def publish(dossiers: list[Dossier]) -> int:
    """inject, then published_end."""
    inject(dossiers)
    return published_end()


def statistics_position() -> int:
    out = psql_as('statistics', "SELECT coalesce(max(position), 0) FROM feed_positions WHERE feed = 'dossier'")
    return int(out or 0)


def wait_counted(position: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if statistics_position() >= position:
            return
        time.sleep(0.2)
    pytest.fail(f'the statistics service did not count the feed up to {position} '
                f'(at {statistics_position()})')


# ---------------------------------------------------------------------------
# the independent computation: each dossier's state on the period's edges

def state_at(d: Dossier, end: dt.date):
    """(status, agency, due, received) at the end of day `end`, or None before any step."""
    state = None
    received = False
    for on, _frm, to, agency, due, action, _details in d.steps:
        if on > end:
            break
        received = received or action == 'receive'
        state = (to, agency, due, received)
    return state


def expected_06a(dossiers: list[Dossier], agencies: set[str], first: dt.date, last: dt.date) -> dict:
    z = {'received': {'total': 0, 'online': 0, 'in_person_postal': 0, 'carried_over': 0},
         'resolved': {'total': 0, 'early': 0, 'on_time': 0, 'overdue': 0},
         'in_progress': {'total': 0, 'within_deadline': 0, 'overdue': 0},
         'withdrawn': 0, 'stopped': 0, 'refused': 0, 'returned': 0, 'awaiting_supplement': 0}
    for d in dossiers:
        before = state_at(d, first - dt.timedelta(days=1))
        if before and before[3] and before[0] in OPEN and before[1] in agencies:
            z['received']['carried_over'] += 1
        end = state_at(d, last)
        if end and end[3] and end[0] in OPEN and end[1] in agencies:
            z['in_progress']['total'] += 1
            overdue = end[2] is not None and end[2] <= last
            z['in_progress']['overdue' if overdue else 'within_deadline'] += 1
            if end[0] == 5:
                z['awaiting_supplement'] += 1
        for on, frm, to, agency, due, action, _details in d.steps:
            if not (first <= on <= last) or agency not in agencies:
                continue
            if action == 'receive':
                z['received']['total'] += 1
                z['received']['online' if d.channel == 'online' else 'in_person_postal'] += 1
            elif to == 9 and frm != 9:
                kind = 'on_time' if due is None or on == due else 'early' if on < due else 'overdue'
                z['resolved']['total'] += 1
                z['resolved'][kind] += 1
            elif to == 10 and frm == 9:
                z['returned'] += 1
            elif to == 8:
                z['withdrawn' if frm == 7 else 'stopped'] += 1
            elif to == 3:
                z['refused'] += 1
    good = (z['in_progress']['within_deadline'] + z['resolved']['early'] + z['resolved']['on_time']
            + z['withdrawn'])
    total = good + z['resolved']['overdue'] + z['in_progress']['overdue']
    z['on_time_rate'] = good / total if total else None
    return z


def assert_same_cells(got: dict, want: dict, what: str) -> None:
    for key, value in want.items():
        if isinstance(value, dict):
            for sub, n in value.items():
                assert got[key][sub] == n, f'{what}: {key}.{sub} is {got[key][sub]}, expected {n}'
        elif key == 'on_time_rate':
            assert (got[key] is None) == (value is None), f'{what}: on_time_rate {got[key]} vs {value}'
            if value is not None:
                assert abs(got[key] - value) < 1e-9, f'{what}: on_time_rate {got[key]} vs {value}'
        else:
            assert got[key] == value, f'{what}: {key} is {got[key]}, expected {value}'


# ---------------------------------------------------------------------------
# fixtures

class Tree:
    """A department (dept) with two communes (c1, c2) under it, and another department."""

    def __init__(self, api, admin):
        self.dept = create_agency(api, admin, parent=ROOT_AGENCY, admin_level='province',
                                  name='Sở Thống Kê Kiểm Thử')['code']
        self.c1 = create_agency(api, admin, parent=self.dept, name='Xã Một Kiểm Thử')['code']
        self.c2 = create_agency(api, admin, parent=self.dept, name='Xã Hai Kiểm Thử')['code']
        self.other = create_agency(api, admin, parent=ROOT_AGENCY, admin_level='province',
                                   name='Sở Khác Kiểm Thử')['code']

    def subtree(self, code: str) -> set[str]:
        return {self.dept, self.c1, self.c2} if code == self.dept else {code}


@pytest.fixture(scope='module')
def tree(api, admin) -> Tree:
    return Tree(api, admin)


def report(api, token, agency, expect=200, **params):
    """The report, once the service's agency tree knows the agency (read again every 2 s
    on the test stack)."""
    deadline = time.monotonic() + 15
    while True:
        r = api.get(REPORT, token=token, params=dict(params, agency=agency))
        if not (r.status_code == 404 and time.monotonic() < deadline):
            break
        time.sleep(0.3)
    assert r.status_code == expect, r.text
    return r


# ---------------------------------------------------------------------------
# the hand-built month: every column around the edge between February and March 2025

def hand_built(tree: Tree) -> dict[str, Dossier]:
    c1, c2 = tree.c1, tree.c2
    d = {}
    # carried over from February, resolved early in March
    d['carried_early'] = Dossier(c1).received('2025-02-20', '2025-03-05').resolved('2025-03-03')
    # carried over (in person), resolved on its due day: on time, then returned
    d['carried_on_time'] = Dossier(c1, 'in_person').received('2025-02-25', '2025-03-02') \
        .resolved('2025-03-02').step('2025-03-04', 10, 'return_result')
    # overdue in February already, resolved in March: carried over, resolved overdue
    d['carried_overdue'] = Dossier(c1, 'postal').received('2025-02-10', '2025-02-26').resolved('2025-03-06')
    # received in March, resolved after its due date: overdue
    d['late'] = Dossier(c1).received('2025-03-03', '2025-03-10').resolved('2025-03-12')
    # received in March, open at the end and within its deadline
    d['open_within'] = Dossier(c1).received('2025-03-10', '2025-04-10')
    # open and overdue at the end of March although an apology named a later appointment
    d['apology'] = Dossier(c1).received('2025-03-05', '2025-03-20').step('2025-03-06', 4, 'forward') \
        .step('2025-03-18', 4, 'apologize').resolved('2025-04-02')
    # withdrawn, stopped, refused
    d['withdrawn'] = Dossier(c1).received('2025-03-06', '2025-03-25').step('2025-03-07', 7, 'request_withdrawal') \
        .step('2025-03-08', 8, 'confirm_withdrawal')
    d['stopped'] = Dossier(c1, 'in_person').received('2025-03-07', '2025-03-25').step('2025-03-15', 8, 'stop')
    d['refused'] = Dossier(c1).step('2025-03-09', 1, 'submit').step('2025-03-09', 3, 'refuse')
    # received by c1, transferred to c2, resolved early there: c2 counts the result
    d['transfer'] = Dossier(c1).received('2025-03-11', '2025-03-25').step('2025-03-12', 4, 'transfer', agency=c2) \
        .resolved('2025-03-20')
    # waiting for a supplement at the end of March (the clock is paused: no due date)
    d['supplement'] = Dossier(c2).received('2025-03-20', '2025-03-28').step('2025-03-21', 5, 'request_supplement',
                                                                           due=None)
    # an evaluated one on the department itself
    d['evaluated'] = Dossier(tree.dept).received('2025-03-03', '2025-03-14').resolved('2025-03-13') \
        .step('2025-03-14', 10, 'return_result') \
        .step('2025-03-15', 10, 'evaluate', details={'total': 16, 'satisfaction': 'satisfied', 'scores': SCORES_16})
    return d


@pytest.fixture(scope='module')
def month(tree) -> dict[str, Dossier]:
    dossiers = hand_built(tree)
    wait_counted(publish(list(dossiers.values())))
    return dossiers


def test_every_column_of_a_hand_built_month(api, admin, tree, month):
    doc = report(api, admin, tree.dept, period='2025-03').doc
    t = doc['totals']
    assert doc['period'] == {'from': '2025-03-01', 'to': '2025-03-31'}
    # received in March: late, open_within, apology, withdrawn, stopped (in person),
    # transfer, supplement, evaluated; refused is never received
    assert t['received'] == {'total': 8, 'online': 7, 'in_person_postal': 1, 'carried_over': 3}
    # early: carried_early, transfer, evaluated; on time: carried_on_time;
    # overdue: carried_overdue, late
    assert t['resolved'] == {'total': 6, 'early': 3, 'on_time': 1, 'overdue': 2}
    # open at the end: open_within, supplement (paused: within); apology overdue
    assert t['in_progress'] == {'total': 3, 'within_deadline': 2, 'overdue': 1}
    assert (t['withdrawn'], t['stopped'], t['refused'], t['returned'], t['awaiting_supplement']) == (1, 1, 1, 2, 1)
    # (2 within + 3 early + 1 on time + 1 withdrawn) / (7 + 2 overdue + 1 overdue)
    assert abs(t['on_time_rate'] - 7 / 10) < 1e-9
    assert_same_cells(t, expected_06a(list(month.values()), tree.subtree(tree.dept),
                                      day('2025-03-01'), day('2025-03-31')), 'March')

    # the other side of the edge: February
    feb = report(api, admin, tree.dept, period='2025-02').doc['totals']
    assert feb['received'] == {'total': 3, 'online': 1, 'in_person_postal': 2, 'carried_over': 0}
    assert feb['in_progress'] == {'total': 3, 'within_deadline': 2, 'overdue': 1}
    # April: the apology's dossier resolves overdue (the legal due date decides)
    apr = report(api, admin, tree.dept, period='2025-04').doc['totals']
    assert apr['resolved'] == {'total': 1, 'early': 0, 'on_time': 0, 'overdue': 1}
    assert apr['received']['carried_over'] == 3


def test_a_transfer_is_counted_by_the_agency_handling_it(api, admin, tree, month):
    c1 = report(api, admin, tree.c1, period='2025-03').doc['totals']
    c2 = report(api, admin, tree.c2, period='2025-03').doc['totals']
    assert c1['transferred_out'] == 1 and c2['transferred_in'] == 1
    assert c2['resolved']['early'] == 1          # the transferred dossier
    assert c1['received']['total'] == 6          # received by c1 (transfer included)
    assert c2['received']['total'] == 1          # the supplement one only


def test_drill_down_rows_add_up_to_the_parent(api, admin, tree, month):
    for group in ('agency', 'sector', 'procedure'):
        doc = report(api, admin, tree.dept, period='2025-Q1', group_by=group).doc
        assert doc['group_by'] == group and doc['rows']
        for path in (('received', 'total'), ('received', 'carried_over'), ('resolved', 'early'),
                     ('resolved', 'overdue'), ('in_progress', 'overdue'), ('in_progress', 'within_deadline')):
            total = sum(row[path[0]][path[1]] for row in doc['rows'])
            assert total == doc['totals'][path[0]][path[1]], (group, path)
    rows = {r['key']: r for r in report(api, admin, tree.dept, period='2025-03', group_by='agency').doc['rows']}
    assert set(rows) == {tree.dept, tree.c1, tree.c2}
    assert rows[tree.c1]['name'] == 'Xã Một Kiểm Thử'
    # roll-up from the province: the department's row is its whole subtree
    province = report(api, admin, ROOT_AGENCY, period='2025-03', group_by='agency').doc
    dept_row = next(r for r in province['rows'] if r['key'] == tree.dept)
    assert dept_row['received'] == report(api, admin, tree.dept, period='2025-03').doc['totals']['received']
    assert sum(r['resolved']['total'] for r in province['rows']) == province['totals']['resolved']['total']


def test_the_dossiers_behind_a_number(api, admin, tree, month):
    def ids(measure, agency=tree.dept, period='2025-03'):
        found, cursor = [], None
        while True:
            params = {'agency': agency, 'period': period, 'measure': measure, 'limit': 2}
            if cursor:
                params['cursor'] = cursor
            page = api.get(DOSSIERS, token=admin, params=params, expect=200).doc
            found += [i['dossier_id'] for i in page['items']]
            cursor = page['next_cursor']
            if cursor is None:
                return set(found)
    m = month
    assert ids('resolved_overdue') == {m['carried_overdue'].id, m['late'].id}
    assert ids('resolved_early') == {m['carried_early'].id, m['transfer'].id, m['evaluated'].id}
    assert ids('received_in_person_postal') == {m['stopped'].id}
    assert ids('withdrawn') == {m['withdrawn'].id}
    assert ids('refused') == {m['refused'].id}
    assert ids('resolved_early', agency=tree.c2) == {m['transfer'].id}
    assert len(ids('received')) == 8
    r = api.get(DOSSIERS, token=admin, params={'agency': tree.dept, 'period': '2025-03', 'measure': 'nope'})
    assert 'measure' in {e.get('parameter') for e in assert_problem(r, 400)['errors']}


def test_csv_holds_the_same_numbers(api, admin, tree, month):
    doc = report(api, admin, tree.dept, period='2025-03', group_by='agency').doc
    r = api.get(REPORT, token=admin, params={'agency': tree.dept, 'period': '2025-03',
                                             'group_by': 'agency', 'format': 'csv'}, expect=200)
    assert r.headers['Content-Type'].startswith('text/csv')
    assert r.content.startswith(b'\xef\xbb\xbf')
    rows = list(csv.reader(io.StringIO(r.content.decode('utf-8-sig'))))
    assert rows[0][1] == 'Số hồ sơ nhận giải quyết' and rows[1][1] == 'Tổng số'
    body = rows[2:]
    assert len(body) == len(doc['rows']) + 1 and body[-1][0] == 'Tổng cộng'
    t = doc['totals']
    expected = [t['received']['total'], t['received']['online'], t['received']['in_person_postal'],
                t['received']['carried_over'], t['resolved']['total'], t['resolved']['early'],
                t['resolved']['on_time'], t['resolved']['overdue'], t['in_progress']['total'],
                t['in_progress']['within_deadline'], t['in_progress']['overdue'], t['withdrawn'],
                t['stopped'], t['refused'], t['awaiting_supplement']]
    assert [int(x) for x in body[-1][1:16]] == expected
    assert abs(float(body[-1][16]) - 100 * t['on_time_rate']) < 0.006
    names = [row[0] for row in body[:-1]]
    assert 'Xã Một Kiểm Thử' in names


def test_xlsx_holds_the_same_numbers_under_merged_headers(api, admin, tree, month):
    openpyxl = pytest.importorskip('openpyxl')
    doc = report(api, admin, tree.dept, period='2025-03', group_by='agency').doc
    r = api.get(REPORT, token=admin, params={'agency': tree.dept, 'period': '2025-03',
                                             'group_by': 'agency', 'format': 'xlsx'}, expect=200)
    assert r.headers['Content-Type'] == \
        'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
    ws = openpyxl.load_workbook(io.BytesIO(r.content)).active
    merged = {str(m) for m in ws.merged_cells.ranges}
    # the form's header: received over B:E, resolved over F:I, in progress over J:L,
    # the single columns over two rows
    assert {'A4:A5', 'B4:E4', 'F4:I4', 'J4:L4', 'M4:M5', 'Q4:Q5'} <= merged
    assert ws['B4'].value == 'Số hồ sơ nhận giải quyết' and ws['C5'].value == 'Trực tuyến'
    assert 'Sở Thống Kê Kiểm Thử' in ws['A2'].value and '2025-03-01' in ws['A2'].value
    cells = [[c.value for c in row] for row in ws.iter_rows(min_row=6)]
    assert len(cells) == len(doc['rows']) + 1 and cells[-1][0] == 'Tổng cộng'
    by_label = {row[0]: row for row in cells}
    for row in doc['rows'] + [dict(doc['totals'], name='Tổng cộng')]:
        got = by_label[row['name']]
        assert got[1:5] == [row['received'][k] for k in ('total', 'online', 'in_person_postal', 'carried_over')]
        assert got[5:9] == [row['resolved'][k] for k in ('total', 'early', 'on_time', 'overdue')]
        assert got[9:12] == [row['in_progress'][k] for k in ('total', 'within_deadline', 'overdue')]
        assert got[12:16] == [row['withdrawn'], row['stopped'], row['refused'], row['awaiting_supplement']]
        assert (got[16] is None) == (row['on_time_rate'] is None)
        if got[16] is not None:
            assert abs(got[16] - 100 * row['on_time_rate']) < 1e-9


def test_rows_by_sector_and_procedure_carry_the_catalogues_names(api, admin):
    """Rows by sector and by procedure carry the catalogue's names in JSON, and the CSV and
    the workbook print them; a code the catalogue does not know keeps its code."""
    openpyxl = pytest.importorskip('openpyxl')
    t = Tree(api, admin)
    sector = create_sector(api, admin, name='Lĩnh vực Thống Kê Tên')['code']
    procedure = create_published_procedure(api, admin, sector=sector, agencies=[t.c1],
                                           name='Thủ tục Thống Kê Tên Riêng')['code']
    dossiers = [Dossier(t.c1, procedure=procedure, sector=sector).received('2025-06-02', '2025-06-20'),
                Dossier(t.c1, procedure=procedure, sector=sector).received('2025-06-03', '2025-06-20')
                .resolved('2025-06-04'),
                Dossier(t.c2, procedure='9.999998', sector='khong-co').received('2025-06-03', '2025-06-20')]
    wait_counted(publish(dossiers))
    params = {'period': '2025-06'}
    for group, known, name, unknown in (('sector', sector, 'Lĩnh vực Thống Kê Tên', 'khong-co'),
                                        ('procedure', procedure, 'Thủ tục Thống Kê Tên Riêng', '9.999998')):
        rows = {r['key']: r for r in report(api, admin, t.dept, group_by=group, **params).doc['rows']}
        assert rows[known]['name'] == name and rows[known]['received']['total'] == 2
        assert rows[unknown]['name'] is None and rows[unknown]['received']['total'] == 1
        csv_rows = list(csv.reader(io.StringIO(api.get(
            REPORT, token=admin, params=dict(params, agency=t.dept, group_by=group, format='csv'),
            expect=200).content.decode('utf-8-sig'))))
        labels = {row[0]: row for row in csv_rows[2:]}
        assert labels[name][1] == '2' and labels[unknown][1] == '1', csv_rows
        ws = openpyxl.load_workbook(io.BytesIO(api.get(
            REPORT, token=admin, params=dict(params, agency=t.dept, group_by=group, format='xlsx'),
            expect=200).content)).active
        cells = {row[0].value: row[1].value for row in ws.iter_rows(min_row=6)}
        assert cells[name] == 2 and cells[unknown] == 1, cells


def test_a_late_event_leaves_the_closed_month_alone(api, admin, tree, month):
    before = report(api, admin, tree.dept, period='2025-03').doc
    late = Dossier(tree.c1)
    late.id = month['open_within'].id
    late.status, late.due = 2, day('2025-04-10')
    late.agency = tree.c1
    late.resolved('2025-05-02')
    wait_counted(publish([late]))
    assert report(api, admin, tree.dept, period='2025-03').doc == before
    may = report(api, admin, tree.dept, period='2025-05').doc['totals']
    assert may['resolved']['overdue'] == 1


SHOWN_MEASURES = "('received_online', 'received_offline', 'resolved_early', 'resolved_on_time', 'resolved_overdue')"


def shift_counter(agency: str, first: str, last: str, delta: int) -> tuple[str, str]:
    """Move one counter of 06a of `agency` between first and last (a day's and its month's
    agency rollup alike) by delta, behind the service's back; (day, measure) moved. Only a
    test does this: no event changes a day before the last one counted."""
    found = psql_as('statistics', "SELECT day || ' ' || measure FROM agency_days "
                                  f"WHERE agency_code = '{agency}' AND day BETWEEN '{first}' AND '{last}' "
                                  f"AND measure IN {SHOWN_MEASURES} ORDER BY day, measure LIMIT 1")
    assert found, f'no counter of {agency} between {first} and {last}'
    on, measure = found.split()
    psql_as('statistics', f"UPDATE agency_days SET value = value + {delta} "
                          f"WHERE agency_code = '{agency}' AND day = '{on}' AND measure = '{measure}'")
    psql_as('statistics', f"UPDATE agency_months SET value = value + {delta} WHERE agency_code = '{agency}' "
                          f"AND month = date_trunc('month', DATE '{on}') AND measure = '{measure}'")
    return on, measure


def test_a_settled_period_is_answered_from_the_cache(api, admin, tree, month):
    """March 2025 has settled (the feed is counted past its end: the month's dossiers go
    on into April), so its answer is kept: a counter moved behind the service's back
    afterwards is not seen. A period the feed is not counted past is read again."""
    for params in ({'period': '2025-03'}, {'period': '2025-03', 'group_by': 'agency'}):
        before = report(api, admin, tree.dept, **params).doc
        shift_counter(tree.c1, '2025-03-01', '2025-03-31', 1000)
        try:
            assert report(api, admin, tree.dept, **params).doc == before, params
        finally:
            shift_counter(tree.c1, '2025-03-01', '2025-03-31', -1000)

    # Counted only up to 1 April 2025: April's first days have not settled.
    counted = psql_as('statistics', "SELECT occurred_at FROM applied_until WHERE feed = 'dossier'")
    psql_as('statistics', "UPDATE applied_until SET occurred_at = '2025-04-01T12:00:00+07:00'")
    try:
        params = {'from': '2025-04-01', 'to': '2025-04-20'}
        before = report(api, admin, tree.c1, **params).doc['totals']
        shift_counter(tree.c1, '2025-04-01', '2025-04-20', 1000)
        try:
            after = report(api, admin, tree.c1, **params).doc['totals']
            assert after != before
            assert after['resolved']['total'] + after['received']['total'] == \
                before['resolved']['total'] + before['received']['total'] + 1000
        finally:
            shift_counter(tree.c1, '2025-04-01', '2025-04-20', -1000)
    finally:
        psql_as('statistics', f"UPDATE applied_until SET occurred_at = greatest(occurred_at, '{counted}')")


def test_the_current_month_moves_at_once(api, admin, tree, month):
    """The current month is never kept: a dossier received today is counted on the next ask."""
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=7))).date()
    period = today.strftime('%Y-%m')
    before = report(api, admin, tree.c2, period=period).doc['totals']['received']['total']
    fresh = Dossier(tree.c2).received(today, today + dt.timedelta(days=10))
    wait_counted(publish([fresh]))
    assert report(api, admin, tree.c2, period=period).doc['totals']['received']['total'] == before + 1


def test_766_indicators_of_the_month(api, admin, tree, month, tokens):
    r = api.get(f'{API}/statistics/indicators/766', token=admin,
                params={'agency': tree.dept, 'period': '2025-03'}, expect=200)
    doc = r.doc
    assert doc['formula_version'] == '766-2022' and doc['admin_level'] == 'province'
    v = doc['values']
    assert abs(v['on_time_share'] - 0.7) < 1e-9
    assert abs(v['online_filing_share'] - 7 / 8) < 1e-9
    assert v['evaluations'] == 1 and v['average_points'] == 16 and v['satisfied_share'] == 1
    assert v['paid_online_share'] is None
    groups = {g['code']: g for g in doc['scores']['groups']}
    assert abs(groups['timeliness']['score'] - 20 * 0.7) < 1e-9
    # online filing 87.5% against the province's 90% target
    assert abs(groups['online_services']['score'] - 12 * (0.875 / 0.9)) < 1e-9
    assert groups['digitisation']['score'] is None
    assert abs(doc['scores']['score'] - (14 + 12 * 0.875 / 0.9 + 18)) < 1e-9
    assert doc['scores']['weight_measured'] == 50
    # a commune's target is 70%: c1 filed 5 of 6 online, above it
    c1 = api.get(f'{API}/statistics/indicators/766', token=admin,
                 params={'agency': tree.c1, 'period': '2025-03'}, expect=200).doc
    assert c1['admin_level'] == 'commune'
    online = next(g for g in c1['scores']['groups'] if g['code'] == 'online_services')
    assert online['indicators'][0]['target'] == 0.7 and online['score'] == 12
    # public for the province, not for a department
    api.get(f'{API}/statistics/indicators/766', params={'agency': ROOT_AGENCY, 'period': '2025-03'},
            expect=200)
    assert_problem(api.get(f'{API}/statistics/indicators/766',
                           params={'agency': tree.dept, 'period': '2025-03'}), 401)


def test_766_payments_files_and_online_procedures(api, admin):
    """The four indicators the events now tell, each on a hand-built April: fees paid online
    (the payment service's confirmations name a provider, the counter's do not; exempt
    excluded), dossiers received with their files, decisions with a result file, and the
    procedures each agency offers online (the catalogue) that received an online dossier.
    The payments are the dossier feed's real shapes of confirm_payment and
    confirm_submission_payment (as the payment service's confirmation makes them), injected
    like every event here."""
    t = Tree(api, admin)
    p1 = create_published_procedure(api, admin, agencies=[t.c1])['code']
    p2 = create_published_procedure(api, admin, agencies=[t.c1, t.c2])['code']
    counter_only = procedure_body(agencies=[t.c2])
    counter_only['cases'][0]['channels'] = counter_only['cases'][0]['channels'][1:]
    api.post(f'{API}/procedures', token=admin, json=counter_only, expect=201)
    publish_procedure(api, admin, counter_only['code'])
    files = lambda application, result=0: {'application': application, 'supplement': 0, 'result': result}  # noqa: E731
    vnpay = {'payment_id': str(uuid.uuid4()), 'provider': 'vnpay', 'amount': 50000,
             'paid_at': at(day('2025-04-04'), 9)}
    platform = {'payment_id': str(uuid.uuid4()), 'provider': 'national_platform', 'amount': 30000,
                'paid_at': at(day('2025-04-02'), 9)}
    dossiers = [
        # online, files at receipt, paid by VNPay, a result file at the decision
        Dossier(t.c1, procedure=p1).step('2025-04-02', 1, 'submit')
        .step('2025-04-02', 2, 'receive', due='2025-04-20', documents=files(1))
        .step('2025-04-03', 6, 'request_payment', fee=50000)
        .step('2025-04-04', 4, 'confirm_payment', details=vnpay)
        .step('2025-04-05', 9, 'approve', documents=files(1, 1)),
        # at the counter, nothing scanned, the fee paid in cash, a decision on paper only
        Dossier(t.c1, 'in_person', procedure=p1).step('2025-04-02', 1, 'submit')
        .step('2025-04-02', 2, 'receive', due='2025-04-20', documents=files(0))
        .step('2025-04-03', 6, 'request_payment', fee=20000)
        .step('2025-04-04', 4, 'confirm_payment')
        .step('2025-04-05', 9, 'approve', documents=files(0)),
        # the fee paid first through the national platform, then received with two files
        Dossier(t.c2, procedure=p2).step('2025-04-01', 11, 'submit_pay_first', fee=30000)
        .step('2025-04-02', 1, 'confirm_submission_payment', details=platform)
        .step('2025-04-03', 2, 'receive', due='2025-04-20', documents=files(2)),
        # exempt: a zero demand confirmed is no fee; an event from before the counts
        # (document_counts null) is left out of the digitised share
        Dossier(t.c1, procedure='9.999999').received('2025-04-03', '2025-04-20')
        .step('2025-04-04', 6, 'request_payment', fee=0)
        .step('2025-04-04', 4, 'confirm_payment', details=dict(vnpay, amount=0)),
    ]
    wait_counted(publish(dossiers))
    report(api, admin, t.dept, period='2025-04')   # the service knows the new agencies
    v = api.get(f'{API}/statistics/indicators/766', token=admin,
                params={'agency': t.dept, 'period': '2025-04'}, expect=200).doc['values']
    assert abs(v['paid_online_share'] - 2 / 3) < 1e-9, v
    assert abs(v['digitised_share'] - 2 / 3) < 1e-9, v
    assert abs(v['electronic_results_share'] - 1 / 2) < 1e-9, v
    # offered online: c1 p1, p2; c2 p2 (not the counter-only one). With an online dossier:
    # c1 p1 and c2 p2 (c1's in-person p1 and its dossier of an unknown procedure do not count)
    assert abs(v['online_procedures_with_dossiers_share'] - 2 / 3) < 1e-9, v
    # one commune: c2 offers p2 online and received a dossier of it; paid online only
    c2 = api.get(f'{API}/statistics/indicators/766', token=admin,
                 params={'agency': t.c2, 'period': '2025-04'}, expect=200).doc
    assert c2['values']['online_procedures_with_dossiers_share'] == 1
    assert c2['values']['paid_online_share'] == 1 and c2['values']['electronic_results_share'] is None
    groups = {g['code']: g for g in c2['scores']['groups']}
    assert groups['online_payment']['score'] == 10
    assert groups['digitisation']['indicators'][0]['value'] == 1
    # another month: nothing paid, nothing to share
    may = api.get(f'{API}/statistics/indicators/766', token=admin,
                  params={'agency': t.dept, 'period': '2025-05'}, expect=200).doc['values']
    assert may['paid_online_share'] is None and may['digitised_share'] is None
    assert may['online_procedures_with_dossiers_share'] == 0


def test_series_per_day_and_month(api, admin, tree, month):
    doc = api.get(f'{API}/statistics/series', token=admin,
                  params={'agency': tree.dept, 'period': '2025-03'}, expect=200).doc
    items = doc['items']
    assert doc['interval'] == 'day' and len(items) == 31 and items[0]['start'] == '2025-03-01'
    assert sum(i['received'] for i in items) == 8
    assert sum(i['resolved'] for i in items) == 6
    assert sum(i['resolved_overdue'] for i in items) == 2
    # overdue in progress: carried_overdue until the 6th, late on the 10th and 11th,
    # the apology's dossier from the 20th
    stock = [i['in_progress_overdue'] for i in items]
    assert stock == [1] * 5 + [0] * 4 + [1] * 2 + [0] * 8 + [1] * 12
    by_month = api.get(f'{API}/statistics/series', token=admin,
                       params={'agency': tree.dept, 'period': '2025-Q1', 'interval': 'month'}, expect=200).doc
    assert [(i['start'], i['received'], i['resolved'], i['in_progress_overdue']) for i in by_month['items']] == \
        [('2025-01-01', 0, 0, 0), ('2025-02-01', 3, 0, 1), ('2025-03-01', 8, 6, 1)]
    r = api.get(f'{API}/statistics/series', token=admin,
                params={'agency': tree.dept, 'from': '2024-01-01', 'to': '2025-03-31'})  # 456 days
    assert 'interval' in {e.get('parameter') for e in assert_problem(r, 400)['errors']}
    assert_problem(api.get(f'{API}/statistics/series', params={'agency': tree.dept, 'period': '2025-03'}), 401)


def test_who_may_see_what(api, admin, tree, month, tokens):
    # the province's summary is public
    r = api.get(REPORT, params={'agency': ROOT_AGENCY, 'period': '2025-03'}, expect=200)
    assert r.doc['agency_code'] == ROOT_AGENCY and r.doc['rows'] == []
    # its breakdown and any other agency need a token ...
    assert_problem(api.get(REPORT, params={'agency': ROOT_AGENCY, 'period': '2025-03', 'group_by': 'agency'}), 401)
    assert_problem(api.get(REPORT, params={'agency': tree.dept, 'period': '2025-03'}), 401)
    # ... of the agency's staff (or above), an auditor or a system_admin
    staff = tokens.agency_admin(tree.dept)
    assert report(api, staff, tree.c1, period='2025-03').doc['totals']['received']['total'] == 6
    assert_problem(api.get(REPORT, token=staff, params={'agency': tree.other, 'period': '2025-03'}), 403)
    assert_problem(api.get(REPORT, token=tokens.citizen, params={'agency': tree.dept, 'period': '2025-03'}), 403)
    assert_problem(api.get(DOSSIERS, token=tokens.citizen,
                           params={'agency': tree.dept, 'period': '2025-03', 'measure': 'received'}), 403)
    assert_problem(api.get(DOSSIERS, params={'agency': tree.dept, 'period': '2025-03', 'measure': 'received'}), 401)


def test_bad_queries_name_the_parameter(api, admin, tree):
    cases = [({'period': '2025-13'}, 'period'), ({'period': '2025-03', 'from': '2025-03-01'}, 'period'),
             ({}, 'period'), ({'from': '2025-03-02', 'to': '2025-03-01'}, 'to'),
             ({'period': '2025', 'group_by': 'officer'}, 'group_by'),
             ({'period': '2025', 'format': 'pdf'}, 'format')]
    for params, name in cases:
        r = api.get(REPORT, token=admin, params=dict(params, agency=tree.dept))
        assert name in {e.get('parameter') for e in assert_problem(r, 400)['errors']}, (params, r.text)
    assert_problem(api.get(REPORT, token=admin, params={'period': '2025'}), 400)
    assert_problem(api.get(REPORT, token=admin, params={'agency': '999.99.99.Q99', 'period': '2025'}), 404)


# ---------------------------------------------------------------------------
# random histories against the independent computation

def random_histories(tree: Tree, rng: random.Random, n: int) -> list[Dossier]:
    agencies = [tree.dept, tree.c1, tree.c2, tree.other]
    out = []
    for _ in range(n):
        d = Dossier(rng.choice(agencies), rng.choice(['online', 'online', 'in_person', 'postal']),
                    procedure=rng.choice(['1.001193', '2.000488']))
        on = day('2025-01-20') + dt.timedelta(days=rng.randint(0, 100))
        d.step(on, 1, 'submit')
        if rng.random() < 0.1:
            out.append(d.step(on, 3, 'refuse'))
            continue
        d.step(on, 2, 'receive', due=on + dt.timedelta(days=rng.randint(0, 20)))
        for _ in range(rng.randint(0, 6)):
            on += dt.timedelta(days=rng.randint(0, 9))
            s = d.status
            choice = rng.random()
            if s in (2, 4) and choice < 0.25:
                d.step(on, 4, 'forward')
            elif s in (2, 4) and choice < 0.35:
                d.step(on, 4, 'transfer', agency=rng.choice(agencies))
            elif s in (2, 4) and choice < 0.45:
                d.step(on, 5, 'request_supplement', due=None)
            elif s == 5 and choice < 0.7:
                d.step(on, 4, 'supplement', due=on + dt.timedelta(days=rng.randint(0, 12)))
            elif s in (2, 4, 5) and choice < 0.55:
                d.step(on, s, 'apologize')
            elif s in (2, 4, 5) and choice < 0.62:
                d.step(on, 7, 'request_withdrawal')
            elif s == 7:
                d.step(on, 8, 'confirm_withdrawal') if choice < 0.5 else d.step(on, 4, 'decline_withdrawal')
            elif s in (2, 4, 5) and choice < 0.68:
                d.step(on, 8, 'stop')
            elif s == 4:
                d.step(on, 9, 'approve')
            elif s == 9:
                d.step(on, 10, 'return_result')
        out.append(d)
    return out


PERIODS = [('2025-01', None), ('2025-02', None), ('2025-03', None), ('2025-Q1', None), ('2025-Q2', None),
           ('2025', None), (None, ('2025-02-14', '2025-03-09')), (None, ('2025-03-31', '2025-04-01'))]


def compare_all(api, admin, tree: Tree, dossiers: list[Dossier], what: str) -> None:
    for period, span in PERIODS:
        params = {'period': period} if period else {'from': span[0], 'to': span[1]}
        if period:
            first, last = {
                '2025-01': ('2025-01-01', '2025-01-31'), '2025-02': ('2025-02-01', '2025-02-28'),
                '2025-03': ('2025-03-01', '2025-03-31'), '2025-Q1': ('2025-01-01', '2025-03-31'),
                '2025-Q2': ('2025-04-01', '2025-06-30'), '2025': ('2025-01-01', '2025-12-31')}[period]
        else:
            first, last = span
        for agency in (tree.dept, tree.c1, tree.c2, tree.other):
            doc = report(api, admin, agency, **params).doc
            want = expected_06a(dossiers, tree.subtree(agency), day(first), day(last))
            assert_same_cells(doc['totals'], want, f'{what}, {agency}, {first}..{last}')


@pytest.fixture(scope='module')
def random_tree(api, admin) -> Tree:
    return Tree(api, admin)


def test_random_histories_match_an_independent_computation(api, admin, random_tree):
    rng = random.Random(int(os.environ.get('MOTCUA_TEST_SEED', '0')) or random.randrange(1 << 30))
    dossiers = random_histories(random_tree, rng, 60)
    wait_counted(publish(dossiers))
    compare_all(api, admin, random_tree, dossiers, 'random histories')

    # the whole feed read again from the start: nothing counts twice (the consumer reads
    # its position when it starts: stop it, reset the position, start it again)
    proc = ServiceProcess('statistics')
    proc.kill()
    psql_as('statistics', "UPDATE feed_positions SET position = 0 WHERE feed = 'dossier'")
    proc.start()
    wait_counted(int(psql_as('dossier', 'SELECT coalesce(max(published_seq), 0) FROM outbox')))
    compare_all(api, admin, random_tree, dossiers, 'after a replay of the feed')


def test_a_kill_9_mid_stream_counts_nothing_twice_or_never(api, admin, api_tree_for_kill):
    tree = api_tree_for_kill
    proc = ServiceProcess('statistics')
    rng = random.Random(7)
    dossiers = random_histories(tree, rng, 60)
    # one event per page, so that the kill lands mid-stream
    proc.kill()
    proc.start(MOTCUA_STATISTICS_FEED_PAGE_LIMIT='1')
    try:
        start = statistics_position()
        inject(dossiers)
        deadline = time.monotonic() + 30
        while statistics_position() <= start and time.monotonic() < deadline:
            time.sleep(0.005)
        killed_at = statistics_position()
        proc.kill()
        end = published_end()
        assert start < killed_at < end, f'not mid-stream: {start} < {killed_at} < {end}'
    finally:
        proc.kill()
        proc.start()
    wait_counted(end)
    compare_all(api, admin, tree, dossiers, 'after a kill -9 mid-stream')


@pytest.fixture(scope='module')
def api_tree_for_kill(api, admin) -> Tree:
    return Tree(api, admin)
