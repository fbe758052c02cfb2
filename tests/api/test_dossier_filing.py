"""Filing a dossier: the draft, its validation (every invalid field at once, with JSON
Pointers), Idempotency-Key on create and submit, the dossier code of Circular 01/2018
(agency-YYMMDD-sequence, the local date at UTC+07:00) and the mandatory documents.

Most procedures here have no mandatory document; the uploads themselves are tested in
test_dossier_documents.py.
"""
from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest

from catalogue_data import ROOT_AGENCY
from dossier_support import (API, _publish, create, dossier_body, etag_of, procedure_for_tests,
                             submit, upload)
from motcua_api import assert_problem, error_pointers

VN = dt.timezone(dt.timedelta(hours=7))


def local_yymmdd() -> str:
    return dt.datetime.now(VN).strftime('%y%m%d')


@pytest.fixture(scope='module')
def simple(world) -> str:
    """A procedure without mandatory documents (submit needs no upload)."""
    return world.procedure(value=2, mandatory=())


# ---------------------------------------------------------------------------
# the draft

def test_create_answers_201_with_location_and_etag(world, simple):
    r = create(world.api, world.citizen(), simple, world.agency)
    d = r.doc
    assert r.headers['Location'] == f'{API}/dossiers/{d["id"]}'
    assert r.headers['ETag'] == etag_of(d)
    assert d['status'] == 0 and d['status_name'] == 'draft' and d['code'] is None
    assert d['procedure']['code'] == simple and d['procedure']['version'] >= 1
    assert d['procedure']['case_code'] == 'default'
    assert d['agency_code'] == d['handling_agency'] == world.agency
    assert d['transfer_chain'] == []
    assert d['time_limit'] == {'value': 2, 'unit': 'working_days'}
    assert d['filed_by_role'] == 'citizen'
    assert d['allowed_actions'] == ['submit']
    assert d['dates']['submitted_at'] is None and d['dates']['due_at'] is None
    again = world.api.get(r.headers['Location'], token=world.citizen(), expect=200)
    assert again.headers['ETag'] == r.headers['ETag']
    assert again.doc['id'] == d['id']


def test_create_reports_every_structural_error_at_once(world):
    body = dossier_body('not-a-code', 'not-an-agency', channel='fax')
    body['applicant'] = {'type': 'robot', 'personal_id': '12'}
    body['delivery'] = {'method': 'pigeon'}
    body['form_data'] = 'text'
    r = world.api.post(f'{API}/dossiers', token=world.citizen(), json=body, expect=422)
    doc = assert_problem(r, 422, 'request.validation_failed')
    assert {'/procedure_code', '/agency_code', '/channel', '/applicant/type', '/applicant/full_name',
            '/applicant/personal_id', '/delivery/method', '/form_data'} <= error_pointers(doc), doc


def test_create_reports_every_choice_error_at_once(world, simple):
    """Agency not offering the procedure, a citizen choosing in_person, a postal delivery
    without an address and form data against the case's schema: one answer."""
    body = dossier_body(simple, ROOT_AGENCY, channel='in_person',
                        form={'child_full_name': '', 'dob': 'hôm qua', 'extra': 1})
    body['delivery'] = {'method': 'post'}
    r = world.api.post(f'{API}/dossiers', token=world.citizen(), json=body, expect=422)
    doc = assert_problem(r, 422, 'request.validation_failed')
    pointers = error_pointers(doc)
    assert {'/agency_code', '/channel', '/delivery/address'} <= pointers, doc
    assert any(p.startswith('/form_data/child_full_name') for p in pointers), doc
    assert any(p.startswith('/form_data/dob') for p in pointers), doc

    # A missing required form field is reported under /form_data too.
    body = dossier_body(simple, world.agency, form={'dob': '2025-03-01'})
    doc = assert_problem(world.api.post(f'{API}/dossiers', token=world.citizen(), json=body, expect=422),
                         422, 'request.validation_failed')
    assert any(p.startswith('/form_data') for p in error_pointers(doc)), doc


def test_create_unknown_procedure_and_case(world, simple):
    body = dossier_body('9.999999.Tkhongco', world.agency)
    body['delivery'] = {'method': 'post', 'address': None}
    doc = assert_problem(world.api.post(f'{API}/dossiers', token=world.citizen(), json=body, expect=422),
                         422, 'request.validation_failed')
    assert {'/procedure_code', '/delivery/address'} <= error_pointers(doc), doc

    body = dossier_body(simple, world.agency, case_code='khong-co')
    doc = assert_problem(world.api.post(f'{API}/dossiers', token=world.citizen(), json=body, expect=422),
                         422, 'request.validation_failed')
    assert '/case_code' in error_pointers(doc), doc


def test_create_channel_not_offered(world):
    body = procedure_for_tests([world.agency], mandatory=())
    case = body['cases'][0]
    case['channels'] = [ch for ch in case['channels'] if ch['channel'] == 'online']
    code = _publish(world.api, world.tokens.system_admin, body)['code']
    doc = assert_problem(create(world.api, world.citizen(), code, world.agency, channel='postal',
                                delivery={'method': 'post', 'address': '1 Lê Lợi, Thanh Hóa'}, expect=422),
                         422, 'request.validation_failed')
    assert error_pointers(doc) == {'/channel'}, doc
    create(world.api, world.citizen(), code, world.agency, expect=201)


def test_staff_file_at_the_counter_for_their_agency_only(world, simple):
    officer = world.officer
    # another agency, and an online delivery for an applicant without an account
    body = dossier_body(simple, world.other_agency, channel='in_person')
    body['delivery'] = {'method': 'online'}
    doc = assert_problem(world.api.post(f'{API}/dossiers', token=officer, json=body, expect=422),
                         422, 'request.validation_failed')
    assert {'/agency_code', '/delivery/method'} <= error_pointers(doc), doc

    d = create(world.api, officer, simple, world.agency, channel='in_person').doc
    assert d['filed_by_role'] == 'officer' and d['channel'] == 'in_person'
    # the counter submits for the applicant; the citizen of the suite never sees it
    world.api.get(f'{API}/dossiers/{d["id"]}', token=world.citizen(), expect=404)
    s = submit(world.api, officer, d).doc
    assert s['status'] == 1 and re.fullmatch(rf'{re.escape(world.agency)}-\d{{6}}-\d{{4,}}', s['code'])
    # a citizen may not file for someone else at the counter
    doc = assert_problem(create(world.api, world.citizen(), simple, world.agency, channel='in_person',
                                expect=422), 422)
    assert '/channel' in error_pointers(doc)


def test_only_filers_create(world, simple):
    body = dossier_body(simple, world.agency)
    assert_problem(world.api.post(f'{API}/dossiers', token=world.tokens.system_admin, json=body,
                                  expect=403), 403)
    assert_problem(world.api.post(f'{API}/dossiers', token=world.approver, json=body, expect=403), 403)
    assert_problem(world.api.post(f'{API}/dossiers', json=body, expect=401), 401)


# ---------------------------------------------------------------------------
# Idempotency-Key

def test_create_is_idempotent(world, simple):
    api, citizen = world.api, world.citizen()
    key = str(uuid.uuid4())
    first = create(api, citizen, simple, world.agency, headers={'Idempotency-Key': key})
    assert first.headers.get('Idempotent-Replayed') is None
    again = create(api, citizen, simple, world.agency, headers={'Idempotency-Key': key})
    assert again.headers.get('Idempotent-Replayed') == 'true'
    assert again.doc['id'] == first.doc['id']
    assert again.headers['Location'] == first.headers['Location']
    assert again.headers['ETag'] == first.headers['ETag']
    # the same key with another body is a client bug: refused, nothing created
    other = create(api, citizen, simple, world.agency, headers={'Idempotency-Key': key},
                   form={'child_full_name': 'Người Khác', 'dob': '2025-01-01'}, expect=409)
    assert_problem(other, 409, 'idempotency.key_reused')
    # the key is per principal: another citizen with the same key gets a dossier of their own
    theirs = create(api, world.citizen(1), simple, world.agency, headers={'Idempotency-Key': key})
    assert theirs.headers.get('Idempotent-Replayed') is None
    assert theirs.doc['id'] != first.doc['id']
    world.api.get(f'{API}/dossiers/{theirs.doc["id"]}', token=citizen, expect=404)


def test_submit_gives_the_code_and_is_idempotent(world, simple):
    api, citizen = world.api, world.citizen()
    d = create(api, citizen, simple, world.agency).doc
    key = str(uuid.uuid4())
    before = local_yymmdd()
    s = submit(api, citizen, d, headers={'Idempotency-Key': key})
    after = local_yymmdd()
    doc = s.doc
    assert doc['status'] == 1 and doc['status_name'] == 'submitted'
    m = re.fullmatch(rf'{re.escape(world.agency)}-(\d{{6}})-(\d{{4,}})', doc['code'])
    assert m, doc['code']
    assert m.group(1) in (before, after)
    assert int(m.group(2)) >= 1
    assert s.headers['ETag'] == etag_of(doc) and doc['revision'] > d['revision']
    assert doc['dates']['submitted_at'] is not None
    assert doc['allowed_actions'] == ['request_withdrawal']

    replay = submit(api, citizen, d, headers={'Idempotency-Key': key})
    assert replay.headers.get('Idempotent-Replayed') == 'true'
    assert replay.doc['code'] == doc['code'] and replay.doc['revision'] == doc['revision']

    # by code as well as by id
    by_code = api.get(f'{API}/dossiers/{doc["code"]}', token=citizen, expect=200).doc
    assert by_code['id'] == d['id']
    # a second submit (a new key, the current ETag) is a transition from status 1
    p = assert_problem(submit(api, citizen, doc, expect=409), 409, 'dossier.transition_not_allowed')
    assert p['allowed_actions'] == ['request_withdrawal']
    # with the old ETag too: the action is impossible whatever the revision
    assert_problem(submit(api, citizen, d, expect=409), 409, 'dossier.transition_not_allowed')


def test_submit_refused_as_incomplete_does_not_pin_its_key(world):
    """A 422 dossier.incomplete depends on state the citizen is expected to fix: after the
    upload, the retry with the same Idempotency-Key runs again and submits; the success
    then pins the key (replayed)."""
    api, citizen = world.api, world.citizen()
    code = world.procedure(value=2, mandatory=('TK',), optional=())
    d = create(api, citizen, code, world.agency).doc
    key = str(uuid.uuid4())
    first = submit(api, citizen, d, headers={'Idempotency-Key': key}, expect=422)
    assert_problem(first, 422, 'dossier.incomplete')
    assert first.headers.get('Idempotent-Replayed') is None
    upload(api, citizen, d, 'TK', expect=201)
    d = api.get(f'{API}/dossiers/{d["id"]}', token=citizen, expect=200).doc
    done = submit(api, citizen, d, headers={'Idempotency-Key': key})
    assert done.headers.get('Idempotent-Replayed') is None
    assert done.doc['status'] == 1 and done.doc['code']
    replay = submit(api, citizen, d, headers={'Idempotency-Key': key})
    assert replay.headers.get('Idempotent-Replayed') == 'true'
    assert replay.doc['code'] == done.doc['code']


def test_create_refused_as_invalid_does_not_pin_its_key(world, simple):
    """A validation failure stores nothing: the corrected body may use the same key."""
    api, citizen = world.api, world.citizen()
    key = str(uuid.uuid4())
    bad = create(api, citizen, simple, world.agency, headers={'Idempotency-Key': key},
                 form={'child_full_name': '', 'dob': 'not a date'}, expect=422)
    assert_problem(bad, 422)
    good = create(api, citizen, simple, world.agency, headers={'Idempotency-Key': key})
    assert good.headers.get('Idempotent-Replayed') is None
    again = create(api, citizen, simple, world.agency, headers={'Idempotency-Key': key})
    assert again.headers.get('Idempotent-Replayed') == 'true'
    assert again.doc['id'] == good.doc['id']


def test_codes_are_sequential_per_agency_and_day(world, simple):
    api, citizen = world.api, world.citizen()
    codes = []
    for _ in range(3):
        d = create(api, citizen, simple, world.agency).doc
        codes.append(submit(api, citizen, d).doc['code'])
    prefixes = {c.rsplit('-', 1)[0] for c in codes}
    numbers = [int(c.rsplit('-', 1)[1]) for c in codes]
    if len(prefixes) == 1:  # not across midnight
        assert numbers == sorted(numbers) and len(set(numbers)) == 3, codes


def test_submit_needs_if_match(world, simple):
    api, citizen = world.api, world.citizen()
    d = create(api, citizen, simple, world.agency).doc
    r = api.post(f'{API}/dossiers/{d["id"]}/submit', token=citizen, json={}, expect=428)
    assert_problem(r, 428, 'http.precondition_required')
    r = api.post(f'{API}/dossiers/{d["id"]}/submit', token=citizen, json={},
                 headers={'If-Match': '"r999"'}, expect=412)
    assert_problem(r, 412, 'http.precondition_failed')
    assert api.get(f'{API}/dossiers/{d["id"]}', token=citizen, expect=200).doc['status'] == 0


def test_draft_edit_then_locked_after_submit(world, simple):
    api, citizen = world.api, world.citizen()
    d = create(api, citizen, simple, world.agency).doc
    url = f'{API}/dossiers/{d["id"]}'
    assert_problem(api.patch(url, token=citizen, json={'form_data': {'child_full_name': 'A', 'dob': '2025-01-02'}},
                             expect=428), 428)
    doc = assert_problem(api.patch(url, token=citizen, json={'form_data': {'dob': 'x'}},
                                   headers={'If-Match': etag_of(d)}, expect=422), 422)
    assert any(p.startswith('/form_data') for p in error_pointers(doc))
    r = api.patch(url, token=citizen, json={'form_data': {'child_full_name': 'Bé Na', 'dob': '2025-01-02'}},
                  headers={'If-Match': etag_of(d)}, expect=200)
    assert r.doc['form_data']['child_full_name'] == 'Bé Na' and r.doc['revision'] == d['revision'] + 1
    s = submit(api, citizen, r.doc).doc
    assert_problem(api.patch(url, token=citizen, json={'form_data': {'child_full_name': 'X', 'dob': '2025-01-02'}},
                             headers={'If-Match': etag_of(s)}, expect=409), 409,
                   'dossier.transition_not_allowed')
    # only the applicant edits
    assert_problem(api.patch(url, token=world.officer, json={'form_data': {'child_full_name': 'X', 'dob': '2025-01-02'}},
                             headers={'If-Match': etag_of(s)}, expect=403), 403)


# ---------------------------------------------------------------------------
# mandatory documents

def test_submit_needs_the_mandatory_documents(world):
    api, citizen = world.api, world.citizen()
    code = world.procedure(value=2, mandatory=('TK',), optional=('UQ',))
    d = create(api, citizen, code, world.agency).doc
    doc = assert_problem(submit(api, citizen, d, expect=422), 422, 'dossier.incomplete')
    assert error_pointers(doc) == {'/documents/TK'}, doc
    assert api.get(f'{API}/dossiers/{d["id"]}', token=citizen, expect=200).doc['status'] == 0

    upload(api, citizen, d, 'UQ', expect=201)
    d = api.get(f'{API}/dossiers/{d["id"]}', token=citizen, expect=200).doc
    doc = assert_problem(submit(api, citizen, d, expect=422), 422, 'dossier.incomplete')
    assert error_pointers(doc) == {'/documents/TK'}, doc   # an optional file is not the mandatory one
    upload(api, citizen, d, 'TK', expect=201)
    d = api.get(f'{API}/dossiers/{d["id"]}', token=citizen, expect=200).doc
    s = submit(api, citizen, d).doc
    assert s['status'] == 1 and s['code']
