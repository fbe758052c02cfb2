"""Every JSON example of docs/ and every request example of api-spec/ runs against the
stack, so that an example cannot rot (a filing example refused with 422, a form whose
documented errors are not the service's).

docs/*.md and docs/services/*.md: every ```json block carries a marker, an HTML comment on
the line before it (invisible when rendered):

  <!-- example: request METHOD PATH as ROLE expect STATUS [fresh FIELD ...] -->
        the block is a request body, sent to the stack by ROLE (citizen, system_admin,
        anyone); the answer must have STATUS (and match the spec, as every answer here).
        `fresh FIELD`: that member is replaced by a new unique value first (codes,
        personal ids: the example itself already exists in the demo data).
  <!-- example: response GET PATH -->
        the block is an answer: it must match the spec's schema of that read and have
        exactly the members of the live answer.
  <!-- example: form-schema NAME -->   a form schema (docs/form-schema.md);
  <!-- example: form-data NAME valid|invalid -->   form data for it;
  <!-- example: form-errors NAME -->   the errors documented for the invalid data (a list,
        or one error of it): a procedure with the schema is published, the valid data
        filed (201), the invalid data refused with exactly those errors.

api-spec/*.yaml: every request-body example (`example` or each of `examples`) is sent to
its operation, with the identifiers a live stack needs put in (a fresh code, a real
dossier in a status the action is allowed from, the current ETag, a real result file)
and must succeed. An operation with a request example and no way here to run it fails
test_every_spec_request_example_is_run.
"""
from __future__ import annotations

import datetime as dt
import glob
import json
import os
import random
import re
from typing import Any, Callable

import pytest

import catalogue_data as cd
from catalogue_data import API
from dossier_support import (PDF, World, act, create, dossier_in, etag_of, procedure_for_tests, token_sub,
                             upload, _publish)
from dossier_support import (PAY_FIRST_FEE, awaiting_submission_payment, machine_client_token,
                             pay_first_procedure)
from motcua_api import REPO_ROOT, SpecSet, assert_problem, deepcopy, unique_suffix

DOCS = sorted(glob.glob(os.path.join(REPO_ROOT, 'docs', '*.md')) +
              glob.glob(os.path.join(REPO_ROOT, 'docs', '*', '*.md')))
MARKER = re.compile(r'^<!--\s*example:\s*(.*?)\s*-->\s*$')
FENCE = re.compile(r'^```json\s*$')


# ---------------------------------------------------------------------------
# docs/: finding the examples

def doc_examples() -> list[tuple[str, int, str, Any]]:
    """(file, line, marker, parsed JSON) of every ```json block of docs/; a block without
    a marker has marker '' (and fails test_every_docs_json_block_is_marked)."""
    found = []
    for path in DOCS:
        lines = open(path, encoding='utf-8').read().split('\n')
        i = 0
        while i < len(lines):
            if FENCE.match(lines[i]):
                start = i
                j = i + 1
                while j < len(lines) and lines[j].strip() != '```':
                    j += 1
                text = '\n'.join(lines[start + 1:j])
                m = MARKER.match(lines[start - 1]) if start > 0 else None
                rel = os.path.relpath(path, REPO_ROOT)
                try:
                    value = json.loads(text)
                except ValueError as e:
                    value = ValueError(f'{rel}:{start + 1}: not JSON: {e}')
                found.append((rel, start + 1, m.group(1) if m else '', value))
                i = j
            i += 1
    return found


DOC_EXAMPLES = doc_examples()


def ids(examples) -> list[str]:
    return [f'{f}:{line}' for f, line, _, _ in examples]


def test_every_docs_json_block_is_marked_and_is_json():
    assert len(DOC_EXAMPLES) >= 8
    for f, line, marker, value in DOC_EXAMPLES:
        assert marker, f'{f}:{line}: a ```json block without an <!-- example: ... --> marker'
        assert not isinstance(value, ValueError), str(value)
        assert marker.split()[0] in ('request', 'response', 'form-schema', 'form-data', 'form-errors'), \
            f'{f}:{line}: unknown marker {marker!r}'


# ---------------------------------------------------------------------------
# fresh values for members that must be unique

def fresh(field: str, path: str) -> str:
    if field == 'code':
        return {f'{API}/sectors': cd.new_sector_code, f'{API}/agencies': cd.new_agency_code,
                f'{API}/procedures': cd.new_procedure_code}[path]()
    if field == 'personal_id':
        return f'001090{random.randint(0, 999999):06d}'
    if field == 'phone':
        return f'09{random.randint(0, 99999999):08d}'
    if field == 'username':
        return f'vd.{unique_suffix(8)}'
    raise AssertionError(f'no fresh value for {field}')


def principal(world: World, role: str) -> str | None:
    return {'citizen': world.citizen, 'system_admin': lambda: world.tokens.system_admin,
            'officer': lambda: world.officer, 'approver': lambda: world.approver,
            'anyone': lambda: None}[role]()


# ---------------------------------------------------------------------------
# docs/: running them

REQUEST = re.compile(r'^request (GET|POST|PUT|PATCH|DELETE) (\S+) as (\S+) expect (\d{3})(?: fresh ((?:\S+ ?)+))?$')


@pytest.mark.parametrize('f,line,marker,value',
                         [e for e in DOC_EXAMPLES if e[2].startswith('request ')],
                         ids=ids([e for e in DOC_EXAMPLES if e[2].startswith('request ')]))
def test_docs_request_example_is_accepted(world, f, line, marker, value):
    m = REQUEST.match(marker)
    assert m, f'{f}:{line}: bad marker {marker!r}'
    method, path, role, status, fields = m.groups()
    body = deepcopy(value)
    for field in (fields or '').split():
        body[field] = fresh(field, path)
    r = world.api.request(method, path, token=principal(world, role), json=body)
    assert r.status_code == int(status), f'{f}:{line}: {method} {path} -> {r.status_code} {r.text[:2000]}'
    if 'code' in body and r.status_code < 300:
        assert r.doc['code'] == body['code'], f'{f}:{line}'


@pytest.mark.parametrize('f,line,marker,value',
                         [e for e in DOC_EXAMPLES if e[2].startswith('response ')],
                         ids=ids([e for e in DOC_EXAMPLES if e[2].startswith('response ')]))
def test_docs_response_example_has_the_live_shape(api, spec: SpecSet, f, line, marker, value):
    m = re.match(r'^response GET (\S+)$', marker)
    assert m, f'{f}:{line}: bad marker {marker!r}'
    path = m.group(1)
    op = spec.operation('GET', path)
    assert op is not None, f'{f}:{line}: GET {path} is not in the spec'
    schema = op['responses']['200']['content']['application/json']['schema']
    assert spec.schema_errors(schema, value) == [], f'{f}:{line}'
    live = api.get(path, expect=200).doc
    assert set(value) == set(live), f'{f}:{line}: members differ from the live answer'


def form_examples(name: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f, line, marker, value in DOC_EXAMPLES:
        words = marker.split()
        if len(words) >= 2 and words[0].startswith('form-') and words[1] == name:
            key = ' '.join([words[0]] + words[2:])
            out.setdefault(key, []).append((f, line, value))
    return out


FORM_NAMES = sorted({e[2].split()[1] for e in DOC_EXAMPLES if e[2].startswith('form-schema ')})


@pytest.mark.parametrize('name', FORM_NAMES)
def test_docs_form_examples_against_the_service(world, name):
    parts = form_examples(name)
    (f, line, schema), = parts['form-schema']
    assert 'form-data valid' in parts and 'form-data invalid' in parts and 'form-errors' in parts, parts.keys()
    body = procedure_for_tests([world.agency], mandatory=())
    body['cases'][0]['form_schema'] = schema
    code = _publish(world.api, world.tokens.system_admin, body)['code']
    citizen = world.citizen()
    for f, line, data in parts['form-data valid']:
        r = create(world.api, citizen, code, world.agency, form=data, expect=None)
        assert r.status_code == 201, f'{f}:{line}: {r.text[:2000]}'
        assert r.doc['form_data'] == data
    (f, line, data), = parts['form-data invalid']
    r = create(world.api, citizen, code, world.agency, form=data, expect=422)
    got = assert_problem(r, 422, 'request.validation_failed')['errors']
    documented = []
    for ef, eline, errors in parts['form-errors']:
        documented.append((ef, eline, errors if isinstance(errors, list) else [errors]))
    full = [e for _, _, errs in documented for e in errs if isinstance(errs, list) and len(errs) > 1]
    key = lambda e: (e['pointer'], e['code'])  # noqa: E731
    assert sorted(got, key=key) == sorted(full, key=key), f'{f}:{line}: the service reports {got}'
    for ef, eline, errs in documented:
        for e in errs:
            assert e in got, f'{ef}:{eline}: {e} is not among the errors the service reports'


# ---------------------------------------------------------------------------
# api-spec/: every request example, run

def spec_request_examples(spec: SpecSet) -> list[tuple[str, str, str, str, Any]]:
    """(operationId, method, template, example name, value) of every request example."""
    out = []
    for _, template, item, _ in spec.operations:
        for method, op in item.items():
            if not isinstance(op, dict) or 'requestBody' not in op:
                continue
            for ctype, media in op['requestBody'].get('content', {}).items():
                if 'example' in media:
                    out.append((op['operationId'], method.upper(), template, ctype, media['example']))
                for name, ex in (media.get('examples') or {}).items():
                    if 'value' in ex:
                        out.append((op['operationId'], method.upper(), template, f'{ctype} {name}', ex['value']))
    return out


SPEC_EXAMPLES = spec_request_examples(SpecSet())


class Run:
    """What running one example needs: the path, the caller, extra headers, the body as
    sent (ids put in) and the status it must get."""

    def __init__(self, path: str, token: str | None, body: Any, expect: int = 200,
                 headers: dict | None = None, form: bool = False):
        self.path, self.token, self.body, self.expect = path, token, body, expect
        self.headers, self.form = headers or {}, form


def _code(world: World) -> str:
    return world.procedure(value=2, mandatory=())


def _live_assignee(world: World, body: dict) -> dict:
    """An example's `assignee` is an account id of the spec's: the stack checks it is
    active staff of the handling agency, so a live officer's id is put in."""
    if 'assignee' in body:
        body = dict(body, assignee=token_sub(world.officer))
    return body


def _in(world: World, status: int, token: str, action: str, body: dict) -> Run:
    body = _live_assignee(world, body)
    d = dossier_in(world, _code(world), status)
    return Run(f'{API}/dossiers/{d["id"]}/actions/{action}', token, body,
               headers={'If-Match': etag_of(d)})


def _approve(world: World, body: dict) -> Run:
    d = dossier_in(world, _code(world), 4)
    result = upload(world.api, world.approver, d, 'result', PDF, 'application/pdf', 'ket-qua.pdf').doc
    body = deepcopy(body)
    if 'document_id' in body['result']:
        body['result']['document_id'] = result['id']
    d = world.api.get(f'{API}/dossiers/{d["id"]}', token=world.approver, expect=200).doc
    return Run(f'{API}/dossiers/{d["id"]}/actions/approve', world.approver, body,
               headers={'If-Match': etag_of(d)})


def _apologize(world: World, body: dict) -> Run:
    run = _in(world, 4, world.officer, 'apologize', body)
    # a new appointment must be later than now: the example's date moved a month ahead
    later = dt.datetime.now(dt.timezone(dt.timedelta(hours=7))) + dt.timedelta(days=30)
    run.body = dict(body, new_appointment_at=later.replace(microsecond=0).isoformat())
    return run


def _catalogue_update(world: World, kind: str, body: dict) -> Run:
    admin = world.tokens.system_admin
    made = {'sectors': cd.create_sector, 'agencies': cd.create_agency}[kind](world.api, admin)
    etag = world.api.get(f'{API}/{kind}/{made["code"]}', expect=200).headers['ETag']
    return Run(f'{API}/{kind}/{made["code"]}', admin, dict(body, code=made['code']),
               headers={'If-Match': etag})


def _draft(world: World, body: dict) -> Run:
    admin = world.tokens.system_admin
    made = cd.create_procedure(world.api, admin)
    return Run(f'{API}/procedures/{made["code"]}/draft', admin, dict(body, code=made['code']),
               headers={'If-Match': cd.draft_etag(world.api, admin, made['code'])})


def _filed_draft(world: World, body: dict, submit: bool) -> Run:
    citizen = world.citizen()
    d = create(world.api, citizen, _code(world), world.agency).doc
    if submit:
        return Run(f'{API}/dossiers/{d["id"]}/submit', citizen, body, headers={'If-Match': etag_of(d)})
    return Run(f'{API}/dossiers/{d["id"]}', citizen, body, headers={'If-Match': etag_of(d)})


def _staff(world: World, body: dict) -> Run:
    return Run(f'{API}/staff', world.tokens.system_admin, dict(body, username=fresh('username', '')),
               expect=201)


def _reclaim(world: World, body: dict) -> Run:
    """An account squats a number; an officer of an agency reclaims it for its owner."""
    personal_id = fresh('personal_id', '')
    world.api.post(f'{API}/accounts', expect=201, json={
        'full_name': 'Người Chiếm Số', 'personal_id': personal_id, 'date_of_birth': '1990-05-17',
        'phone': fresh('phone', ''), 'password': world.tokens.password})
    return Run(f'{API}/personal-id-reclaims', world.officer, dict(body, personal_id=personal_id), 201)


def _staff_update(world: World, body: dict) -> Run:
    admin = world.tokens.system_admin
    made = world.api.post(f'{API}/staff', token=admin, expect=201, json={
        'username': fresh('username', ''), 'full_name': 'Cán Bộ Ví Dụ', 'agency': world.agency,
        'roles': ['officer'], 'password': world.tokens.password})
    etag = world.api.get(f'{API}/staff/{made.doc["id"]}', token=admin, expect=200).headers['ETag']
    return Run(f'{API}/staff/{made.doc["id"]}', admin, body, headers={'If-Match': etag})


def _client_update(world: World, body: dict) -> Run:
    admin = world.tokens.system_admin
    made = world.api.post(f'{API}/clients', token=admin, expect=201,
                          json={'name': 'Ví dụ', 'scopes': ['dossier.read']})
    return Run(f'{API}/clients/{made.doc["client_id"]}', admin, body,
               headers={'If-Match': made.headers['ETag']})


def _token(world: World, body: dict) -> Run:
    # the example's account does not exist here: the same grant for the suite's citizen
    world.citizen()
    account = world.tokens._citizen
    assert account is not None
    return Run(f'{API}/auth/token', None, dict(body, username=account.username, password=account.password),
               form=True)


RUNNERS: dict[str, Callable[[World, Any], Run]] = {
    'createSector': lambda w, b: Run(f'{API}/sectors', w.tokens.system_admin,
                                     dict(b, code=fresh('code', f'{API}/sectors')), 201),
    'updateSector': lambda w, b: _catalogue_update(w, 'sectors', b),
    'createAgency': lambda w, b: Run(f'{API}/agencies', w.tokens.system_admin,
                                     dict(b, code=fresh('code', f'{API}/agencies')), 201),
    'updateAgency': lambda w, b: _catalogue_update(w, 'agencies', b),
    'createProcedure': lambda w, b: Run(f'{API}/procedures', w.tokens.system_admin,
                                        dict(b, code=fresh('code', f'{API}/procedures')), 201),
    'putProcedureDraft': _draft,
    # the same day as the demo calendar has: replacing it changes nothing
    'putCalendarDay': lambda w, b: Run(f'{API}/calendar/days/{b["date"]}', w.tokens.system_admin, b),
    'createDossier': lambda w, b: Run(f'{API}/dossiers', w.citizen(), b, 201),
    'updateDossier': lambda w, b: _filed_draft(w, b, submit=False),
    'submitDossier': lambda w, b: _filed_draft(w, b, submit=True),
    'receiveDossier': lambda w, b: _in(w, 1, w.officer, 'receive', b),
    'refuseDossier': lambda w, b: _in(w, 1, w.officer, 'refuse', b),
    'requestDossierSupplement': lambda w, b: _in(w, 2, w.officer, 'request_supplement', b),
    'supplementDossier': lambda w, b: _in(w, 5, w.citizen(), 'supplement', b),
    'assignDossier': lambda w, b: _in(w, 2, w.officer, 'assign', b),
    'forwardDossier': lambda w, b: _in(w, 2, w.officer, 'forward', b),
    'returnDossierStep': lambda w, b: _return_step(w, b),
    'transferDossier': lambda w, b: _transfer(w, b),
    'requestDossierPayment': lambda w, b: _in(w, 2, w.officer, 'request_payment', b),
    'confirmDossierPayment': lambda w, b: _in(w, 6, w.officer, 'confirm_payment', b),
    'confirmDossierSubmissionPayment': lambda w, b: _pay_first(w, 'confirm_submission_payment', b),
    'cancelDossierSubmissionPayment': lambda w, b: _pay_first(w, 'cancel_submission_payment', b),
    'approveDossier': _approve,
    'rejectDossier': lambda w, b: _in(w, 4, w.approver, 'reject', b),
    'returnDossierResult': lambda w, b: _in(w, 9, w.officer, 'return_result', b),
    'requestDossierWithdrawal': lambda w, b: _in(w, 2, w.citizen(), 'request_withdrawal', b),
    'confirmDossierWithdrawal': lambda w, b: _in(w, 7, w.officer, 'confirm_withdrawal', b),
    'declineDossierWithdrawal': lambda w, b: _in(w, 7, w.officer, 'decline_withdrawal', b),
    'stopDossier': lambda w, b: _in(w, 2, w.officer, 'stop', b),
    'apologizeForDossier': _apologize,
    'evaluateDossier': lambda w, b: _evaluate(w, b),
    'registerAccount': lambda w, b: Run(f'{API}/accounts', None,
                                        dict(b, personal_id=fresh('personal_id', ''),
                                             phone=fresh('phone', '')), 201),
    'token': _token,
    'createStaff': _staff,
    'reclaimPersonalId': _reclaim,
    'updateStaff': _staff_update,
    'createClient': lambda w, b: Run(f'{API}/clients', w.tokens.system_admin, b, 201),
    'updateClient': _client_update,
}


def _pay_first(world: World, action: str, body: dict) -> Run:
    """A dossier waiting for its fee paid first (the examples pay the whole 200,000):
    confirmed by the payment service's client, or given up by its citizen."""
    assert PAY_FIRST_FEE == 200000
    d = awaiting_submission_payment(world, pay_first_procedure(world))
    token = world.citizen()
    if action == 'confirm_submission_payment':
        token = machine_client_token(world, ['dossier:payments'], world.agency)
    return Run(f'{API}/dossiers/{d["id"]}/actions/{action}', token, body,
               headers={'If-Match': etag_of(d)})


def _return_step(world: World, body: dict) -> Run:
    d = dossier_in(world, _code(world), 4)                       # at step 0
    d = act(world.api, world.officer, d, 'forward', {'to_step': 1}).doc
    body = _live_assignee(world, body)
    return Run(f'{API}/dossiers/{d["id"]}/actions/return_step', world.officer, body,
               headers={'If-Match': etag_of(d)})


def _transfer(world: World, body: dict) -> Run:
    run = _in(world, 2, world.officer, 'transfer', body)
    # the example names a real agency that does not offer the test procedure: the other
    # agency that does
    run.body = dict(body, to_agency=world.other_agency)
    return run


def _evaluate(world: World, body: dict) -> Run:
    d = dossier_in(world, _code(world), 10)
    return Run(f'{API}/dossiers/{d["id"]}/evaluation', world.citizen(), body, expect=201)


def test_every_spec_request_example_is_run():
    assert len(SPEC_EXAMPLES) >= 30
    missing = sorted({op for op, *_ in SPEC_EXAMPLES if op not in RUNNERS})
    assert not missing, f'request examples no test runs: {missing} (add them to RUNNERS)'


@pytest.mark.parametrize('op_id,method,template,name,value', SPEC_EXAMPLES,
                         ids=[f'{e[0]}:{e[3]}' for e in SPEC_EXAMPLES])
def test_spec_request_example_succeeds(world, op_id, method, template, name, value):
    if op_id not in RUNNERS:
        pytest.fail(f'no runner for {op_id}')
    run = RUNNERS[op_id](world, deepcopy(value))
    kw: dict[str, Any] = {'data': run.body} if run.form else {'json': run.body}
    r = world.api.request(method, run.path, token=run.token, headers=run.headers, expect=None, **kw)
    assert r.status_code == run.expect, f'{op_id} {name}: {r.status_code} {r.text[:2000]}'
