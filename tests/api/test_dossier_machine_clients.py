"""Machine clients are bound by their scope and their agency, at the data (issue 9).

A client with the scope `dossier:payments` sees only the dossiers of its own agency
that have (or had) a payment demand, only through the payment view (no documents, no
form data, no identity number, phone or address), and confirms payments only there. The
event feed is read by platform consumers with the scope `dossier:events`, not by an
agency's payment system."""
from __future__ import annotations

import pytest

from dossier_support import API, act, create, filed, machine_client_token, upload
from motcua_api import assert_problem

PAYMENT_VIEW = {'id', 'code', 'status', 'status_name', 'revision', 'procedure', 'agency_code',
                'handling_agency', 'fee_amount', 'applicant_name', 'dates', 'allowed_actions'}


@pytest.fixture(scope='module')
def code(world) -> str:
    return world.procedure(value=2, mandatory=())


@pytest.fixture(scope='module')
def payer(world) -> str:
    """The payment system of the world's agency."""
    return machine_client_token(world, ['dossier:payments'], world.agency)


def awaiting_payment(world, code) -> dict:
    d = filed(world, code, documents=())
    d = act(world.api, world.officer, d, 'receive').doc
    return act(world.api, world.officer, d, 'request_payment', {'amount': 25000}).doc


def test_a_payment_client_reads_the_payment_view_of_its_agencys_dossier(world, code, payer):
    api = world.api
    d = awaiting_payment(world, code)
    full = api.get(f'{API}/dossiers/{d["id"]}', token=world.officer, expect=200).doc
    for ref in (d['id'], d['code']):
        view = api.get(f'{API}/dossiers/{ref}', token=payer, expect=200).doc
        assert set(view) == PAYMENT_VIEW
        assert view['fee_amount'] == 25000 and view['status'] == 6
        assert view['applicant_name'] == full['applicant']['full_name']
        assert view['allowed_actions'] == ['confirm_payment']
        text = api.get(f'{API}/dossiers/{ref}', token=payer, expect=200).text
        secrets = [full['applicant'].get(k) for k in ('personal_id', 'phone', 'email', 'address')]
        assert full['applicant']['personal_id'] and full['applicant']['phone']
        for secret in filter(None, secrets):
            assert secret not in text
    # nothing beyond the view: no trail, no files, no evaluation
    for sub in ('/history', '/documents', '/documents/TK/content', '/evaluation'):
        assert_problem(api.get(f'{API}/dossiers/{d["id"]}{sub}', token=payer, expect=403,
                               known_path=False), 403, 'auth.forbidden')
    # no list either, whichever agency it names
    for params in ({}, {'agency': world.agency}, {'agency': world.other_agency}):
        assert_problem(api.get(f'{API}/dossiers', token=payer, params=params, expect=403), 403)


def test_a_payment_client_does_not_see_other_dossiers(world, code, payer):
    api = world.api
    d = awaiting_payment(world, code)
    no_demand = act(api, world.officer, filed(world, code, documents=()), 'receive').doc
    # a dossier without a payment demand, even of its agency
    assert_problem(api.get(f'{API}/dossiers/{no_demand["id"]}', token=payer, expect=404), 404,
                   'dossier.not_found')
    # another agency's client, a client without an agency, a client without the scope
    for stranger in (machine_client_token(world, ['dossier:payments'], world.other_agency),
                     machine_client_token(world, ['dossier:payments']),
                     machine_client_token(world, ['dossier:events'], world.agency)):
        assert_problem(api.get(f'{API}/dossiers/{d["id"]}', token=stranger, expect=404), 404,
                       'dossier.not_found')
        assert_problem(act(api, stranger, d, 'confirm_payment', expect=404), 404, 'dossier.not_found')
    # a draft being written: nobody's but the citizen's
    draft = create(api, world.citizen(), code, world.agency).doc
    upload(api, world.citizen(), draft, 'extra-1')
    assert_problem(api.get(f'{API}/dossiers/{draft["id"]}', token=payer, expect=404), 404)


def test_a_payment_client_confirms_its_agencys_payment_and_still_reads_it(world, code, payer):
    api = world.api
    d = awaiting_payment(world, code)
    view = api.get(f'{API}/dossiers/{d["id"]}', token=payer, expect=200).doc
    done = act(api, payer, view, 'confirm_payment').doc
    assert set(done) == PAYMENT_VIEW and done['status'] == 4 and done['allowed_actions'] == []
    # it had a payment demand: the client may still read its view (a receipt)
    again = api.get(f'{API}/dossiers/{d["id"]}', token=payer, expect=200).doc
    assert again['status'] == 4 and again['fee_amount'] == 25000
    items = api.get(f'{API}/dossiers/{d["id"]}/history', token=world.officer, expect=200).doc['items']
    confirm = [h for h in items if h['action'] == 'confirm_payment']
    assert len(confirm) == 1 and confirm[0]['actor']['role'] == 'service'


def test_the_event_feed_is_for_platform_consumers(world, payer):
    api = world.api
    consumer = machine_client_token(world, ['dossier:events'])
    assert 'items' in api.get(f'{API}/events/dossier', token=consumer, params={'after': 0, 'limit': 1},
                              expect=200).doc
    # an agency's payment system, an agency-bound client (even with the scope), any other scope
    for token in (payer, machine_client_token(world, ['dossier:events'], world.agency),
                  machine_client_token(world, ['statistics:read'])):
        assert_problem(api.get(f'{API}/events/dossier', token=token, params={'after': 0}, expect=403),
                       403, 'auth.forbidden')
