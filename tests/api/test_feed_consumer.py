"""The event feed consumer of common (motcua/feed_consumer.h) against the real dossier feed.

tests/feed/feed_consumer_probe (built with the project) consumes GET /api/v1/events/dossier
through the gateway into a scratch schema `feedprobe` (its own role, bootstrapped here like
a service's with deploy/local/bootstrap.sql), writing one `applied` row per event it is
handed, without a unique key, so a doubled effect would show. The tests check that each
event is applied exactly once across a clean stop, a kill -9 mid-stream and a restart, two
instances at once (one consumes, the other takes over when it dies), and that a position
behind the feed's retention resynchronises and reads on from `oldest_after`.

Needs the test stack's database and local directory (MOTCUA_TEST_PG_PORT,
MOTCUA_TEST_LOCAL_DIR) and the build (MOTCUA_TOKEN_BIN's build directory, or
MOTCUA_FEED_PROBE_BIN), all set by tests/run.
"""
from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from dossier_support import (API, dossier_events, dossier_sql, expire_feed_through, feed_end, filed,
                             machine_client_token)

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = 'feedprobe'
ROLE = 'motcua_feedprobe'


def probe_bin() -> str:
    explicit = os.environ.get('MOTCUA_FEED_PROBE_BIN', '').strip()
    token_bin = os.environ.get('MOTCUA_TOKEN_BIN', '').strip()
    path = explicit or (str(Path(token_bin).parents[1] / 'tests' / 'feed_consumer_probe') if token_bin else '')
    if not path or not os.access(path, os.X_OK):
        pytest.skip('the feed consumer probe is not built (MOTCUA_FEED_PROBE_BIN / MOTCUA_TOKEN_BIN)')
    return path


class Probe:
    """The scratch consumer schema and the probe processes reading into it."""

    def __init__(self, tmp: Path, token: str, feed_url: str):
        self.port = os.environ['MOTCUA_TEST_PG_PORT']
        self.password = secrets.token_urlsafe(18)
        self.token_file = tmp / 'token'
        self.token_file.write_text(token + '\n', encoding='utf-8')
        self.feed_url = feed_url
        self.bin = probe_bin()
        self.procs: list[subprocess.Popen] = []
        self.logs = tmp
        self.bootstrap()

    def bootstrap(self) -> None:
        """Role and schema, as deploy/local/up does for a service (idempotent)."""
        env = dict(os.environ, MOTCUA_LOCAL_DIR=os.environ['MOTCUA_TEST_LOCAL_DIR'],
                   MOTCUA_PG_PORT=self.port, MOTCUA_BOOTSTRAP_PASSWORD=self.password)
        script = ('source deploy/local/lib.sh && motcua_config && motcua_pg_paths && '
                  f'motcua_psql -d postgres -v db=motcua -v svc={SCHEMA} -v role={ROLE} '
                  '< deploy/local/bootstrap.sql')
        r = subprocess.run(['bash', '-c', script], cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr

    @property
    def conninfo(self) -> str:
        return f'host=127.0.0.1 port={self.port} dbname=motcua user={ROLE} password={self.password}'

    def sql(self, sql: str) -> str:
        r = subprocess.run(['psql', self.conninfo, '-X', '-v', 'ON_ERROR_STOP=1', '-qAtc', sql],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        return r.stdout.strip()

    def start(self, instance: str, feed: str, **env: str) -> subprocess.Popen:
        full = dict(os.environ, PROBE_CONNINFO=self.conninfo, PROBE_SCHEMA=SCHEMA,
                    PROBE_FEED_URL=self.feed_url, PROBE_TOKEN_FILE=str(self.token_file),
                    PROBE_INSTANCE=instance, PROBE_FEED_NAME=feed, **env)
        log = open(self.logs / f'{instance}.log', 'w', encoding='utf-8')
        p = subprocess.Popen([self.bin], env=full, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.procs.append(p)
        return p

    def log(self, instance: str) -> str:
        return (self.logs / f'{instance}.log').read_text(encoding='utf-8', errors='replace')

    def begin(self, feed: str, position: int) -> None:
        """A consumer of `feed` that has read up to `position` (the test's window starts there).
        The first probe start migrates the schema; the tables must exist before this."""
        self.sql(f"INSERT INTO feed_positions (feed, position) VALUES ('{feed}', {position})"
                 f' ON CONFLICT (feed) DO UPDATE SET position = EXCLUDED.position')

    def applied(self, prefix: str) -> list[tuple[str, int, str]]:
        out = self.sql(f"SELECT event_id, sequence, instance FROM applied WHERE instance LIKE '{prefix}%'"
                       ' ORDER BY sequence')
        return [(a, int(b), c) for a, b, c in (line.split('|') for line in out.splitlines() if line)]

    def position(self, feed: str) -> int:
        return int(self.sql(f"SELECT position FROM feed_positions WHERE feed = '{feed}'") or '-1')

    def stop_all(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)


@pytest.fixture(scope='module')
def probe(tmp_path_factory, world, api):
    dossier_sql('SELECT 1')  # skips without the database
    # A platform consumer: a machine client of no agency granted `dossier:events`, as
    # the feed requires (docs/services/dossier.md); identity's token lasts 15 minutes,
    # longer than this module.
    token = machine_client_token(world, ['dossier:events'])
    base = os.environ.get('MOTCUA_TEST_BASE_URL', 'http://127.0.0.1:18080').rstrip('/')
    p = Probe(tmp_path_factory.mktemp('feed_probe'), token, f'{base}{API}/events/dossier')
    # One start migrates the schema (common's migrations, feed_positions, the probe's tables).
    first = p.start('migrate', 'migrate-only')
    deadline = time.monotonic() + 30
    while p.sql("SELECT to_regclass('applied') IS NOT NULL AND to_regclass('feed_positions') IS NOT NULL")\
            != 't':
        assert first.poll() is None, p.log('migrate')
        assert time.monotonic() < deadline, p.log('migrate')
        time.sleep(0.2)
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=15) == 0, p.log('migrate')
    yield p
    p.stop_all()


def feed_ids(world, after: int, until: int | None = None) -> list[tuple[str, int]]:
    """(id, sequence) of every dossier event published after `after` (up to `until`)."""
    out, cursor = [], after
    while True:
        page = world.api.get(f'{API}/events/dossier', token=world.tokens.system_admin,
                             params={'after': cursor, 'limit': 1000}).doc
        out += [(e['id'], int(e['sequence'])) for e in page['items']
                if until is None or int(e['sequence']) <= until]
        cursor = page['next_after']
        if len(page['items']) < 1000:
            return out


def wait_applied(probe: Probe, prefix: str, feed: str, target: int, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while probe.position(feed) < target:
        assert time.monotonic() < deadline, (probe.position(feed), target, probe.applied(prefix))
        time.sleep(0.2)
    return probe.applied(prefix)


def assert_exactly_once(applied: list[tuple[str, int, str]], expected: list[tuple[str, int]]):
    counts = Counter(a[0] for a in applied)
    doubled = {k: v for k, v in counts.items() if v > 1}
    assert not doubled, f'applied more than once: {doubled}'
    assert sorted((a[0], a[1]) for a in applied) == sorted(expected)


def file_some(world, n: int, after: int) -> int:
    """File `n` dossiers; once each one's events are published, the feed's end."""
    procedure = world.procedure(value=2, mandatory=())
    ids = [filed(world, procedure, documents=())['id'] for _ in range(n)]
    for dossier_id in ids:
        assert dossier_events(world, dossier_id, after, 1), f'dossier {dossier_id}: nothing published'
    return feed_end(world)


def test_each_event_is_applied_once_and_a_stop_is_clean(world, probe):
    feed, prefix = 'once', 'once-'
    start = feed_end(world)
    probe.begin(feed, start)
    p = probe.start('once-a', feed)
    end = file_some(world, 3, start)
    expected = feed_ids(world, start, end)
    assert expected, 'filing published nothing'
    applied = wait_applied(probe, prefix, feed, end)
    assert_exactly_once([a for a in applied if a[1] <= end], expected)
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=15) == 0, probe.log('once-a')
    # what /metrics would show: its position, that it reached the end lately, no failure
    metrics = dict(line.rsplit(' ', 1) for line in probe.log('once-a').splitlines()
                   if line.startswith('motcua_feed_consumer_'))
    labels = '{service="feed-probe",feed="once"}'
    assert int(metrics[f'motcua_feed_consumer_position{labels}']) == probe.position(feed)
    assert abs(int(metrics[f'motcua_feed_consumer_caught_up_timestamp_seconds{labels}']) - time.time()) < 60
    assert metrics[f'motcua_feed_consumer_failures_total{labels}'] == '0'


def test_kill_9_mid_stream_then_restart_loses_and_doubles_nothing(world, probe):
    feed, prefix = 'crash', 'crash-'
    start = feed_end(world)
    end = file_some(world, 8, start)
    expected = feed_ids(world, start, end)
    assert len(expected) >= 8, expected
    probe.begin(feed, start)
    # One event per page, 150 ms inside each page's transaction: killed mid-stream, and
    # most likely inside a transaction.
    slow = {'PROBE_PAGE_LIMIT': '1', 'PROBE_APPLY_DELAY_MS': '150'}
    p = probe.start('crash-a', feed, **slow)
    deadline = time.monotonic() + 30
    while len(probe.applied(prefix)) < 3:
        assert time.monotonic() < deadline, probe.log('crash-a')
        time.sleep(0.05)
    time.sleep(0.07)
    p.kill()
    p.wait(timeout=10)
    done_before = len(probe.applied(prefix))
    assert done_before < len(expected), 'the consumer finished before it was killed'
    restarted = probe.start('crash-b', feed)
    applied = wait_applied(probe, prefix, feed, end)
    assert_exactly_once([a for a in applied if a[1] <= end], expected)
    assert {a[2] for a in applied} == {'crash-a', 'crash-b'}
    restarted.send_signal(signal.SIGTERM)
    assert restarted.wait(timeout=15) == 0, probe.log('crash-b')


def test_two_instances_one_consumes_the_other_takes_over(world, probe):
    feed, prefix = 'pair', 'pair-'
    start = feed_end(world)
    probe.begin(feed, start)
    first = probe.start('pair-a', feed)
    second = probe.start('pair-b', feed)
    end = file_some(world, 4, start)
    applied = wait_applied(probe, prefix, feed, end)
    assert_exactly_once([a for a in applied if a[1] <= end], feed_ids(world, start, end))
    leaders = {a[2] for a in applied}
    assert len(leaders) == 1, f'both instances consumed: {leaders}'
    leader, standby = (first, second) if leaders == {'pair-a'} else (second, first)
    assert standby.poll() is None

    leader.kill()  # its session ends and the instance lock with it
    leader.wait(timeout=10)
    end2 = file_some(world, 3, end)
    applied = wait_applied(probe, prefix, feed, end2, timeout=60)
    assert_exactly_once([a for a in applied if a[1] <= end2], feed_ids(world, start, end2))
    after_takeover = {a[2] for a in applied if a[1] > end}
    assert after_takeover == {'pair-a', 'pair-b'} - leaders, after_takeover
    standby.send_signal(signal.SIGTERM)
    assert standby.wait(timeout=15) == 0


def test_a_position_behind_the_retention_resyncs_and_reads_on(world, probe):
    """The events before the consumer's position are aged past the retention (as in
    test_event_retention); the relay deletes them and the feed answers 410."""
    feed, prefix = 'expired', 'expired-'
    start = feed_end(world)
    end = file_some(world, 2, start)
    # Published events up to `end` expire; the consumer is still at `start`.
    horizon = expire_feed_through(end)
    probe.begin(feed, start)
    p = probe.start('expired-a', feed)
    end2 = file_some(world, 2, end)
    applied = wait_applied(probe, prefix, feed, end2)
    resyncs = probe.sql("SELECT oldest_after FROM resyncs WHERE instance = 'expired-a'").split()
    assert resyncs == [str(horizon)], (resyncs, horizon)
    # Nothing from before the horizon (it is gone); everything after it, once.
    assert_exactly_once([a for a in applied if a[1] <= end2], feed_ids(world, horizon, end2))
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=15) == 0, probe.log('expired-a')
