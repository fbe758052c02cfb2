"""HTTP conventions (ARCHITECTURE.md §2) through the gateway and directly on the
service: 404/405, body limits, content types, strict JSON, CORS, request ids,
rate limiting, and the ops endpoints."""
from __future__ import annotations

import concurrent.futures
import json
import os
import re
import time
import uuid

import pytest
import requests

import catalogue_data as cd
from catalogue_data import API, BIRTH_REGISTRATION
from motcua_api import (REPO_ROOT, SPEC_DIR, HeaderMap, SpecViolation, assert_problem, check_response,
                        error_pointers, load_yaml, problem, raw_request)

MIB = 1024 * 1024
CONTRACT_TEMPLATES = [
    '/api/v1/sectors', '/api/v1/sectors/{code}', '/api/v1/agencies', '/api/v1/agencies/{code}',
    '/api/v1/procedures', '/api/v1/procedures/{code}', '/api/v1/procedures/{code}/versions',
    '/api/v1/procedures/{code}/versions/{version}', '/api/v1/procedures/{code}/draft',
    '/api/v1/procedures/{code}/publish', '/api/v1/calendar/{year}', '/api/v1/calendar/days/{date}',
    '/api/v1/calendar/due-date',
]


@pytest.fixture(params=['gateway', 'service'])
def client(request, api, svc):
    """Run a test through the gateway and directly against the service."""
    return api if request.param == 'gateway' else svc


def sector_json(**over) -> bytes:
    return json.dumps(cd.sector_body(**over)).encode()


def auth_json(token):
    return [('Authorization', f'Bearer {token}'), ('Content-Type', 'application/json')]


# ---------------------------------------------------------------------------
# Routing

def test_unknown_path_is_404_problem(client):
    r = client.get(f'{API}/procedures/{BIRTH_REGISTRATION}/khong-co', known_path=False, expect=404)
    doc = assert_problem(r, 404, 'http.not_found')
    assert doc.get('instance', f'{API}/procedures/{BIRTH_REGISTRATION}/khong-co').startswith(API)
    client.get(f'{API}/sectors/ho-tich/x/y/z', known_path=False, expect=404)
    client.get('/api/v2/procedures', known_path=False, expect=404)
    client.get(f'{API}/khong-ton-tai', known_path=False, expect=404)


def test_unknown_path_problem_instance(svc):
    path = f'{API}/procedures/{BIRTH_REGISTRATION}/khong-co'
    doc = problem(svc.get(path, known_path=False, expect=404))
    assert doc['instance'] == path


@pytest.mark.parametrize('method,path,allowed', [
    ('DELETE', f'{API}/sectors', {'GET', 'POST'}),
    ('PATCH', f'{API}/procedures/{BIRTH_REGISTRATION}', {'GET'}),
    ('POST', f'{API}/calendar/2025', {'GET'}),
    ('GET', f'{API}/calendar/days/2025-01-27', {'PUT', 'DELETE'}),
    ('POST', f'{API}/calendar/due-date', {'GET'}),
    ('GET', f'{API}/procedures/{BIRTH_REGISTRATION}/publish', {'POST'}),
    ('PUT', f'{API}/procedures', {'GET', 'POST'}),
])
def test_wrong_method_is_405_with_allow(client, method, path, allowed):
    r = client.request(method, path, expect=405)
    assert_problem(r, 405, 'http.method_not_allowed')
    got = {m.strip() for m in r.headers['Allow'].split(',')}
    assert allowed <= got and method not in got, r.headers['Allow']


# ---------------------------------------------------------------------------
# Body size

def test_body_over_1_mib_is_413_at_the_gateway(api, admin):
    body = b'{"code":"x","name":"' + b'a' * MIB + b'"}'
    r = api.raw('POST', f'{API}/sectors', auth_json(admin), body, expect=413)
    assert problem(r)['code'] == 'http.payload_too_large'
    assert r.headers.get('X-Request-Id')


def test_body_just_over_the_limit_is_413_at_the_service(svc, admin):
    code = cd.new_sector_code()
    prefix = json.dumps({'code': code, 'name': 'Quá lớn'})[:-1].encode() + b', "description": "'
    body = prefix + b'a' * (MIB + 1 - len(prefix) - 2) + b'"}'
    assert len(body) == MIB + 1
    r = svc.raw('POST', f'{API}/sectors', auth_json(admin), body, expect=413)
    assert_problem(r, 413, 'http.payload_too_large')
    svc.get(f'{API}/sectors/{code}', expect=404)


@pytest.mark.parametrize('size', [2 * MIB, MIB + 1])
def test_chunked_body_over_the_limit_is_413(client, admin, size):
    """No Content-Length: the limit must be enforced while reading (ulfius would
    silently truncate the body)."""
    code = cd.new_sector_code()
    payload = b'{"code":"' + code.encode() + b'","name":"x","description":"' + b'b' * size + b'"}'
    chunks = b''.join(b'%x\r\n%s\r\n' % (len(payload[i:i + 65536]), payload[i:i + 65536])
                      for i in range(0, len(payload), 65536)) + b'0\r\n\r\n'
    headers = auth_json(admin) + [('Transfer-Encoding', 'chunked')]
    r = client.raw('POST', f'{API}/sectors', headers, chunks, expect=413)
    assert_problem(r, 413)
    client.get(f'{API}/sectors/{code}', expect=404)


def test_body_of_exactly_1_mib_is_accepted(api, admin):
    body = json.dumps(cd.sector_body(name='Đúng giới hạn')).encode()
    body += b' ' * (MIB - len(body))
    assert len(body) == MIB
    r = api.raw('POST', f'{API}/sectors', auth_json(admin), body, expect=201)
    assert json.loads(r.content)['name'] == 'Đúng giới hạn'


# ---------------------------------------------------------------------------
# Content types and strict JSON

@pytest.mark.parametrize('ctype', ['text/plain', 'application/x-www-form-urlencoded', 'application/xml',
                                   'application/jsonx', 'multipart/form-data; boundary=x', None])
def test_wrong_content_type_is_415(client, admin, ctype):
    headers = [('Authorization', f'Bearer {admin}')]
    if ctype:
        headers.append(('Content-Type', ctype))
    code = cd.new_sector_code()
    r = client.raw('POST', f'{API}/sectors', headers, sector_json(code=code), expect=415)
    assert_problem(r, 415, 'http.unsupported_media_type')
    client.get(f'{API}/sectors/{code}', expect=404)


@pytest.mark.parametrize('ctype', ['application/json; charset=utf-8', 'application/json;charset=UTF-8',
                                   'Application/JSON'])
def test_json_content_type_variants_are_accepted(api, admin, ctype):
    r = api.raw('POST', f'{API}/sectors', [('Authorization', f'Bearer {admin}'), ('Content-Type', ctype)],
                sector_json(), expect=201)
    assert r.headers['Location']


@pytest.mark.parametrize('body', [
    b'',
    b'{',
    b'{"code": "abc", ',
    b"{'code': 'abc', 'name': 'x'}",
    b'{"code": "abc", "name": "x"} trailing',
    b'{"code": "abc", "name": "x"}{}',
    b'{"code": "abc", "name": NaN}',
    b'{"code": "abc", /* comment */ "name": "x"}',
    b'{"code": "abc", "name": "x",}',
    b'{"code": "abc", "name": "x"',
])
def test_malformed_json_is_400(client, admin, body):
    r = client.raw('POST', f'{API}/sectors', auth_json(admin), body, expect=400)
    assert_problem(r, 400, 'request.malformed_json')


def test_duplicate_keys_are_400(client, admin):
    code = cd.new_sector_code()
    body = f'{{"code": "{code}", "name": "một", "name": "hai"}}'.encode()
    r = client.raw('POST', f'{API}/sectors', auth_json(admin), body, expect=400)
    assert_problem(r, 400, 'request.malformed_json')
    nested = cd.procedure_body()
    text = json.dumps(nested).replace('"unit": "working_days"}', '"unit": "working_days", "unit": "calendar_days"}', 1)
    r = client.raw('POST', f'{API}/procedures', auth_json(admin), text.encode(), expect=400)
    assert_problem(r, 400, 'request.malformed_json')
    client.get(f'{API}/sectors/{code}', expect=404)


def test_unknown_fields_are_422_with_pointers(client, admin):
    body = cd.procedure_body()
    body['nickname'] = 'x'
    body['cases'][0]['channels'][0]['time_limit']['hours'] = 3
    r = client.post(f'{API}/procedures', token=admin, json=body, expect=422)
    ptrs = error_pointers(assert_problem(r, 422, 'request.validation_failed'))
    assert {'/nickname', '/cases/0/channels/0/time_limit/hours'} <= ptrs
    codes = {e['code'] for e in problem(r)['errors']}
    assert 'unknown_field' in codes


@pytest.mark.parametrize('raw', [
    b'{"code": "abc-def", "name": "\xff\xfe"}',                 # not UTF-8 at all
    b'{"code": "abc-def", "name": "\xc0\xaf"}',                 # overlong encoding of '/'
    b'{"code": "abc-def", "name": "\xed\xa0\x80"}',             # UTF-8-encoded surrogate
    b'{"code": "abc-def", "name": "\\ud800"}',                  # lone surrogate escape
    b'{"code": "abc-def", "name": "T\xe1\xba"}',                # truncated sequence
])
def test_non_utf8_body_is_400(client, admin, raw):
    r = client.raw('POST', f'{API}/sectors', auth_json(admin), raw, expect=400)
    assert_problem(r, 400, 'request.malformed_json')


def test_nul_in_a_string_is_refused(client, admin):
    code = cd.new_sector_code()
    body = json.dumps({'code': code, 'name': 'a\u0000b'}).encode()
    r = client.raw('POST', f'{API}/sectors', auth_json(admin), body, expect=(400, 422))
    assert_problem(r, r.status_code)
    client.get(f'{API}/sectors/{code}', expect=404)


@pytest.mark.parametrize('shape', ['array', 'object'])
def test_deeply_nested_json_is_refused(client, svc, admin, shape):
    depth = 10000
    if shape == 'array':
        body = b'[' * depth + b']' * depth
    else:
        body = b'{"a":' * depth + b'1' + b'}' * depth
    r = client.raw('POST', f'{API}/sectors', auth_json(admin), body, expect=(400, 422))
    assert_problem(r, r.status_code)
    svc.get('/healthz', expect=200)


def test_deep_form_schema_is_reported_not_recursed(client, admin):
    body = cd.procedure_body()
    schema = {'type': 'string'}
    for _ in range(200):
        schema = {'type': 'object', 'properties': {'a': schema}}
    body['cases'][0]['form_schema'] = schema
    r = client.post(f'{API}/procedures', token=admin, json=body, expect=422)
    doc = assert_problem(r, 422, 'request.validation_failed')
    assert any(e['code'] == 'too_deep' and e['pointer'].startswith('/cases/0/form_schema') for e in doc['errors'])


# ---------------------------------------------------------------------------
# CORS (the gateway)

ORIGIN = os.environ.get('MOTCUA_TEST_CORS_ORIGIN', 'http://localhost:3000')


def _listed(header: str | None) -> set[str]:
    return {h.strip().lower() for h in (header or '').split(',') if h.strip()}


def test_cors_preflight(api):
    r = api.options(f'{API}/procedures', validate=False, headers={
        'Origin': ORIGIN,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization, content-type, idempotency-key, if-match',
    })
    assert r.status_code in (200, 204), r.status_code
    assert r.headers.get('Access-Control-Allow-Origin') in (ORIGIN, '*')
    methods = _listed(r.headers.get('Access-Control-Allow-Methods'))
    assert {'get', 'post', 'put', 'delete'} <= methods or '*' in methods
    allowed = _listed(r.headers.get('Access-Control-Allow-Headers'))
    assert {'authorization', 'content-type', 'idempotency-key', 'if-match', 'if-none-match'} <= allowed \
        or '*' in allowed
    assert r.headers.get('Access-Control-Allow-Credentials', '').lower() != 'true' or \
        r.headers.get('Access-Control-Allow-Origin') != '*'


def test_cors_on_actual_responses(api):
    r = api.get(f'{API}/procedures/{BIRTH_REGISTRATION}', headers={'Origin': ORIGIN}, expect=200)
    assert r.headers.get('Access-Control-Allow-Origin') in (ORIGIN, '*')
    exposed = _listed(r.headers.get('Access-Control-Expose-Headers'))
    assert {'etag', 'location', 'x-request-id', 'api-version', 'retry-after', 'allow',
            'content-disposition', 'idempotent-replayed', 'www-authenticate'} <= exposed, \
        'a web client must be able to read these (a replayed answer, the 401 challenge)'
    if r.headers.get('Access-Control-Allow-Origin') == ORIGIN:
        assert 'origin' in _listed(r.headers.get('Vary'))
    r = api.get(f'{API}/sectors/khong-co-{uuid.uuid4().hex[:6]}', headers={'Origin': ORIGIN}, expect=404)
    assert r.headers.get('Access-Control-Allow-Origin') in (ORIGIN, '*'), 'errors need CORS headers too'


def test_cors_never_allows_credentials_for_any_origin(api):
    evil = 'https://evil.example'
    r = api.options(f'{API}/sectors', validate=False, headers={
        'Origin': evil, 'Access-Control-Request-Method': 'POST'})
    if r.headers.get('Access-Control-Allow-Origin') == evil:
        assert r.headers.get('Access-Control-Allow-Credentials', '').lower() != 'true'


# ---------------------------------------------------------------------------
# Request ids

def test_request_id_is_echoed(client):
    rid = f'test-{uuid.uuid4().hex}'
    r = client.get(f'{API}/sectors', params={'limit': 1}, headers={'X-Request-Id': rid}, expect=200)
    assert r.headers['X-Request-Id'] == rid
    r = client.get(f'{API}/sectors/khong-co-nay', headers={'X-Request-Id': rid}, expect=404)
    assert r.headers['X-Request-Id'] == rid
    assert problem(r)['request_id'] == rid


def test_request_id_is_generated_when_absent(client):
    a = client.get(f'{API}/sectors', params={'limit': 1}, expect=200).headers['X-Request-Id']
    b = client.get(f'{API}/sectors', params={'limit': 1}, expect=200).headers['X-Request-Id']
    assert a and b and a != b
    r = client.get(f'{API}/sectors/khong-co-nay', expect=404)
    assert problem(r)['request_id'] == r.headers['X-Request-Id']


@pytest.mark.parametrize('bad', ['x' * 300, 'has space inside', 'semi;colon', 'quote"d', 'tab\tid-0001'])
def test_bad_request_id_is_replaced(client, bad):
    r = client.raw('GET', f'{API}/sectors?limit=1', [('X-Request-Id', bad)], expect=200)
    rid = r.headers['X-Request-Id']
    assert rid != bad and 0 < len(rid) <= 128 and re.fullmatch(r'[\x21-\x7e]+', rid), rid


def test_api_version_header(client):
    r = client.get(f'{API}/sectors', params={'limit': 1}, expect=200)
    assert r.headers['API-Version']
    r2 = client.get(f'{API}/procedures/9.999999.None', expect=404)
    assert r2.headers['API-Version'] == r.headers['API-Version']


# ---------------------------------------------------------------------------
# Rate limiting (the gateway)

def test_gateway_rate_limit(api, spec):
    url = api.url(f'{API}/sectors?limit=1')

    def one(_):
        with requests.get(url, timeout=10) as r:
            return r.status_code, dict(r.headers), r.content

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(one, range(200)))
    limited = [r for r in results if r[0] == 429]
    assert limited, f'200 quick requests were never limited: {sorted({r[0] for r in results})}'
    assert {r[0] for r in results} <= {200, 429}, sorted({r[0] for r in results})
    status, headers, body = limited[0]
    hm = HeaderMap(headers.items())
    errs = check_response(spec, 'GET', f'{API}/sectors', status, hm, body, via='gateway')
    assert not errs, errs
    doc = json.loads(body)
    assert doc['status'] == 429 and doc['code'] == 'http.rate_limited'
    assert hm['Retry-After'].isdigit()
    # Wait until the limit has recovered so that later tests are not throttled.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if requests.get(url, timeout=10).status_code == 200:
            break
        time.sleep(0.5)
    else:
        pytest.fail('the rate limit did not recover within 30 s')
    time.sleep(2.5)


# ---------------------------------------------------------------------------
# Ops endpoints (the service's own port)

def test_healthz_and_readyz(svc):
    assert svc.get('/healthz', expect=200).json()['status'] == 'ok'
    svc.get('/readyz', expect=200)


PROM_LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{((?:[^"}]|"(?:[^"\\]|\\.)*")*)\})? '
                       r'(-?[0-9.eE+-]+|[+-]Inf|NaN)( -?[0-9]+)?$')


def parse_metrics(text: str) -> tuple[dict[str, str], list[tuple[str, dict[str, str], float]]]:
    types, samples = {}, []
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith('# TYPE '):
            _, _, name, kind = line.split(' ', 3)
            types[name] = kind
            continue
        if line.startswith('#'):
            continue
        m = PROM_LINE.match(line)
        assert m, f'not a Prometheus sample line: {line!r}'
        labels = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(3) or ''))
        samples.append((m.group(1), labels, float(m.group(4))))
    return types, samples


def test_metrics(svc):
    marker = cd.new_procedure_code()
    svc.get(f'{API}/procedures/{marker}', expect=404)
    svc.get(f'{API}/sectors', params={'limit': 1}, expect=200)
    r = svc.get('/metrics', expect=200)
    assert r.headers['Content-Type'].startswith('text/plain')
    types, samples = parse_metrics(r.text)
    counters = [n for n, k in types.items() if k == 'counter']
    gauges = [n for n, k in types.items() if k == 'gauge']
    assert any('request' in n for n in counters), types
    assert any('pool' in n for n in gauges), 'database pool gauges are missing'
    routes = {lab.get('route') for _, lab, _ in samples if 'route' in lab}
    assert f'{API}/procedures/{{code}}' in routes and f'{API}/sectors' in routes, routes
    assert marker not in r.text, 'concrete paths must never become label values'
    # The counter of a route grows with the requests it answers.
    def count(text):
        return sum(v for n, lab, v in parse_metrics(text)[1]
                   if n in counters and lab.get('route') == f'{API}/sectors' and lab.get('status') == '200')
    before = count(r.text)
    for _ in range(3):
        svc.get(f'{API}/sectors', params={'limit': 1}, expect=200)
    assert count(svc.get('/metrics', expect=200).text) >= before + 3


def test_openapi_json(svc, spec):
    r = svc.get('/openapi.json', expect=200)
    doc = r.json()
    assert re.fullmatch(r'3\.1\.\d+', doc['openapi'])
    for template in CONTRACT_TEMPLATES:
        assert template in doc['paths'], template
    text = r.text
    for ref in set(re.findall(r'"\$ref":\s*"([^"]+)"', text)):
        assert ref.startswith('#/'), f'/openapi.json must be self-contained: {ref}'
        node = doc
        for part in ref[2:].split('/'):
            node = node[part.replace('~1', '/').replace('~0', '~')]
    assert 'bearerAuth' in doc['components']['securitySchemes']
    assert doc['components']['securitySchemes']['bearerAuth'].get('scheme') == 'bearer'
    assert set(doc['paths']) == {t for _, t, _, f in spec.operations if f == 'catalogue.yaml'}


def _merged_public_document() -> dict:
    import sys
    sys.path.insert(0, os.path.join(REPO_ROOT, 'common', 'tools'))
    from merge_openapi import merge  # noqa: E402 - the build's own merge, not a copy
    merged, conflicts = merge(os.path.join(SPEC_DIR, 'public.yaml'))
    assert conflicts == []
    return merged


def test_one_public_api_document_through_the_gateway(api, spec):
    """The gateway serves ONE document for the whole public API: every public operation
    of every service document listed in api-spec/public.yaml, none of the operations
    endpoints, each operationId once."""
    r = api.get('/openapi.json', validate=False)
    assert r.status_code == 200 and r.headers['Content-Type'] == 'application/json'
    assert r.headers.get('X-Request-Id')
    doc = r.json()
    assert doc == json.loads(json.dumps(_merged_public_document(), default=str))
    assert re.fullmatch(r'3\.1\.\d+', doc['openapi'])
    services = load_yaml(os.path.join(SPEC_DIR, 'public.yaml'))['x-motcua-services']
    assert {'catalogue.yaml', 'identity.yaml', 'dossier.yaml'} <= set(services)
    public = {t for _, t, _, f in spec.operations if f in services}
    assert set(doc['paths']) == public
    ops = {t for _, t, _, f in spec.operations if f == 'operations.yaml'}
    assert ops == {'/healthz', '/readyz', '/metrics', '/openapi.json'} and not ops & set(doc['paths'])
    ids = [op['operationId'] for item in doc['paths'].values() for m, op in item.items()
           if m in ('get', 'put', 'post', 'delete', 'patch')]
    assert len(ids) == len(set(ids))
    # one definition per shared type, and every reference resolves inside the document
    assert doc['components']['schemas']['AgencyCode']['pattern'].startswith('^[0-9]{3}')
    for ref in set(re.findall(r'"\$ref":\s*"([^"]+)"', r.text)):
        assert ref.startswith('#/'), ref
        node = doc
        for part in ref[2:].split('/'):
            node = node[part.replace('~1', '/').replace('~0', '~')]
    # every operation keeps the security it had in its service document
    catalogue = spec.raw['catalogue.yaml']
    assert doc['paths'][f'{API}/procedures']['get']['security'] == \
        catalogue['paths'][f'{API}/procedures']['get']['security']          # public read
    assert doc['paths'][f'{API}/dossiers']['post']['security'] == [{'bearerAuth': []}]
    # the per-service documents are no longer published by the gateway
    assert_problem(api.get('/openapi/catalogue.json', known_path=False), 404, 'http.not_found')


def test_api_docs_page_through_the_gateway(api):
    r = api.get('/docs', validate=False)
    assert r.status_code == 301 and r.headers['Location'].endswith('/docs/')
    r = api.get('/docs/', validate=False)
    assert r.status_code == 200 and r.headers['Content-Type'].startswith('text/html')
    assert '/openapi.json' in r.text
    if 'swagger-ui-bundle.js' in r.text:   # Swagger UI installed (npm reachable)
        js = api.get('/docs/motcua-docs.js', validate=False)
        assert js.status_code == 200 and "url: '/openapi.json'" in js.text
        bundle = api.get('/docs/swagger-ui-bundle.js', validate=False)
        assert bundle.status_code == 200
        assert bundle.headers['Content-Type'] == 'application/javascript' and len(bundle.content) > 100000


@pytest.mark.parametrize('target', ['/metrics', '/readyz', f'{API}/../metrics', f'{API}/%2e%2e/metrics',
                                    '//metrics', '/metrics/', f'{API}/procedures/..%2f..%2fmetrics'])
def test_metrics_not_reachable_through_the_gateway(base_url, target):
    r = raw_request(base_url, 'GET', target)
    assert r.status_code in (400, 403, 404), (target, r.status_code)
    assert b'motcua_http_requests_total' not in r.content
    assert r.headers.get('Content-Type', '').startswith('application/problem+json')


def test_spec_violation_is_reported(api):
    """The automatic validation is on: a request the spec does not know fails."""
    with pytest.raises(SpecViolation):
        api.get(f'{API}/khong-ton-tai')
