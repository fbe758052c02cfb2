"""The statistics service's flat read path (migration 0004, store_agency_sums).

A report without a breakdown by sector or procedure, the agency breakdown and the 766
indicators read the agency rollups: whole months from `agency_months`, the days of a
partly covered month and of a stock's own month from `agency_days`. A breakdown by
procedure still reads the daily rollups per procedure. For random histories, every
cell must be the same on both paths, and the same as the independent computation of
test_statistics.py, for random ranges that cut months anywhere (and ranges running
past today, whose stocks stop at today).

The stocks at a month's start come from the month-start snapshots (migration 0006)
once the month has settled: the histories here are replayed with old dates, so
their stock deltas land before months already snapshotted; the consumer forgets
those snapshots and the snapshot step writes them again (every second on the test
stack), and every snapshot must then equal the sum of the months before it.

Needs the test stack (tests/run), like test_statistics.py.
"""
from __future__ import annotations

import datetime as dt
import os
import random
import time

import pytest
from stack_db import psql_as
from test_statistics import (Tree, assert_same_cells, expected_06a, publish, random_histories, report,
                             wait_counted)

COLUMNS = ('received', 'resolved', 'in_progress', 'withdrawn', 'stopped', 'refused', 'returned',
           'awaiting_supplement', 'transferred_in', 'transferred_out', 'on_time_rate')


def random_ranges(rng: random.Random, n: int) -> list[tuple[dt.date, dt.date]]:
    """Ranges over the histories' months (January to June 2025), cutting months at any
    day; a few whole months; a few running past today."""
    start = dt.date(2024, 12, 20)
    out = [(dt.date(2025, 2, 1), dt.date(2025, 3, 31)), (dt.date(2025, 2, 28), dt.date(2025, 3, 1)),
           (dt.date(2025, 3, 15), dt.date.today() + dt.timedelta(days=40))]
    while len(out) < n:
        first = start + dt.timedelta(days=rng.randint(0, 180))
        last = first + dt.timedelta(days=rng.choice([0, 1, rng.randint(2, 40), rng.randint(40, 200)]))
        out.append((first, last))
    return out


@pytest.fixture(scope='module')
def flat_tree(api, admin) -> Tree:
    return Tree(api, admin)


STOCKS = "('open_within', 'open_overdue', 'awaiting_supplement')"


def snapshot_months_settled() -> None:
    """Wait until the snapshot step has written every settled month again: the
    month of the watermark minus its slack (stat_stock_snapshot_month)."""
    want = psql_as('statistics', "SELECT date_trunc('month', least("
                   "(occurred_at - interval '300 seconds') AT TIME ZONE 'Asia/Ho_Chi_Minh',"
                   " now() AT TIME ZONE 'Asia/Ho_Chi_Minh'))::date FROM applied_until WHERE feed = 'dossier'")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if psql_as('statistics', f"SELECT count(*) FROM stock_snapshot_months WHERE month = '{want}'") == '1':
            return
        time.sleep(0.2)
    pytest.fail(f'no stock snapshot of {want} was written')


def stale_snapshots() -> str:
    """Snapshot rows of the complete months that differ from the months' sums."""
    return psql_as('statistics', f"""
        WITH sums AS (SELECT s.month, a.agency_code, a.measure, sum(a.value) AS value
                      FROM stock_snapshot_months s JOIN agency_months a ON a.month < s.month
                      WHERE a.measure IN {STOCKS} GROUP BY 1, 2, 3)
        SELECT count(*) FROM sums FULL JOIN (SELECT p.* FROM stock_snapshots p
                                             JOIN stock_snapshot_months USING (month)) p
                                  USING (month, agency_code, measure)
        WHERE sums.value IS DISTINCT FROM p.value""")


def test_the_flat_path_answers_what_the_daily_path_answers(api, admin, flat_tree):
    tree = flat_tree
    rng = random.Random(int(os.environ.get('MOTCUA_TEST_SEED', '0')) or random.randrange(1 << 30))
    dossiers = random_histories(tree, rng, 60)
    wait_counted(publish(dossiers))
    snapshot_months_settled()
    assert psql_as('statistics', "SELECT count(*) FROM stock_snapshot_months WHERE month <= '2025-07-01'") != '0'
    assert stale_snapshots() == '0'
    for first, last in random_ranges(rng, 24):
        span = {'from': first.isoformat(), 'to': last.isoformat()}
        for agency in (tree.dept, tree.c1, tree.other):
            what = f'{agency}, {first}..{last}'
            flat = report(api, admin, agency, **span).doc['totals']
            daily = report(api, admin, agency, group_by='procedure', **span).doc['totals']
            assert {k: flat[k] for k in COLUMNS} == {k: daily[k] for k in COLUMNS}, what
            by_agency = report(api, admin, agency, group_by='agency', **span).doc['totals']
            assert by_agency == flat, what
            stocks_end = min(last, dt.date.today())
            if stocks_end == last:
                assert_same_cells(flat, expected_06a(dossiers, tree.subtree(agency), first, last), what)
