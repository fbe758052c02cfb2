"""The spec and the response validator themselves (no running stack needed).

A validator that accepts everything would make every other test meaningless, so
this module feeds it hand-made good and bad responses; it also checks that the
spec and the prose contracts (docs/services/*.md) list the same endpoints, that
its examples and the suite's own request bodies match the schemas, that it has
the shapes client generators need, and that the public document merges."""
from __future__ import annotations

import glob
import json
import os
import re

import pytest

import catalogue_data as cd
from motcua_api import HeaderMap, SpecSet, check_response

API = '/api/v1'

CONTRACT = [
    ('get', '/api/v1/sectors'), ('post', '/api/v1/sectors'),
    ('get', '/api/v1/sectors/{code}'), ('put', '/api/v1/sectors/{code}'),
    ('get', '/api/v1/agencies'), ('post', '/api/v1/agencies'),
    ('get', '/api/v1/agencies/{code}'), ('put', '/api/v1/agencies/{code}'),
    ('get', '/api/v1/procedures'), ('post', '/api/v1/procedures'),
    ('get', '/api/v1/procedures/{code}'),
    ('get', '/api/v1/procedures/{code}/versions'),
    ('get', '/api/v1/procedures/{code}/versions/{version}'),
    ('get', '/api/v1/procedures/{code}/draft'), ('put', '/api/v1/procedures/{code}/draft'),
    ('delete', '/api/v1/procedures/{code}/draft'),
    ('post', '/api/v1/procedures/{code}/publish'),
    ('get', '/api/v1/calendar/{year}'),
    ('put', '/api/v1/calendar/days/{date}'), ('delete', '/api/v1/calendar/days/{date}'),
    ('get', '/api/v1/calendar/due-date'),
    ('get', '/healthz'), ('get', '/readyz'), ('get', '/metrics'), ('get', '/openapi.json'),
]

H = {'X-Request-Id': 'req-1', 'API-Version': '1'}


def hdrs(**kw):
    base = dict(H)
    for k, v in kw.items():
        base[k.replace('_', '-')] = v
    return HeaderMap((k, v) for k, v in base.items() if v is not None)


def js(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode('utf-8')


def problem(status, code, **extra):
    doc = {'type': f'urn:motcua:problem:{code}', 'title': 'x', 'status': status, 'code': code,
           'request_id': 'req-1', 'instance': '/x'}
    doc.update(extra)
    return doc


SUMMARY = {'code': '1.001193', 'name': 'Đăng ký khai sinh', 'sector': {'code': 'ho-tich', 'name': 'Hộ tịch'},
           'admin_level': 'commune', 'online_level': 4, 'online_scope': 'full',
           'channels': ['online', 'in_person'], 'version': 1, 'published_at': '2025-03-01T08:00:00+07:00'}
JSON_CT = 'application/json'
PROBLEM_CT = 'application/problem+json'


@pytest.fixture(scope='module')
def s() -> SpecSet:
    return SpecSet()


def errs(s, method, path, status, headers, body, **kw):
    return check_response(s, method, path, status, headers, body, **kw)


@pytest.mark.parametrize('method,template', CONTRACT)
def test_contract_endpoint_is_documented(s, method, template):
    ops = {(t, ): item for _, t, item, _ in s.operations}
    assert (template,) in ops, f'{template} missing from api-spec'
    op = ops[(template,)].get(method)
    assert op is not None, f'{method.upper()} {template} missing from api-spec'
    assert op.get('operationId') and op.get('summary') and op.get('tags')
    if method == 'get' and template.startswith('/api/') and not template.endswith('/draft'):
        assert op.get('security') is not None, f'public read {template} must declare security'
        assert {} in op['security'] or op['security'] == [], f'{template} must be readable without a token'


def test_every_media_example_matches_its_schema(s):
    checked = 0
    for _, template, item, _ in s.operations:
        for method, op in item.items():
            if not isinstance(op, dict) or 'responses' not in op:
                continue
            bodies = [('request', op.get('requestBody', {}))] + list(op['responses'].items())
            for where, resp in bodies:
                for ctype, media in (resp.get('content') or {}).items():
                    schema = media.get('schema')
                    examples = []
                    if 'example' in media:
                        examples.append(media['example'])
                    examples += [e['value'] for e in (media.get('examples') or {}).values() if 'value' in e]
                    for ex in examples:
                        found = s.schema_errors(schema, ex)
                        assert not found, f'{method} {template} {where} {ctype} example: {found}'
                        checked += 1
    assert checked > 30


def test_suite_request_bodies_match_the_write_schemas(s):
    def schema(name):
        return s.deref({'$ref': f'#/components/schemas/{name}'}, 'catalogue.yaml')
    assert s.schema_errors(schema('ProcedureWrite'), cd.procedure_body()) == []
    assert s.schema_errors(schema('SectorWrite'), cd.sector_body()) == []
    assert s.schema_errors(schema('AgencyWrite'), cd.agency_body()) == []
    bad = cd.procedure_body(online_level=5, extra_field=1)
    found = s.schema_errors(schema('ProcedureWrite'), bad)
    assert any('online_level' in e for e in found) and any('extra_field' in e for e in found)


def test_match_prefers_literal_segments(s):
    assert s.match('/api/v1/calendar/due-date')[0] == '/api/v1/calendar/due-date'
    assert s.match('/api/v1/calendar/2025')[0] == '/api/v1/calendar/{year}'
    assert s.match('/api/v1/procedures/1.001193/versions/2')[0] == '/api/v1/procedures/{code}/versions/{version}'
    assert s.match('/api/v1/procedures/1.001193/nope') is None
    assert s.match('/api/v1/procedures/') is None


def test_valid_list_passes(s):
    body = js({'items': [SUMMARY], 'next_cursor': None})
    assert errs(s, 'GET', f'{API}/procedures', 200, hdrs(Content_Type=JSON_CT), body) == []


@pytest.mark.parametrize('mutate,needle', [
    (lambda p: p.pop('next_cursor'), 'next_cursor'),
    (lambda p: p['items'][0].update(score=0.9), 'score'),
    (lambda p: p['items'][0].update(online_level=5), '5'),
    (lambda p: p['items'][0].update(published_at='2025-03-01 08:00'), 'published_at'),
    (lambda p: p['items'][0].update(published_at='2025-03-01T01:00:00Z'), 'published_at'),
    (lambda p: p['items'][0].update(channels='online'), 'channels'),
    (lambda p: p['items'][0]['sector'].pop('name'), 'name'),
])
def test_list_mistakes_are_caught(s, mutate, needle):
    page = {'items': [dict(SUMMARY, sector=dict(SUMMARY['sector']))], 'next_cursor': None}
    mutate(page)
    found = errs(s, 'GET', f'{API}/procedures', 200, hdrs(Content_Type=JSON_CT), js(page))
    assert found and any(needle in e for e in found), found


def test_undocumented_status_is_caught(s):
    found = errs(s, 'GET', f'{API}/sectors', 418, hdrs(Content_Type=PROBLEM_CT), js(problem(418, 'x.y')))
    assert any('not documented' in e for e in found)


def test_error_must_be_problem_json(s):
    found = errs(s, 'GET', f'{API}/sectors/ho-tich', 404, hdrs(Content_Type='text/html'), b'<html>404</html>')
    assert any('problem+json' in e for e in found)


def test_problem_fields_are_checked(s):
    ok = problem(404, 'catalogue.sector_not_found')
    assert errs(s, 'GET', f'{API}/sectors/x', 404, hdrs(Content_Type=PROBLEM_CT), js(ok)) == []
    wrong_status = problem(400, 'catalogue.sector_not_found')
    assert errs(s, 'GET', f'{API}/sectors/x', 404, hdrs(Content_Type=PROBLEM_CT), js(wrong_status))
    extra = problem(404, 'catalogue.sector_not_found', stack='trace')
    assert errs(s, 'GET', f'{API}/sectors/x', 404, hdrs(Content_Type=PROBLEM_CT), js(extra))
    other_rid = problem(404, 'catalogue.sector_not_found', request_id='other')
    assert errs(s, 'GET', f'{API}/sectors/x', 404, hdrs(Content_Type=PROBLEM_CT), js(other_rid))
    registry = problem(404, 'auth.forbidden')
    assert errs(s, 'GET', f'{API}/sectors/x', 404, hdrs(Content_Type=PROBLEM_CT), js(registry))


def test_validation_items_need_pointer_or_parameter(s):
    good = problem(422, 'request.validation_failed',
                   errors=[{'pointer': '/cases/0/form_schema/properties/dob/format', 'code': 'invalid_schema',
                            'message': 'm'}])
    assert errs(s, 'POST', f'{API}/procedures', 422, hdrs(Content_Type=PROBLEM_CT), js(good)) == []
    for item in ({'code': 'x', 'message': 'm'}, {'pointer': 'no-slash', 'code': 'x', 'message': 'm'},
                 {'pointer': '/a', 'parameter': 'q', 'code': 'x', 'message': 'm'}):
        bad = problem(422, 'request.validation_failed', errors=[item])
        assert errs(s, 'POST', f'{API}/procedures', 422, hdrs(Content_Type=PROBLEM_CT), js(bad)), item


def test_conventional_headers(s):
    body = js({'items': [], 'next_cursor': None})
    h = HeaderMap([('Content-Type', JSON_CT), ('API-Version', '1')])
    assert any('X-Request-Id' in e for e in errs(s, 'GET', f'{API}/sectors', 200, h, body))
    h = HeaderMap([('Content-Type', JSON_CT), ('X-Request-Id', 'r')])
    assert any('API-Version' in e for e in errs(s, 'GET', f'{API}/sectors', 200, h, body))


def test_required_response_headers(s):
    sector = {'code': 'ho-tich', 'name': 'Hộ tịch', 'description': None, 'revision': 1}
    found = errs(s, 'POST', f'{API}/sectors', 201, hdrs(Content_Type=JSON_CT), js(sector))
    assert any('Location' in e for e in found)
    assert errs(s, 'POST', f'{API}/sectors', 201,
                hdrs(Content_Type=JSON_CT, Location='/api/v1/sectors/ho-tich'), js(sector)) == []
    found = errs(s, 'GET', f'{API}/sectors/ho-tich', 200, hdrs(Content_Type=JSON_CT), js(sector))
    assert any('ETag' in e for e in found)
    found = errs(s, 'GET', f'{API}/sectors/ho-tich', 200, hdrs(Content_Type=JSON_CT, ETag='r1'), js(sector))
    assert any('ETag' in e for e in found), 'an unquoted ETag is not an entity tag'
    unauth = problem(401, 'auth.unauthenticated')
    found = errs(s, 'POST', f'{API}/sectors', 401, hdrs(Content_Type=PROBLEM_CT), js(unauth))
    assert any('WWW-Authenticate' in e for e in found)


def test_wrong_method_must_be_405_with_allow(s):
    p = js(problem(405, 'http.method_not_allowed'))
    assert errs(s, 'DELETE', f'{API}/sectors', 405, hdrs(Content_Type=PROBLEM_CT, Allow='GET, POST'), p) == []
    assert errs(s, 'DELETE', f'{API}/sectors', 405, hdrs(Content_Type=PROBLEM_CT), p)
    assert errs(s, 'DELETE', f'{API}/sectors', 405, hdrs(Content_Type=PROBLEM_CT, Allow='GET'), p)
    assert errs(s, 'DELETE', f'{API}/sectors', 200, hdrs(Content_Type=JSON_CT), b'{}')


def test_unknown_paths(s):
    p = js(problem(404, 'http.not_found'))
    assert errs(s, 'GET', f'{API}/nope', 404, hdrs(Content_Type=PROBLEM_CT), p)
    assert errs(s, 'GET', f'{API}/nope', 404, hdrs(Content_Type=PROBLEM_CT), p, known_path=False) == []
    assert errs(s, 'GET', f'{API}/nope', 404, hdrs(Content_Type='text/html'), b'<h1>', known_path=False)


def test_bodies_where_none_is_documented(s):
    assert errs(s, 'GET', f'{API}/sectors/ho-tich', 304, hdrs(ETag='"r1"'), b'') == []
    assert errs(s, 'GET', f'{API}/sectors/ho-tich', 304, hdrs(ETag='"r1"', Content_Type=JSON_CT), b'{}')
    assert errs(s, 'DELETE', f'{API}/calendar/days/2031-01-01', 204, hdrs(), b'') == []
    assert errs(s, 'GET', f'{API}/sectors/ho-tich', 200, hdrs(ETag='"r1"', Content_Type=JSON_CT), b'')


def test_gateway_statuses(s):
    p = js(problem(429, 'http.rate_limited'))
    h = HeaderMap([('Content-Type', PROBLEM_CT), ('X-Request-Id', 'req-1'), ('Retry-After', '1')])
    assert errs(s, 'GET', f'{API}/procedures', 429, h, p) == []
    assert errs(s, 'GET', f'{API}/procedures', 429, HeaderMap([('Content-Type', PROBLEM_CT),
                                                                 ('X-Request-Id', 'req-1')]), p)
    p = js(problem(414, 'http.uri_too_long'))
    h = HeaderMap([('Content-Type', PROBLEM_CT), ('X-Request-Id', 'req-1')])
    assert errs(s, 'GET', f'{API}/procedures', 414, h, p) == []
    assert errs(s, 'GET', f'{API}/procedures', 414, h, p, via='service')


def test_json_response_with_duplicate_keys_is_caught(s):
    body = b'{"items": [], "next_cursor": null, "items": []}'
    assert errs(s, 'GET', f'{API}/sectors', 200, hdrs(Content_Type=JSON_CT), body)


def test_ops_endpoints(s):
    metrics = b'# TYPE motcua_http_requests_total counter\nmotcua_http_requests_total 1\n'
    assert errs(s, 'GET', '/metrics', 200, HeaderMap([('Content-Type', 'text/plain; version=0.0.4')]), metrics) == []
    assert errs(s, 'GET', '/healthz', 200, HeaderMap([('Content-Type', JSON_CT)]), b'{"status":"ok"}') == []
    assert errs(s, 'GET', '/healthz', 200, HeaderMap([('Content-Type', JSON_CT)]), b'{"status":"bad"}')
    nr = js({'type': 'urn:motcua:problem:server.not_ready', 'title': 't', 'status': 503, 'code': 'server.not_ready'})
    assert errs(s, 'GET', '/readyz', 503, HeaderMap([('Content-Type', PROBLEM_CT)]), nr) == []


def test_procedure_read_shape(s):
    read = dict(cd.procedure_body(), version=1, status='published', published_at='2025-03-01T08:00:00+07:00',
                created_at='2025-02-20T09:15:00+07:00', updated_at='2025-03-01T08:00:00+07:00', revision=2,
                sector={'code': 'ho-tich', 'name': 'Hộ tịch'})
    h = hdrs(Content_Type=JSON_CT, ETag='"p2"')
    path = f'{API}/procedures/{read["code"]}'
    assert errs(s, 'GET', path, 200, h, js(read)) == []
    for mutation in ({'status': 'current'}, {'internal_id': 7}, {'version': 0}):
        assert errs(s, 'GET', path, 200, h, js(dict(read, **mutation))), mutation
    missing = dict(read)
    missing.pop('delegated_agency')
    assert errs(s, 'GET', path, 200, h, js(missing))
    bad_case = json.loads(json.dumps(read))
    bad_case['cases'][0]['channels'][0]['time_limit']['unit'] = 'weeks'
    assert errs(s, 'GET', path, 200, h, js(bad_case))


def _schemas_in(node, where=''):
    """Every schema-like dict of a raw document (examples skipped), with its location."""
    if isinstance(node, dict):
        yield where, node
        for k, v in node.items():
            if k not in ('example', 'examples'):
                yield from _schemas_in(v, f'{where}/{k}')
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _schemas_in(v, f'{where}/{i}')


def test_no_object_schema_generates_an_empty_record(s):
    """`type: object` with neither `properties` nor `additionalProperties` is what client
    generators turn into Record<string, never> (nothing may be put in it): an open object
    must say additionalProperties: true (FormData), a closed one list its members."""
    bad = []
    for fname, doc in s.raw.items():
        for where, node in _schemas_in(doc):
            t = node.get('type')
            types = t if isinstance(t, list) else [t]
            if 'object' in types and not ({'properties', 'additionalProperties', 'allOf', 'oneOf', 'anyOf',
                                           '$ref', 'unevaluatedProperties'} & set(node)):
                bad.append(f'{fname}{where}')
    assert bad == []
    form_data = s.deref({'$ref': '#/components/schemas/FormData'}, 'dossier.yaml')
    assert form_data['additionalProperties'] is True
    form_schema = s.deref({'$ref': '#/components/schemas/FormSchemaNode'}, 'catalogue.yaml')
    assert {'type', 'properties', 'required', 'items', 'pattern', 'format'} <= set(form_schema['properties'])


def test_file_bodies_are_binary(s):
    """Uploads and downloads are raw files: `format: binary` (a Blob or File in a
    generated client, not a string), each with its media type, octet-stream included."""
    found = 0
    for _, template, item, _ in s.operations:
        for method, op in item.items():
            if not isinstance(op, dict):
                continue
            bodies = [op.get('requestBody', {})] + list((op.get('responses') or {}).values())
            for body in bodies:
                for ctype, media in (body.get('content') or {}).items():
                    if ctype.startswith(('application/pdf', 'image/', 'application/octet-stream')):
                        found += 1
                        assert media['schema'].get('format') == 'binary', (method, template, ctype)
                        assert media['schema'].get('contentMediaType') == ctype, (method, template, ctype)
    assert found >= 7
    upload = s.operation('PUT', '/api/v1/dossiers/x/documents/TK')
    assert 'application/octet-stream' in upload['requestBody']['content']


def test_each_dossier_action_has_its_own_request_schema(s):
    """One path and one request schema per action, the members workflow.c needs required."""
    needs = {'receive': set(), 'refuse': {'reasons'}, 'request_supplement': {'missing_items'},
             'supplement': set(), 'assign': {'assignee'}, 'forward': set(), 'return_step': {'reasons'},
             'transfer': {'to_agency', 'reasons'}, 'request_payment': {'amount'}, 'confirm_payment': set(),
             'approve': {'result'}, 'reject': {'reasons', 'result'}, 'return_result': set(),
             'request_withdrawal': {'reasons'}, 'confirm_withdrawal': set(),
             'decline_withdrawal': {'reasons'}, 'stop': {'reasons'},
             'apologize': {'reasons', 'new_appointment_at'},
             'confirm_submission_payment': {'payment_id', 'paid_at', 'amount', 'provider'},
             'cancel_submission_payment': set()}
    raw = s.raw['dossier.yaml']['paths']
    assert '/api/v1/dossiers/{id}/actions/{action}' not in raw
    names = set()
    for action, required in needs.items():
        op = s.operation('POST', f'/api/v1/dossiers/x/actions/{action}')
        assert op is not None, action
        ref = raw[f'/api/v1/dossiers/{{id}}/actions/{action}']['post']['requestBody']['content'][
            'application/json']['schema']['$ref']
        names.add(ref)
        schema = op['requestBody']['content']['application/json']['schema']
        assert set(schema.get('required', [])) == required, action
        assert schema['additionalProperties'] is False and {'note', 'documents'} <= set(schema['properties'])
    assert len(names) == len(needs)


def _merge_module():
    import sys
    from motcua_api import REPO_ROOT
    sys.path.insert(0, os.path.join(REPO_ROOT, 'common', 'tools'))
    import merge_openapi  # the build's merge (common/tools), not a copy
    return merge_openapi


def test_the_public_document_merges_without_conflict(s):
    merged, conflicts = _merge_module().merge(os.path.join(s.spec_dir, 'public.yaml'))
    assert conflicts == []
    services = s.raw['public.yaml']['x-motcua-services']
    assert set(merged['paths']) == {t for _, t, _, f in s.operations if f in services}
    assert not {'/healthz', '/readyz', '/metrics', '/openapi.json'} & set(merged['paths'])


def test_the_merge_refuses_conflicts(tmp_path):
    def write(name, doc):
        (tmp_path / name).write_text(json.dumps(doc), encoding='utf-8')

    def svc(path, op_id, agency_pattern):
        return {'openapi': '3.1.0', 'info': {'title': path, 'version': '1'},
                'paths': {path: {'get': {'operationId': op_id, 'responses': {'200': {'description': 'ok'}}}},
                          '/healthz': {'get': {'operationId': 'healthz',
                                               'responses': {'200': {'description': 'ok'}}}}},
                'components': {'schemas': {'AgencyCode': {'type': 'string', 'pattern': agency_pattern},
                                           'Same': {'type': 'integer'}}}}
    write('a.yaml', svc('/a', 'getA', '^a$'))
    write('b.yaml', svc('/b', 'getA', '^b$'))
    write('public.yaml', {'openapi': '3.1.0', 'info': {'title': 'p', 'version': '1'},
                          'x-motcua-services': ['a.yaml', 'b.yaml'], 'paths': {}})
    merged, conflicts = _merge_module().merge(str(tmp_path / 'public.yaml'))
    text = '\n'.join(conflicts)
    assert 'path /healthz' in text and 'operationId getA' in text and 'schemas/AgencyCode' in text
    assert 'Same' not in text, 'an identical definition is kept once, not a conflict'
    assert len(conflicts) == 3


DOC_ROW = re.compile(r'^\| (GET|POST|PUT|PATCH|DELETE) \| `([^`]+)`')


def test_the_prose_contracts_and_the_spec_list_the_same_endpoints(s):
    """Every endpoint of the tables of docs/services/*.md is in api-spec (with operationId,
    summary and tags), and every public operation of the services' documents is in those
    tables (`/dossiers/{id}/actions/{action}` stands for the path of each action)."""
    from motcua_api import REPO_ROOT
    actions = [a for a in s.raw['dossier.yaml']['components']['schemas']['ActionName']['enum'] if a != 'submit']
    in_docs = set()
    for path in sorted(glob.glob(os.path.join(REPO_ROOT, 'docs', 'services', '*.md'))):
        for line in open(path, encoding='utf-8'):
            m = DOC_ROW.match(line)
            if m is None:
                continue
            method, rel = m.group(1).lower(), m.group(2)
            full = rel if rel.startswith('/.well-known') else API + rel
            expanded = ([full.replace('{action}', a) for a in actions] if full.endswith('/actions/{action}')
                        else [full])
            for template in expanded:
                in_docs.add((method, template))
                item = next((i for _, t, i, _ in s.operations if t == template), None)
                where = f'{os.path.basename(path)}: {method.upper()} {template}'
                assert item is not None and method in item, f'{where} is not in api-spec'
                op = item[method]
                assert op.get('operationId') and op.get('summary') and op.get('tags'), where
    assert len(in_docs) >= 60
    services = s.raw['public.yaml']['x-motcua-services']
    in_spec = {(m, t) for _, t, item, f in s.operations if f in services
               for m in ('get', 'put', 'post', 'delete', 'patch') if m in item}
    assert in_spec - in_docs == set(), 'public operations the prose contracts do not list'
