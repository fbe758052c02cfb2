"""Workflow rules at the edges of the lifecycle (docs/services/dossier.md, *Lifecycle*,
*Deadlines*):

- a withdrawal requested while a supplement is requested, then declined: the dossier goes
  back to the supplement request, and the supplement back to where *that* request came
  from, with the clock paused throughout;
- a transfer only to an agency that offers the procedure (its current published version);
- the result document cited by approve / reject is a current result file of this dossier;
- a PATCH that changes nothing changes nothing (no revision, no history);
- `missing_items` is shown only while a supplement request is pending (the history keeps
  the list);
- the watcher's due-soon / overdue flags follow the appointment: cleared when an apology
  or a supplement moves it out of reach, kept when it is still overdue.

The watcher tests move a dossier's dates into the past directly in the database (as the
dossier service's own role, like test_history_is_append_only_in_the_database): waiting
for a real time limit to run out would need office hours and hours of wall time.
"""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import time
import uuid

import pytest

from dossier_support import (API, PDF, World, _publish, act, create, dossier_body, dossier_events, etag_of,
                             feed_end, filed, procedure_for_tests, upload)
from motcua_api import assert_problem, parse_rfc3339

VN = dt.timezone(dt.timedelta(hours=7))
RESULT = {'summary': 'Cấp giấy khai sinh', 'number': '123/2026/KS'}
WATCHER_TYPES = {'dossier.dossier.due_soon', 'dossier.dossier.overdue'}


# ---------------------------------------------------------------------------
# helpers

def epoch(text: str) -> int:
    return int(parse_rfc3339(text).timestamp())


def rfc(t: int) -> str:
    return dt.datetime.fromtimestamp(t, VN).isoformat()


def get(world: World, d: dict, token: str | None = None) -> dict:
    return world.api.get(f'{API}/dossiers/{d["id"]}', token=token or world.officer, expect=200).doc


def history(world: World, d: dict, token: str | None = None) -> list[dict]:
    return world.api.get(f'{API}/dossiers/{d["id"]}/history', token=token or world.officer,
                         expect=200).doc['items']


def steps(world: World, d: dict) -> list[tuple]:
    return [(h['action'], h['from_status'], h['to_status']) for h in history(world, d)]


def errors_of(doc: dict) -> dict[str, str]:
    return {e['pointer']: e['code'] for e in doc.get('errors', []) if 'pointer' in e}


def received(world: World, code: str) -> dict:
    return act(world.api, world.officer, filed(world, code, documents=()), 'receive').doc


def processing(world: World, code: str) -> dict:
    return act(world.api, world.officer, received(world, code), 'forward').doc


def wait_for(world: World, dossier_id: str, start: int, type_: str, count: int = 1,
             timeout: float = 40) -> list[dict]:
    """The dossier's events after `start` once `count` of type `type_` are there."""
    deadline = time.monotonic() + timeout
    while True:
        events = dossier_events(world, dossier_id, start, 0)
        if sum(e['type'] == type_ for e in events) >= count:
            return events
        assert time.monotonic() < deadline, \
            f'{count} x {type_} expected: {[e["type"] for e in events]}'
        time.sleep(0.5)


def of_type(events: list[dict], type_: str) -> list[dict]:
    return [e for e in events if e['type'] == type_]


class Database:
    """The dossier schema, as the service's own role (psql)."""

    def __init__(self):
        port, local = os.environ.get('MOTCUA_TEST_PG_PORT'), os.environ.get('MOTCUA_TEST_LOCAL_DIR')
        secret = os.path.join(local or '', 'secrets', 'dossier.password')
        if not port or not local or not os.path.exists(secret):
            pytest.skip('MOTCUA_TEST_PG_PORT and MOTCUA_TEST_LOCAL_DIR (set by tests/run) reach '
                        'the database')
        with open(secret, encoding='utf-8') as f:
            password = f.readline().strip()
        self.conninfo = f'host=127.0.0.1 port={port} dbname=motcua user=motcua_dossier'
        self.env = dict(os.environ, PGPASSWORD=password, PGCONNECT_TIMEOUT='5')

    def run(self, sql: str, *args: str) -> list[list[str]]:
        """One statement with psql variables :'v1', :'v2' ... bound to args (never
        formatted into the text)."""
        cmd = ['psql', self.conninfo, '-v', 'ON_ERROR_STOP=1', '-qAtX', '-F', '|']
        for i, a in enumerate(args, 1):
            cmd += ['-v', f'v{i}={a}']
        r = subprocess.run(cmd, input=sql, env=self.env, capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, (sql, r.stderr)
        return [line.split('|') for line in r.stdout.splitlines() if line]

    def flags(self, dossier_id: str) -> tuple[bool, bool]:
        """(overdue flagged, due soon flagged)"""
        row = self.run("SELECT overdue_flagged_at IS NOT NULL, due_soon_flagged_at IS NOT NULL"
                       " FROM dossiers WHERE id = :'v1'::uuid", dossier_id)[0]
        return row[0] == 't', row[1] == 't'

    def past_due(self, dossier_id: str, days_ago: int = 1):
        """Received a month ago, due `days_ago` days ago (the watcher flags it overdue)."""
        self.run("UPDATE dossiers SET clock_start_at = now() - interval '30 days',"
                 " due_at = now() - :'v2'::integer * interval '1 day',"
                 " appointment_at = now() - :'v2'::integer * interval '1 day'"
                 " WHERE id = :'v1'::uuid", dossier_id, str(days_ago))


# ---------------------------------------------------------------------------
# 1. a withdrawal requested during a supplement

def test_declined_withdrawal_during_a_supplement_returns_to_the_supplement_request(world):
    """2 -request_supplement-> 5 -request_withdrawal-> 7 -decline-> 5 -supplement-> 2: the
    supplement goes back to where the supplement request came from (2), not to a guess;
    the clock stays paused from the supplement request to the supplement."""
    api, citizen, officer = world.api, world.citizen(), world.officer
    code = world.procedure(value=3, clock='extend', mandatory=())
    start = feed_end(world)
    d = received(world, code)
    assert d['status'] == 2
    first_due = d['dates']['due_at']
    missing = ['Bản sao giấy chứng sinh', 'Giấy xác nhận cư trú']
    d = act(api, officer, d, 'request_supplement', {'missing_items': missing}).doc
    assert d['status'] == 5
    paused_since, supplement_due = d['dates']['paused_since'], d['dates']['supplement_due_at']
    assert paused_since is not None and supplement_due is not None

    d = act(api, citizen, d, 'request_withdrawal', {'reasons': ['Tôi muốn rút hồ sơ']}).doc
    assert d['status'] == 7
    assert d['dates']['paused_since'] == paused_since          # still waiting for the applicant
    assert d['missing_items'] == missing                       # the request is still pending
    assert get(world, d)['allowed_actions'] == ['confirm_withdrawal', 'decline_withdrawal']

    d = act(api, officer, d, 'decline_withdrawal', {'reasons': ['Hồ sơ đang chờ bổ sung']}).doc
    assert d['status'] == 5                                    # back to the supplement request
    assert d['dates']['paused_since'] == paused_since
    assert d['dates']['supplement_due_at'] == supplement_due
    assert d['missing_items'] == missing
    assert get(world, d, citizen)['allowed_actions'] == ['supplement', 'request_withdrawal']

    time.sleep(1.1)
    d = act(api, citizen, d, 'supplement').doc
    assert d['status'] == 2, 'the supplement returns to where the supplement request came from'
    assert d['dates']['paused_since'] is None and d['dates']['supplement_due_at'] is None
    assert d['missing_items'] is None
    # one pause, from the supplement request to the supplement: the due date moved by the
    # working time in it (none on a day off), never back
    assert epoch(d['dates']['due_at']) >= epoch(first_due)
    assert epoch(d['dates']['clock_start_at']) == epoch(d['dates']['received_at'])
    events = [e for e in wait_for(world, d['id'], start, 'dossier.dossier.supplement_provided')
              if e['type'] not in WATCHER_TYPES]
    assert [e['type'].removeprefix('dossier.dossier.') for e in events] == \
        ['submitted', 'received', 'supplement_requested', 'withdrawal_requested',
         'withdrawal_declined', 'supplement_provided']
    assert [(e['data']['from_status'], e['data']['to_status']) for e in events[2:]] == \
        [(2, 5), (5, 7), (7, 5), (5, 2)]
    assert steps(world, d)[-4:] == [('request_supplement', 2, 5), ('request_withdrawal', 5, 7),
                                    ('decline_withdrawal', 7, 5), ('supplement', 5, 2)]

    # the same from processing (4), and the dossier then goes on normally
    e = processing(world, code)
    e = act(api, officer, e, 'request_supplement', {'missing_items': ['Tờ khai có chữ ký']}).doc
    e = act(api, citizen, e, 'request_withdrawal', {'reasons': ['Nộp nhầm']}).doc
    e = act(api, officer, e, 'decline_withdrawal', {'reasons': ['Chờ bổ sung']}).doc
    e = act(api, citizen, e, 'supplement').doc
    assert e['status'] == 4
    e = act(api, world.approver, e, 'approve', {'result': RESULT}).doc
    assert e['status'] == 9


def test_declined_withdrawal_during_a_supplement_before_reception(world):
    """1 -request_supplement-> 5 -request_withdrawal-> 7 -decline-> 5 -supplement-> 1 (no
    clock before reception); a confirmed withdrawal ends the pending request."""
    api, citizen, officer = world.api, world.citizen(), world.officer
    code = world.procedure(value=2, mandatory=())
    d = filed(world, code, documents=())
    d = act(api, officer, d, 'request_supplement', {'missing_items': ['Tờ khai có chữ ký']}).doc
    d = act(api, citizen, d, 'request_withdrawal', {'reasons': ['Nộp nhầm']}).doc
    d = act(api, officer, d, 'decline_withdrawal', {'reasons': ['Chờ bổ sung']}).doc
    assert d['status'] == 5 and d['dates']['paused_since'] is None
    d = act(api, citizen, d, 'supplement').doc
    assert d['status'] == 1 and d['dates']['due_at'] is None and d['missing_items'] is None

    # withdrawn during a supplement request: stopped, nothing is missing any more
    e = received(world, code)
    e = act(api, officer, e, 'request_supplement', {'missing_items': ['Bản sao CCCD']}).doc
    e = act(api, citizen, e, 'request_withdrawal', {'reasons': ['Không cần nữa']}).doc
    e = act(api, officer, e, 'confirm_withdrawal').doc
    assert (e['status'], e['outcome'], e['missing_items']) == (8, 'withdrawn', None)
    assert e['allowed_actions'] == []


# ---------------------------------------------------------------------------
# 2. a transfer to an agency that does not offer the procedure

def test_transfer_only_to_an_agency_that_offers_the_procedure(world):
    """The receiving agency must be in the procedure's agency_codes (its current published
    version): else 422 /to_agency not_offering, nothing changes. Publishing a version that
    adds the agency opens the transfer (once the service's catalogue copy is renewed, at
    most CATALOGUE_CACHE_SECONDS, 60 s by default)."""
    api, officer, admin = world.api, world.officer, world.tokens.system_admin
    body = procedure_for_tests([world.agency], value=2, mandatory=())
    code = _publish(api, admin, body)['code']
    start = feed_end(world)
    d = received(world, code)
    transfer = {'to_agency': world.other_agency, 'reasons': ['Thuộc thẩm quyền cơ quan khác']}

    doc = assert_problem(act(api, officer, d, 'transfer', transfer, expect=422), 422,
                         'request.validation_failed')
    assert errors_of(doc) == {'/to_agency': 'not_offering'}, doc
    doc = assert_problem(act(api, officer, d, 'transfer', {**transfer, 'to_agency': world.agency},
                             expect=422), 422)
    assert errors_of(doc) == {'/to_agency': 'same_agency'}, doc
    doc = assert_problem(act(api, officer, d, 'transfer', {**transfer, 'to_agency': '999.99.99.Z99'},
                             expect=422), 422)
    assert errors_of(doc) == {'/to_agency': 'not_found'}, doc
    now = get(world, d)
    assert (now['revision'], now['handling_agency'], now['transfer_chain']) == \
        (d['revision'], world.agency, [])
    assert [h['action'] for h in history(world, d)] == ['create', 'submit', 'receive']

    # version 2 adds the other agency: the transfer is allowed (the filed version 1 did not
    # list it: the current version decides)
    body2 = dict(body, agency_codes=[world.agency, world.other_agency])
    api.put(f'{API}/procedures/{code}/draft', token=admin, json=body2, expect=(200, 201))
    etag = api.get(f'{API}/procedures/{code}/draft', token=admin, expect=200).headers['ETag']
    assert api.post(f'{API}/procedures/{code}/publish', token=admin, headers={'If-Match': etag},
                    expect=200).doc['version'] == 2
    deadline = time.monotonic() + 75
    while True:
        r = act(api, officer, d, 'transfer', transfer, expect=(200, 422))
        if r.status_code == 200:
            break
        assert errors_of(r.doc) == {'/to_agency': 'not_offering'}, r.doc
        assert time.monotonic() < deadline, 'the new version never reached the dossier service'
        time.sleep(3)
    t = r.doc
    assert t['handling_agency'] == world.other_agency and t['transfer_chain'] == [world.agency]
    assert t['procedure']['version'] == 1            # still processed under the filed version
    assert t['revision'] == d['revision'] + 1
    events = [e for e in wait_for(world, d['id'], start, 'dossier.dossier.transferred')
              if e['type'] not in WATCHER_TYPES]
    assert [e['type'].removeprefix('dossier.dossier.') for e in events] == \
        ['submitted', 'received', 'transferred']      # none for the refused attempts


# ---------------------------------------------------------------------------
# 3. the result document of approve / reject

def test_result_document_must_be_a_current_result_file_of_the_dossier(world):
    api, citizen, officer, approver = world.api, world.citizen(), world.officer, world.approver
    code = world.procedure(value=2, mandatory=())
    d = processing(world, code)
    other = processing(world, code)
    theirs = upload(api, officer, other, 'result', file_name='ket-qua-khac.pdf').doc
    first = upload(api, officer, d, 'result', file_name='ket-qua-1.pdf').doc
    second = upload(api, approver, d, 'result', PDF + b'% ban ky so\n', file_name='ket-qua-2.pdf').doc
    assert first['id'] != second['id']
    # a file of another dossier (an application file of a draft)
    draft = create(api, citizen, code, world.agency).doc
    application = upload(api, citizen, draft, 'UQ').doc

    def refused(action: str, document_id: str, expected: str, dossier: dict = d, **extra):
        body = {'result': {**RESULT, 'document_id': document_id}, **extra}
        doc = assert_problem(act(api, approver, dossier, action, body, expect=422), 422,
                             'request.validation_failed')
        assert errors_of(doc) == {'/result/document_id': expected}, doc

    refused('approve', first['id'], 'replaced')                 # replaced by the second file
    refused('approve', theirs['id'], 'not_found')               # another dossier's
    refused('approve', str(uuid.uuid4()), 'not_found')          # unknown
    refused('reject', first['id'], 'replaced', reasons=['Không đủ điều kiện'])
    refused('reject', theirs['id'], 'not_found', reasons=['Không đủ điều kiện'])
    refused('approve', application['id'], 'not_found')
    now = get(world, d)
    assert (now['status'], now['revision']) == (4, d['revision'])
    assert [h['action'] for h in history(world, d)][-2:] == ['document_uploaded', 'document_replaced']

    d = act(api, approver, d, 'approve', {'result': {**RESULT, 'document_id': second['id']}}).doc
    assert d['status'] == 9 and d['result']['document_id'] == second['id']
    # the applicant now sees and downloads that very file
    listed = api.get(f'{API}/dossiers/{d["id"]}/documents', token=citizen, expect=200).doc['items']
    assert [x['id'] for x in listed if x['slot'] == 'result'] == [second['id']]

    # a result without a file (or with null) keeps working
    other = act(api, approver, other, 'reject', {'reasons': ['Không đủ điều kiện'],
                                                 'result': {'summary': 'Văn bản từ chối',
                                                            'document_id': None}}).doc
    assert other['status'] == 9 and other['result']['document_id'] is None
    third = act(api, approver, processing(world, code), 'approve', {'result': RESULT}).doc
    # every member of the result is answered, null when it was not given (README, API conventions)
    assert third['status'] == 9 and third['result']['document_id'] is None


def test_result_document_must_be_a_result_file(world):
    """A file the applicant uploaded to the dossier is not its result."""
    api, citizen, officer, approver = world.api, world.citizen(), world.officer, world.approver
    code = world.procedure(value=2, mandatory=('TK',))
    draft = create(api, citizen, code, world.agency).doc
    application = upload(api, citizen, draft, 'TK').doc
    draft = api.get(f'{API}/dossiers/{draft["id"]}', token=citizen, expect=200).doc
    d = api.post(f'{API}/dossiers/{draft["id"]}/submit', token=citizen, json={},
                 headers={'If-Match': etag_of(draft)}, expect=200).doc
    d = act(api, officer, act(api, officer, d, 'receive').doc, 'forward').doc
    doc = assert_problem(act(api, approver, d, 'approve',
                             {'result': {**RESULT, 'document_id': application['id']}}, expect=422), 422)
    assert errors_of(doc) == {'/result/document_id': 'not_result'}, doc


# ---------------------------------------------------------------------------
# 4. PATCH that changes nothing

def test_patch_without_a_change_changes_nothing(world):
    api, citizen = world.api, world.citizen()
    code = world.procedure(value=2, mandatory=())
    d = create(api, citizen, code, world.agency).doc
    url = f'{API}/dossiers/{d["id"]}'
    sent = dossier_body(code, world.agency)   # as filed: the applicant's empty members left out
    assert set(sent['applicant']) < set(d['applicant'])
    for body in ({}, {'form_data': d['form_data']},
                 {'applicant': d['applicant'], 'delivery': d['delivery'], 'representative': None},
                 {'applicant': sent['applicant'], 'delivery': sent['delivery']}):
        r = api.patch(url, token=citizen, headers={'If-Match': etag_of(d)}, json=body, expect=200)
        assert r.headers['ETag'] == etag_of(d), body
        assert r.doc['revision'] == d['revision'] and r.doc['dates'] == d['dates'], body
        assert r.doc['form_data'] == d['form_data'] and r.doc['allowed_actions'] == d['allowed_actions']
    assert [h['action'] for h in history(world, d, citizen)] == ['create']
    # still checked like any PATCH: a stale ETag is 412, no ETag 428
    assert_problem(api.patch(url, token=citizen, headers={'If-Match': '"r99"'}, json={}, expect=412), 412)
    assert_problem(api.patch(url, token=citizen, json={}, expect=428), 428)

    # a real change among unchanged members: one revision, the changed member only
    form = dict(d['form_data'], dob='2025-03-02')
    r = api.patch(url, token=citizen, headers={'If-Match': etag_of(d)},
                  json={'form_data': form, 'delivery': d['delivery']}, expect=200)
    assert r.doc['revision'] == d['revision'] + 1 and r.headers['ETag'] == etag_of(r.doc)
    h = history(world, d, citizen)
    assert [x['action'] for x in h] == ['create', 'update']
    assert h[-1]['details'] == {'fields': ['form_data']}

    # during a supplement request too: no revision, no history row, no event
    start = feed_end(world)
    d = received(world, code)
    d = act(api, world.officer, d, 'request_supplement', {'missing_items': ['Bản sao CCCD']}).doc
    r = api.patch(f'{API}/dossiers/{d["id"]}', token=citizen, headers={'If-Match': etag_of(d)},
                  json={'form_data': d['form_data']}, expect=200)
    assert r.headers['ETag'] == etag_of(d) and r.doc['revision'] == d['revision']
    assert r.doc['dates']['updated_at'] == d['dates']['updated_at']
    assert history(world, d)[-1]['action'] == 'request_supplement'
    assert act(api, citizen, d, 'supplement').doc['status'] == 2     # the same ETag still works
    events = [e for e in wait_for(world, d['id'], start, 'dossier.dossier.supplement_provided')
              if e['type'] not in WATCHER_TYPES]
    assert [e['type'].removeprefix('dossier.dossier.') for e in events] == \
        ['submitted', 'received', 'supplement_requested', 'supplement_provided']


# ---------------------------------------------------------------------------
# 5. missing_items after a supplement

def test_missing_items_are_cleared_by_the_supplement_and_kept_in_the_history(world):
    api, citizen, officer = world.api, world.citizen(), world.officer
    code = world.procedure(value=2, mandatory=())
    missing = ['Bản sao giấy chứng sinh', 'Giấy xác nhận cư trú']
    d = processing(world, code)
    d = act(api, officer, d, 'request_supplement', {'missing_items': missing}).doc
    assert d['missing_items'] == missing and get(world, d, citizen)['missing_items'] == missing
    d = act(api, citizen, d, 'supplement').doc
    assert d['status'] == 4 and d['missing_items'] is None
    assert get(world, d)['missing_items'] is None and get(world, d, citizen)['missing_items'] is None
    request = next(h for h in history(world, d) if h['action'] == 'request_supplement')
    assert request['details']['missing_items'] == missing
    assert 'supplement_due_at' in request['details']

    # a second request lists only what it asks for
    d = act(api, officer, d, 'request_supplement', {'missing_items': ['Tờ khai có chữ ký']}).doc
    assert d['missing_items'] == ['Tờ khai có chữ ký']
    d = act(api, citizen, d, 'supplement').doc
    assert d['missing_items'] is None
    assert [h['details']['missing_items'] for h in history(world, d)
            if h['action'] == 'request_supplement'] == [missing, ['Tờ khai có chữ ký']]

    # the supplement that returns a dossier to "submitted" (before reception) too
    e = filed(world, code, documents=())
    e = act(api, officer, e, 'request_supplement', {'missing_items': missing}).doc
    e = act(api, citizen, e, 'supplement').doc
    assert (e['status'], e['missing_items']) == (1, None)

    # a dossier stopped while waiting for the supplement no longer asks for anything
    f = received(world, code)
    f = act(api, officer, f, 'request_supplement', {'missing_items': missing}).doc
    f = act(api, officer, f, 'stop', {'reasons': ['Người yêu cầu không bổ sung hồ sơ']}).doc
    assert (f['status'], f['missing_items']) == (8, None)


# ---------------------------------------------------------------------------
# 6. the watcher's flags when the appointment moves

def test_an_apology_lets_the_watcher_flag_the_new_appointment(world):
    """Overdue and flagged; an apology sets a new appointment: the flags are cleared (the
    legal due date, the measure of statistics, does not move: the dossier stays overdue in
    its JSON), the watcher warns that the new appointment is near, then flags it overdue
    again once it has passed too."""
    db = Database()
    api, officer = world.api, world.officer
    code = world.procedure(value=2, mandatory=())
    d = received(world, code)
    start = feed_end(world)
    db.past_due(d['id'])
    wait_for(world, d['id'], start, 'dossier.dossier.overdue')
    assert db.flags(d['id'])[0] is True
    d = get(world, d)
    assert d['overdue'] is True
    due = d['dates']['due_at']

    appointment = int(time.time()) + 15
    d = act(api, officer, d, 'apologize', {'reasons': ['Cần xác minh thêm'],
                                           'new_appointment_at': rfc(appointment)}).doc
    assert epoch(d['dates']['appointment_at']) == appointment and d['dates']['due_at'] == due
    assert d['overdue'] is True                 # statistics: the legal due date has passed
    # flagged "due soon" for the new appointment at once (the flags were cleared) ...
    events = wait_for(world, d['id'], start, 'dossier.dossier.due_soon')
    soon = of_type(events, 'dossier.dossier.due_soon')
    assert len(soon) == 1 and epoch(soon[0]['data']['appointment_at']) == appointment
    assert soon[0]['data']['details']['due_at'] == due
    assert epoch(soon[0]['data']['details']['appointment_at']) == appointment
    # ... and overdue again once it has passed
    events = wait_for(world, d['id'], start, 'dossier.dossier.overdue', 2)
    overdue = of_type(events, 'dossier.dossier.overdue')
    assert len(overdue) == 2, [e['type'] for e in events]
    assert epoch(overdue[1]['data']['appointment_at']) == appointment
    assert overdue[1]['data']['due_at'] == due and overdue[1]['data']['actor_role'] == 'system'
    assert parse_rfc3339(overdue[1]['data']['occurred_at']).timestamp() >= appointment
    assert db.flags(d['id']) == (True, True)
    assert get(world, d)['revision'] == d['revision']       # flags never change the revision


def test_a_restarted_clock_clears_the_flags(world):
    """restart: a supplement gives a new time limit; the old overdue flag no longer holds."""
    db = Database()
    api, citizen, officer = world.api, world.citizen(), world.officer
    code = world.procedure(value=2, clock='restart', mandatory=())
    d = received(world, code)
    start = feed_end(world)
    db.past_due(d['id'])
    wait_for(world, d['id'], start, 'dossier.dossier.overdue')
    assert db.flags(d['id'])[0] is True
    d = act(api, officer, get(world, d), 'request_supplement', {'missing_items': ['Bản sao CCCD']}).doc
    assert db.flags(d['id'])[0] is True         # waiting for the applicant: nothing moved yet
    d = act(api, citizen, d, 'supplement').doc
    assert d['status'] == 2 and epoch(d['dates']['due_at']) > time.time()
    assert d['overdue'] is False
    assert db.flags(d['id']) == (False, False)


def test_an_extended_due_date_still_overdue_keeps_the_flag(world):
    """extend: a payment wait moves the due date by the paused working time; when it is
    still in the past the dossier stays flagged (one overdue event, not one per change)."""
    db = Database()
    api, officer = world.api, world.officer
    code = world.procedure(value=2, clock='extend', mandatory=())
    d = received(world, code)
    start = feed_end(world)
    db.past_due(d['id'], days_ago=20)
    wait_for(world, d['id'], start, 'dossier.dossier.overdue')
    d = act(api, officer, get(world, d), 'request_payment', {'amount': 20000}).doc
    time.sleep(1.1)
    d = act(api, officer, d, 'confirm_payment').doc
    assert d['status'] == 4 and d['overdue'] is True
    assert db.flags(d['id'])[0] is True
    time.sleep(12)                              # two passes of the watcher (every 5 s locally)
    events = dossier_events(world, d['id'], start, 0)
    assert len(of_type(events, 'dossier.dossier.overdue')) == 1, [e['type'] for e in events]
