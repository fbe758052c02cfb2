"""The gateway's microcache of the public lookup (deploy/gateway/services/tracking_cache.conf,
docs/services/tracking.md "Gateway microcache"): a public card asked without a second
factor and without a token is kept 1 s at the gateway; a request with a factor or a token
is never answered from it; a change is visible once the validity is over (under 2 s:
nginx counts it in whole seconds).

The card is changed behind the service's back (the stored card in the row, by SQL: no
notification), and read by its short link, which the service's own card cache never holds:
what the gateway answers then shows whether it came from its cache."""
from __future__ import annotations

import json
import time

import requests

from dossier_support import filed
from stack_db import psql_as
from tracking_support import APPLICANT_ID, ID_HEADER, TRACKING, timeline

VALIDITY = 1.0  # proxy_cache_valid 200 1s
EXPIRED = 2.1   # nginx counts it in whole seconds: a kept card is gone 2 s after at the latest
MARK = 'Đổi sau lưng dịch vụ'


def stored_card(code: str) -> dict:
    return json.loads(psql_as('tracking', f"SELECT public_card FROM dossiers WHERE code = '{code}'"))


def change_behind(code: str, name: str) -> None:
    """Rewrite the procedure's name in the stored card only (the lookup answers those bytes)."""
    psql_as('tracking', "UPDATE dossiers SET public_card = (jsonb_set(public_card::jsonb, "
                        f"'{{procedure,name}}', to_jsonb('{name}'::text)))::text "
                        f"WHERE code = '{code}'")


def test_a_factor_or_a_token_is_never_served_from_the_cache_and_changes_show_within_1s(world, base_url):
    api, citizen = world.api, world.citizen()
    d = filed(world, world.procedure(mandatory=()), documents=())
    timeline(api, citizen, d['code'])
    short = stored_card(d['code'])['short_code']
    url = f'{base_url}{TRACKING}/short/{short}'
    original = stored_card(d['code'])['procedure']['name']
    for attempt in range(3):
        requests.get(url, timeout=10)
        first = requests.get(url, timeout=10)  # the second within 10 s: stored (min_uses 2)
        started = time.monotonic()
        assert first.status_code == 200 and first.json()['procedure']['name'] == original
        change_behind(d['code'], MARK)
        cached = requests.get(url, timeout=10)
        # with the factor: the applicant's answer, from the service, never the cached one
        mine = requests.get(url, headers={ID_HEADER: APPLICANT_ID}, timeout=10)
        # with a token: from the service as well
        signed = requests.get(url, headers={'Authorization': f'Bearer {citizen}'}, timeout=10)
        if time.monotonic() - started < VALIDITY * 0.8:
            break
        change_behind(d['code'], original)  # too slow a machine to tell: again
        time.sleep(EXPIRED)
    else:
        raise AssertionError('could not read three times within the validity')
    assert cached.status_code == 200 and cached.content == first.content  # from the cache
    assert mine.status_code == 200
    assert mine.json()['applicant'] == {'masked_name': 'N*** V*** A***'}
    assert mine.json()['asked'] is not None
    assert mine.content != first.content
    assert signed.status_code == 200 and signed.json()['procedure']['name'] == MARK
    # the change is there once the validity is over
    time.sleep(EXPIRED)
    fresh = requests.get(url, timeout=10)
    assert fresh.status_code == 200 and fresh.json()['procedure']['name'] == MARK
    # the factor answer was not stored: the factor-less read above is the public card
    assert fresh.json()['applicant'] is None and fresh.json()['asked'] is None
    # a wrong factor right after a cached read is still the generic 404
    requests.get(url, timeout=10)
    wrong = requests.get(url, headers={ID_HEADER: '001090099999'}, timeout=10)
    assert wrong.status_code == 404
