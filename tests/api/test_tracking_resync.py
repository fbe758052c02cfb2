"""The tracking service behind the dossier feed's retention (410 events.position_expired):
while it is down, events it has not consumed are aged past the retention and pruned (as in
test_event_retention). On restart it records the gap (feed_gaps), reads on from the feed's
oldest retained position, and a dossier whose events were lost gets its card back, right,
from its next event (every event carries the dossier's whole state); its lost steps stay
lost, as docs/services/tracking.md says."""
from __future__ import annotations

import os
import time

import pytest

from dossier_support import act, expire_feed_through, feed_end, filed
from service_process import ServiceProcess
from stack_db import psql_as
from tracking_support import TRACKING, kinds, timeline, tracking_url


def test_a_position_behind_the_retention_is_recorded_and_cards_recover(world):
    local = os.environ.get('MOTCUA_TEST_LOCAL_DIR', '').strip()
    if not local:
        pytest.skip('MOTCUA_TEST_LOCAL_DIR (set by tests/run)')
    proc = ServiceProcess('tracking', local, tracking_url())
    api, officer = world.api, world.officer
    procedure = world.procedure(mandatory=())
    seen = filed(world, procedure, documents=())
    timeline(api, officer, seen['code'])  # tracking is caught up to here
    proc.kill()
    try:
        start = feed_end(world)
        lost = filed(world, procedure, documents=())
        # the relay publishes after the commit (within a poll interval; longer under load)
        deadline = time.monotonic() + 10
        end = feed_end(world)
        while end <= start and time.monotonic() < deadline:
            time.sleep(0.1)
            end = feed_end(world)
        assert end > start
        horizon = expire_feed_through(end)
    finally:
        proc.start()
    later = filed(world, procedure, documents=())
    assert kinds(timeline(api, officer, later['code'])) == ['submitted']
    gaps = psql_as('tracking', "SELECT oldest_after FROM feed_gaps WHERE feed = 'dossier'").split()
    assert str(horizon) in gaps
    # the lost dossier is unknown until its next event, which brings its whole state
    api.get(f'{TRACKING}/dossiers/{lost["code"]}/timeline', token=officer, expect=404)
    lost = act(api, officer, lost, 'receive').doc
    tl = timeline(api, officer, lost['code'])
    assert kinds(tl) == ['received'] and tl['status']['code'] == 2
    assert tl['submitted_at'] == lost['dates']['submitted_at']
    assert tl['appointment_at'] == lost['dates']['appointment_at']
