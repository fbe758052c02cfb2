"""Builders of valid catalogue documents with unique codes, and small helpers
shared by the catalogue test modules. Every code made here is random so that
re-running the suite against the same stack never collides with an earlier run."""
from __future__ import annotations

import os
import random
import unicodedata
from typing import Any

from motcua_api import ApiClient, assert_status

API = '/api/v1'

# Demo data the tests rely on (deploy/local/demo); kept to a minimum.
ROOT_AGENCY = '000.00.00.H56'            # Ủy ban nhân dân tỉnh Thanh Hóa
BIRTH_REGISTRATION = '1.001193'          # Đăng ký khai sinh
CRIMINAL_RECORD = '2.000488'             # Cấp Phiếu lý lịch tư pháp
CERTIFIED_COPY = '2.000815'              # Chứng thực bản sao từ bản chính


def fold(text: str) -> str:
    """Accent- and case-fold Vietnamese text the way the search does."""
    text = text.replace('đ', 'd').replace('Đ', 'D')
    text = ''.join(c for c in unicodedata.normalize('NFD', text) if unicodedata.category(c) != 'Mn')
    return ' '.join(text.lower().split())


def rand_digits(n: int) -> str:
    return ''.join(random.choice('0123456789') for _ in range(n))


def new_sector_code() -> str:
    return f'test-{os.urandom(5).hex()}'


def new_agency_code() -> str:
    # Letter Z and region digits no demo agency uses; 10^7 x 100 combinations.
    return f'{random.randint(100, 999)}.{rand_digits(2)}.{rand_digits(2)}.Z{rand_digits(2)}'


def new_procedure_code() -> str:
    return f'9.{rand_digits(6)}.T{os.urandom(4).hex()}'


def sector_body(code: str | None = None, **over: Any) -> dict:
    body = {'code': code or new_sector_code(), 'name': 'Lĩnh vực kiểm thử tự động',
            'description': 'Tạo bởi bộ kiểm thử API.'}
    body.update(over)
    return body


def agency_body(code: str | None = None, parent: str | None = ROOT_AGENCY, **over: Any) -> dict:
    body = {
        'code': code or new_agency_code(),
        'name': 'Ủy ban nhân dân xã Kiểm Thử',
        'admin_level': 'commune',
        'parent_code': parent,
        'address': 'Thôn 1, xã Kiểm Thử, tỉnh Thanh Hóa',
        'phone': '0237 3000 000',
        'email': 'kiemthu@thanhhoa.gov.vn',
        'office_hours': [{'start': '07:00', 'end': '11:30'}, {'start': '13:30', 'end': '17:00'}],
        'same_day_cutoff': '15:00',
    }
    body.update(over)
    return body


def procedure_body(code: str | None = None, *, sector: str = 'ho-tich', agencies: list[str] | None = None,
                   name: str = 'Đăng ký khai sinh (thủ tục kiểm thử)', **over: Any) -> dict:
    body = {
        'code': code or new_procedure_code(),
        'name': name,
        'sector_code': sector,
        'admin_level': 'commune',
        'applicant_types': ['citizen'],
        'agency_codes': agencies or ['000.01.01.H56'],
        'implementing_agency': 'Ủy ban nhân dân cấp xã',
        'competent_agency': 'Ủy ban nhân dân cấp xã',
        'delegated_agency': None,
        'cooperating_agency': None,
        'description': 'Thủ tục do bộ kiểm thử API tạo ra.',
        'conditions': 'Không.',
        'result': 'Giấy khai sinh (bản chính)',
        'online_level': 4,
        'online_scope': 'full',
        'supplement_clock': 'restart',
        'legal_basis': [{'number': '60/2014/QH13', 'title': 'Luật Hộ tịch', 'issued_on': '2014-11-20'}],
        'publication_decision': {'number': '1872/QĐ-BTP', 'date': '2020-10-07',
                                 'summary': 'Công bố thủ tục hành chính lĩnh vực hộ tịch.'},
        'cases': [{
            'code': 'default',
            'name': 'Đăng ký khai sinh',
            'steps': ['Người yêu cầu nộp tờ khai và giấy tờ theo quy định.',
                      'Công chức tư pháp - hộ tịch kiểm tra và trình ký.'],
            'channels': [
                {'channel': 'online', 'time_limit': {'value': 1, 'unit': 'working_days'},
                 'fees': [{'code': 'LP', 'name': 'Lệ phí', 'amount': 0, 'description': 'Miễn lệ phí',
                           'effective_from': '2020-01-01', 'effective_to': None}],
                 'fee_collection': 'after'},
                {'channel': 'in_person', 'time_limit': {'value': 1, 'unit': 'working_days'}, 'fees': [],
                 'fee_collection': 'after'},
            ],
            'documents': [{'code': 'TK', 'name': 'Tờ khai đăng ký khai sinh',
                           'template_url': 'https://dichvucong.gov.vn/mau/to-khai-khai-sinh.docx',
                           'originals': 1, 'copies': 0, 'mandatory': True, 'description': None}],
            'form_schema': {
                'type': 'object',
                'required': ['child_full_name', 'dob'],
                'properties': {
                    'child_full_name': {'type': 'string', 'minLength': 1, 'maxLength': 100,
                                        'title': 'Họ, chữ đệm và tên'},
                    'dob': {'type': 'string', 'format': 'date', 'title': 'Ngày sinh'},
                },
            },
            'processing_steps': [
                {'name': 'Tiếp nhận hồ sơ', 'role': 'officer', 'allowance_hours': 0.5},
                {'name': 'Ký duyệt', 'role': 'approver', 'allowance_hours': 3.5},
            ],
        }],
    }
    body.update(over)
    return body


WRITE_ONLY_READ_FIELDS = ('version', 'status', 'published_at', 'created_at', 'updated_at', 'revision', 'sector')


def document_of(read: dict) -> dict:
    """The write shape of a procedure read (drops the read-only fields)."""
    return {k: v for k, v in read.items() if k not in WRITE_ONLY_READ_FIELDS}


def create_sector(api: ApiClient, token: str, **over: Any) -> dict:
    r = api.post(f'{API}/sectors', token=token, json=sector_body(**over), expect=201)
    return r.doc


def create_agency(api: ApiClient, token: str, parent: str | None = ROOT_AGENCY, **over: Any) -> dict:
    r = api.post(f'{API}/agencies', token=token, json=agency_body(parent=parent, **over), expect=201)
    return r.doc


def create_procedure(api: ApiClient, token: str, **kw: Any) -> dict:
    r = api.post(f'{API}/procedures', token=token, json=procedure_body(**kw), expect=201)
    return r.doc


def draft_etag(api: ApiClient, token: str, code: str) -> str:
    r = api.get(f'{API}/procedures/{code}/draft', token=token, expect=200)
    return r.headers['ETag']


def publish(api: ApiClient, token: str, code: str) -> dict:
    etag = draft_etag(api, token, code)
    r = api.post(f'{API}/procedures/{code}/publish', token=token, headers={'If-Match': etag}, expect=200)
    return r.doc


def create_published_procedure(api: ApiClient, token: str, **kw: Any) -> dict:
    doc = create_procedure(api, token, **kw)
    return publish(api, token, doc['code'])


def walk_pages(api: ApiClient, path: str, params: dict | None = None, limit: int = 20,
               max_pages: int = 500) -> list[dict]:
    """Every item of a list, following next_cursor; checks pages are well-formed."""
    items: list[dict] = []
    cursor = None
    for _ in range(max_pages):
        p = dict(params or {})
        p['limit'] = limit
        if cursor:
            p['cursor'] = cursor
        r = api.get(path, params=p)
        assert_status(r, 200)
        page = r.doc
        assert len(page['items']) <= limit
        items += page['items']
        cursor = page['next_cursor']
        if cursor is None:
            return items
        assert page['items'], f'{path}: an empty page that is not the last one'
    raise AssertionError(f'{path}: more than {max_pages} pages; the cursor does not advance?')
