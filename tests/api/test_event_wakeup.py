"""The outbox relay is woken by the writer's commit, not by NOTIFY.

pg_notify in the writing transaction serialises every notifying commit of the cluster
behind one lock (tests/bench/dossier measures it), so a producer now wakes its own
process's relay right after COMMIT. These tests check both halves: nothing is NOTIFYed
on the old channel while dossiers are filed, and each event is still published well
within the relay's poll interval (the stack's default, 500 ms), so the wake-up works.
Needs the test stack's database (MOTCUA_TEST_PG_PORT, MOTCUA_TEST_LOCAL_DIR).
"""
from __future__ import annotations

import os
import random
import subprocess
import time

from dossier_support import dossier_events, dossier_sql, feed_end, filed

POLL_MS = 500  # MOTCUA_DOSSIER_EVENTS_POLL_MS of the test stack (the default)


def listen_while(seconds: float) -> subprocess.Popen:
    """A psql session LISTENing on the outbox channel for `seconds`; its output names
    every notification received ("Asynchronous notification ... received")."""
    dossier_sql('SELECT 1')  # skips without the database
    port, local = os.environ['MOTCUA_TEST_PG_PORT'], os.environ['MOTCUA_TEST_LOCAL_DIR']
    with open(os.path.join(local, 'secrets', 'dossier.password'), encoding='utf-8') as f:
        password = f.readline().strip()
    env = dict(os.environ, PGPASSWORD=password, PGCONNECT_TIMEOUT='5')
    return subprocess.Popen(['psql', f'host=127.0.0.1 port={port} dbname=motcua user=motcua_dossier',
                             '-X', '-v', 'ON_ERROR_STOP=1', '-c', 'LISTEN motcua_outbox',
                             '-c', f'SELECT pg_sleep({seconds})', '-c', 'SELECT 1'],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_filing_notifies_nobody(world):
    listener = listen_while(3)
    time.sleep(0.5)  # the LISTEN is in place
    start = feed_end(world)
    d = filed(world, world.procedure(value=2, mandatory=()), documents=())
    assert dossier_events(world, d['id'], start, 1), 'the submission was not published'
    out, _ = listener.communicate(timeout=30)
    assert listener.returncode == 0, out
    assert 'Asynchronous notification' not in out, out


def test_events_are_published_right_after_the_commit(world):
    """published_at - time: from the INSERT (before the commit) to the relay's numbering.
    With only the poll, each delay would be uniform over 0-500 ms and a median of ten under
    100 ms would happen by chance 0.6 % of the time; with the wake-up it is a few ms. The
    median, not the maximum, so that a busy shared machine's tail does not fail the test."""
    procedure = world.procedure(value=2, mandatory=())
    start = feed_end(world)
    ids = []
    for _ in range(10):
        time.sleep(random.uniform(0.05, 0.3))  # not in step with the poll
        ids.append(filed(world, procedure, documents=())['id'])
    for dossier_id in ids:
        assert dossier_events(world, dossier_id, start, 1), dossier_id
    quoted = ','.join(f"'dossiers/{i}'" for i in ids)
    delays = sorted(float(x) for x in dossier_sql(
        "SELECT extract(epoch FROM published_at - time) * 1000 FROM outbox"
        f" WHERE subject IN ({quoted}) AND type = 'dossier.dossier.submitted'"
        f' AND published_seq > {start}').split())
    assert len(delays) == 10, delays
    median = (delays[4] + delays[5]) / 2
    assert median < 100, (median, delays, POLL_MS)
