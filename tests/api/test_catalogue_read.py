"""Public reads of the catalogue: lists, filters, keyset pagination, single
resources, versions, ETags and 404s."""
from __future__ import annotations

import pytest

import catalogue_data as cd
from catalogue_data import fold
from catalogue_data import API, BIRTH_REGISTRATION, CERTIFIED_COPY, CRIMINAL_RECORD, ROOT_AGENCY, walk_pages
from motcua_api import assert_problem, error_parameters


def codes(items):
    return [i['code'] for i in items]


def assert_strictly_ascending(values, what):
    assert values == sorted(values), f'{what} not ordered: {values}'
    assert len(values) == len(set(values)), f'{what} has duplicates'


# ---------------------------------------------------------------------------
# Sectors

def test_sectors_list_is_ordered_by_code_and_complete(api):
    items = walk_pages(api, f'{API}/sectors', limit=4)
    assert_strictly_ascending(codes(items), 'sectors')
    for code in ('ho-tich', 'chung-thuc', 'ly-lich-tu-phap'):
        assert code in codes(items)
    assert walk_pages(api, f'{API}/sectors', limit=100) == items


def test_sectors_first_page_respects_limit(api):
    r = api.get(f'{API}/sectors', params={'limit': 2}, expect=200)
    assert len(r.doc['items']) == 2
    assert r.doc['next_cursor']
    r = api.get(f'{API}/sectors', expect=200)
    assert len(r.doc['items']) <= 20, 'default limit is 20'


def test_get_sector(api):
    r = api.get(f'{API}/sectors/ho-tich', expect=200)
    assert r.doc['code'] == 'ho-tich'
    assert r.doc['name'] == 'Hộ tịch'
    assert r.doc['revision'] >= 1
    listed = [s for s in walk_pages(api, f'{API}/sectors', limit=100) if s['code'] == 'ho-tich']
    assert listed == [r.doc], 'the list and the single read must agree'


def test_unknown_sector_is_404(api):
    r = api.get(f'{API}/sectors/khong-ton-tai-{cd.new_sector_code()}', expect=404)
    assert_problem(r, 404, 'catalogue.sector_not_found')


@pytest.mark.parametrize('path', [
    f'{API}/sectors/ho-tich',
    f'{API}/agencies/{ROOT_AGENCY}',
    f'{API}/procedures/{BIRTH_REGISTRATION}',
    f'{API}/calendar/2025',
])
def test_etag_and_if_none_match(api, path):
    r1 = api.get(path, expect=200)
    etag = r1.headers['ETag']
    r2 = api.get(path, expect=200)
    assert r2.headers['ETag'] == etag, 'the ETag of an unchanged resource must be stable'
    assert r2.content == r1.content
    r3 = api.get(path, headers={'If-None-Match': etag}, expect=304)
    assert r3.content == b''
    assert r3.headers['ETag'] == etag
    # A list of entity tags, and the weak form (If-None-Match uses weak comparison).
    api.get(path, headers={'If-None-Match': f'"not-this-one", {etag}'}, expect=304)
    api.get(path, headers={'If-None-Match': f'W/{etag}'}, expect=304)
    r4 = api.get(path, headers={'If-None-Match': '"something-else"'}, expect=200)
    assert r4.content == r1.content


# ---------------------------------------------------------------------------
# Agencies

def test_agencies_walk_is_ordered_and_complete(api):
    small = walk_pages(api, f'{API}/agencies', limit=7)
    assert_strictly_ascending(codes(small), 'agencies')
    assert ROOT_AGENCY in codes(small)
    assert len(small) >= 31
    big = walk_pages(api, f'{API}/agencies', limit=100)
    # Other tests may add agencies meanwhile; everything seen in the first walk is in the second.
    assert set(codes(small)) <= set(codes(big))


def test_root_agency(api):
    r = api.get(f'{API}/agencies/{ROOT_AGENCY}', expect=200)
    root = r.doc
    assert root['parent_code'] is None
    assert root['admin_level'] == 'province'
    assert fold(root['name']) == fold('Ủy ban nhân dân tỉnh Thanh Hóa')
    assert len(root['office_hours']) >= 1


def test_agencies_parent_filter_lists_direct_children(api, departments):
    children = walk_pages(api, f'{API}/agencies', params={'parent': ROOT_AGENCY}, limit=10)
    assert len(children) >= 30
    assert all(a['parent_code'] == ROOT_AGENCY for a in children)
    assert ROOT_AGENCY not in codes(children)
    assert set(departments) <= set(codes(children))
    assert_strictly_ascending(codes(children), 'children')


def test_agencies_parent_filter_of_leaf_and_unknown(api):
    r = api.get(f'{API}/agencies', params={'parent': '000.01.01.H56'}, expect=200)
    assert all(a['parent_code'] == '000.01.01.H56' for a in r.doc['items'])
    r = api.get(f'{API}/agencies', params={'parent': '999.99.99.Q99'}, expect=200)
    assert r.doc == {'items': [], 'next_cursor': None}


def test_agencies_admin_level_filter(api):
    communes = walk_pages(api, f'{API}/agencies', params={'admin_level': 'commune'}, limit=50)
    assert len(communes) >= 16
    assert all(a['admin_level'] == 'commune' for a in communes)
    both = walk_pages(api, f'{API}/agencies', params={'admin_level': 'commune', 'parent': ROOT_AGENCY}, limit=50)
    assert all(a['admin_level'] == 'commune' and a['parent_code'] == ROOT_AGENCY for a in both)


def test_agencies_name_search_is_accent_insensitive(api, departments):
    target = api.get(f'{API}/agencies/{departments[0]}', expect=200).doc
    for q in (fold(target['name']), target['name'].upper(), target['name']):
        found = walk_pages(api, f'{API}/agencies', params={'q': q}, limit=100)
        assert target['code'] in codes(found), f'q={q!r} did not find {target["code"]}'
    found = walk_pages(api, f'{API}/agencies', params={'q': 'xzqwv khong co co quan nay'}, limit=100)
    assert found == []


@pytest.mark.parametrize('params,parameter', [
    ({'admin_level': 'ward'}, 'admin_level'),
    ({'parent': 'not-an-agency-code'}, 'parent'),
    ({'q': 'a' * 201}, 'q'),
    ({'limit': 0}, 'limit'),
    ({'limit': 101}, 'limit'),
])
def test_agencies_bad_parameters(api, params, parameter):
    r = api.get(f'{API}/agencies', params=params, expect=400)
    doc = assert_problem(r, 400, 'request.bad_query')
    assert parameter in error_parameters(doc)


def test_unknown_agency_is_404(api):
    r = api.get(f'{API}/agencies/999.99.99.Q99', expect=404)
    assert_problem(r, 404, 'catalogue.agency_not_found')


# ---------------------------------------------------------------------------
# Procedures: listing and filters (no q)

def test_procedures_walk_without_q_is_ordered_by_code(api):
    items = walk_pages(api, f'{API}/procedures', limit=7)
    assert_strictly_ascending(codes(items), 'procedures')
    assert len(items) >= 45
    for code in (BIRTH_REGISTRATION, CRIMINAL_RECORD, CERTIFIED_COPY):
        assert code in codes(items)
    big = walk_pages(api, f'{API}/procedures', limit=100)
    assert set(codes(items)) <= set(codes(big))


def test_procedures_page_sizes(api):
    for limit in (1, 13, 100):
        r = api.get(f'{API}/procedures', params={'limit': limit}, expect=200)
        assert len(r.doc['items']) == limit or r.doc['next_cursor'] is None


def test_procedures_filter_by_sector(api):
    proc = api.get(f'{API}/procedures/{BIRTH_REGISTRATION}', expect=200).doc
    sector = proc['sector_code']
    items = walk_pages(api, f'{API}/procedures', params={'sector': sector}, limit=20)
    assert BIRTH_REGISTRATION in codes(items)
    assert all(i['sector']['code'] == sector for i in items)
    assert_strictly_ascending(codes(items), 'filtered procedures')
    everything = walk_pages(api, f'{API}/procedures', limit=100)
    assert codes(items) == [i['code'] for i in everything if i['sector']['code'] == sector]


def test_procedures_unknown_sector_or_agency_match_nothing(api):
    r = api.get(f'{API}/procedures', params={'sector': 'khong-co-linh-vuc-nay'}, expect=200)
    assert r.doc == {'items': [], 'next_cursor': None}
    r = api.get(f'{API}/procedures', params={'agency': '999.99.99.Q99'}, expect=200)
    assert r.doc == {'items': [], 'next_cursor': None}


def test_procedures_filter_by_agency(api):
    proc = api.get(f'{API}/procedures/{BIRTH_REGISTRATION}', expect=200).doc
    agency = proc['agency_codes'][0]
    items = walk_pages(api, f'{API}/procedures', params={'agency': agency}, limit=50)
    assert BIRTH_REGISTRATION in codes(items)
    for item in items[:10]:
        full = api.get(f'{API}/procedures/{item["code"]}', expect=200).doc
        assert agency in full['agency_codes'], f'{item["code"]} is not implemented by {agency}'


@pytest.mark.parametrize('param,value,check', [
    ('admin_level', 'commune', lambda i: i['admin_level'] == 'commune'),
    ('admin_level', 'province', lambda i: i['admin_level'] == 'province'),
    ('online_level', '4', lambda i: i['online_level'] == 4),
    ('online_level', '2', lambda i: i['online_level'] == 2),
    ('channel', 'online', lambda i: 'online' in i['channels']),
    ('channel', 'postal', lambda i: 'postal' in i['channels']),
])
def test_procedures_filters(api, param, value, check):
    items = walk_pages(api, f'{API}/procedures', params={param: value}, limit=50)
    assert all(check(i) for i in items), [i for i in items if not check(i)][:3]
    everything = walk_pages(api, f'{API}/procedures', limit=100)
    assert codes(items) == [i['code'] for i in everything if check(i)]


def test_procedures_combined_filters(api):
    items = walk_pages(api, f'{API}/procedures',
                       params={'admin_level': 'commune', 'channel': 'online', 'online_level': '4'}, limit=50)
    for i in items:
        assert i['admin_level'] == 'commune' and 'online' in i['channels'] and i['online_level'] == 4


@pytest.mark.parametrize('params,parameter', [
    ({'limit': 0}, 'limit'),
    ({'limit': 101}, 'limit'),
    ({'limit': -1}, 'limit'),
    ({'limit': 'abc'}, 'limit'),
    ({'limit': '1.5'}, 'limit'),
    ({'limit': '4294967297'}, 'limit'),
    ({'cursor': '!!!not-a-cursor!!!'}, 'cursor'),
    ({'cursor': 'AAAA'}, 'cursor'),
    ({'admin_level': 'ward'}, 'admin_level'),
    ({'online_level': '0'}, 'online_level'),
    ({'online_level': '5'}, 'online_level'),
    ({'online_level': 'x'}, 'online_level'),
    ({'channel': 'fax'}, 'channel'),
    ({'q': 'x' * 201}, 'q'),
])
def test_procedures_bad_parameters(api, params, parameter):
    r = api.get(f'{API}/procedures', params=params, expect=400)
    doc = assert_problem(r, 400, 'request.bad_query')
    assert parameter in error_parameters(doc), doc


def test_every_bad_parameter_is_reported_at_once(api):
    r = api.get(f'{API}/procedures', params={'limit': 0, 'channel': 'fax', 'online_level': 9}, expect=400)
    doc = assert_problem(r, 400, 'request.bad_query')
    assert {'limit', 'channel', 'online_level'} <= error_parameters(doc)


def test_limit_100_is_allowed(api):
    # 100 is honoured, not clamped or refused: the page holds min(100, all) items, in the
    # order of smaller pages, and has a next page exactly when there are more.
    for path in ('procedures', 'sectors', 'agencies'):
        codes, cursor = [], None
        while True:
            params = {'limit': 30, **({'cursor': cursor} if cursor else {})}
            small = api.get(f'{API}/{path}', params=params, expect=200).doc
            codes += [x['code'] for x in small['items']]
            cursor = small['next_cursor']
            if cursor is None:
                break
        page = api.get(f'{API}/{path}', params={'limit': 100}, expect=200).doc
        assert [x['code'] for x in page['items']] == codes[:100], path
        assert (page['next_cursor'] is None) == (len(codes) <= 100), path


# ---------------------------------------------------------------------------
# Procedures: single reads and versions

def test_get_birth_registration(api):
    r = api.get(f'{API}/procedures/{BIRTH_REGISTRATION}', expect=200)
    p = r.doc
    assert p['code'] == BIRTH_REGISTRATION
    assert fold(p['name']) == 'dang ky khai sinh'
    assert p['status'] == 'published'
    assert p['published_at'] is not None
    assert p['sector']['code'] == p['sector_code']
    assert len(p['cases']) >= 1
    summary = [i for i in api.get(f'{API}/procedures', params={'q': BIRTH_REGISTRATION}).doc['items']
               if i['code'] == BIRTH_REGISTRATION]
    assert summary, 'the procedure must be found by its code'
    s = summary[0]
    assert (s['name'], s['version'], s['admin_level'], s['online_level'], s['online_scope']) == (
        p['name'], p['version'], p['admin_level'], p['online_level'], p['online_scope'])
    assert set(s['channels']) == {ch['channel'] for case in p['cases'] for ch in case['channels']}
    assert s['sector'] == p['sector']


def test_versions_of_a_published_procedure(api):
    current = api.get(f'{API}/procedures/{CRIMINAL_RECORD}', expect=200).doc
    r = api.get(f'{API}/procedures/{CRIMINAL_RECORD}/versions', expect=200)
    versions = r.doc['items']
    assert r.doc['next_cursor'] is None
    numbers = [v['version'] for v in versions]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    assert all(v['status'] == 'published' for v in versions), 'drafts are not listed to the public'
    assert current['version'] in numbers
    one = api.get(f'{API}/procedures/{CRIMINAL_RECORD}/versions/{current["version"]}', expect=200).doc
    assert one == current
    for v in versions:
        doc = api.get(f'{API}/procedures/{CRIMINAL_RECORD}/versions/{v["version"]}', expect=200).doc
        assert doc['version'] == v['version'] and doc['status'] == 'published'
        assert doc['published_at'] == v['published_at']


def test_unknown_procedure_and_version(api):
    r = api.get(f'{API}/procedures/9.999999.Nothing', expect=404)
    assert_problem(r, 404, 'catalogue.procedure_not_found')
    r = api.get(f'{API}/procedures/9.999999.Nothing/versions', expect=404)
    assert_problem(r, 404, 'catalogue.procedure_not_found')
    r = api.get(f'{API}/procedures/{BIRTH_REGISTRATION}/versions/999999', expect=404)
    assert_problem(r, 404, 'catalogue.version_not_found')
    r = api.get(f'{API}/procedures/{BIRTH_REGISTRATION}/versions/abc', expect=(400, 404))


def test_draft_is_not_public(api):
    r = api.get(f'{API}/procedures/{BIRTH_REGISTRATION}/draft', expect=401)
    assert 'Bearer' in r.headers['WWW-Authenticate']


# ---------------------------------------------------------------------------
# Keyset pagination under concurrent inserts

def test_pagination_neither_skips_nor_repeats_when_rows_are_inserted(api, admin):
    before = codes(walk_pages(api, f'{API}/sectors', limit=100))
    r = api.get(f'{API}/sectors', params={'limit': 3}, expect=200)
    seen = codes(r.doc['items'])
    cursor = r.doc['next_cursor']
    assert cursor
    # Insert a sector that sorts after the cursor position while walking.
    late = 'zz-test-' + cd.new_sector_code()[5:]
    api.post(f'{API}/sectors', token=admin, json=cd.sector_body(late), expect=201)
    while cursor:
        r = api.get(f'{API}/sectors', params={'limit': 3, 'cursor': cursor}, expect=200)
        seen += codes(r.doc['items'])
        cursor = r.doc['next_cursor']
    assert len(seen) == len(set(seen)), 'a page repeated an item'
    assert set(before) <= set(seen), f'items skipped: {set(before) - set(seen)}'
    assert late in seen, 'an item inserted after the cursor position must appear'
    assert seen == sorted(seen)
