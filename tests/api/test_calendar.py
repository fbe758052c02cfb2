"""The working-day calendar and due-date computation (ngày hẹn trả).

Due dates are checked against values computed by hand from the rules in
docs/services/catalogue.md and common/include/motcua/calendar.h, with the
default office hours 07:00-11:30, 13:30-17:00 and the 15:00 same-day cutoff.
Tết Ất Tỵ 2025: Monday 27 to Friday 31 January are days off (demo data)."""
from __future__ import annotations

import datetime as dt
import random

import pytest

import catalogue_data as cd
from catalogue_data import API, BIRTH_REGISTRATION
from motcua_api import assert_problem, error_parameters, error_pointers, parse_rfc3339

TET_2025 = ['2025-01-27', '2025-01-28', '2025-01-29', '2025-01-30', '2025-01-31']


def due(api, expect=200, **params):
    r = api.get(f'{API}/calendar/due-date', params=params, expect=expect)
    return r.doc


def same_instant(a: str, b: str) -> bool:
    return parse_rfc3339(a) == parse_rfc3339(b)


def days_of(api, year):
    return {d['date']: d for d in api.get(f'{API}/calendar/{year}', expect=200).doc['days']}


def free_weekday(api, weekday: int) -> dt.date:
    """A random date with the given weekday (0 = Monday) in 2031-2039 whose
    neighbours and itself are not in the calendar (so tests do not collide)."""
    for _ in range(50):
        year = random.randint(2031, 2039)
        d = dt.date(year, 2, 1) + dt.timedelta(days=random.randrange(0, 300))
        d += dt.timedelta(days=(weekday - d.weekday()) % 7)
        listed = days_of(api, d.year)
        if not any((d + dt.timedelta(days=k)).isoformat() in listed for k in range(-3, 4)):
            return d
    pytest.fail('no free date found in 2031-2039')


# ---------------------------------------------------------------------------
# Reading the calendar

def test_calendar_2025_has_tet(api):
    r = api.get(f'{API}/calendar/2025', expect=200)
    doc = r.doc
    assert doc['year'] == 2025
    dates = [d['date'] for d in doc['days']]
    assert dates == sorted(dates) and len(set(dates)) == len(dates)
    assert all(d.startswith('2025-') for d in dates)
    by_date = {d['date']: d for d in doc['days']}
    for day in TET_2025:
        assert by_date[day]['kind'] == 'day_off', day
        assert 'Tết' in by_date[day]['name']
    assert by_date['2025-01-01']['kind'] == 'day_off'


def test_calendar_of_an_empty_year(api):
    r = api.get(f'{API}/calendar/2150', expect=200)
    assert r.doc == {'year': 2150, 'days': []}


@pytest.mark.parametrize('year', ['abcd', '20250', '-1', '1899', '2201', '0'])
def test_calendar_bad_year(api, year):
    r = api.get(f'{API}/calendar/{year}', expect=(400, 404))
    if r.status_code == 400:
        assert 'year' in error_parameters(assert_problem(r, 400, 'request.bad_query'))


# ---------------------------------------------------------------------------
# Writing days

def test_put_and_delete_a_day_off(api, admin):
    wed = free_weekday(api, 2)
    tue, thu = wed - dt.timedelta(days=1), wed + dt.timedelta(days=1)
    received = f'{tue}T09:00:00+07:00'
    before = due(api, received_at=received, value=1, unit='working_days')
    assert same_instant(before['due_at'], f'{wed}T09:00:00+07:00')
    etag = api.get(f'{API}/calendar/{wed.year}').headers['ETag']

    day = {'date': wed.isoformat(), 'kind': 'day_off', 'name': 'Nghỉ bù kiểm thử'}
    r = api.put(f'{API}/calendar/days/{wed}', token=admin, json=day, expect=201)
    assert r.doc == day
    assert days_of(api, wed.year)[wed.isoformat()] == day
    after = api.get(f'{API}/calendar/{wed.year}', headers={'If-None-Match': etag}, expect=200)
    assert after.headers['ETag'] != etag
    assert same_instant(due(api, received_at=received, value=1, unit='working_days')['due_at'],
                        f'{thu}T09:00:00+07:00')

    renamed = dict(day, name='Nghỉ lễ kiểm thử (đổi tên)')
    r = api.put(f'{API}/calendar/days/{wed}', token=admin, json=renamed, expect=200)
    assert r.doc == renamed
    assert days_of(api, wed.year)[wed.isoformat()] == renamed

    api.delete(f'{API}/calendar/days/{wed}', token=admin, expect=204)
    assert wed.isoformat() not in days_of(api, wed.year)
    assert same_instant(due(api, received_at=received, value=1, unit='working_days')['due_at'],
                        f'{wed}T09:00:00+07:00')
    api.delete(f'{API}/calendar/days/{wed}', token=admin, expect=(204, 404))


def test_a_worked_saturday(api, admin):
    sat = free_weekday(api, 5)
    fri, mon = sat - dt.timedelta(days=1), sat + dt.timedelta(days=2)
    received = f'{fri}T09:00:00+07:00'
    assert same_instant(due(api, received_at=received, value=1, unit='working_days')['due_at'],
                        f'{mon}T09:00:00+07:00')
    day = {'date': sat.isoformat(), 'kind': 'working_day', 'name': 'Làm bù kiểm thử'}
    api.put(f'{API}/calendar/days/{sat}', token=admin, json=day, expect=201)
    try:
        assert same_instant(due(api, received_at=received, value=1, unit='working_days')['due_at'],
                            f'{sat}T09:00:00+07:00')
    finally:
        api.delete(f'{API}/calendar/days/{sat}', token=admin, expect=204)
    assert same_instant(due(api, received_at=received, value=1, unit='working_days')['due_at'],
                        f'{mon}T09:00:00+07:00')


def test_put_day_date_may_be_omitted(api, admin):
    d = free_weekday(api, 1)
    r = api.put(f'{API}/calendar/days/{d}', token=admin, json={'kind': 'day_off', 'name': 'Không ghi ngày'},
                expect=201)
    assert r.doc['date'] == d.isoformat()
    api.delete(f'{API}/calendar/days/{d}', token=admin, expect=204)


@pytest.mark.parametrize('body,pointer', [
    ({'date': '2036-03-04', 'kind': 'day_off', 'name': 'Sai ngày'}, '/date'),
    ({'kind': 'holiday', 'name': 'Sai loại'}, '/kind'),
    ({'kind': 'day_off', 'name': ''}, '/name'),
    ({'kind': 'day_off'}, '/name'),
    ({'name': 'Thiếu loại'}, '/kind'),
    ({'kind': 'day_off', 'name': 'x', 'note': 'y'}, '/note'),
])
def test_put_day_validation(api, admin, body, pointer):
    r = api.put(f'{API}/calendar/days/2036-03-05', token=admin, json=body, expect=422)
    assert pointer in error_pointers(assert_problem(r, 422, 'request.validation_failed'))
    assert '2036-03-05' not in days_of(api, 2036)


@pytest.mark.parametrize('date', ['2025-02-30', '2025-1-5', '20250105', 'tomorrow', '2025-13-01'])
def test_put_day_bad_date(api, admin, date):
    r = api.put(f'{API}/calendar/days/{date}', token=admin, json={'kind': 'day_off', 'name': 'x'}, expect=(400, 404))
    if r.status_code == 400:
        assert 'date' in error_parameters(assert_problem(r, 400, 'request.bad_query'))


def test_put_day_out_of_range(api, admin):
    api.put(f'{API}/calendar/days/1800-01-01', token=admin, json={'kind': 'day_off', 'name': 'x'},
            expect=(400, 404, 422))


@pytest.mark.parametrize('who', ['citizen', 'officer', 'agency_admin'])
def test_calendar_writes_are_for_system_admins(api, admin, tokens, departments, who):
    token = tokens.agency_admin(departments[0]) if who == 'agency_admin' else getattr(tokens, who)
    d = free_weekday(api, 3)
    body = {'kind': 'day_off', 'name': 'Không được phép'}
    assert_problem(api.put(f'{API}/calendar/days/{d}', token=token, json=body, expect=403), 403, 'auth.forbidden')
    assert d.isoformat() not in days_of(api, d.year)
    api.put(f'{API}/calendar/days/{d}', token=admin, json=body, expect=201)
    try:
        assert_problem(api.delete(f'{API}/calendar/days/{d}', token=token, expect=403), 403, 'auth.forbidden')
        assert d.isoformat() in days_of(api, d.year)
        r = api.delete(f'{API}/calendar/days/{d}', expect=401)
        assert r.headers['WWW-Authenticate'].startswith('Bearer')
    finally:
        api.delete(f'{API}/calendar/days/{d}', token=admin, expect=204)


# ---------------------------------------------------------------------------
# Due dates across Tết 2025 (hand-computed)

CASES = [
    # received_at, value, unit, clock_start, due_at
    ('2025-01-24T10:00:00+07:00', 1, 'working_days', '2025-01-24T10:00:00+07:00', '2025-02-03T10:00:00+07:00'),
    ('2025-01-24T16:00:00+07:00', 0, 'working_days', '2025-01-24T16:00:00+07:00', '2025-02-03T17:00:00+07:00'),
    ('2025-01-24T14:00:00+07:00', 0, 'working_days', '2025-01-24T14:00:00+07:00', '2025-01-24T17:00:00+07:00'),
    ('2025-01-24T15:00:00+07:00', 0, 'working_days', '2025-01-24T15:00:00+07:00', '2025-01-24T17:00:00+07:00'),
    ('2025-01-25T09:00:00+07:00', 1, 'working_days', '2025-02-03T07:00:00+07:00', '2025-02-03T17:00:00+07:00'),
    ('2025-01-24T12:00:00+07:00', 1, 'working_days', '2025-01-24T13:30:00+07:00', '2025-02-03T11:30:00+07:00'),
    ('2025-01-24T17:00:00+07:00', 1, 'working_days', '2025-02-03T07:00:00+07:00', '2025-02-03T17:00:00+07:00'),
    ('2025-01-31T10:00:00+07:00', 1, 'working_days', '2025-02-03T07:00:00+07:00', '2025-02-03T17:00:00+07:00'),
    ('2025-01-23T10:00:00+07:00', 2, 'working_days', '2025-01-23T10:00:00+07:00', '2025-02-03T10:00:00+07:00'),
    ('2025-01-24T09:00:00+07:00', 0.5, 'working_days', '2025-01-24T09:00:00+07:00', '2025-01-24T15:00:00+07:00'),
    ('2025-01-24T16:00:00+07:00', 2, 'working_hours', '2025-01-24T16:00:00+07:00', '2025-02-03T08:00:00+07:00'),
    ('2025-01-20T09:00:00+07:00', 7, 'calendar_days', '2025-01-20T09:00:00+07:00', '2025-02-03T09:00:00+07:00'),
    ('2025-01-24T03:00:00Z', 1, 'working_days', '2025-01-24T10:00:00+07:00', '2025-02-03T10:00:00+07:00'),
    ('2025-01-24T04:00:00+01:00', 1, 'working_days', '2025-01-24T10:00:00+07:00', '2025-02-03T10:00:00+07:00'),
]


@pytest.mark.parametrize('received,value,unit,clock_start,due_at', CASES)
def test_due_dates_across_tet(api, received, value, unit, clock_start, due_at):
    d = due(api, received_at=received, value=value, unit=unit)
    assert same_instant(d['received_at'], received)
    assert d['received_at'].endswith('+07:00') and d['due_at'].endswith('+07:00')
    assert d['clock_start'] == clock_start, d
    assert d['due_at'] == due_at, d
    assert d['time_limit'] == {'value': value, 'unit': unit}
    assert d['agency'] is None


@pytest.mark.parametrize('received,due_at', [
    ('2025-04-25T09:00:00+07:00', '2025-04-26T09:00:00+07:00'),   # Saturday 26/4 worked (swap for 2/5)
    ('2025-04-29T09:00:00+07:00', '2025-05-05T09:00:00+07:00'),   # 30/4, 1/5, 2/5 off, then the weekend
])
def test_due_dates_around_the_may_holidays(api, received, due_at):
    days = days_of(api, 2025)
    if days.get('2025-04-26', {}).get('kind') != 'working_day' or '2025-05-02' not in days:
        pytest.skip('the demo calendar does not have the 2025 swap of 26/4 and 2/5')
    assert due(api, received_at=received, value=1, unit='working_days')['due_at'] == due_at


def test_due_date_with_a_demo_agency(api, departments):
    agency = api.get(f'{API}/agencies/{departments[0]}', expect=200).doc
    d = due(api, received_at='2025-01-24T16:00:00+07:00', value=0, unit='working_days', agency=agency['code'])
    assert d['agency'] == agency['code']
    if agency['office_hours'] == [{'start': '07:00', 'end': '11:30'}, {'start': '13:30', 'end': '17:00'}] \
            and agency['same_day_cutoff'] == '15:00':
        assert d['due_at'] == '2025-02-03T17:00:00+07:00'


def test_due_date_uses_the_agency_office_hours(api, admin):
    a = cd.create_agency(api, admin, office_hours=[{'start': '08:00', 'end': '12:00'},
                                                  {'start': '13:00', 'end': '17:00'}],
                         same_day_cutoff='16:00')
    code = a['code']
    d = due(api, received_at='2025-01-24T15:30:00+07:00', value=0, unit='working_days', agency=code)
    assert (d['due_at'], d['agency']) == ('2025-01-24T17:00:00+07:00', code)
    d = due(api, received_at='2025-01-24T15:30:00+07:00', value=0, unit='working_days')
    assert d['due_at'] == '2025-02-03T17:00:00+07:00', 'without the agency, the 15:00 cutoff applies'
    d = due(api, received_at='2025-01-24T07:30:00+07:00', value=1, unit='working_days', agency=code)
    assert (d['clock_start'], d['due_at']) == ('2025-01-24T08:00:00+07:00', '2025-01-24T17:00:00+07:00')
    d = due(api, received_at='2025-01-24T12:30:00+07:00', value=1, unit='working_days', agency=code)
    assert (d['clock_start'], d['due_at']) == ('2025-01-24T13:00:00+07:00', '2025-02-03T12:00:00+07:00')


# ---------------------------------------------------------------------------
# Due dates from a procedure's time limit

@pytest.fixture(scope='module')
def timed_procedure(api, admin):
    body = cd.procedure_body()
    body['cases'][0]['channels'] = [
        {'channel': 'online', 'time_limit': {'value': 1, 'unit': 'working_days'}, 'fees': []},
        {'channel': 'in_person', 'time_limit': {'value': 2, 'unit': 'working_days'}, 'fees': []},
    ]
    second = cd.procedure_body()['cases'][0]
    second.update(code='co-yeu-to-nuoc-ngoai', name='Có yếu tố nước ngoài',
                  channels=[{'channel': 'postal', 'time_limit': {'value': 15, 'unit': 'calendar_days'}, 'fees': []}])
    body['cases'].append(second)
    api.post(f'{API}/procedures', token=admin, json=body, expect=201)
    return cd.publish(api, admin, body['code'])


@pytest.mark.parametrize('case,channel,limit,due_at', [
    ('default', 'online', {'value': 1, 'unit': 'working_days'}, '2025-02-03T10:00:00+07:00'),
    ('default', 'in_person', {'value': 2, 'unit': 'working_days'}, '2025-02-04T10:00:00+07:00'),
    ('co-yeu-to-nuoc-ngoai', 'postal', {'value': 15, 'unit': 'calendar_days'}, '2025-02-10T10:00:00+07:00'),
])
def test_due_date_from_a_procedure(api, timed_procedure, case, channel, limit, due_at):
    d = due(api, received_at='2025-01-24T10:00:00+07:00', procedure=timed_procedure['code'], case=case,
            channel=channel)
    assert d['time_limit'] == limit
    assert d['due_at'] == due_at


def test_due_date_procedure_errors(api, timed_procedure):
    code = timed_procedure['code']
    base = {'received_at': '2025-01-24T10:00:00+07:00'}
    r = api.get(f'{API}/calendar/due-date', params=dict(base, procedure=code, case='default', channel='postal'),
                expect=422)
    assert_problem(r, 422, 'catalogue.channel_not_offered')
    r = api.get(f'{API}/calendar/due-date', params=dict(base, procedure=code, case='khong-co', channel='online'),
                expect=404)
    assert_problem(r, 404, 'catalogue.case_not_found')
    r = api.get(f'{API}/calendar/due-date',
                params=dict(base, procedure='9.999999.Nothing', case='default', channel='online'), expect=404)
    assert_problem(r, 404, 'catalogue.procedure_not_found')
    r = api.get(f'{API}/calendar/due-date',
                params=dict(base, value=1, unit='working_days', agency='999.99.99.Q99'), expect=404)
    assert_problem(r, 404, 'catalogue.agency_not_found')


def test_due_date_for_birth_registration(api):
    proc = api.get(f'{API}/procedures/{BIRTH_REGISTRATION}', expect=200).doc
    case = proc['cases'][0]
    channel = case['channels'][0]
    limit = channel['time_limit']
    received = '2025-01-24T10:00:00+07:00'
    by_procedure = due(api, received_at=received, procedure=BIRTH_REGISTRATION, case=case['code'],
                       channel=channel['channel'])
    by_value = due(api, received_at=received, value=limit['value'], unit=limit['unit'])
    assert by_procedure['time_limit'] == limit
    assert by_procedure['due_at'] == by_value['due_at']
    if limit == {'value': 1, 'unit': 'working_days'}:
        assert by_procedure['due_at'] == '2025-02-03T10:00:00+07:00'


# ---------------------------------------------------------------------------
# Bad inputs

RECEIVED = '2025-01-24T10:00:00+07:00'


@pytest.mark.parametrize('params,parameter', [
    ({'value': 1, 'unit': 'working_days'}, 'received_at'),
    ({'received_at': 'yesterday', 'value': 1, 'unit': 'working_days'}, 'received_at'),
    ({'received_at': '2025-01-24T10:00:00', 'value': 1, 'unit': 'working_days'}, 'received_at'),
    ({'received_at': '2025-01-24', 'value': 1, 'unit': 'working_days'}, 'received_at'),
    ({'received_at': '2025-02-30T10:00:00+07:00', 'value': 1, 'unit': 'working_days'}, 'received_at'),
    ({'received_at': '2025-01-24T25:00:00+07:00', 'value': 1, 'unit': 'working_days'}, 'received_at'),
    ({'received_at': RECEIVED, 'value': 1, 'unit': 'weeks'}, 'unit'),
    ({'received_at': RECEIVED, 'value': -1, 'unit': 'working_days'}, 'value'),
    ({'received_at': RECEIVED, 'value': 'abc', 'unit': 'working_days'}, 'value'),
    ({'received_at': RECEIVED, 'value': 'NaN', 'unit': 'working_days'}, 'value'),
    ({'received_at': RECEIVED, 'value': 'inf', 'unit': 'working_days'}, 'value'),
    ({'received_at': RECEIVED, 'value': '1e400', 'unit': 'working_days'}, 'value'),
    ({'received_at': RECEIVED, 'value': 1.5, 'unit': 'calendar_days'}, 'value'),
    ({'received_at': RECEIVED, 'value': 1}, 'unit'),
    ({'received_at': RECEIVED, 'value': 1, 'unit': 'working_days', 'agency': 'So Tu Phap'}, 'agency'),
    ({'received_at': RECEIVED, 'procedure': BIRTH_REGISTRATION, 'case': 'default', 'channel': 'fax'}, 'channel'),
    ({'received_at': RECEIVED, 'procedure': 'not-a-code', 'case': 'default', 'channel': 'online'}, 'procedure'),
])
def test_due_date_bad_inputs(api, params, parameter):
    r = api.get(f'{API}/calendar/due-date', params=params, expect=400)
    doc = assert_problem(r, 400, 'request.bad_query')
    assert parameter in error_parameters(doc), doc


def test_due_date_needs_a_time_limit(api):
    r = api.get(f'{API}/calendar/due-date', params={'received_at': RECEIVED}, expect=400)
    assert assert_problem(r, 400, 'request.bad_query').get('errors')


def test_due_date_far_future_is_refused_cleanly(api):
    r = api.get(f'{API}/calendar/due-date',
                params={'received_at': RECEIVED, 'value': 100000, 'unit': 'working_days'}, expect=(200, 400, 422))
    if r.status_code == 200:
        assert parse_rfc3339(r.doc['due_at']) > parse_rfc3339(RECEIVED)
