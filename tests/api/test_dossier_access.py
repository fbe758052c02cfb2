"""Who may see and do what with a dossier: every transition refused outside the
transition table (409 with the allowed actions), actions by the wrong role (403) or by
someone who may not see the dossier (404, as for a dossier that does not exist),
If-Match (428, 412, and two officers at once), and the lists: a citizen's own dossiers,
an agency's inbox with its filters and keyset pagination.
"""
from __future__ import annotations

import threading
import uuid

import pytest

from dossier_support import API, act, create, dossier_in, etag_of, filed, submit, token_sub
from motcua_api import assert_problem, error_parameters
from stack_db import psql_as

RESULT = {'summary': 'Cấp giấy khai sinh'}
OWNER_ACTIONS = {'supplement', 'request_withdrawal'}
APPROVER_ACTIONS = {'approve', 'reject'}
ACTIONS = ['receive', 'refuse', 'request_supplement', 'supplement', 'assign', 'forward', 'return_step',
           'transfer', 'request_payment', 'confirm_payment', 'approve', 'reject', 'return_result',
           'request_withdrawal', 'confirm_withdrawal', 'decline_withdrawal', 'stop', 'apologize']

# DOMAIN.md §3, written out independently of workflow.c: what may happen from each status.
ALLOWED = {
    1: {'receive', 'refuse', 'request_supplement', 'request_withdrawal'},
    2: {'request_supplement', 'assign', 'forward', 'transfer', 'request_payment', 'request_withdrawal',
        'stop', 'apologize'},
    3: set(),
    4: {'request_supplement', 'assign', 'forward', 'return_step', 'transfer', 'request_payment',
        'approve', 'reject', 'request_withdrawal', 'stop', 'apologize'},
    5: {'supplement', 'request_withdrawal', 'stop', 'apologize'},
    6: {'confirm_payment', 'request_withdrawal', 'stop', 'apologize'},
    7: {'confirm_withdrawal', 'decline_withdrawal'},
    8: set(),
    9: {'return_result'},
    10: set(),
}


@pytest.fixture(scope='module')
def code(world) -> str:
    return world.procedure(value=2, mandatory=())


@pytest.fixture(scope='module')
def staff(world) -> str:
    """An officer who is also an approver: may take every staff action of the table."""
    return world.staff(('officer', 'approver'))


def allowed_for(world, d: dict, token: str) -> list[str]:
    return world.api.get(f'{API}/dossiers/{d["id"]}/actions', token=token, expect=200).doc['allowed_actions']


# ---------------------------------------------------------------------------
# the transition table

@pytest.mark.parametrize('status', sorted(ALLOWED))
def test_every_action_outside_the_table_is_refused(world, code, staff, status):
    api, citizen = world.api, world.citizen()
    d = dossier_in(world, code, status)
    staff_allowed = allowed_for(world, d, staff)
    owner_allowed = allowed_for(world, d, citizen)
    before = api.get(f'{API}/dossiers/{d["id"]}/history', token=citizen, expect=200).doc['items']
    assert set(staff_allowed) == ALLOWED[status] - OWNER_ACTIONS, staff_allowed
    assert set(owner_allowed) == ALLOWED[status] & OWNER_ACTIONS, owner_allowed
    for action in ACTIONS:
        if action in ALLOWED[status]:
            continue
        token, expected = (citizen, owner_allowed) if action in OWNER_ACTIONS else (staff, staff_allowed)
        doc = assert_problem(act(api, token, d, action, expect=409), 409, 'dossier.transition_not_allowed')
        assert doc['allowed_actions'] == expected, (action, doc)
        assert doc['status_name'] == d['status_name']
    after = api.get(f'{API}/dossiers/{d["id"]}', token=citizen, expect=200).doc
    assert after['revision'] == d['revision'] and after['status'] == status
    trail = api.get(f'{API}/dossiers/{d["id"]}/history', token=citizen, expect=200).doc['items']
    assert len(trail) == len(before)


def test_a_draft_has_no_action_but_submit(world, code, staff):
    api, citizen = world.api, world.citizen()
    d = dossier_in(world, code, 0)
    assert allowed_for(world, d, citizen) == ['submit']
    for action in sorted(OWNER_ACTIONS):
        doc = assert_problem(act(api, citizen, d, action, expect=409), 409, 'dossier.transition_not_allowed')
        assert doc['allowed_actions'] == ['submit']
    # staff do not see a citizen's draft at all
    for action in ('receive', 'refuse', 'stop'):
        assert_problem(act(api, staff, d, action, expect=404), 404, 'dossier.not_found')


def test_unknown_action(world, code):
    api, citizen = world.api, world.citizen()
    d = dossier_in(world, code, 1)
    for action in ('fly', 'submit', 'RECEIVE', 'evaluate'):
        # Not a path of the spec (each action has its own): checked as an unknown path.
        r = api.post(f'{API}/dossiers/{d["id"]}/actions/{action}', token=citizen, json={},
                     headers={'If-Match': etag_of(d)}, expect=404, known_path=False)
        assert_problem(r, 404, 'dossier.unknown_action')


# ---------------------------------------------------------------------------
# roles

def test_actions_by_the_wrong_role(world, code, minter):
    api = world.api
    citizen, officer, approver = world.citizen(), world.officer, world.approver
    agency_admin = world.agency_admin
    processing = dossier_in(world, code, 4)
    submitted = dossier_in(world, code, 1)
    body = {'result': RESULT}
    assert_problem(act(api, citizen, processing, 'approve', body, expect=403), 403, 'auth.forbidden')
    assert_problem(act(api, officer, processing, 'approve', body, expect=403), 403, 'auth.forbidden')
    assert_problem(act(api, agency_admin, processing, 'approve', body, expect=403), 403, 'auth.forbidden')
    assert_problem(act(api, approver, submitted, 'receive', expect=403), 403, 'auth.forbidden')
    assert_problem(act(api, citizen, submitted, 'receive', expect=403), 403, 'auth.forbidden')
    assert_problem(act(api, officer, submitted, 'request_withdrawal', {'reasons': ['x']}, expect=403), 403)
    assert 'receive' in allowed_for(world, submitted, agency_admin)
    assert allowed_for(world, processing, approver) == ['request_supplement', 'assign', 'forward',
                                                        'return_step', 'transfer', 'request_payment',
                                                        'approve', 'reject', 'apologize']
    # readers who may not act
    for reader in (world.tokens.system_admin, minter.mint(f'kiem-toan-{uuid.uuid4()}', ['auditor'])):
        assert api.get(f'{API}/dossiers/{processing["id"]}', token=reader, expect=200).doc['allowed_actions'] == []
        assert_problem(act(api, reader, processing, 'stop', {'reasons': ['x']}, expect=403), 403)
    # those who may not see it: as if it did not exist
    other_staff = world.staff(('officer', 'approver'), world.other_agency)
    for stranger in (world.citizen(1), other_staff):
        assert_problem(act(api, stranger, processing, 'approve', body, expect=404), 404, 'dossier.not_found')
        assert_problem(act(api, stranger, submitted, 'request_withdrawal', {'reasons': ['x']}, expect=404),
                       404, 'dossier.not_found')
    assert_problem(act(api, world.citizen(1), submitted, 'receive', expect=404), 404)
    # nothing changed
    for d in (processing, submitted):
        assert api.get(f'{API}/dossiers/{d["id"]}', token=citizen, expect=200).doc['revision'] == d['revision']


# ---------------------------------------------------------------------------
# If-Match

def test_if_match_is_required_and_checked(world, code):
    api, officer = world.api, world.officer
    d = dossier_in(world, code, 1)
    url = f'{API}/dossiers/{d["id"]}/actions/receive'
    assert_problem(api.post(url, token=officer, json={}, expect=428), 428, 'http.precondition_required')
    r = api.post(url, token=officer, json={}, headers={'If-Match': f'"r{d["revision"] - 1}"'}, expect=412)
    assert_problem(r, 412, 'http.precondition_failed')
    assert r.headers.get('ETag') in (None, etag_of(d))
    assert_problem(api.post(url, token=officer, json={}, headers={'If-Match': 'r1'}, expect=412), 412)
    d2 = act(api, officer, d, 'receive').doc
    assert d2['revision'] == d['revision'] + 1
    # the ETag of the reception is now stale for the next action
    assert_problem(act(api, officer, d2, 'forward', etag=etag_of(d), expect=412), 412)


def test_a_retried_action_is_not_applied_twice(world, code):
    """Idempotency-Key on an action: the retry (with the now stale If-Match) gets the
    stored answer, the dossier changes once."""
    api, officer = world.api, world.officer
    d = dossier_in(world, code, 1)
    url = f'{API}/dossiers/{d["id"]}/actions/receive'
    headers = {'If-Match': etag_of(d), 'Idempotency-Key': str(uuid.uuid4())}
    first = api.post(url, token=officer, json={}, headers=headers, expect=200)
    again = api.post(url, token=officer, json={}, headers=headers, expect=200)
    assert again.headers.get('Idempotent-Replayed') == 'true'
    assert again.doc['revision'] == first.doc['revision'] == d['revision'] + 1
    assert again.doc['dates']['due_at'] == first.doc['dates']['due_at']
    items = api.get(f'{API}/dossiers/{d["id"]}/history', token=officer, expect=200).doc['items']
    assert [h['action'] for h in items].count('receive') == 1
    other = api.post(url, token=officer, json={'note': 'khác'}, headers=headers, expect=409)
    assert_problem(other, 409, 'idempotency.key_reused')


def test_only_readers_of_the_feed_read_events(world):
    for token in (world.citizen(), world.officer, world.agency_admin):
        assert_problem(world.api.get(f'{API}/events/dossier', token=token, params={'after': 0},
                                     expect=403), 403)
    assert_problem(world.api.get(f'{API}/events/dossier', expect=401), 401)


def test_two_officers_at_once_one_wins(world, code, staff):
    api, officer = world.api, world.officer
    for _ in range(3):
        d = dossier_in(world, code, 2)
        barrier = threading.Barrier(2)
        results: list = [None, None]

        def run(i: int, token: str, assignee: str) -> None:
            barrier.wait()
            results[i] = act(api, token, d, 'assign', {'assignee': assignee}, expect=(200, 412))

        threads = [threading.Thread(target=run, args=(0, officer, token_sub(officer))),
                   threading.Thread(target=run, args=(1, staff, token_sub(staff)))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        statuses = sorted(r.status_code for r in results)
        assert statuses == [200, 412], statuses
        winner = next(r for r in results if r.status_code == 200).doc
        now = api.get(f'{API}/dossiers/{d["id"]}', token=officer, expect=200).doc
        assert now['revision'] == d['revision'] + 1 == winner['revision']
        assert now['processing']['assignee'] == winner['processing']['assignee']
        items = api.get(f'{API}/dossiers/{d["id"]}/history', token=officer, expect=200).doc['items']
        assert [h['action'] for h in items].count('assign') == 1


# ---------------------------------------------------------------------------
# reading

def test_no_one_reads_a_dossier_that_is_not_theirs(world, code, minter):
    api, citizen = world.api, world.citizen()
    d = dossier_in(world, code, 2)
    other_citizen = world.citizen(1)
    other_staff = world.staff(('officer',), world.other_agency)
    for stranger in (other_citizen, other_staff):
        for ref in (d['id'], d['code']):
            for sub in ('', '/history', '/actions', '/evaluation', '/documents'):
                r = api.get(f'{API}/dossiers/{ref}{sub}', token=stranger, expect=404, known_path=False)
                assert_problem(r, 404)
    assert api.get(f'{API}/dossiers/{d["code"]}', token=citizen, expect=200).doc['id'] == d['id']
    assert api.get(f'{API}/dossiers/{d["code"]}', token=world.officer, expect=200).doc['id'] == d['id']
    # made-up ids and codes are the same 404
    for ref in (str(uuid.uuid4()), f'{world.agency}-250101-0001', 'khong-co'):
        assert_problem(api.get(f'{API}/dossiers/{ref}', token=citizen, expect=404), 404, 'dossier.not_found')
    assert_problem(api.get(f'{API}/dossiers/{d["id"]}', expect=401), 401)
    # a citizen's draft is theirs alone, even for auditors
    draft = dossier_in(world, code, 0)
    for token in (world.officer, world.agency_admin, world.tokens.system_admin,
                  minter.mint(f'kiem-toan-{uuid.uuid4()}', ['auditor']), other_citizen):
        assert_problem(api.get(f'{API}/dossiers/{draft["id"]}', token=token, expect=404), 404)
    api.get(f'{API}/dossiers/{draft["id"]}', token=citizen, expect=200)


# ---------------------------------------------------------------------------
# lists

def walk(api, token: str, params: dict, limit: int) -> list[dict]:
    items, cursor = [], None
    for _ in range(200):
        p = dict(params, limit=limit)
        if cursor:
            p['cursor'] = cursor
        page = api.get(f'{API}/dossiers', token=token, params=p, expect=200).doc
        assert len(page['items']) <= limit
        items += page['items']
        cursor = page['next_cursor']
        if not cursor:
            return items
        assert page['items']
    raise AssertionError('the cursor does not advance')


@pytest.fixture(scope='module')
def inbox(world):
    """A procedure of its own with dossiers in known states, for exact list counts."""
    api, officer, citizen, other = world.api, world.officer, world.citizen(), world.citizen(1)
    code = world.procedure(value=2, mandatory=(), optional=('DS',))
    mine = [filed(world, code, documents=()) for _ in range(5)]
    draft = create(api, citizen, code, world.agency).doc
    theirs = [filed(world, code, citizen=1, documents=()) for _ in range(2)]
    counter = [submit(api, officer, create(api, officer, code, world.agency, channel='in_person').doc).doc
               for _ in range(2)]
    counter_draft = create(api, officer, code, world.agency, channel='in_person').doc
    received = [act(api, officer, d, 'receive').doc for d in mine[:3]]
    assigned = act(api, officer, received[0], 'assign', {'assignee': token_sub(officer)}).doc
    stepped = act(api, officer, act(api, officer, received[1], 'forward').doc, 'forward').doc
    assert stepped['processing']['step_index'] == 1
    return {'code': code, 'mine': mine, 'draft': draft, 'theirs': theirs, 'counter': counter,
            'counter_draft': counter_draft, 'received': received, 'assigned': assigned,
            'stepped': stepped, 'citizen': citizen, 'other': other}


def ids(items) -> list[str]:
    return [i['id'] for i in items]


def test_a_citizen_lists_only_their_own(world, inbox):
    api = world.api
    own = walk(api, inbox['citizen'], {'procedure': inbox['code']}, 2)
    assert len(ids(own)) == len(set(ids(own)))
    assert set(ids(own)) == set(ids(inbox['mine'])) | {inbox['draft']['id']}
    everything = walk(api, inbox['citizen'], {}, 50)
    strangers = set(ids(inbox['theirs'])) | set(ids(inbox['counter'])) | {inbox['counter_draft']['id']}
    assert not strangers & set(ids(everything))
    assert set(ids(walk(api, inbox['other'], {'procedure': inbox['code']}, 10))) == set(ids(inbox['theirs']))
    r = api.get(f'{API}/dossiers', token=inbox['citizen'], params={'agency': world.agency}, expect=400)
    assert 'agency' in error_parameters(assert_problem(r, 400))


def test_the_agency_inbox_and_its_filters(world, inbox):
    api, officer = world.api, world.officer
    code = inbox['code']
    submitted = set(ids(inbox['mine'])) | set(ids(inbox['theirs'])) | set(ids(inbox['counter']))

    def listed(**params) -> set[str]:
        found = walk(api, officer, dict(params, procedure=code), 100)
        assert len(found) == len(set(ids(found)))
        return set(ids(found))

    everything = listed()
    assert submitted <= everything
    assert inbox['draft']['id'] not in everything            # a citizen's draft is not the agency's
    assert everything - submitted <= {inbox['counter_draft']['id']}
    assert listed(status=1) == submitted - set(ids(inbox['received']))
    assert listed(status=2) == {inbox['received'][2]['id']}
    assert listed(status=4) == {inbox['assigned']['id'], inbox['stepped']['id']}
    assert listed(step=1) == {inbox['stepped']['id']}
    assert listed(assignee='me') == {inbox['assigned']['id']}
    assert listed(assignee=token_sub(officer)) == {inbox['assigned']['id']}
    assert listed(channel='in_person') == set(ids(inbox['counter'])) | \
        ({inbox['counter_draft']['id']} & everything)
    assert listed(channel='postal') == set()
    due = max(d['dates']['due_at'] for d in inbox['received'])
    with_due = set(ids(inbox['received']))
    assert listed(due_before='2100-01-01T00:00:00+07:00') == with_due
    assert listed(due_before='2000-01-01T00:00:00+07:00') == set()
    assert listed(due_before=due) <= with_due
    assert listed(overdue='true') == set()
    assert submitted <= listed(overdue='false')
    # the other agency's inbox does not have them
    other = world.staff(('officer',), world.other_agency)
    assert not set(ids(walk(api, other, {'procedure': code}, 100))) & everything
    # keyset pagination: pages of 1, 2 and 3 give the same dossiers in the same order
    full = ids(walk(api, officer, {'procedure': code}, 100))
    for size in (1, 2, 3):
        assert ids(walk(api, officer, {'procedure': code}, size)) == full
    # the summary
    item = next(i for i in walk(api, officer, {'procedure': code, 'status': 2}, 10))
    assert item['code'] == inbox['received'][2]['code'] and item['due_at'] == inbox['received'][2]['dates']['due_at']


def test_the_prepared_inbox_lists_answer_as_the_general_one(world, inbox):
    """The filter combinations staff use most have prepared lists of their own (the
    store's inbox_shapes, each with a cached plan); any other combination goes through
    the general list, whose filters are optional. A due_before far in the future
    filters nothing out of these lists (each reads dossiers that have a due date, or
    compares the same set) but sends the request to the general list: both must give
    the same dossiers in the same order, across pages, over the whole agency."""
    api, officer = world.api, world.officer
    far = '2100-01-01T00:00:00+07:00'
    assigned = inbox['assigned']
    shapes = [{'status': 4}, {'status': 4, 'channel': assigned['channel']}, {'assignee': 'me'},
              {'status': 2, 'procedure': inbox['code']}, {'sort': 'due_at'},
              {'sort': 'due_at', 'overdue': 'true'}, {'overdue': 'true'}]
    for params in shapes:
        general = ids(walk(api, officer, dict(params, due_before=far), 100))
        for size in (7, 100):
            assert ids(walk(api, officer, params, size)) == general, (params, size)
    for params in shapes[:3]:
        assert assigned['id'] in ids(walk(api, officer, params, 100)), params
    assert inbox['received'][2]['id'] in ids(walk(api, officer, shapes[3], 100))
    assert set(ids(inbox['received'])) <= set(ids(walk(api, officer, shapes[4], 100)))


def test_the_overdue_list_is_newest_first_across_pages(world):
    """overdue=true reads the agency's open dossiers past their due date newest first
    (the watcher-flagged ones walked newest first, the unflagged overdue range sorted,
    the two merged): the same dossiers
    in the same order (submitted_at, then id, both descending) whatever the page size,
    with the other filters applied, and nothing that is not overdue or not open."""
    api, officer = world.api, world.officer
    code = world.procedure(value=2, mandatory=())
    received = [act(api, officer, filed(world, code, documents=()), 'receive').doc for _ in range(6)]
    received[0] = act(api, officer, received[0], 'assign', {'assignee': token_sub(officer)}).doc
    pending = filed(world, code, documents=())                          # status 1: not open
    # Four past their due date (two submitted at the same instant: the id decides),
    # two still within it; the submitted one is backdated too and must not appear.
    backdated = {received[0]['id']: '2020-01-03', received[1]['id']: '2020-01-05',
                 received[2]['id']: '2020-01-04', received[3]['id']: '2020-01-04',
                 received[4]['id']: '2020-01-02', pending['id']: '2020-01-06'}
    for dossier_id, day in backdated.items():
        psql_as('dossier', f"UPDATE dossier.dossiers SET submitted_at = '{day} 08:00+07',"
                           f" due_at = CASE WHEN status = 1 THEN NULL"
                           f" WHEN id = '{received[4]['id']}' THEN now() + interval '3 days'"
                           f" ELSE now() - interval '1 hour' END WHERE id = '{dossier_id}'")
    # The list reads the watcher-flagged and the unflagged overdue dossiers from two
    # indexes (migration 0010) and merges them: the flag only partitions, the due
    # date decides. Two overdue ones flagged, two not (whatever the watcher does
    # meanwhile, the answer is the same), and a flagged one that is not due (a stale
    # flag) must not appear.
    for dossier_id, flagged in ((received[1]['id'], True), (received[3]['id'], True),
                                (received[4]['id'], True), (received[0]['id'], False),
                                (received[2]['id'], False)):
        psql_as('dossier', "UPDATE dossier.dossiers SET overdue_flagged_at = "
                           f"{'now()' if flagged else 'NULL'} WHERE id = '{dossier_id}'")
    overdue = sorted(((backdated[d['id']], d['id']) for d in received[:4]), reverse=True)
    expected = [dossier_id for _, dossier_id in overdue]
    for size in (1, 2, 3, 20):
        items = walk(api, officer, {'procedure': code, 'overdue': 'true'}, size)
        assert ids(items) == expected, size
        assert all(i['overdue'] for i in items)
    assert ids(walk(api, officer, {'procedure': code, 'overdue': 'true', 'status': 4}, 1)) == \
        [received[0]['id']]
    assert ids(walk(api, officer, {'procedure': code, 'overdue': 'true', 'assignee': 'me'}, 2)) == \
        [received[0]['id']]
    assert walk(api, officer, {'procedure': code, 'overdue': 'true', 'channel': 'postal'}, 2) == []
    # the deadline queue over the same dossiers: overdue ones first, by due date then id
    queue = walk(api, officer, {'procedure': code, 'sort': 'due_at', 'overdue': 'true'}, 2)
    assert set(ids(queue)) == set(expected)


def test_the_deadline_queue_lists_open_dossiers_earliest_due_first(world, inbox):
    api, officer, code = world.api, world.officer, inbox['code']
    queue = walk(api, officer, {'procedure': code, 'sort': 'due_at'}, 100)
    # open dossiers only (received onwards); the submitted ones have no due date yet
    assert set(ids(queue)) == set(ids(inbox['received']))
    keys = [(i['due_at'], i['id']) for i in queue]
    assert all(i['due_at'] for i in queue) and keys == sorted(keys)
    for size in (1, 2):
        assert ids(walk(api, officer, {'procedure': code, 'sort': 'due_at'}, size)) == ids(queue)
    assert walk(api, officer, {'procedure': code, 'sort': 'due_at', 'status': 1}, 10) == []
    assert ids(walk(api, officer, {'procedure': code, 'sort': 'due_at', 'status': 4}, 10)) == \
        [i for i in ids(queue) if i in {inbox['assigned']['id'], inbox['stepped']['id']}]
    assert walk(api, officer, {'procedure': code, 'sort': 'due_at', 'overdue': 'true'}, 10) == []
    assert ids(walk(api, officer, {'procedure': code, 'sort': '-submitted_at'}, 100)) == \
        ids(walk(api, officer, {'procedure': code}, 100))
    # a cursor belongs to its order
    by_due = api.get(f'{API}/dossiers', token=officer, expect=200,
                     params={'procedure': code, 'sort': 'due_at', 'limit': 1}).doc['next_cursor']
    newest = api.get(f'{API}/dossiers', token=officer, expect=200,
                     params={'procedure': code, 'limit': 1}).doc['next_cursor']
    assert by_due and newest
    for params in ({'procedure': code, 'cursor': by_due},
                   {'procedure': code, 'sort': 'due_at', 'cursor': newest}):
        doc = assert_problem(api.get(f'{API}/dossiers', token=officer, params=params, expect=400), 400)
        assert 'cursor' in error_parameters(doc), (params, doc)
    # the queue is an agency's
    doc = assert_problem(api.get(f'{API}/dossiers', token=inbox['citizen'], params={'sort': 'due_at'},
                                 expect=400), 400)
    assert 'sort' in error_parameters(doc)


def test_list_parameters_are_checked(world, inbox):
    api, officer = world.api, world.officer
    for params, name in (({'status': 11}, 'status'), ({'channel': 'fax'}, 'channel'),
                         ({'due_before': 'mai'}, 'due_before'), ({'overdue': 'yes'}, 'overdue'),
                         ({'cursor': 'WyJ4Il0'}, 'cursor'), ({'limit': 0}, 'limit'),
                         ({'agency': world.other_agency}, 'agency'), ({'sort': 'newest'}, 'sort'),
                         ({'sort': 'due_at', 'cursor': 'WyJ4Il0'}, 'cursor')):
        doc = assert_problem(api.get(f'{API}/dossiers', token=officer, params=params, expect=400), 400)
        assert name in error_parameters(doc), (params, doc)


def test_auditors_and_administrators_name_the_agency(world, inbox, minter):
    api = world.api
    for token in (world.tokens.system_admin, minter.mint(f'kiem-toan-{uuid.uuid4()}', ['auditor'])):
        doc = assert_problem(api.get(f'{API}/dossiers', token=token, expect=400), 400)
        assert 'agency' in error_parameters(doc)
        found = set(ids(walk(api, token, {'agency': world.agency, 'procedure': inbox['code']}, 100)))
        assert set(ids(inbox['mine'])) <= found and inbox['draft']['id'] not in found
