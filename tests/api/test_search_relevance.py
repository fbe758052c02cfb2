"""Search relevance over the demo catalogue: the citizen query set of
tests/search/queries.tsv (issue 14). Prints hits@1 and hits@3 and holds the
targets: every query finds its procedure in the first three results, and at
least 90% find it first."""
from __future__ import annotations

import pathlib

import pytest

from catalogue_data import API

QUERIES = pathlib.Path(__file__).resolve().parents[1] / 'search' / 'queries.tsv'
HITS_AT_1_TARGET = 0.90


def load_queries() -> list[tuple[str, str]]:
    pairs = []
    for line in QUERIES.read_text(encoding='utf-8').splitlines():
        if not line.strip() or line.startswith('#'):
            continue
        query, code = line.split('\t')
        pairs.append((query, code))
    return pairs


def test_query_set_is_large_enough():
    pairs = load_queries()
    assert len(pairs) >= 150
    assert len({q for q, _ in pairs}) == len(pairs), 'a query is listed twice'


def test_citizen_queries_find_their_procedure(api, capsys):
    pairs = load_queries()
    first = top3 = 0
    misses = []
    for query, code in pairs:
        r = api.get(f'{API}/procedures', params={'q': query, 'limit': 3}, expect=200)
        found = [i['code'] for i in r.doc['items']]
        if found[:1] == [code]:
            first += 1
        if code in found:
            top3 += 1
        else:
            misses.append(f'{query!r}: want {code}, got {found}')
        if found[:1] != [code] and code in found:
            misses.append(f'{query!r}: {code} only at {found.index(code) + 1}')
    n = len(pairs)
    with capsys.disabled():
        print(f'\nsearch relevance over {n} citizen queries: '
              f'hits@1 {first / n:.1%} ({first}), hits@3 {top3 / n:.1%} ({top3})')
        for m in misses:
            print('  ' + m)
    assert top3 == n, f'hits@3 {top3}/{n}'
    assert first / n >= HITS_AT_1_TARGET, f'hits@1 {first}/{n}'
