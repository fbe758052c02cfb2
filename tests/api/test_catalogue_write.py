"""Writes: creation, the draft -> publish lifecycle, optimistic concurrency,
idempotent creation, who may write what, and validation reports."""
from __future__ import annotations

import json
import threading

import pytest

import catalogue_data as cd
from catalogue_data import API, ROOT_AGENCY
from motcua_api import assert_problem, error_pointers, unique_suffix


# ---------------------------------------------------------------------------
# Sectors

def test_create_and_read_sector(api, admin):
    body = cd.sector_body(name='Lĩnh vực Kiểm thử', description='Mô tả có dấu: ắ ặ ẫ ữ ự đ')
    r = api.post(f'{API}/sectors', token=admin, json=body, expect=201)
    assert r.doc == dict(body, revision=1)
    assert r.headers['Location'].endswith(f'/sectors/{body["code"]}')
    got = api.get(f'{API}/sectors/{body["code"]}', expect=200)
    assert got.doc == r.doc
    assert api.get(r.headers['Location'], expect=200).doc == r.doc


def test_create_sector_without_description(api, admin):
    code = cd.new_sector_code()
    r = api.post(f'{API}/sectors', token=admin, json={'code': code, 'name': 'Không mô tả'}, expect=201)
    assert r.doc['description'] is None


def test_duplicate_sector_is_409(api, admin):
    sector = cd.create_sector(api, admin)
    r = api.post(f'{API}/sectors', token=admin, json=cd.sector_body(sector['code']), expect=409)
    assert_problem(r, 409, 'catalogue.sector_exists')


def test_update_sector_needs_if_match(api, admin):
    sector = cd.create_sector(api, admin)
    path = f'{API}/sectors/{sector["code"]}'
    etag = api.get(path, expect=200).headers['ETag']
    change = dict(cd.sector_body(sector['code']), name='Tên mới')
    r = api.put(path, token=admin, json=change, expect=428)
    assert_problem(r, 428, 'http.precondition_required')
    r = api.put(path, token=admin, json=change, headers={'If-Match': '"stale"'}, expect=412)
    assert_problem(r, 412, 'http.precondition_failed')
    assert api.get(path).doc == sector, 'a refused write changed nothing'
    r = api.put(path, token=admin, json=change, headers={'If-Match': etag}, expect=200)
    assert r.doc['name'] == 'Tên mới' and r.doc['revision'] == sector['revision'] + 1
    after = api.get(path, expect=200)
    assert after.doc == r.doc
    assert after.headers['ETag'] != etag
    r = api.put(path, token=admin, json=dict(change, name='Lần nữa'), headers={'If-Match': etag}, expect=412)
    assert_problem(r, 412, 'http.precondition_failed')
    api.get(path, headers={'If-None-Match': etag}, expect=200)


def test_update_unknown_sector(api, admin):
    code = cd.new_sector_code()
    r = api.put(f'{API}/sectors/{code}', token=admin, json=cd.sector_body(code), headers={'If-Match': '"1"'},
                expect=(404, 412))
    assert r.status_code == 412 or r.doc['code'] == 'catalogue.sector_not_found'
    api.get(f'{API}/sectors/{code}', expect=404)


def test_sector_code_cannot_change(api, admin):
    sector = cd.create_sector(api, admin)
    path = f'{API}/sectors/{sector["code"]}'
    etag = api.get(path).headers['ETag']
    other = cd.new_sector_code()
    r = api.put(path, token=admin, json=cd.sector_body(other), headers={'If-Match': etag}, expect=422)
    assert '/code' in error_pointers(assert_problem(r, 422, 'request.validation_failed'))
    api.get(f'{API}/sectors/{other}', expect=404)


def test_concurrent_updates_one_wins(api, admin):
    sector = cd.create_sector(api, admin)
    path = f'{API}/sectors/{sector["code"]}'
    etag = api.get(path).headers['ETag']
    results = []
    barrier = threading.Barrier(4)

    def writer(i):
        barrier.wait()
        r = api.put(path, token=admin, json=dict(cd.sector_body(sector['code']), name=f'Người ghi {i}'),
                    headers={'If-Match': etag})
        results.append(r.status_code)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 412, 412, 412], results
    assert api.get(path).doc['revision'] == sector['revision'] + 1


@pytest.mark.parametrize('body,pointers', [
    ({'code': 'Bad Code', 'name': 'x'}, {'/code'}),
    ({'code': 'ok-code-x', 'name': ''}, {'/name'}),
    ({'code': 'ok-code-x', 'name': '   '}, {'/name'}),
    ({'code': 'ok-code-x'}, {'/name'}),
    ({'name': 'Thiếu mã'}, {'/code'}),
    ({'code': 'ok-code-x', 'name': 'x' * 501}, {'/name'}),
    ({'code': 'ok-code-x', 'name': 'x', 'description': 'd' * 20001}, {'/description'}),
    ({'code': 'ok-code-x', 'name': 'x', 'colour': 'red'}, {'/colour'}),
    ({'code': 7, 'name': ['x'], 'description': 1}, {'/code', '/name', '/description'}),
    ({'code': 'a' * 65, 'name': 'x'}, {'/code'}),
])
def test_sector_validation(api, admin, body, pointers):
    r = api.post(f'{API}/sectors', token=admin, json=body, expect=422)
    doc = assert_problem(r, 422, 'request.validation_failed')
    assert pointers <= error_pointers(doc), doc


@pytest.mark.parametrize('text', ['[]', '[{"code": "x", "name": "y"}]', '"x"', '1', 'null', 'true'])
def test_body_must_be_an_object(api, admin, text):
    r = api.post(f'{API}/sectors', token=admin, data=text.encode(), headers={'Content-Type': 'application/json'},
                 expect=(400, 422))
    if r.status_code == 422:
        assert '' in error_pointers(assert_problem(r, 422, 'request.validation_failed'))
    else:
        assert not text.startswith('['), 'an array is valid JSON: 422 with the pointer ""'
        assert_problem(r, 400, 'request.malformed_json')


# ---------------------------------------------------------------------------
# Idempotency-Key

def test_idempotent_create_replays_the_first_response(api, admin):
    key = f'test-{unique_suffix(16)}'
    body = cd.sector_body()
    first = api.post(f'{API}/sectors', token=admin, json=body, headers={'Idempotency-Key': key}, expect=201)
    again = api.post(f'{API}/sectors', token=admin, json=body, headers={'Idempotency-Key': key}, expect=201)
    assert again.doc == first.doc
    assert again.headers['Location'] == first.headers['Location']
    assert first.headers.get('Idempotent-Replayed') is None
    assert again.headers.get('Idempotent-Replayed') == 'true'
    got = api.get(f'{API}/sectors/{body["code"]}', expect=200)
    assert got.doc['revision'] == 1, 'the replay must not have written anything'
    # Without the key, the same body is a real second create: a conflict.
    api.post(f'{API}/sectors', token=admin, json=body, expect=409)


def test_idempotency_key_reused_with_another_body(api, admin):
    key = f'test-{unique_suffix(16)}'
    api.post(f'{API}/sectors', token=admin, json=cd.sector_body(), headers={'Idempotency-Key': key}, expect=201)
    other = cd.sector_body()
    r = api.post(f'{API}/sectors', token=admin, json=other, headers={'Idempotency-Key': key}, expect=409)
    assert_problem(r, 409, 'idempotency.key_reused')
    api.get(f'{API}/sectors/{other["code"]}', expect=404)
    r = api.post(f'{API}/agencies', token=admin, json=cd.agency_body(), headers={'Idempotency-Key': key}, expect=409)
    assert_problem(r, 409, 'idempotency.key_reused')


def test_idempotency_keys_are_per_caller(api, admin, tokens, minter):
    other_admin = minter.mint('test-system-admin-2', ['system_admin'])
    key = f'test-{unique_suffix(16)}'
    a = cd.sector_body()
    b = cd.sector_body()
    api.post(f'{API}/sectors', token=admin, json=a, headers={'Idempotency-Key': key}, expect=201)
    r = api.post(f'{API}/sectors', token=other_admin, json=b, headers={'Idempotency-Key': key}, expect=201)
    assert r.doc['code'] == b['code']


def test_idempotent_procedure_create(api, admin):
    key = f'test-{unique_suffix(16)}'
    body = cd.procedure_body()
    first = api.post(f'{API}/procedures', token=admin, json=body, headers={'Idempotency-Key': key}, expect=201)
    again = api.post(f'{API}/procedures', token=admin, json=body, headers={'Idempotency-Key': key}, expect=201)
    assert again.doc == first.doc
    r = api.get(f'{API}/procedures/{body["code"]}/versions', token=admin, expect=200)
    assert [v['version'] for v in r.doc['items']] == [1]


@pytest.mark.parametrize('key', ['k' * 256, 'khóa-có-dấu', 'tab\there', 'del\x7f'])
def test_invalid_idempotency_key(api, admin, key):
    body = cd.sector_body()
    headers = [('Content-Type', 'application/json'), ('Authorization', f'Bearer {admin}'),
               ('Idempotency-Key', key)]
    payload = json.dumps(body).encode()
    r = api.raw('POST', f'{API}/sectors', [(k, v.encode('utf-8').decode('latin-1')) for k, v in headers],
                payload, expect=400)
    assert_problem(r, 400, 'idempotency.invalid_key')
    api.get(f'{API}/sectors/{body["code"]}', expect=404)


def test_idempotency_key_of_255_characters_is_fine(api, admin):
    body = cd.sector_body()
    key = ('~ !{}' + unique_suffix(16)).ljust(255, 'x')
    first = api.post(f'{API}/sectors', token=admin, json=body, headers={'Idempotency-Key': key}, expect=201)
    assert first.doc['code'] == body['code'] and first.doc['name'] == body['name']
    assert first.headers.get('Idempotent-Replayed') is None
    # the whole key is kept: a retry with it replays the first answer, nothing new made
    again = api.post(f'{API}/sectors', token=admin, json=body, headers={'Idempotency-Key': key}, expect=201)
    assert again.headers.get('Idempotent-Replayed') == 'true' and again.doc == first.doc
    assert again.headers['Location'] == first.headers['Location']
    # a key differing only in its last character is another key: same body, 409 exists
    other = key[:-1] + 'y'
    r = api.post(f'{API}/sectors', token=admin, json=body, headers={'Idempotency-Key': other}, expect=409)
    assert_problem(r, 409, 'catalogue.sector_exists')
    assert api.get(f'{API}/sectors/{body["code"]}', expect=200).doc == first.doc


# ---------------------------------------------------------------------------
# Agencies

def test_create_agency_with_defaults(api, admin):
    body = cd.agency_body()
    del body['office_hours'], body['same_day_cutoff'], body['address'], body['phone'], body['email']
    r = api.post(f'{API}/agencies', token=admin, json=body, expect=201)
    a = r.doc
    assert a['office_hours'] == [{'start': '07:00', 'end': '11:30'}, {'start': '13:30', 'end': '17:00'}]
    assert a['same_day_cutoff'] == '15:00'
    assert a['address'] is None and a['revision'] == 1
    assert r.headers['Location'].endswith(f'/agencies/{body["code"]}')
    assert api.get(f'{API}/agencies/{body["code"]}').doc == a


def test_duplicate_agency_is_409(api, admin):
    a = cd.create_agency(api, admin)
    r = api.post(f'{API}/agencies', token=admin, json=cd.agency_body(a['code']), expect=409)
    assert_problem(r, 409, 'catalogue.agency_exists')


def test_agency_validation_reports_every_field(api, admin):
    body = cd.agency_body(code='000.00.6.H56', admin_level='ward', parent_code='999.99.99.Q99',
                          office_hours=[{'start': '07:00', 'end': '11:30'}, {'start': '11:00', 'end': '17:00'}],
                          same_day_cutoff='25:00', extra='x')
    r = api.post(f'{API}/agencies', token=admin, json=body, expect=422)
    ptrs = error_pointers(assert_problem(r, 422, 'request.validation_failed'))
    assert {'/code', '/admin_level', '/same_day_cutoff', '/extra'} <= ptrs, ptrs
    assert any(p.startswith('/office_hours') for p in ptrs), ptrs


def test_agency_parent_must_exist(api, admin):
    r = api.post(f'{API}/agencies', token=admin, json=cd.agency_body(parent='999.99.99.Q99'), expect=422)
    assert '/parent_code' in error_pointers(assert_problem(r, 422, 'request.validation_failed'))


@pytest.mark.parametrize('hours', [
    [],
    [{'start': '07:00', 'end': '08:00'}] * 5,
    [{'start': '13:30', 'end': '17:00'}, {'start': '07:00', 'end': '11:30'}],
    [{'start': '11:00', 'end': '10:00'}],
    [{'start': '7:00', 'end': '11:30'}],
    [{'start': '07:00'}],
])
def test_agency_office_hours_rules(api, admin, hours):
    r = api.post(f'{API}/agencies', token=admin, json=cd.agency_body(office_hours=hours), expect=422)
    ptrs = error_pointers(assert_problem(r, 422, 'request.validation_failed'))
    assert any(p.startswith('/office_hours') for p in ptrs), ptrs


def test_agency_tree_cannot_become_cyclic(api, admin):
    a = cd.create_agency(api, admin)
    b = cd.create_agency(api, admin, parent=a['code'])
    path = f'{API}/agencies/{a["code"]}'
    etag = api.get(path).headers['ETag']
    r = api.put(path, token=admin, json=dict(cd.agency_body(a['code'], parent=b['code'])),
                headers={'If-Match': etag}, expect=422)
    assert_problem(r, 422)
    r = api.put(path, token=admin, json=dict(cd.agency_body(a['code'], parent=a['code'])),
                headers={'If-Match': etag}, expect=422)
    assert_problem(r, 422)
    assert api.get(path).doc['parent_code'] == ROOT_AGENCY


def test_update_agency(api, admin):
    a = cd.create_agency(api, admin)
    path = f'{API}/agencies/{a["code"]}'
    etag = api.get(path).headers['ETag']
    change = cd.agency_body(a['code'], name='Ủy ban nhân dân xã Đổi Tên',
                            office_hours=[{'start': '07:30', 'end': '11:30'}, {'start': '13:00', 'end': '16:30'}],
                            same_day_cutoff='14:30')
    r = api.put(path, token=admin, json=change, expect=428)
    r = api.put(path, token=admin, json=change, headers={'If-Match': etag}, expect=200)
    assert r.doc['name'] == 'Ủy ban nhân dân xã Đổi Tên'
    assert r.doc['office_hours'][0] == {'start': '07:30', 'end': '11:30'}
    assert r.doc['same_day_cutoff'] == '14:30'
    assert r.doc['revision'] == 2
    api.put(path, token=admin, json=change, headers={'If-Match': etag}, expect=412)


def test_agencies_parent_filter_is_direct_children(api, admin):
    a = cd.create_agency(api, admin)
    b = cd.create_agency(api, admin, parent=a['code'])
    kids = api.get(f'{API}/agencies', params={'parent': a['code']}, expect=200).doc['items']
    assert [k['code'] for k in kids] == [b['code']]
    grand = cd.walk_pages(api, f'{API}/agencies', params={'parent': ROOT_AGENCY}, limit=100)
    assert b['code'] not in [g['code'] for g in grand]
    assert a['code'] in [g['code'] for g in grand]


# ---------------------------------------------------------------------------
# Who may write

@pytest.fixture(scope='module')
def subtree(api, admin):
    """An agency X (child of the root) with a child Y, for agency_admin tests."""
    x = cd.create_agency(api, admin, name='Sở Kiểm Thử tỉnh Thanh Hóa', admin_level='province')
    y = cd.create_agency(api, admin, parent=x['code'])
    return x['code'], y['code']


def test_agency_admin_creates_inside_own_subtree(api, tokens, subtree):
    x, y = subtree
    token = tokens.agency_admin(x)
    child = cd.create_agency(api, token, parent=x)
    grandchild = cd.create_agency(api, token, parent=y)
    assert child['parent_code'] == x and grandchild['parent_code'] == y


def test_agency_admin_cannot_create_outside(api, tokens, subtree, departments):
    x, _ = subtree
    token = tokens.agency_admin(x)
    for parent in (departments[0], ROOT_AGENCY, None):
        body = cd.agency_body(parent=parent)
        r = api.post(f'{API}/agencies', token=token, json=body, expect=403)
        assert_problem(r, 403, 'auth.forbidden')
        api.get(f'{API}/agencies/{body["code"]}', expect=404)


def test_agency_admin_updates_inside_own_subtree(api, tokens, subtree):
    x, y = subtree
    token = tokens.agency_admin(x)
    for code in (x, y):
        path = f'{API}/agencies/{code}'
        cur = api.get(path, expect=200)
        body = cd.document_of(cur.doc)
        body.pop('revision', None)
        body['phone'] = '0237 3999 999'
        r = api.put(path, token=token, json=body, headers={'If-Match': cur.headers['ETag']}, expect=200)
        assert r.doc['phone'] == '0237 3999 999'


def test_agency_admin_cannot_update_outside_or_move_out(api, tokens, subtree, departments):
    x, y = subtree
    token = tokens.agency_admin(x)
    outside = api.get(f'{API}/agencies/{departments[0]}', expect=200)
    body = {k: v for k, v in outside.doc.items() if k != 'revision'}
    r = api.put(f'{API}/agencies/{departments[0]}', token=token, json=dict(body, phone='0000'),
                headers={'If-Match': outside.headers['ETag']}, expect=403)
    assert_problem(r, 403, 'auth.forbidden')
    assert api.get(f'{API}/agencies/{departments[0]}').doc == outside.doc
    inner = api.get(f'{API}/agencies/{y}', expect=200)
    body = {k: v for k, v in inner.doc.items() if k != 'revision'}
    r = api.put(f'{API}/agencies/{y}', token=token, json=dict(body, parent_code=departments[0]),
                headers={'If-Match': inner.headers['ETag']}, expect=403)
    assert api.get(f'{API}/agencies/{y}').doc['parent_code'] == x


def test_agency_admin_and_procedures(api, admin, tokens, subtree, departments):
    x, y = subtree
    token = tokens.agency_admin(x)
    own = cd.create_procedure(api, token, agencies=[y, x])
    published = cd.publish(api, token, own['code'])
    assert published['status'] == 'published'
    body = cd.procedure_body(agencies=[y, departments[0]])
    r = api.post(f'{API}/procedures', token=token, json=body, expect=403)
    assert_problem(r, 403, 'auth.forbidden')
    api.get(f'{API}/procedures/{body["code"]}/draft', token=admin, expect=404)
    # A procedure of someone else's agencies: no draft, no publish, no read of its draft.
    foreign = cd.create_procedure(api, admin, agencies=[departments[0]])
    code = foreign['code']
    api.get(f'{API}/procedures/{code}/draft', token=token, expect=403)
    etag = cd.draft_etag(api, admin, code)
    api.post(f'{API}/procedures/{code}/publish', token=token, headers={'If-Match': etag}, expect=403)
    api.put(f'{API}/procedures/{code}/draft', token=token, headers={'If-Match': etag},
            json=cd.procedure_body(code, agencies=[y]), expect=403)
    api.delete(f'{API}/procedures/{code}/draft', token=token, headers={'If-Match': etag}, expect=403)
    assert cd.draft_etag(api, admin, code) == etag, 'refused writes changed the draft'


def test_agency_admin_cannot_write_sectors_or_calendar(api, tokens, subtree):
    x, _ = subtree
    token = tokens.agency_admin(x)
    body = cd.sector_body()
    api.post(f'{API}/sectors', token=token, json=body, expect=403)
    api.get(f'{API}/sectors/{body["code"]}', expect=404)
    api.put(f'{API}/calendar/days/2033-03-15', token=token,
            json={'date': '2033-03-15', 'kind': 'day_off', 'name': 'Không được phép'}, expect=403)


WRITES = [
    ('POST', f'{API}/sectors', lambda: cd.sector_body()),
    ('PUT', f'{API}/sectors/ho-tich', lambda: cd.sector_body('ho-tich', name='Hộ tịch')),
    ('POST', f'{API}/agencies', lambda: cd.agency_body()),
    ('PUT', f'{API}/agencies/{ROOT_AGENCY}', lambda: cd.agency_body(ROOT_AGENCY, parent=None)),
    ('POST', f'{API}/procedures', lambda: cd.procedure_body()),
    ('PUT', f'{API}/procedures/{cd.BIRTH_REGISTRATION}/draft', lambda: cd.procedure_body(cd.BIRTH_REGISTRATION)),
    ('DELETE', f'{API}/procedures/{cd.BIRTH_REGISTRATION}/draft', None),
    ('POST', f'{API}/procedures/{cd.BIRTH_REGISTRATION}/publish', None),
    ('PUT', f'{API}/calendar/days/2034-06-13', lambda: {'date': '2034-06-13', 'kind': 'day_off', 'name': 'x'}),
    ('DELETE', f'{API}/calendar/days/2034-06-13', None),
]


@pytest.mark.parametrize('method,path,body', WRITES, ids=[f'{m} {p}' for m, p, _ in WRITES])
def test_writes_without_token_are_401(api, method, path, body):
    kw = {'json': body()} if body else {}
    r = api.request(method, path, headers={'If-Match': '"x"'}, expect=401, **kw)
    assert_problem(r, 401, 'auth.unauthenticated')
    assert r.headers['WWW-Authenticate'].startswith('Bearer')


@pytest.mark.parametrize('who', ['citizen', 'officer'])
@pytest.mark.parametrize('method,path,body', WRITES, ids=[f'{m} {p}' for m, p, _ in WRITES])
def test_writes_by_citizen_or_officer_are_403(api, tokens, who, method, path, body):
    kw = {'json': body()} if body else {}
    r = api.request(method, path, token=getattr(tokens, who), headers={'If-Match': '"x"'}, expect=403, **kw)
    assert_problem(r, 403, 'auth.forbidden')


def test_writer_only_reads(api, tokens, admin):
    p = cd.create_procedure(api, admin)
    code = p['code']
    api.get(f'{API}/procedures/{code}/draft', expect=401)
    api.get(f'{API}/procedures/{code}/draft', token=tokens.citizen, expect=403)
    assert api.get(f'{API}/procedures/{code}/draft', token=admin, expect=200).doc == p


# ---------------------------------------------------------------------------
# Procedure lifecycle

def test_procedure_lifecycle(api, admin):
    body = cd.procedure_body(name='Thủ tục vòng đời kiểm thử')
    code = body['code']
    r = api.post(f'{API}/procedures', token=admin, json=body, expect=201)
    draft = r.doc
    assert cd.document_of(draft) == body
    assert (draft['version'], draft['status'], draft['published_at']) == (1, 'draft', None)
    assert draft['sector'] == {'code': 'ho-tich', 'name': api.get(f'{API}/sectors/ho-tich').doc['name']}
    assert code in r.headers['Location']

    # Not public before publication.
    assert_problem(api.get(f'{API}/procedures/{code}', expect=404), 404, 'catalogue.procedure_not_found')
    assert code not in [i['code'] for i in api.get(f'{API}/procedures', params={'q': code}).doc['items']]
    api.get(f'{API}/procedures/{code}/versions/1', expect=404)
    assert api.get(f'{API}/procedures/{code}/versions/1', token=admin, expect=200).doc == draft
    listed = api.get(f'{API}/procedures/{code}/versions', token=admin, expect=200).doc['items']
    assert listed == [{'version': 1, 'status': 'draft', 'published_at': None}]

    # Publishing needs the draft's ETag.
    etag1 = cd.draft_etag(api, admin, code)
    assert_problem(api.post(f'{API}/procedures/{code}/publish', token=admin, expect=428), 428,
                   'http.precondition_required')
    assert_problem(api.post(f'{API}/procedures/{code}/publish', token=admin, headers={'If-Match': '"nope"'},
                            expect=412), 412, 'http.precondition_failed')
    r = api.post(f'{API}/procedures/{code}/publish', token=admin, headers={'If-Match': etag1}, expect=200)
    v1 = r.doc
    assert (v1['version'], v1['status']) == (1, 'published') and v1['published_at']
    assert cd.document_of(v1) == body
    assert_problem(api.get(f'{API}/procedures/{code}/draft', token=admin, expect=404), 404, 'catalogue.no_draft')
    pub = api.get(f'{API}/procedures/{code}', expect=200)
    assert pub.doc == v1
    etag_v1 = pub.headers['ETag']
    hits = api.get(f'{API}/procedures', params={'q': code}).doc['items']
    assert hits and hits[0]['code'] == code and hits[0]['version'] == 1

    # A new draft (version 2) does not change what the public sees.
    body2 = dict(body, name='Thủ tục vòng đời kiểm thử (sửa đổi)', online_level=3)
    r = api.put(f'{API}/procedures/{code}/draft', token=admin, json=body2, expect=(200, 201))
    assert (r.doc['version'], r.doc['status']) == (2, 'draft')
    assert api.get(f'{API}/procedures/{code}').doc == v1
    # Replacing the draft now needs its ETag.
    assert_problem(api.put(f'{API}/procedures/{code}/draft', token=admin, json=body2, expect=428), 428,
                   'http.precondition_required')
    etag2 = cd.draft_etag(api, admin, code)
    body2b = dict(body2, result='Giấy khai sinh (bản chính) và bản sao')
    r = api.put(f'{API}/procedures/{code}/draft', token=admin, json=body2b, headers={'If-Match': etag2},
                expect=200)
    assert r.doc['version'] == 2 and r.doc['result'] == body2b['result']
    api.put(f'{API}/procedures/{code}/draft', token=admin, json=body2, headers={'If-Match': etag2}, expect=412)

    v2 = cd.publish(api, admin, code)
    assert (v2['version'], v2['status']) == (2, 'published')
    assert cd.document_of(v2) == body2b
    cur = api.get(f'{API}/procedures/{code}', expect=200)
    assert cur.doc == v2 and cur.headers['ETag'] != etag_v1
    api.get(f'{API}/procedures/{code}', headers={'If-None-Match': etag_v1}, expect=200)
    # Version 1 is still there, unchanged.
    assert api.get(f'{API}/procedures/{code}/versions/1', expect=200).doc == v1
    versions = api.get(f'{API}/procedures/{code}/versions', expect=200).doc['items']
    assert [(v['version'], v['status']) for v in versions] == [(1, 'published'), (2, 'published')]
    hits = api.get(f'{API}/procedures', params={'q': code}).doc['items']
    assert hits[0]['version'] == 2 and hits[0]['online_level'] == 3

    # A draft of version 3 that is discarded leaves no trace.
    api.put(f'{API}/procedures/{code}/draft', token=admin, json=dict(body2b, name='Bỏ đi'), expect=(200, 201))
    etag3 = cd.draft_etag(api, admin, code)
    assert_problem(api.delete(f'{API}/procedures/{code}/draft', token=admin, expect=428), 428,
                   'http.precondition_required')
    api.delete(f'{API}/procedures/{code}/draft', token=admin, headers={'If-Match': '"old"'}, expect=412)
    api.delete(f'{API}/procedures/{code}/draft', token=admin, headers={'If-Match': etag3}, expect=204)
    api.get(f'{API}/procedures/{code}/draft', token=admin, expect=404)
    assert [v['version'] for v in api.get(f'{API}/procedures/{code}/versions', token=admin).doc['items']] == [1, 2]
    assert api.get(f'{API}/procedures/{code}').doc == v2
    r = api.post(f'{API}/procedures/{code}/publish', token=admin, headers={'If-Match': etag3}, expect=404)
    assert_problem(r, 404, 'catalogue.no_draft')


def test_published_versions_are_immutable(api, admin):
    p = cd.create_published_procedure(api, admin)
    path = f'{API}/procedures/{p["code"]}/versions/1'
    for method in ('PUT', 'PATCH', 'DELETE', 'POST'):
        r = api.request(method, path, token=admin, json=cd.procedure_body(p['code']), expect=405)
        assert 'GET' in r.headers['Allow']
    assert api.get(path).doc == p
    r = api.request('DELETE', f'{API}/procedures/{p["code"]}', token=admin, expect=405)
    assert api.get(f'{API}/procedures/{p["code"]}').doc == p


def test_duplicate_procedure_is_409(api, admin):
    p = cd.create_procedure(api, admin)
    r = api.post(f'{API}/procedures', token=admin, json=cd.procedure_body(p['code']), expect=409)
    assert_problem(r, 409, 'catalogue.procedure_exists')
    r = api.post(f'{API}/procedures', token=admin, json=cd.procedure_body(cd.BIRTH_REGISTRATION), expect=409)
    assert_problem(r, 409, 'catalogue.procedure_exists')


def test_put_draft_of_unknown_procedure_is_404(api, admin):
    code = cd.new_procedure_code()
    r = api.put(f'{API}/procedures/{code}/draft', token=admin, json=cd.procedure_body(code), expect=404)
    assert_problem(r, 404, 'catalogue.procedure_not_found')


def test_put_draft_code_must_match_path(api, admin):
    p = cd.create_published_procedure(api, admin)
    r = api.put(f'{API}/procedures/{p["code"]}/draft', token=admin, json=cd.procedure_body(), expect=422)
    assert '/code' in error_pointers(assert_problem(r, 422, 'request.validation_failed'))


def test_procedure_validation_reports_every_structural_problem(api, admin):
    body = cd.procedure_body()
    body['online_level'] = 5
    body['online_scope'] = 'most'
    body['applicant_types'] = []
    body['admin_level'] = 'village'
    body['unexpected'] = True
    case = body['cases'][0]
    case['code'] = 'Bad Case'
    case['channels'][0]['time_limit'] = {'value': -1, 'unit': 'weeks'}
    case['channels'][0]['fees'][0]['amount'] = 1.5
    case['channels'][1]['channel'] = 'online'          # duplicate channel
    case['documents'][0]['copies'] = -1
    case['processing_steps'][0]['allowance_hours'] = 0
    case['processing_steps'][1]['role'] = 'citizen'
    case['form_schema']['properties']['dob']['format'] = 'birthday'
    case['form_schema']['properties']['child_full_name']['minLength'] = 'one'
    r = api.post(f'{API}/procedures', token=admin, json=body, expect=422)
    ptrs = error_pointers(assert_problem(r, 422, 'request.validation_failed'))
    expected = {
        '/online_level', '/online_scope', '/applicant_types', '/admin_level', '/unexpected',
        '/cases/0/code',
        '/cases/0/channels/0/time_limit/value', '/cases/0/channels/0/time_limit/unit',
        '/cases/0/channels/0/fees/0/amount',
        '/cases/0/documents/0/copies',
        '/cases/0/processing_steps/0/allowance_hours', '/cases/0/processing_steps/1/role',
        '/cases/0/form_schema/properties/dob/format',
        '/cases/0/form_schema/properties/child_full_name/minLength',
    }
    assert expected <= ptrs, f'missing: {sorted(expected - ptrs)}; got {sorted(ptrs)}'
    assert any(p.startswith('/cases/0/channels/1') for p in ptrs), 'duplicate channel not reported'
    api.get(f'{API}/procedures/{body["code"]}/draft', token=admin, expect=404)


def test_procedure_validation_reports_unknown_references_with_schema_problems(api, admin):
    body = cd.procedure_body(sector=f'khong-co-{unique_suffix()}', agencies=['000.01.01.H56', '999.99.99.Q99'])
    body['cases'][0]['form_schema']['properties']['dob']['format'] = 'birthday'
    r = api.post(f'{API}/procedures', token=admin, json=body, expect=422)
    ptrs = error_pointers(assert_problem(r, 422, 'request.validation_failed'))
    assert {'/sector_code', '/agency_codes/1', '/cases/0/form_schema/properties/dob/format'} <= ptrs, ptrs
    assert '/agency_codes/0' not in ptrs


@pytest.mark.parametrize('mutate,pointer', [
    (lambda b: b.update(cases=[]), '/cases'),
    (lambda b: b.update(agency_codes=[]), '/agency_codes'),
    (lambda b: b.update(code='1.00119'), '/code'),
    (lambda b: b.update(name=' '), '/name'),
    (lambda b: b.update(description='x' * 20001), '/description'),
    (lambda b: b.update(supplement_clock='pause'), '/supplement_clock'),
    (lambda b: b.update(legal_basis=[{'number': '60/2014/QH13', 'title': 'Luật', 'issued_on': '2014-02-30'}]),
     '/legal_basis/0/issued_on'),
    (lambda b: b['cases'].append(dict(b['cases'][0])), '/cases/1/code'),
    (lambda b: b['cases'][0].update(channels=[]), '/cases/0/channels'),
    (lambda b: b['cases'][0]['channels'][0].update(time_limit={'value': 1.5, 'unit': 'calendar_days'}),
     '/cases/0/channels/0/time_limit/value'),
    (lambda b: b['cases'][0]['documents'].append(dict(b['cases'][0]['documents'][0])), '/cases/0/documents/1/code'),
    (lambda b: b['cases'][0].update(form_schema={'type': 'object', 'properties': {'a': {'$ref': '#/x'}}}),
     '/cases/0/form_schema/properties/a/$ref'),
])
def test_procedure_field_rules(api, admin, mutate, pointer):
    body = cd.procedure_body()
    body['cases'][0] = cd.procedure_body()['cases'][0]
    mutate(body)
    r = api.post(f'{API}/procedures', token=admin, json=body, expect=422)
    ptrs = error_pointers(assert_problem(r, 422, 'request.validation_failed'))
    assert pointer in ptrs, ptrs


def test_same_day_time_limit_and_fractions_are_accepted(api, admin):
    body = cd.procedure_body()
    body['cases'][0]['channels'][0]['time_limit'] = {'value': 0, 'unit': 'working_days'}
    body['cases'][0]['channels'][1]['time_limit'] = {'value': 4.5, 'unit': 'working_hours'}
    r = api.post(f'{API}/procedures', token=admin, json=body, expect=201)
    assert r.doc['cases'][0]['channels'][0]['time_limit'] == {'value': 0, 'unit': 'working_days'}
    assert r.doc['cases'][0]['channels'][1]['time_limit']['value'] == 4.5


def test_form_schema_property_order_is_kept(api, admin):
    body = cd.procedure_body()
    props = {f'field_{c}': {'type': 'string', 'title': c} for c in 'zyxabc'}
    body['cases'][0]['form_schema'] = {'type': 'object', 'properties': props}
    r = api.post(f'{API}/procedures', token=admin, json=body, expect=201)
    assert list(r.doc['cases'][0]['form_schema']['properties']) == list(props)
    got = api.get(f'{API}/procedures/{body["code"]}/draft', token=admin).doc
    assert list(got['cases'][0]['form_schema']['properties']) == list(props)
