"""Outbox retention: published events past MOTCUA_DOSSIER_EVENTS_RETENTION_DAYS are
deleted by the relay, and the feed tells a consumer that fell behind them (410
events.position_expired with oldest_after) instead of silently skipping what it missed.

The test ages the events it can see (published_at moved 100 days back, as the dossier
service's own database role) and waits for the relay's next pruning pass (the local
stack prunes every 2 s: MOTCUA_DOSSIER_EVENTS_PRUNE_INTERVAL_SECONDS). Needs the test
stack's database: MOTCUA_TEST_PG_PORT and MOTCUA_TEST_LOCAL_DIR, set by tests/run.
"""
from __future__ import annotations

import time

from dossier_support import API, dossier_events, dossier_sql, feed_end, filed
from motcua_api import assert_problem


def feed(world, after: int, expect=200):
    return world.api.get(f'{API}/events/dossier', token=world.tokens.system_admin,
                         params={'after': after, 'limit': 1000}, expect=expect)


def test_expired_events_are_deleted_and_a_consumer_behind_them_is_told(world):
    dossier_sql('SELECT 1')  # skips without the database
    start = feed_end(world)
    old = filed(world, world.procedure(value=2, mandatory=()), documents=())
    assert dossier_events(world, old['id'], start, 1), 'the submission was not published'
    end = feed_end(world)
    assert end > start
    kept_before = int(dossier_sql(f'SELECT count(*) FROM outbox WHERE published_seq <= {end}'))
    assert kept_before > 0

    # Age everything published so far past the retention (90 days by default).
    dossier_sql("UPDATE outbox SET published_at = published_at - interval '100 days'"
                f' WHERE published_seq <= {end}')
    deadline = time.monotonic() + 30
    while True:
        r = feed(world, 0, expect=(200, 410))
        if r.status_code == 410 and r.doc['oldest_after'] >= end:
            break
        assert time.monotonic() < deadline, 'the relay did not prune aged events within 30 s'
        time.sleep(0.5)

    doc = assert_problem(r, 410, 'events.position_expired')
    assert doc['oldest_after'] == end, (doc, end)
    assert f'after={end}' in doc['detail']
    # Behind the horizon by one: still expired. At the horizon: readable, nothing lost after it.
    assert_problem(feed(world, end - 1, expect=410), 410, 'events.position_expired')
    page = feed(world, end).doc
    assert all(int(e['sequence']) > end for e in page['items'])
    assert dossier_sql(f'SELECT count(*) FROM outbox WHERE published_seq <= {end}') == '0'
    assert int(dossier_sql('SELECT pruned_through FROM outbox_horizon')) == end

    # New events continue after the horizon: positions are never reused.
    new = filed(world, world.procedure(value=2, mandatory=()), documents=())
    events = dossier_events(world, new['id'], end, 1)
    assert events and all(int(e['sequence']) > end for e in events), (events, end)
    assert events[0]['type'] == 'dossier.dossier.submitted', events


def test_recent_events_are_kept(world):
    end = feed_end(world)
    d = filed(world, world.procedure(value=2, mandatory=()), documents=())
    events = dossier_events(world, d['id'], end, 1)
    time.sleep(3)  # longer than the local stack's pruning interval
    again = dossier_events(world, d['id'], end, 1)
    assert [e['id'] for e in again] == [e['id'] for e in events]
