"""Search synonyms (issue 14): maintained by system administrators through
/api/v1/synonyms, they add readings of a search query (never replace it); and
the "did you mean" suggestion of a search that found nothing."""
from __future__ import annotations

import random
import string

import pytest

from catalogue_data import API, CRIMINAL_RECORD
from motcua_api import assert_problem, error_pointers


def new_phrase() -> str:
    """Two made-up words no procedure uses, so only the synonym can match."""
    word = lambda: 'zq' + ''.join(random.choices(string.ascii_lowercase, k=6))
    return f'{word()} {word()}'


def slug(phrase: str) -> str:
    return phrase.replace(' ', '-')


def found(api, q: str) -> list[str]:
    r = api.get(f'{API}/procedures', params={'q': q, 'limit': 10}, expect=200)
    return [i['code'] for i in r.doc['items']]


def test_a_synonym_makes_a_search_find_the_procedure_and_leaves_with_it(api, admin):
    phrase = new_phrase()
    assert CRIMINAL_RECORD not in found(api, phrase)

    r = api.put(f'{API}/synonyms/{slug(phrase)}', token=admin,
                json={'expansions': ['Lý lịch TƯ PHÁP', 'phiếu lý lịch']}, expect=201)
    assert r.headers['Location'] == f'{API}/synonyms/{slug(phrase)}'
    assert r.doc['phrase'] == phrase
    assert r.doc['expansions'] == ['ly lich tu phap', 'phieu ly lich']
    assert found(api, phrase)[:1] == [CRIMINAL_RECORD]
    # Expansion adds a reading, the words typed still count: a query of the
    # phrase plus other words still finds it.
    assert CRIMINAL_RECORD in found(api, f'xin {phrase} o dau')[:3]

    r = api.get(f'{API}/synonyms/{slug(phrase)}', token=admin, expect=200)
    assert r.doc['expansions'] == ['ly lich tu phap', 'phieu ly lich']

    r = api.put(f'{API}/synonyms/{slug(phrase)}', token=admin,
                json={'expansions': ['đăng ký kết hôn']}, expect=200)
    assert r.doc['expansions'] == ['dang ky ket hon']
    assert CRIMINAL_RECORD not in found(api, phrase)

    api.delete(f'{API}/synonyms/{slug(phrase)}', token=admin, expect=204)
    assert found(api, phrase) == []
    assert_problem(api.get(f'{API}/synonyms/{slug(phrase)}', token=admin), 404, 'resource.not_found')
    assert_problem(api.delete(f'{API}/synonyms/{slug(phrase)}', token=admin), 404,
                   'resource.not_found')


def test_the_default_set_is_listed_in_pages(api, admin):
    phrases = []
    cursor = None
    while True:
        params = {'limit': 25} | ({'cursor': cursor} if cursor else {})
        r = api.get(f'{API}/synonyms', token=admin, params=params, expect=200)
        phrases += [i['phrase'] for i in r.doc['items']]
        cursor = r.doc['next_cursor']
        if cursor is None:
            break
    assert phrases == sorted(phrases) and len(phrases) == len(set(phrases))
    assert {'gplx', 'cccd', 'bhxh', 'ubnd', 'tnhh', 'thpt', 'bang lai', 'cong chung'} <= set(phrases)


@pytest.mark.parametrize('body, pointers', [
    ({}, {'/expansions'}),
    ({'expansions': []}, {'/expansions'}),
    ({'expansions': ['ok', '  ']}, {'/expansions/1'}),
    ({'expansions': ['ok', '?!…']}, {'/expansions/1'}),
    ({'expansions': ['x' * 201]}, {'/expansions/0'}),
    ({'expansions': ['a'] * 21}, {'/expansions'}),
    ({'expansions': 'giay phep'}, {'/expansions'}),
    ({'expansions': ['ok'], 'phrase': 'x'}, {'/phrase'}),
])
def test_bad_bodies_are_422_at_their_field(api, admin, body, pointers):
    r = api.put(f'{API}/synonyms/zq-bad-body', token=admin, json=body)
    assert error_pointers(assert_problem(r, 422, 'request.validation_failed')) == pointers
    assert_problem(api.get(f'{API}/synonyms/zq-bad-body', token=admin), 404)


@pytest.mark.parametrize('bad', ['Bang-lai', 'bang--lai', '-bang', 'bang-', 'bằng', 'a-b-c-d-e-f-g-h-i',
                                 'x' * 101])
def test_malformed_phrases_are_not_found(api, admin, bad):
    assert_problem(api.get(f'{API}/synonyms/{bad}', token=admin), 404, 'resource.not_found')
    r = api.put(f'{API}/synonyms/{bad}', token=admin, json={'expansions': ['ok']})
    assert_problem(r, 404, 'resource.not_found')


def test_only_system_admins_see_or_change_synonyms(api, tokens):
    officer = tokens.officer
    assert_problem(api.get(f'{API}/synonyms'), 401, 'auth.unauthenticated')
    assert_problem(api.get(f'{API}/synonyms', token=officer), 403, 'auth.forbidden')
    assert_problem(api.get(f'{API}/synonyms/gplx', token=officer), 403, 'auth.forbidden')
    r = api.put(f'{API}/synonyms/gplx', token=officer, json={'expansions': ['xe']})
    assert_problem(r, 403, 'auth.forbidden')
    assert_problem(api.delete(f'{API}/synonyms/gplx', token=officer), 403, 'auth.forbidden')


def test_a_search_that_finds_nothing_suggests_what_the_catalogue_knows(api):
    r = api.get(f'{API}/procedures', params={'q': 'khaiiii sinhhhh'}, expect=200)
    assert r.doc['items'] == [] and r.doc['next_cursor'] is None
    assert r.doc['suggestion'] == 'khai sinh'
    assert found(api, r.doc['suggestion'])


def test_no_suggestion_without_a_likely_word(api):
    r = api.get(f'{API}/procedures', params={'q': 'xqzvw khong ton tai thu tuc nay'}, expect=200)
    assert r.doc == {'items': [], 'next_cursor': None}


def test_a_search_that_finds_something_has_no_suggestion(api):
    r = api.get(f'{API}/procedures', params={'q': 'khai sinh'}, expect=200)
    assert r.doc['items'] and 'suggestion' not in r.doc
