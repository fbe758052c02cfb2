"""The tracking service's public card cache (docs/services/tracking.md, "Card cache").

A public card read by code without a second factor is kept in memory; the projection's
transaction notifies every instance when it changes the dossier, so a change made through
the dossier API is on the public card as soon as the projection has applied it: never a
stale card. A lookup with a second factor never comes from the cache.

The cards are read from the service itself, so that nothing in front of it can hide what
its own cache does."""
from __future__ import annotations

from dossier_support import act, filed
from motcua_api import ApiClient
from stack_db import psql_as
from tracking_support import APPLICANT_ID, ID_HEADER, TRACKING, kinds, timeline, tracking_url

BEHIND = 'Đổi thẳng trong cơ sở dữ liệu'  # written without the projection: no notification


def card(api, code: str, headers: dict | None = None) -> dict:
    return api.get(f'{TRACKING}/dossiers/{code}', headers=headers, expect=200).doc


def test_a_change_through_the_dossier_api_is_on_the_public_card_at_once(world, spec):
    api, citizen, officer = world.api, world.citizen(), world.officer
    svc = ApiClient(tracking_url(), spec, via='service')  # cards: no gateway cache in between
    d = filed(world, world.procedure(mandatory=()), documents=())
    timeline(api, citizen, d['code'], lambda t: kinds(t) == ['submitted'])
    first = card(svc, d['code'])
    assert first['status']['code'] == 1

    # The card is held: a row changed behind the projection's back (no notification)
    # does not show on the public card, which comes from memory ...
    # (the card and the stored public card both: neither shows while the cache holds it)
    psql_as('tracking', "UPDATE dossiers SET card = jsonb_set(card, '{procedure,name}', "
                        f"to_jsonb('{BEHIND}'::text)), public_card = (jsonb_set("
                        f"public_card::jsonb, '{{procedure,name}}', to_jsonb('{BEHIND}'::text)))::text "
                        f"WHERE code = '{d['code']}'")
    assert card(svc, d['code']) == first
    # ... while a lookup with a second factor reads the database every time.
    mine = card(svc, d['code'], headers={ID_HEADER: APPLICANT_ID})
    assert mine['procedure']['name'] == BEHIND

    # Each change the projection applies reaches the public card at once: read right
    # after the (uncached) signed-in timeline shows the step.
    steps = 1
    for action, body, status in [('receive', {}, 2), ('forward', {}, 4),
                                 ('request_payment', {'amount': 30000}, 6),
                                 ('confirm_payment', {}, 4)]:
        d = act(api, officer, d, action, body).doc
        steps += 1
        tl = timeline(api, citizen, d['code'],
                      lambda t, s=status, n=steps: t['status']['code'] == s and len(t['steps']) == n)
        shown = card(svc, d['code'])
        assert shown['status'] == tl['status'], (action, shown['status'], tl['status'])
        assert kinds(shown) == kinds(tl), action
        assert shown['procedure']['name'] != BEHIND  # the projection rewrote the card
        # (the deadline watcher's events, e.g. due_soon, may move updated_at on meanwhile)
        assert shown['updated_at'] >= tl['updated_at']
    # Read again, the same bytes (from the cache now) with the same ETag, 304 on it; unless
    # a watcher's event changed the card in between: then the bytes differ too. (Few reads
    # per code: the gateway allows a burst of 20 per looked-up path.)
    r1 = svc.get(f'{TRACKING}/dossiers/{d["code"]}', expect=200)
    r2 = svc.get(f'{TRACKING}/dossiers/{d["code"]}', expect=200)
    assert r2.headers['Cache-Control'] == 'no-store'
    assert (r1.headers['ETag'] == r2.headers['ETag']) == (r1.content == r2.content)
    r3 = svc.get(f'{TRACKING}/dossiers/{d["code"]}', headers={'If-None-Match': r2.headers['ETag']},
                 expect=(200, 304))
    assert r3.status_code == 304 or r3.content != r2.content
