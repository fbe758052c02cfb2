"""The history names the staff member who acted (issue 10, timeline).

Each entry keeps the display name of the staff member at the time of the action (the
token's `name` claim), so a timeline can say who acted. Staff (and auditors) see it; the
applicant sees the agency that acted, not the officer's name; citizens' own entries carry
no name."""
from __future__ import annotations

import pytest

from dossier_support import API, act, filed, token_sub
from motcua_api import sign_rs256, standard_claims

NAME = 'Trần Thị Bình'


@pytest.fixture(scope='module')
def code(world) -> str:
    return world.procedure(value=2, mandatory=())


def named_officer(world, minter) -> str:
    """The world's officer, with the `name` claim identity puts in staff tokens."""
    claims = standard_claims(token_sub(world.officer), ['officer'], world.agency, ttl=900, name=NAME)
    return sign_rs256({'alg': 'RS256', 'typ': 'JWT'}, claims, minter.key_path)


def entry(items: list[dict], action: str) -> dict:
    found = [h for h in items if h['action'] == action]
    assert len(found) == 1, items
    return found[0]


def test_staff_see_who_acted_the_applicant_sees_the_agency(world, code, minter):
    api = world.api
    d = filed(world, code, documents=())
    d = act(api, named_officer(world, minter), d, 'receive').doc
    url = f'{API}/dossiers/{d["id"]}/history'
    for reader in (world.officer, world.approver, world.tokens.system_admin):
        items = api.get(url, token=reader, expect=200).doc['items']
        actor = entry(items, 'receive')['actor']
        assert actor == {'sub': token_sub(world.officer), 'role': 'officer', 'agency': world.agency,
                         'name': NAME}
        assert entry(items, 'create')['actor']['name'] is None  # the citizen's own entry
    items = api.get(url, token=world.citizen(), expect=200).doc['items']
    actor = entry(items, 'receive')['actor']
    assert actor['agency'] == world.agency and actor['role'] == 'officer' and actor['name'] is None
    # recorded at the time: what a later token says does not rewrite it
    d = act(api, world.officer, d, 'forward').doc
    items = api.get(url, token=world.officer, expect=200).doc['items']
    assert entry(items, 'receive')['actor']['name'] == NAME
