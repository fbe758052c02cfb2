"""The documents of a dossier: uploading a file per slot (PDF, JPEG, PNG, checked by
content), replacing it (the old one is kept for the record), listing, downloading with
authorisation, and who may upload when (draft and supplement: the applicant or the
counter; processing: the agency's result document).

    PUT /api/v1/dossiers/{id}/documents/{slot}?file_name=NAME   (raw file body)
    GET /api/v1/dossiers/{id}/documents[?all=true]
    GET /api/v1/dossiers/{id}/documents/{slot}/content
"""
from __future__ import annotations

import hashlib
import os
import re
import socket
import time
import urllib.parse

import pytest

from dossier_support import (API, JPEG, PDF, PNG, act, create, dossier_events, etag_of, feed_end,
                             filed, submit, upload)
from motcua_api import assert_problem, error_parameters

MIB = 1024 * 1024
RESULT_PDF = b'%PDF-1.7\n% ket qua\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n'


@pytest.fixture(scope='module')
def proc(world) -> str:
    """Mandatory TK, optional UQ (dossier_support's defaults)."""
    return world.procedure(value=2, mandatory=('TK',), optional=('UQ',))


def draft(world, proc, citizen: int = 0) -> dict:
    return create(world.api, world.citizen(citizen), proc, world.agency).doc


def docs_url(d: dict) -> str:
    return f'{API}/dossiers/{d["id"]}/documents'


def listing(world, d: dict, token: str, **params) -> list[dict]:
    return world.api.get(docs_url(d), token=token, params=params or None, expect=200).doc['items']


def content(world, d: dict, slot: str, token: str, expect=200, headers=None):
    return world.api.get(f'{docs_url(d)}/{slot}/content', token=token, headers=headers,
                         expect=expect)


def put_raw(world, d: dict, slot: str, token: str, body: bytes, media_type: str | None,
            file_name: str | None = 'giay-to.pdf', expect=None):
    headers = {'Content-Type': media_type} if media_type is not None else {}
    params = {'file_name': file_name} if file_name is not None else None
    return world.api.request('PUT', f'{docs_url(d)}/{slot}', token=token, params=params,
                             data=body, headers=headers, expect=expect)


# ---------------------------------------------------------------------------
# uploading

def test_upload_each_type_answers_201_with_the_document(world, proc):
    citizen = world.citizen()
    d = draft(world, proc)
    for slot, body, media, name in (('TK', PDF, 'application/pdf', 'to-khai.pdf'),
                                    ('UQ', PNG, 'image/png', 'uy-quyen.png'),
                                    ('extra-1', JPEG, 'image/jpeg', 'ảnh chụp CCCD.jpg')):
        r = upload(world.api, citizen, d, slot, body, media, name, expect=201)
        doc = r.doc
        assert set(doc) == {'id', 'slot', 'kind', 'file_name', 'media_type', 'size_bytes', 'sha256',
                            'uploaded_at', 'replaced_at'}
        assert doc['replaced_at'] is None    # every member present, null when empty (README)
        assert doc['slot'] == slot and doc['kind'] == 'application'
        assert doc['file_name'] == name and doc['media_type'] == media
        assert doc['size_bytes'] == len(body)
        assert doc['sha256'] == hashlib.sha256(body).hexdigest()
        assert r.headers['Location'] == f'{docs_url(d)}/{slot}/content'
    items = listing(world, d, citizen)
    assert [i['slot'] for i in items] == ['TK', 'UQ', 'extra-1']
    # A media type with parameters and in other case is the same type.
    r = upload(world.api, citizen, d, 'extra-2', PDF, 'Application/PDF; name=x', expect=201)
    assert r.doc['media_type'] == 'application/pdf'


def test_upload_does_not_change_the_dossier_revision(world, proc):
    citizen = world.citizen()
    d = draft(world, proc)
    upload(world.api, citizen, d, 'TK', expect=201)
    again = world.api.get(f'{API}/dossiers/{d["id"]}', token=citizen, expect=200)
    assert again.headers['ETag'] == etag_of(d)


def test_content_must_match_the_declared_type(world, proc):
    citizen = world.citizen()
    d = draft(world, proc)
    for body, media in ((PNG, 'application/pdf'), (PDF, 'image/png'), (PDF, 'image/jpeg'),
                        (b'<html><script>alert(1)</script></html>', 'application/pdf'),
                        (b'MZ\x90\x00' + b'\x00' * 60, 'image/jpeg'),
                        (b'%PDF', 'application/pdf'),          # too short to be the signature
                        (b' %PDF-1.4\n', 'application/pdf')):  # not at the start
        r = upload(world.api, citizen, d, 'TK', body, media, expect=415)
        assert_problem(r, 415, 'dossier.unsupported_file')
    assert listing(world, d, citizen) == []


def test_other_media_types_are_refused(world, proc):
    citizen = world.citizen()
    d = draft(world, proc)
    for media in ('text/html', 'image/gif', 'application/json',
                  'multipart/form-data; boundary=x', 'application/pdfx', 'application/octet-streamx'):
        assert_problem(put_raw(world, d, 'TK', citizen, PDF, media, expect=415), 415,
                       'dossier.unsupported_file')
    assert_problem(put_raw(world, d, 'TK', citizen, PDF, None, expect=415), 415,
                   'dossier.unsupported_file')


def test_an_unknown_type_is_decided_by_the_content(world, proc):
    """application/octet-stream (a browser's "unknown type"): PDF, JPEG and PNG bytes are
    taken with the type they show, which is stored and sent back; anything else is 415
    naming the accepted types."""
    citizen = world.citizen()
    d = draft(world, proc)
    for body, media in ((PDF, 'application/pdf'), (PNG, 'image/png'), (JPEG, 'image/jpeg')):
        for content_type in ('application/octet-stream', 'Application/Octet-Stream; q=1'):
            doc = upload(world.api, citizen, d, 'extra-1', body, content_type,
                         file_name=f'tep-{media[-3:]}').doc
            assert doc['media_type'] == media
            r = world.api.get(f'{API}/dossiers/{d["id"]}/documents/extra-1/content', token=citizen,
                              expect=200)
            assert r.headers['Content-Type'].startswith(media) and r.content == body
    for body in (b'<html><script>alert(1)</script></html>', b'GIF89a' + b'\x00' * 20,
                 b'MZ\x90\x00' + b'\x00' * 60, b'%PDF'):
        r = upload(world.api, citizen, d, 'extra-2', body, 'application/octet-stream', expect=415)
        problem = assert_problem(r, 415, 'dossier.unsupported_file')
        assert all(t in problem['detail'] for t in ('application/pdf', 'image/jpeg', 'image/png'))
    assert [x['slot'] for x in listing(world, d, citizen)] == ['extra-1']


def test_empty_file_is_422(world, proc):
    d = draft(world, proc)
    assert_problem(put_raw(world, d, 'TK', world.citizen(), b'', 'application/pdf', expect=422), 422)


def test_size_limit_through_the_gateway(world, proc):
    """HTTP_MAX_UPLOAD_BYTES (10 MiB) is the service's limit; the gateway lets 11m through."""
    citizen = world.citizen()
    d = draft(world, proc)
    # Random bytes: a download sent in blocks (mc_reply_stream) must put each at its offset.
    big = b'%PDF-1.4\n' + os.urandom(10 * MIB - 9)
    assert len(big) == 10 * MIB
    r = upload(world.api, citizen, d, 'extra-3', big, expect=201)
    assert r.doc['size_bytes'] == 10 * MIB
    got = content(world, d, 'extra-3', citizen)
    assert len(got.content) == 10 * MIB and hashlib.sha256(got.content).hexdigest() == r.doc['sha256']
    r = upload(world.api, citizen, d, 'extra-4', big + b'0', expect=413)
    assert_problem(r, 413, 'http.payload_too_large')
    assert [i['slot'] for i in listing(world, d, citizen)] == ['extra-3']


def test_replacing_a_file_keeps_the_old_one_for_the_record(world, proc):
    citizen = world.citizen()
    d = draft(world, proc)
    first = upload(world.api, citizen, d, 'TK', PDF, file_name='v1.pdf', expect=201).doc
    second_bytes = PDF + b'% v2\n'
    r = upload(world.api, citizen, d, 'TK', second_bytes, file_name='v2.pdf', expect=200)
    second = r.doc
    assert r.headers['Location'] == f'{docs_url(d)}/TK/content'
    assert second['id'] != first['id'] and second['sha256'] == hashlib.sha256(second_bytes).hexdigest()
    current = listing(world, d, citizen)
    assert [(i['slot'], i['id']) for i in current] == [('TK', second['id'])]
    everything = listing(world, d, citizen, all='true')
    assert [i['id'] for i in everything] == [second['id'], first['id']]
    assert everything[0]['replaced_at'] is None and everything[1]['replaced_at'] is not None
    assert listing(world, d, citizen, all='false') == current
    assert content(world, d, 'TK', citizen).content == second_bytes
    hist = world.api.get(f'{API}/dossiers/{d["id"]}/history', token=citizen, expect=200).doc
    hist = hist['items'] if isinstance(hist, dict) else hist
    uploads = [h for h in hist if h['action'].startswith('document_')]
    assert [h['action'] for h in uploads] == ['document_uploaded', 'document_replaced']
    assert uploads[1]['from_status'] == uploads[1]['to_status'] == 0
    assert uploads[1]['details']['document_id'] == second['id']
    assert uploads[1]['details']['sha256'] == second['sha256']
    assert uploads[1]['details']['size_bytes'] == len(second_bytes)
    assert uploads[1]['details']['slot'] == 'TK'
    r = world.api.get(docs_url(d), token=citizen, params={'all': 'yes'}, expect=400)
    assert error_parameters(assert_problem(r, 400)) == {'all'}


def test_a_retried_upload_changes_nothing(world, proc):
    citizen = world.citizen()
    d = draft(world, proc)
    first = upload(world.api, citizen, d, 'TK', PDF, file_name='a.pdf', expect=201).doc
    again = upload(world.api, citizen, d, 'TK', PDF, file_name='a.pdf', expect=200).doc
    assert again == first
    assert [i['id'] for i in listing(world, d, citizen, all='true')] == [first['id']]
    renamed = upload(world.api, citizen, d, 'TK', PDF, file_name='b.pdf', expect=200).doc
    assert renamed['id'] != first['id'] and renamed['file_name'] == 'b.pdf'


# ---------------------------------------------------------------------------
# downloading

def test_download_answers_the_bytes_with_safe_headers(world, proc):
    citizen = world.citizen()
    d = draft(world, proc)
    name = 'Tờ khai "gốc" 100%.pdf'
    doc = upload(world.api, citizen, d, 'TK', PDF, file_name=name, expect=201).doc
    r = content(world, d, 'TK', citizen)
    assert r.content == PDF and hashlib.sha256(r.content).hexdigest() == doc['sha256']
    assert r.headers['Content-Type'] == 'application/pdf'
    assert int(r.headers['Content-Length']) == len(PDF)
    assert r.headers['X-Content-Type-Options'] == 'nosniff'
    assert 'private' in r.headers['Cache-Control']
    assert r.headers['ETag'] == f'"{doc["sha256"]}"'
    disposition = r.headers['Content-Disposition']
    assert disposition.startswith('attachment;')
    m = re.search(r"filename\*=UTF-8''(\S+)", disposition)
    assert m and urllib.parse.unquote(m.group(1)) == name
    m = re.search(r'filename="([^"]*)"', disposition)
    assert m and all(32 <= ord(c) < 127 for c in m.group(1)) and '%' not in m.group(1)

    again = content(world, d, 'TK', citizen, expect=304, headers={'If-None-Match': r.headers['ETag']})
    assert again.content == b'' and again.headers['ETag'] == r.headers['ETag']
    content(world, d, 'TK', citizen, expect=304, headers={'If-None-Match': f'W/{r.headers["ETag"]}'})
    content(world, d, 'TK', citizen, expect=200, headers={'If-None-Match': '"other"'})

    for slot, body, media in (('UQ', PNG, 'image/png'), ('extra-1', JPEG, 'image/jpeg')):
        upload(world.api, citizen, d, slot, body, media, file_name='x', expect=201)
        r = content(world, d, slot, citizen)
        assert r.content == body and r.headers['Content-Type'] == media
    assert_problem(content(world, d, 'extra-2', citizen, expect=404), 404, 'dossier.document_not_found')


def test_list_etag_changes_with_the_documents(world, proc):
    citizen = world.citizen()
    d = draft(world, proc)
    r = world.api.get(docs_url(d), token=citizen, expect=200)
    assert r.doc == {'items': []}
    world.api.get(docs_url(d), token=citizen, headers={'If-None-Match': r.headers['ETag']}, expect=304)
    upload(world.api, citizen, d, 'TK', expect=201)
    world.api.get(docs_url(d), token=citizen, headers={'If-None-Match': r.headers['ETag']}, expect=200)


# ---------------------------------------------------------------------------
# who may see and upload

def test_another_citizen_sees_nothing(world, proc):
    d = draft(world, proc)
    upload(world.api, world.citizen(), d, 'TK', expect=201)
    other = world.citizen(1)
    assert_problem(world.api.get(docs_url(d), token=other, expect=404), 404, 'dossier.not_found')
    assert_problem(content(world, d, 'TK', other, expect=404), 404, 'dossier.not_found')
    assert_problem(upload(world.api, other, d, 'TK', expect=404), 404, 'dossier.not_found')
    # staff do not see a citizen's draft either
    assert_problem(content(world, d, 'TK', world.officer, expect=404), 404, 'dossier.not_found')


def test_staff_of_another_agency_see_nothing(world, proc):
    d = filed(world, proc)
    foreign = world.staff(('officer', 'approver'), agency=world.other_agency)
    assert_problem(world.api.get(docs_url(d), token=foreign, expect=404), 404, 'dossier.not_found')
    assert_problem(content(world, d, 'TK', foreign, expect=404), 404, 'dossier.not_found')
    # the handling agency's officer reads them
    items = listing(world, d, world.officer)
    assert [i['slot'] for i in items] == ['TK']
    assert content(world, d, 'TK', world.officer).content == PDF


def test_no_upload_after_submit(world, proc):
    d = filed(world, proc)
    r = upload(world.api, world.citizen(), d, 'UQ', expect=409)
    assert_problem(r, 409, 'dossier.transition_not_allowed')
    r = upload(world.api, world.citizen(), d, 'TK', expect=409)     # nor a replacement
    assert_problem(r, 409, 'dossier.transition_not_allowed')
    # an officer may upload only the result, while processing
    assert_problem(upload(world.api, world.officer, d, 'result', expect=409), 409,
                   'dossier.transition_not_allowed')
    assert [i['slot'] for i in listing(world, d, world.citizen())] == ['TK']


def test_read_only_callers_may_not_upload(world, proc):
    d = filed(world, proc)
    auditor = world.tokens.system_admin
    assert [i['slot'] for i in listing(world, d, auditor)] == ['TK']
    assert_problem(upload(world.api, auditor, d, 'UQ', expect=403), 403, 'auth.forbidden')


def test_supplement_uploads_are_of_kind_supplement(world, proc):
    api, citizen, officer = world.api, world.citizen(), world.officer
    d = filed(world, proc)
    d = act(api, officer, d, 'request_supplement', {'missing_items': ['Bản sao giấy chứng sinh']}).doc
    assert d['status'] == 5
    added = upload(api, citizen, d, 'extra-1', JPEG, 'image/jpeg', 'chung-sinh.jpg', expect=201).doc
    assert added['kind'] == 'supplement'
    replaced = upload(api, citizen, d, 'TK', PDF + b'% sua\n', expect=200).doc
    assert replaced['kind'] == 'supplement'
    kinds = {(i['slot'], i['kind'], i['replaced_at'] is None) for i in listing(world, d, citizen, all='true')}
    assert kinds == {('TK', 'application', False), ('TK', 'supplement', True),
                     ('extra-1', 'supplement', True)}
    # the officer uploads only a result, while processing: not now
    assert_problem(upload(api, officer, d, 'extra-2', expect=409), 409, 'dossier.transition_not_allowed')
    d = api.get(f'{API}/dossiers/{d["id"]}', token=citizen, expect=200).doc
    d = act(api, citizen, d, 'supplement').doc
    assert d['status'] == 1
    assert_problem(upload(api, citizen, d, 'extra-2', expect=409), 409, 'dossier.transition_not_allowed')


def test_result_document_by_the_agency_while_processing(world, proc):
    api, citizen, officer, approver = world.api, world.citizen(), world.officer, world.approver
    d = filed(world, proc)
    d = act(api, officer, d, 'receive').doc
    assert_problem(upload(api, approver, d, 'result', RESULT_PDF, expect=409), 409,
                   'dossier.transition_not_allowed')
    d = act(api, officer, d, 'forward').doc
    assert d['status'] == 4
    # only the result slot, only the agency's officers and approvers
    r = assert_problem(upload(api, approver, d, 'TK', expect=404), 404, 'dossier.document_not_found')
    assert '"result"' in r['detail']
    assert_problem(upload(api, citizen, d, 'result', RESULT_PDF, expect=409), 409,
                   'dossier.transition_not_allowed')
    foreign = world.staff(('approver',), agency=world.other_agency)
    assert_problem(upload(api, foreign, d, 'result', RESULT_PDF, expect=404), 404, 'dossier.not_found')

    result = upload(api, approver, d, 'result', RESULT_PDF, file_name='ket-qua.pdf', expect=201).doc
    assert result['kind'] == 'result' and result['slot'] == 'result'
    assert [i['slot'] for i in listing(world, d, officer)] == ['TK', 'result']
    assert content(world, d, 'result', officer).content == RESULT_PDF
    # the applicant does not see a result before it is decided
    assert [i['slot'] for i in listing(world, d, citizen)] == ['TK']
    assert_problem(content(world, d, 'result', citizen, expect=404), 404, 'dossier.document_not_found')
    # an officer may replace it
    result = upload(api, officer, d, 'result', RESULT_PDF + b'%v2\n', file_name='ket-qua.pdf',
                    expect=200).doc

    d = act(api, approver, d, 'approve',
            {'result': {'summary': 'Cấp giấy khai sinh', 'document_id': result['id']}}).doc
    assert d['status'] == 9 and d['result']['document_id'] == result['id']
    assert [i['slot'] for i in listing(world, d, citizen)] == ['TK', 'result']
    assert content(world, d, 'result', citizen).content == RESULT_PDF + b'%v2\n'
    assert_problem(upload(api, approver, d, 'result', RESULT_PDF, expect=409), 409,
                   'dossier.transition_not_allowed')


def test_events_count_the_files_at_receipt_and_decision(world, proc):
    """receive, approve and reject tell how many current files of each kind the dossier
    holds (the statistics' digitised documents and electronic results); others say null."""
    api, officer, approver = world.api, world.officer, world.approver
    start = feed_end(world)
    d = filed(world, proc)                  # the application file TK
    d = act(api, officer, d, 'receive').doc
    d = act(api, officer, d, 'forward').doc
    upload(api, approver, d, 'result', RESULT_PDF, file_name='ket-qua.pdf', expect=201)
    upload(api, officer, d, 'result', RESULT_PDF + b'%v2\n', file_name='ket-qua.pdf', expect=200)
    d = act(api, approver, d, 'approve', {'result': {'summary': 'Cấp giấy khai sinh'}}).doc
    counts = {e['data']['action']: e['data']['document_counts']
              for e in dossier_events(world, d['id'], start, 4)}
    assert counts == {'submit': None, 'receive': {'application': 1, 'supplement': 0, 'result': 0},
                      'forward': None,
                      # the replaced result file is not counted twice
                      'approve': {'application': 1, 'supplement': 0, 'result': 1}}
    # a decision without a result file says so
    e = act(api, officer, filed(world, proc), 'receive').doc
    e = act(api, approver, act(api, officer, e, 'forward').doc, 'reject',
            {'reasons': ['Không đủ điều kiện'], 'result': {'summary': 'Từ chối cấp'}}).doc
    rejected = dossier_events(world, e['id'], start, 4)[-1]
    assert rejected['data']['action'] == 'reject'
    assert rejected['data']['document_counts'] == {'application': 1, 'supplement': 0, 'result': 0}


def test_counter_staff_upload_for_a_dossier_filed_at_the_counter(world, proc):
    officer = world.officer
    d = create(world.api, officer, proc, world.agency, channel='in_person').doc
    doc = upload(world.api, officer, d, 'TK', expect=201).doc
    assert doc['kind'] == 'application'
    d = world.api.get(f'{API}/dossiers/{d["id"]}', token=officer, expect=200).doc
    d = submit(world.api, officer, d).doc
    assert d['status'] == 1


# ---------------------------------------------------------------------------
# slots and file names

def test_unknown_slots_are_404_with_the_slots_that_exist(world, proc):
    citizen = world.citizen()
    d = draft(world, proc)
    for slot in ('XX', 'result', 'extra-0', 'extra-21', 'extra-01', 'extra-', 'tk'):
        r = upload(world.api, citizen, d, slot, expect=404)
        doc = assert_problem(r, 404, 'dossier.document_not_found')
        assert '(TK, UQ)' in doc['detail'] and 'extra-1 to extra-20' in doc['detail']
    for slot in ('extra-20', 'extra-9'):
        upload(world.api, citizen, d, slot, expect=201)


def test_path_traversal_in_the_slot_is_refused(world, proc):
    citizen = world.citizen()
    d = draft(world, proc)
    base = f'{docs_url(d)}/'
    for raw in ('..%2F..%2Fetc', '%2e%2e', '.hidden', '-x', 'a%00b', 'a%5Cb', 'TK%20'):
        r = world.api.raw('PUT', f'{base}{raw}?file_name=x.pdf',
                          [('Authorization', f'Bearer {citizen}'), ('Content-Type', 'application/pdf')],
                          PDF, validate=False)
        assert r.status_code in (400, 404), (raw, r.status_code)
    assert listing(world, d, citizen) == []


def test_file_names_are_checked(world, proc):
    citizen = world.citizen()
    d = draft(world, proc)
    bad = ['../../etc/passwd', 'a/b.pdf', 'a\\b.pdf', '..', '.', '   ', '', 'tab\there.pdf',
           'new\nline.pdf', 'x' * 256, 'gpj\u202e.exe', 'c1\u0085.pdf', 'iso\u2066.pdf']
    for name in bad:
        r = put_raw(world, d, 'TK', citizen, PDF, 'application/pdf', file_name=name, expect=400)
        assert error_parameters(assert_problem(r, 400, 'request.bad_query')) == {'file_name'}, name
    r = put_raw(world, d, 'TK', citizen, PDF, 'application/pdf', file_name=None, expect=400)
    assert error_parameters(assert_problem(r, 400)) == {'file_name'}
    r = world.api.raw('PUT', f'{docs_url(d)}/TK?file_name=a%00.pdf',
                      [('Authorization', f'Bearer {citizen}'), ('Content-Type', 'application/pdf')],
                      PDF, expect=400)
    ok = upload(world.api, citizen, d, 'TK', file_name='  ' + 'ệ' * 255 + ' ', expect=201).doc
    assert ok['file_name'] == 'ệ' * 255
    assert [i['slot'] for i in listing(world, d, citizen)] == ['TK']


def test_stored_files_are_not_named_after_the_upload(world, proc):
    local = os.environ.get('MOTCUA_TEST_LOCAL_DIR')
    if not local or not os.path.isdir(os.path.join(local, 'documents')):
        pytest.skip('the document directory of the stack is not reachable here')
    citizen = world.citizen()
    d = draft(world, proc)
    body = PDF + os.urandom(16)
    upload(world.api, citizen, d, 'TK', body, file_name='evil-name.pdf', expect=201)
    root = os.path.join(local, 'documents')
    found = []
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            assert 'evil' not in f
            path = os.path.join(dirpath, f)
            rel = os.path.relpath(path, root)
            if os.path.getsize(path) == len(body) and open(path, 'rb').read() == body:
                found.append(rel)
    assert len(found) == 1
    assert re.fullmatch(r'[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-'
                        r'[0-9a-f]{12}', found[0])


# ---------------------------------------------------------------------------
# submit needs the mandatory files

def test_submit_after_uploading_the_mandatory_documents(world, proc):
    citizen = world.citizen()
    d = draft(world, proc)
    upload(world.api, citizen, d, 'UQ', PNG, 'image/png', expect=201)
    r = submit(world.api, citizen, d, expect=422)
    assert '/documents/TK' in {e['pointer'] for e in assert_problem(r, 422)['errors']}
    upload(world.api, citizen, d, 'TK', expect=201)
    d = submit(world.api, citizen, d).doc
    assert d['status'] == 1 and d['code']


def test_a_web_client_may_read_the_file_name(world, proc):
    citizen = world.citizen()
    d = draft(world, proc)
    upload(world.api, citizen, d, 'TK', expect=201)
    r = world.api.get(f'{docs_url(d)}/TK/content', token=citizen,
                      headers={'Origin': 'https://dichvucong.example'}, expect=200)
    if r.headers.get('Access-Control-Allow-Origin'):
        exposed = {h.strip().lower() for h in r.headers.get('Access-Control-Expose-Headers', '').split(',')}
        assert {'content-disposition', 'etag'} <= exposed


def test_a_download_the_client_abandons_costs_the_service_nothing(world, proc):
    """Files are sent in blocks as the client reads them (mc_reply_stream). A client that
    goes away mid-file (a phone losing its connection) must leave no open file or memory
    behind (the ASan run checks leaks at shutdown) and the service answers the next
    request; straight to the service, since nginx would read the whole file itself."""
    url = os.environ.get('MOTCUA_TEST_SERVICE_URL_DOSSIER', '').strip().rstrip('/')
    if not url:
        pytest.skip('MOTCUA_TEST_SERVICE_URL_DOSSIER is not set (no running stack)')
    citizen = world.citizen()
    d = draft(world, proc)
    big = b'%PDF-1.4\n' + os.urandom(8 * MIB)
    doc = upload(world.api, citizen, d, 'extra-5', big, expect=201).doc
    parsed = urllib.parse.urlsplit(url)
    path = f'{docs_url(d)}/extra-5/content'
    for _ in range(5):
        with socket.create_connection((parsed.hostname, parsed.port), timeout=10) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
            s.sendall(f'GET {path} HTTP/1.1\r\nHost: {parsed.hostname}\r\n'
                      f'Authorization: Bearer {citizen}\r\n\r\n'.encode())
            head = s.recv(16384)
            assert head.startswith(b'HTTP/1.1 200'), head[:200]
            assert f'Content-Length: {len(big)}'.lower().encode() in head.lower()
        # closed after the first block: the service is left with the rest unsent
    r = content(world, d, 'extra-5', citizen)
    assert len(r.content) == len(big) and hashlib.sha256(r.content).hexdigest() == doc['sha256']
    pid_file = os.path.join(os.environ.get('MOTCUA_TEST_LOCAL_DIR', ''), 'run', 'dossier.pid')
    if os.path.exists(pid_file):  # the service on this machine: no stored file is left open
        with open(pid_file, encoding='utf-8') as f:
            fd_dir = f'/proc/{f.read().strip()}/fd'
        deadline = time.monotonic() + 10
        while True:
            open_files = []
            for fd in os.listdir(fd_dir):
                try:
                    open_files.append(os.readlink(os.path.join(fd_dir, fd)))
                except OSError:
                    pass
            stored = [p for p in open_files if '/documents/' in p]
            if not stored or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert stored == [], stored
