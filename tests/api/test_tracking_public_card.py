"""The public card stored in the projection's row (docs/services/tracking.md, "Stored public
card"): the projection writes the exact bytes and ETag of the factor-less lookup in the
transaction that changes the dossier, and the lookup answers them after one indexed read.

What is checked: through a dossier's life, after every change, the stored bytes and ETag
are those the lookup builds on the spot from the row and its steps (the path a row without
a stored card takes); a row whose stored card is missing or was built under another lookup
key is answered the same, and a starting instance rebuilds it."""
from __future__ import annotations

import json
import os
import subprocess
import time

import pytest
import requests

from dossier_support import act, filed
from service_process import ServiceProcess
from stack_db import psql_as
from tracking_support import TRACKING, kinds, timeline, tracking_url


def stored(code: str) -> dict:
    """The row's stored card, its ETag and key id, and the feed position it is at."""
    out = psql_as('tracking', "SELECT json_build_object('body', public_card, 'etag', public_etag, "
                              "'key_id', public_key_id, 'seq', last_sequence, 'short', short_code) "
                              f"FROM dossiers WHERE code = '{code}'")
    return json.loads(out)


def built_on_the_spot(url: str, code: str) -> tuple[bytes, str, dict]:
    """Drop the row's stored card (no notification) and read the card by its short link
    straight from the service (no card cache, no gateway): the lookup then builds the
    answer from the row and its steps. Returns its bytes, its ETag and the row after."""
    row = stored(code)
    psql_as('tracking', f"UPDATE dossiers SET public_card = NULL WHERE code = '{code}'")
    r = requests.get(f'{url}{TRACKING}/short/{row["short"]}', timeout=10)
    assert r.status_code == 200, r.text
    return r.content, r.headers['ETag'], row


def assert_stored_equals_built(url: str, code: str) -> bytes:
    """The stored bytes and ETag equal those built on the spot (again if an event of the
    deadline watcher changed the row in between); the stored card is put back."""
    for _ in range(3):
        before = stored(code)
        body, etag, row = built_on_the_spot(url, code)
        psql_as('tracking', f"UPDATE dossiers SET public_card = {sql_text(before['body'])} "
                            f"WHERE code = '{code}' AND public_card IS NULL "
                            f"AND last_sequence = {before['seq']}")
        if row['seq'] == before['seq'] and stored(code)['seq'] == before['seq']:
            assert before['body'] is not None, 'the projection stored no card'
            assert before['body'].encode() == body
            assert before['etag'] == etag
            return body
    pytest.fail(f'the row of {code} kept changing')


def sql_text(s: str | None) -> str:
    return 'NULL' if s is None else "'" + s.replace("'", "''") + "'"


def test_the_stored_card_is_the_built_one_through_a_dossiers_life(world):
    api, citizen, officer, approver = world.api, world.citizen(), world.officer, world.approver
    url = tracking_url()
    d = filed(world, world.procedure(mandatory=()), documents=())
    timeline(api, citizen, d['code'], lambda t: kinds(t) == ['submitted'])
    shown = [assert_stored_equals_built(url, d['code'])]
    for actor, action, body, status in [
            (officer, 'receive', {}, 2),
            (officer, 'request_supplement', {'missing_items': ['Giấy xác nhận cư trú']}, 5),
            (citizen, 'supplement', {}, 2),
            (officer, 'forward', {}, 4),
            (officer, 'request_payment', {'amount': 30000}, 6),
            (officer, 'confirm_payment', {}, 4),
            (approver, 'approve', {'result': {'summary': 'Cấp giấy khai sinh'}}, 9),
            (officer, 'return_result', {}, 10)]:
        d = act(api, actor, d, action, body).doc
        n = len(shown) + 1
        timeline(api, citizen, d['code'],
                 lambda t, s=status, n=n: t['status']['code'] == s and len(t['steps']) == n)
        shown.append(assert_stored_equals_built(url, d['code']))
        card = json.loads(shown[-1])
        assert card['status']['code'] == status and len(card['steps']) == n, action
    assert len(set(shown)) == len(shown)  # every change changed the stored card
    # the lookup by code answers the stored bytes themselves
    r = requests.get(f'{url}{TRACKING}/dossiers/{d["code"]}', timeout=10)
    assert r.status_code == 200 and r.content == shown[-1]
    assert r.headers['ETag'] == stored(d['code'])['etag']


def test_a_missing_or_stale_card_is_answered_the_same_and_rebuilt_at_start(world, tmp_path):
    local = os.environ.get('MOTCUA_TEST_LOCAL_DIR', '').strip()
    if not local:
        pytest.skip('MOTCUA_TEST_LOCAL_DIR (set by tests/run)')
    api, citizen = world.api, world.citizen()
    url = tracking_url()
    a, b = (filed(world, world.procedure(mandatory=()), documents=()) for _ in range(2))
    for d in (a, b):
        timeline(api, citizen, d['code'])
    good = {d['code']: stored(d['code']) for d in (a, b)}
    # a: built before the migration (NULL); b: built under another lookup key
    psql_as('tracking', f"UPDATE dossiers SET public_card = NULL WHERE code = '{a['code']}'")
    psql_as('tracking', "UPDATE dossiers SET public_card = replace(public_card, short_code, "
                        f"'0000000000'), public_key_id = 'another' WHERE code = '{b['code']}'")
    for d in (a, b):  # by short link: the card cache is not in the way
        r = requests.get(f'{url}{TRACKING}/short/{good[d["code"]]["short"]}', timeout=10)
        assert r.status_code == 200 and r.content == good[d['code']]['body'].encode()
        assert r.headers['ETag'] == good[d['code']]['etag']
    # an instance that starts rebuilds both (its refresher's pass over the table)
    first = ServiceProcess('tracking', local, url)
    port = int(first.env['MOTCUA_TRACKING_PORT']) + 51
    env = dict(first.env, MOTCUA_TRACKING_PORT=str(port))
    with open(tmp_path / 'second.log', 'ab') as out, open(os.devnull, 'rb') as devnull:
        second = subprocess.Popen([first.exe] + first.argv[1:], cwd=first.cwd, env=env,
                                  stdin=devnull, stdout=out, stderr=out, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            now = {c: stored(c) for c in good}
            if all(now[c]['body'] is not None and now[c]['key_id'] == good[c]['key_id']
                   for c in good):
                break
            assert time.monotonic() < deadline, now
            time.sleep(0.2)
        for c in good:
            assert now[c]['body'] == good[c]['body'] and now[c]['etag'] == good[c]['etag']
    finally:
        second.terminate()
        second.wait(timeout=30)
