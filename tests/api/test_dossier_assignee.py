"""An assignee must be active handling staff of the dossier's handling agency (issue 10).

`assign`, `forward` and `return_step` refuse anyone else with 422 at `/assignee`
(`not_staff`): a made-up name, an unknown account, staff of another agency, a disabled
account, a citizen. The dossier service asks identity with its own machine client (scope
`identity:staff.read`), which identity's `GET /staff/{id}` accepts."""
from __future__ import annotations

import uuid

import pytest

from dossier_support import API, act, filed, machine_client_token, token_sub
from motcua_api import assert_problem, error_pointers, unique_suffix


@pytest.fixture(scope='module')
def code(world) -> str:
    return world.procedure(value=2, mandatory=())


def received(world, code) -> dict:
    return act(world.api, world.officer, filed(world, code, documents=()), 'receive').doc


def new_staff(world, agency: str, roles: list[str]) -> dict:
    return world.api.post(f'{API}/staff', token=world.tokens.agency_admin(agency), expect=201,
                          json={'username': f'as.{unique_suffix(10).lower()}', 'full_name': 'Cán Bộ Thử',
                                'agency': agency, 'roles': roles,
                                'password': world.tokens.password}).doc


def refused(world, d: dict, action: str, assignee, token=None, **body) -> None:
    r = act(world.api, token or world.officer, d, action, {'assignee': assignee, **body}, expect=422)
    problem = assert_problem(r, 422, 'request.validation_failed')
    assert error_pointers(problem) == {'/assignee'}
    assert [e['code'] for e in problem['errors']] == ['not_staff']


def test_only_active_staff_of_the_handling_agency_are_assigned(world, code):
    api = world.api
    d = received(world, code)
    disabled = new_staff(world, world.agency, ['officer'])
    r = api.get(f'{API}/staff/{disabled["id"]}', token=world.agency_admin, expect=200)
    api.patch(f'{API}/staff/{disabled["id"]}', token=world.agency_admin, json={'disabled': True},
              headers={'If-Match': r.headers['ETag']}, expect=200)
    strangers = ['khong-ton-tai', str(uuid.uuid4()), token_sub(world.citizen()),
                 token_sub(world.staff(('officer',), world.other_agency)), disabled['id']]
    for who in strangers:
        refused(world, d, 'assign', who)
        refused(world, d, 'forward', who)
    # nothing was stored
    now = api.get(f'{API}/dossiers/{d["id"]}', token=world.officer, expect=200).doc
    assert now['revision'] == d['revision'] and now['processing']['assignee'] is None
    # staff of the agency, whatever their handling role
    for roles in (['approver'], ['officer', 'approver']):
        colleague = new_staff(world, world.agency, roles)
        d = act(api, world.officer, d, 'assign', {'assignee': colleague['id']}).doc
        assert d['processing']['assignee'] == colleague['id']
    d = act(api, world.officer, d, 'forward', {'assignee': token_sub(world.approver)}).doc
    assert d['processing']['assignee'] == token_sub(world.approver)
    refused(world, d, 'return_step', disabled['id'], reasons=['Làm lại'])


def test_after_a_transfer_the_new_agency_staff_are_assigned(world, code):
    api = world.api
    d = received(world, code)
    d = act(api, world.officer, d, 'transfer', {'to_agency': world.other_agency,
                                                'reasons': ['Chuyển xử lý']}).doc
    theirs = world.staff(('officer',), world.other_agency)
    refused(world, d, 'assign', token_sub(world.officer), token=theirs)
    d = act(api, theirs, d, 'assign', {'assignee': token_sub(theirs)}).doc
    assert d['processing']['assignee'] == token_sub(theirs)


def test_identity_lets_clients_with_the_scope_read_staff(world):
    api = world.api
    someone = new_staff(world, world.agency, ['officer'])
    reader = machine_client_token(world, ['identity:staff.read'])
    doc = api.get(f'{API}/staff/{someone["id"]}', token=reader, expect=200).doc
    assert doc['id'] == someone['id'] and doc['agency'] == world.agency and doc['disabled'] is False
    # a reader bound to an agency reads only that agency's staff
    other = machine_client_token(world, ['identity:staff.read'], world.other_agency)
    assert_problem(api.get(f'{API}/staff/{someone["id"]}', token=other, expect=403), 403)
    # other scopes, and the staff list, stay with administrators
    for token in (machine_client_token(world, ['dossier:payments'], world.agency), reader):
        if token is not reader:
            assert_problem(api.get(f'{API}/staff/{someone["id"]}', token=token, expect=403), 403)
        assert_problem(api.get(f'{API}/staff', token=token, params={'agency': world.agency},
                               expect=403), 403)
