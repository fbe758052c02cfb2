"""Report 06a checked against the dossier API's own data (issue 13).

Dossiers of an agency of this test's own go through the real dossier API: filed,
received, resolved early, on time and late, left open within and past their deadline,
waiting for a supplement, withdrawn, stopped, refused, returned. A test cannot wait for a
due date, so it moves the legal due date the way the dossier tests do (an UPDATE of
`due_at` as the dossier service's role) before the action whose event carries it. Then
every cell of 06a is computed in Python from what the dossier API answers (`GET
/dossiers/{id}` and its history) and compared with the statistics report of the month.

Needs the test stack (tests/run): MOTCUA_TEST_LOCAL_DIR, MOTCUA_TEST_PG_PORT and psql.
"""
from __future__ import annotations

import datetime as dt

import pytest
from catalogue_data import ROOT_AGENCY, create_agency
from dossier_support import API, World, act, dossier_sql, feed_end, filed
from test_statistics import assert_same_cells, report, wait_counted

VIETNAM = dt.timezone(dt.timedelta(hours=7))
OPEN = {2, 4, 5, 6, 7}
# the legal due date, moved as the dossier tests move it (SQL as the dossier service)
DUE = {
    'in_3_days': "now() + interval '3 days'",
    'tonight': "(date_trunc('day', now() AT TIME ZONE 'Asia/Ho_Chi_Minh') + interval '23 hours 50 minutes')"
               " AT TIME ZONE 'Asia/Ho_Chi_Minh'",
    '2_days_ago': "now() - interval '2 days'",
}


def vn_day(text: str | None) -> dt.date | None:
    return None if text is None else dt.datetime.fromisoformat(text).astimezone(VIETNAM).date()


def move_due(dossier: dict, when: str) -> None:
    dossier_sql(f"UPDATE dossiers SET due_at = {DUE[when]}, appointment_at = {DUE[when]}"
                f" WHERE id = '{dossier['id']}'")


@pytest.fixture(scope='module')
def agency_world(api, tokens, admin) -> World:
    """A department of its own (and a second one the procedure also names)."""
    own = create_agency(api, admin, parent=ROOT_AGENCY, admin_level='province',
                        name='Sở Đối Chiếu Thống Kê')['code']
    other = create_agency(api, admin, parent=ROOT_AGENCY, admin_level='province',
                          name='Sở Đối Chiếu Khác')['code']
    return World(api, tokens, [own, other])


def histories(world: World) -> list[dict]:
    """The dossiers of every kind the report counts, through the API; the dossier docs."""
    api, officer, approver, citizen = world.api, world.officer, world.approver, world.citizen()
    code = world.procedure()
    result = {'result': {'summary': 'Cấp giấy khai sinh'}}
    made = []

    def received(channel='online'):
        return act(api, officer, filed(world, code, channel=channel), 'receive').doc

    def resolve(d, due, then_return=False):
        d = act(api, officer, d, 'forward').doc
        move_due(d, due)
        d = act(api, approver, api.get(f'{API}/dossiers/{d["id"]}', token=officer).doc, 'approve',
                result).doc
        return act(api, officer, d, 'return_result').doc if then_return else d

    made.append(resolve(received(), 'in_3_days'))                    # early
    made.append(resolve(received(), 'in_3_days', then_return=True))  # early, returned
    made.append(resolve(received(), 'tonight'))                      # on time
    made.append(resolve(received(), '2_days_ago'))                   # overdue
    within = received('postal')
    move_due(within, 'in_3_days')                                    # open, within its deadline
    made.append(act(api, officer, api.get(f'{API}/dossiers/{within["id"]}', token=officer).doc,
                    'forward').doc)
    late = received()
    move_due(late, '2_days_ago')                                     # open, overdue: the next
    made.append(act(api, officer, api.get(f'{API}/dossiers/{late["id"]}', token=officer).doc,
                    'forward').doc)                                  # event tells the due date
    made.append(act(api, officer, received(), 'request_supplement',
                    {'missing_items': ['Bản sao giấy chứng sinh']}).doc)  # awaiting supplement
    withdrawing = act(api, citizen, received(), 'request_withdrawal', {'reasons': ['Nộp nhầm']}).doc
    made.append(act(api, officer, withdrawing, 'confirm_withdrawal').doc)  # withdrawn
    made.append(act(api, officer, received(), 'stop', {'reasons': ['Không liên lạc được']}).doc)
    made.append(act(api, officer, filed(world, code), 'refuse',
                    {'reasons': ['Không thuộc thẩm quyền']}).doc)    # refused at intake
    made.append(filed(world, code))                                  # submitted, not received
    return made


def expected_from_the_dossier_api(world: World, ids: list[str], first: dt.date, last: dt.date) -> dict:
    """Every 06a cell from what the dossier API says of each dossier (DOMAIN.md §5)."""
    z = {'received': {'total': 0, 'online': 0, 'in_person_postal': 0, 'carried_over': 0},
         'resolved': {'total': 0, 'early': 0, 'on_time': 0, 'overdue': 0},
         'in_progress': {'total': 0, 'within_deadline': 0, 'overdue': 0},
         'withdrawn': 0, 'stopped': 0, 'refused': 0, 'returned': 0, 'awaiting_supplement': 0}
    for dossier_id in ids:
        d = world.api.get(f'{API}/dossiers/{dossier_id}', token=world.officer, expect=200).doc
        steps = world.api.get(f'{API}/dossiers/{dossier_id}/history', token=world.officer,
                              expect=200).doc['items']
        due = vn_day(d['dates']['due_at'])
        in_period = [(vn_day(s['at']), s) for s in steps if first <= vn_day(s['at']) <= last]
        received_on = next((vn_day(s['at']) for s in steps if s['action'] == 'receive'), None)
        status_at_start = next((s['to_status'] for s in reversed(steps) if vn_day(s['at']) < first), 0)
        if received_on is not None and received_on < first and status_at_start in OPEN:
            z['received']['carried_over'] += 1
        for on, s in in_period:
            action = s['action']
            if action == 'receive':
                z['received']['total'] += 1
                z['received']['online' if d['channel'] == 'online' else 'in_person_postal'] += 1
            elif s['to_status'] == 9 and s['from_status'] != 9:
                z['resolved']['total'] += 1
                # a paused clock (no due date) is on time
                z['resolved']['on_time' if due is None or on == due else
                              'early' if on < due else 'overdue'] += 1
            elif action == 'confirm_withdrawal':
                z['withdrawn'] += 1
            elif action == 'stop':
                z['stopped'] += 1
            elif action == 'refuse':
                z['refused'] += 1
            elif action == 'return_result':
                z['returned'] += 1
        if received_on is not None and d['status'] in OPEN:
            z['in_progress']['total'] += 1
            # past due at the period's end: its due date's day is over by then
            overdue = due is not None and due <= last
            z['in_progress']['overdue' if overdue else 'within_deadline'] += 1
            z['awaiting_supplement'] += d['status'] == 5
    good = (z['in_progress']['within_deadline'] + z['resolved']['early'] + z['resolved']['on_time'] +
            z['withdrawn'])
    bad = z['resolved']['overdue'] + z['in_progress']['overdue']
    z['on_time_rate'] = good / (good + bad) if good + bad else None
    return z


def test_06a_matches_what_the_dossier_api_says(api, admin, agency_world):
    world = agency_world
    made = histories(world)
    wait_counted(feed_end(world))
    today = dt.datetime.now(VIETNAM).date()
    period = today.strftime('%Y-%m')
    got = report(api, admin, world.agency, period=period).doc
    assert got['as_of'] == today.isoformat()
    want = expected_from_the_dossier_api(world, [d['id'] for d in made], today.replace(day=1), today)
    # every kind of cell is exercised
    assert want['resolved'] == {'total': 4, 'early': 2, 'on_time': 1, 'overdue': 1}, want
    # open: within its deadline, past it, waiting for a supplement
    assert want['in_progress']['total'] == 3 and want['in_progress']['within_deadline'] >= 1 and \
        want['in_progress']['overdue'] >= 1, want
    assert (want['withdrawn'], want['stopped'], want['refused'], want['returned'],
            want['awaiting_supplement']) == (1, 1, 1, 1, 1), want
    assert want['received'] == {'total': 9, 'online': 8, 'in_person_postal': 1, 'carried_over': 0}, want
    assert_same_cells(got['totals'], want, period)   # the on-time rate too
