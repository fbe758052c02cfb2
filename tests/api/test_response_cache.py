"""The response cache for public reads (common/src/response_cache.c).

Repeated public reads are answered from memory (counted in /metrics), a
successful write on the service drops what it may have changed at once, and
caller-specific reads are never shared between callers.
"""
from __future__ import annotations

import catalogue_data as cd
from test_http_conventions import parse_metrics

API = '/api/v1'


def cache_hits(svc) -> float:
    samples = parse_metrics(svc.get('/metrics', expect=200).text)[1]
    return sum(v for n, lab, v in samples
               if n == 'motcua_response_cache_lookups_total' and lab.get('result') == 'hit')


def test_repeated_public_reads_are_served_from_memory(svc):
    before = cache_hits(svc)
    first = svc.get(f'{API}/procedures/1.001193', expect=200)
    second = svc.get(f'{API}/procedures/1.001193', expect=200)
    assert second.content == first.content
    assert second.headers['ETag'] == first.headers['ETag']
    # a cached answer still honours If-None-Match
    svc.get(f'{API}/procedures/1.001193', headers={'If-None-Match': first.headers['ETag']}, expect=304)
    assert cache_hits(svc) >= before + 2


def test_a_write_is_visible_to_the_next_read(svc, admin):
    body = cd.sector_body()
    svc.get(f'{API}/sectors/{body["code"]}', expect=404)  # only 200s are kept: no cached 404
    svc.post(f'{API}/sectors', token=admin, json=body, expect=201)
    assert svc.get(f'{API}/sectors/{body["code"]}', expect=200).json()['name'] == body['name']
    etag = svc.get(f'{API}/sectors/{body["code"]}', expect=200).headers['ETag']  # served from memory
    renamed = dict(body, name='Lĩnh vực đã đổi tên')
    svc.put(f'{API}/sectors/{body["code"]}', token=admin, json=renamed, headers={'If-Match': etag}, expect=200)
    assert svc.get(f'{API}/sectors/{body["code"]}', expect=200).json()['name'] == 'Lĩnh vực đã đổi tên'


def test_drafts_are_never_served_to_the_public_from_a_writers_read(svc, admin):
    proc = cd.procedure_body()
    created = svc.post(f'{API}/procedures', token=admin, json=proc, expect=201)
    version = created.json()['version']
    # the writer reads the draft version; the public must still get 404
    svc.get(f'{API}/procedures/{proc["code"]}/versions/{version}', token=admin, expect=200)
    svc.get(f'{API}/procedures/{proc["code"]}/versions/{version}', expect=404)
    svc.get(f'{API}/procedures/{proc["code"]}', expect=404)
