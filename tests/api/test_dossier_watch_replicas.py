"""The deadline watcher on several instances (issue 16): every instance runs it, a pass
drains everything due (not a fixed number per kind), the instances split the backlog
(batches claimed FOR UPDATE SKIP LOCKED) and each dossier's effect happens exactly once.

Two more dossier instances run beside the stack's, on the same database, with a watcher
every second. A backlog of thousands is made at once with SQL (copies of two dossiers
brought to status 2 and 5 through the API, with their appointment or supplement deadline
an hour ago); then every copy is flagged overdue once, with one `overdue` event, or
stopped once, with one `stopped` event, and /metrics of both new instances show each
handled part of it. The outbox relays of all the instances publish every event once."""
from __future__ import annotations

import time

import pytest

from dossier_instances import DossierInstance, metric_of, stack
from dossier_support import dossier_in, dossier_sql

N_OVERDUE = 3000
N_SUPPLEMENT = 400
DRAIN_TIMEOUT = 240  # seconds, on a loaded 2-core machine


@pytest.fixture(scope='module')
def instances():
    started = [DossierInstance(f'watch-{n}', {'MOTCUA_DOSSIER_WATCH_INTERVAL_SECONDS': '1',
                                              'MOTCUA_DOSSIER_SWEEP_INTERVAL_SECONDS': '3600'})
               for n in (1, 2)]
    try:
        yield [i.wait_ready() for i in started]
    finally:
        for i in started:
            i.stop()


def copies(template: str, first: int, n: int, changes: str) -> None:
    """n copies of dossier `template` with `changes` (a jsonb object expression of column
    values), inserted in one statement. Their codes keep the code's format, on the
    impossible date 000000 (no real dossier has it): <agency>-000000-<first + k>."""
    dossier_sql(
        "INSERT INTO dossiers SELECT (jsonb_populate_record(NULL::dossiers, to_jsonb(d)"
        " || jsonb_build_object('id', gen_random_uuid(),"
        f"   'code', d.agency_code || '-000000-' || lpad(({first} + g)::text, 8, '0'))"
        f" || {changes})).* FROM dossiers d, generate_series(1, {n}) g"
        f" WHERE d.id = '{template}'")


def copies_of(procedure: str, first: int, n: int, table: str = '') -> str:
    """The SQL condition naming the copies first + 1 .. first + n of `copies`."""
    return (f"{table}procedure_code = '{procedure}' AND {table}code LIKE '%-000000-%'"
            f" AND right({table}code, 8)::integer BETWEEN {first + 1} AND {first + n}")


def test_two_instances_drain_a_backlog_once_between_them(world, instances):
    _, main_url, _ = stack()
    code = world.procedure(mandatory=())
    received = dossier_in(world, code, 2)
    supplement = dossier_in(world, code, 5)
    first = int(time.time()) % 20000 * 5000  # this run's codes (8 digits)
    kinds = ('overdue', 'supplement_expired')
    before = {(url, k): metric_of(url, 'motcua_dossier_watch_handled_total', f'kind="{k}"')
              for url in [main_url] + [i.url for i in instances] for k in kinds}

    copies(received['id'], first, N_OVERDUE,
           "jsonb_build_object('appointment_at', now() - interval '1 hour',"
           " 'overdue_flagged_at', NULL, 'due_soon_flagged_at', NULL)")
    copies(supplement['id'], first + N_OVERDUE, N_SUPPLEMENT,
           "jsonb_build_object('supplement_due_at', now() - interval '1 hour')")
    like_d = copies_of(code, first, N_OVERDUE + N_SUPPLEMENT, 'd.')
    like = copies_of(code, first, N_OVERDUE + N_SUPPLEMENT)

    started = time.monotonic()
    deadline = started + DRAIN_TIMEOUT
    while True:
        left = int(dossier_sql(
            f"SELECT count(*) FROM dossiers WHERE {like} AND ((status = 2 AND overdue_flagged_at IS NULL)"
            " OR status = 5)"))
        if left == 0:
            break
        assert time.monotonic() < deadline, f'{left} dossiers still due after {DRAIN_TIMEOUT} s'
        time.sleep(1)

    drained_s = time.monotonic() - started

    # each effect once: one event per copy, and every supplement copy stopped by the system
    per_dossier = dossier_sql(
        "SELECT o.type, count(*) AS events, count(DISTINCT o.subject) AS dossiers FROM outbox o"
        f" JOIN dossiers d ON o.subject = 'dossiers/' || d.id WHERE {like_d}"
        " GROUP BY o.type ORDER BY o.type")
    assert per_dossier.splitlines() == [f'dossier.dossier.overdue|{N_OVERDUE}|{N_OVERDUE}',
                                        f'dossier.dossier.stopped|{N_SUPPLEMENT}|{N_SUPPLEMENT}']
    assert dossier_sql(f"SELECT status, count(*) FROM dossiers WHERE {like} GROUP BY status"
                       " ORDER BY status").splitlines() == [f'2|{N_OVERDUE}', f'8|{N_SUPPLEMENT}']
    stops = dossier_sql(
        "SELECT count(*), count(DISTINCT h.dossier_id) FROM dossier_history h"
        f" JOIN dossiers d ON d.id = h.dossier_id WHERE {like_d} AND h.action = 'stop'")
    assert stops == f'{N_SUPPLEMENT}|{N_SUPPLEMENT}'

    # the outbox relays of the three instances (one at a time, under an advisory lock)
    # published every event, each at its own feed position (published_seq is unique)
    deadline = time.monotonic() + 60
    while True:
        unpublished = int(dossier_sql(
            "SELECT count(*) FROM outbox o JOIN dossiers d ON o.subject = 'dossiers/' || d.id"
            f" WHERE {like_d} AND o.published_seq IS NULL"))
        if unpublished == 0:
            break
        assert time.monotonic() < deadline, f'{unpublished} events of the backlog not published'
        time.sleep(0.5)

    # the relays' own figures on /metrics: together they published at least the backlog's
    # events, and each finished a pass lately
    published = sum(metric_of(i.url, 'motcua_outbox_published_total') for i in instances) \
        + metric_of(main_url, 'motcua_outbox_published_total')
    assert published >= N_OVERDUE + N_SUPPLEMENT
    for i in instances:
        assert abs(i.metric('motcua_outbox_relay_last_pass_timestamp_seconds') - time.time()) < 30

    # both new instances did part of it; all instances together did all of it
    done = {(url, k): metric_of(url, 'motcua_dossier_watch_handled_total', f'kind="{k}"') - before[url, k]
            for (url, k) in before}
    # the figures, for docs/operations.md (pytest -s shows them)
    print(f'\nwatcher: {N_OVERDUE + N_SUPPLEMENT} dossiers drained in {drained_s:.1f} s by three instances:',
          {f'{url.rsplit(":", 1)[1]}/{k}': int(v) for (url, k), v in done.items()})
    for i in instances:
        assert done[i.url, 'overdue'] > 0, done
    assert sum(v for (url, k), v in done.items() if k == 'overdue') >= N_OVERDUE, done
    assert sum(v for (url, k), v in done.items() if k == 'supplement_expired') >= N_SUPPLEMENT, done
    # the overdue backlog gauge counts them (after the next pass of an instance)
    deadline = time.monotonic() + 30
    while instances[0].metric('motcua_dossier_overdue_open') < N_OVERDUE:
        assert time.monotonic() < deadline, 'motcua_dossier_overdue_open does not count the backlog'
        time.sleep(0.5)


def test_a_dossier_that_keeps_failing_holds_back_no_other(world, instances):
    """A batch whose one dossier fails is rolled back and handled one by one: the others
    are flagged, the failing one is counted in motcua_dossier_watch_failed_total and left
    for the next pass, which flags it once it can (here: once a trigger that makes its
    UPDATE fail is dropped). The trigger stands for any fault of one row."""
    _, main_url, _ = stack()
    code = world.procedure(mandatory=())
    received = dossier_in(world, code, 2)
    first = int(time.time()) % 20000 * 5000 + 4000
    n = 150  # more than a batch: the failing one is in the first
    like = copies_of(code, first, n)
    urls = [main_url] + [i.url for i in instances]
    failed_before = sum(metric_of(u, 'motcua_dossier_watch_failed_total') for u in urls)
    bad_code = dossier_sql("SELECT agency_code || '-000000-' || lpad(" + str(first + 1) + "::text, 8, '0')"
                           f" FROM dossiers WHERE id = '{received['id']}'")
    trigger = f'watch_fault_{first}'
    dossier_sql(
        f"CREATE FUNCTION {trigger}() RETURNS trigger LANGUAGE plpgsql AS"
        " $$BEGIN RAISE EXCEPTION 'injected fault'; END$$;"
        f" CREATE TRIGGER {trigger} BEFORE UPDATE ON dossiers FOR EACH ROW"
        f" WHEN (OLD.code = '{bad_code}') EXECUTE FUNCTION {trigger}()")
    try:
        copies(received['id'], first, n,
               "jsonb_build_object('appointment_at', now() - interval '1 hour',"
               " 'overdue_flagged_at', NULL, 'due_soon_flagged_at', NULL)")
        deadline = time.monotonic() + 120
        while int(dossier_sql(f"SELECT count(*) FROM dossiers WHERE {like} AND overdue_flagged_at IS NOT NULL")) < n - 1:
            assert time.monotonic() < deadline, 'the other dossiers were held back'
            time.sleep(0.5)
        assert dossier_sql(f"SELECT overdue_flagged_at IS NULL FROM dossiers WHERE code = '{bad_code}'") == 't'
        deadline = time.monotonic() + 30
        while sum(metric_of(u, 'motcua_dossier_watch_failed_total') for u in urls) <= failed_before:
            assert time.monotonic() < deadline, 'the failure is not counted'
            time.sleep(0.5)
    finally:
        dossier_sql(f"DROP TRIGGER IF EXISTS {trigger} ON dossiers; DROP FUNCTION IF EXISTS {trigger}()")
    deadline = time.monotonic() + 30
    while dossier_sql(f"SELECT overdue_flagged_at IS NULL FROM dossiers WHERE code = '{bad_code}'") == 't':
        assert time.monotonic() < deadline, 'the dossier that failed is not retried'
        time.sleep(0.5)
    events = dossier_sql(
        "SELECT count(*), count(DISTINCT o.subject) FROM outbox o JOIN dossiers d"
        f" ON o.subject = 'dossiers/' || d.id WHERE {copies_of(code, first, n, 'd.')} AND o.type = 'dossier.dossier.overdue'")
    assert events == f'{n}|{n}'
