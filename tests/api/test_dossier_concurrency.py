"""Dossier codes under concurrency: 200 submissions to one agency at once.

Two hundred drafts are filed for a procedure without mandatory documents, then
submitted in parallel (24 threads, straight to the dossier service so that the
gateway's rate limit does not serialise them). Every submission succeeds and gets
its own code `<agency>-<YYMMDD>-<sequence>` (Circular 01/2018 art. 19) with the
receiving day's local date, and the sequences of a day are contiguous: the
per-agency-and-day counter hands out each number once and never skips one.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from dossier_support import API, create, submit
from motcua_api import ApiClient, parse_rfc3339

N_DOSSIERS = 200
WORKERS = 24
VN = dt.timezone(dt.timedelta(hours=7))


@pytest.fixture(scope='module')
def dossier_url() -> str:
    url = os.environ.get('MOTCUA_TEST_SERVICE_URL_DOSSIER', '').strip()
    if not url:
        pytest.skip('MOTCUA_TEST_SERVICE_URL_DOSSIER is not set (no running stack)')
    return url.rstrip('/')


def test_200_parallel_submissions_get_200_distinct_contiguous_codes(world, spec, dossier_url):
    procedure = world.procedure(mandatory=())
    citizen = world.citizen()
    agency = world.agency
    local = threading.local()

    def client() -> ApiClient:
        # one session per thread: a requests.Session is not meant to be shared
        c = getattr(local, 'client', None)
        if c is None:
            c = local.client = ApiClient(dossier_url, spec, via='service', timeout=60)
        return c

    started = time.monotonic()
    with ThreadPoolExecutor(WORKERS) as pool:
        drafts = list(pool.map(lambda _: create(client(), citizen, procedure, agency).doc,
                               range(N_DOSSIERS)))
    assert len({d['id'] for d in drafts}) == N_DOSSIERS
    assert all(d['status'] == 0 and d.get('code') is None for d in drafts)

    gate = threading.Barrier(WORKERS, timeout=60)

    def submit_one(i: int):
        c = client()
        if i < WORKERS:
            gate.wait()  # the first wave leaves together
        return submit(c, citizen, drafts[i], expect=None)

    before = dt.datetime.now(VN).date()
    with ThreadPoolExecutor(WORKERS) as pool:
        answers = list(pool.map(submit_one, range(N_DOSSIERS)))
    after = dt.datetime.now(VN).date()
    elapsed = time.monotonic() - started

    failed = [(r.status_code, r.text[:200]) for r in answers if r.status_code != 200]
    assert not failed, f'{len(failed)} submissions failed, e.g. {failed[:3]}'
    docs = [r.doc for r in answers]
    assert [d['id'] for d in docs] == [d['id'] for d in drafts]
    assert all(d['status'] == 1 for d in docs)

    codes = [d['code'] for d in docs]
    assert len(set(codes)) == N_DOSSIERS, 'two submissions got the same code'

    pattern = re.compile(r'^(?P<agency>.+)-(?P<date>\d{6})-(?P<seq>\d{4,})$')
    by_day: dict[str, list[int]] = {}
    for d in docs:
        m = pattern.match(d['code'])
        assert m, f'not a dossier code: {d["code"]}'
        assert m['agency'] == agency
        seq = m['seq']
        assert len(seq) == 4 or not seq.startswith('0'), f'padded beyond four digits: {seq}'
        # the date in the code is the local (+07:00) date of the submission
        submitted = parse_rfc3339(d['dates']['submitted_at']).astimezone(VN).date()
        assert m['date'] == submitted.strftime('%y%m%d'), (d['code'], d['dates']['submitted_at'])
        assert before <= submitted <= after
        by_day.setdefault(m['date'], []).append(int(seq))

    for day, seqs in by_day.items():
        seqs.sort()
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), \
            f'the sequences of {day} are not contiguous: {seqs[:5]}...{seqs[-5:]}'

    # a code finds its dossier (GET /dossiers/{id_or_code}) and the ETag moved on
    c = client()
    for d in docs[:: N_DOSSIERS // 5]:
        got = c.get(f'{API}/dossiers/{d["code"]}', token=citizen, expect=200).doc
        assert got['id'] == d['id'] and got['code'] == d['code']
    assert elapsed < 120, f'200 creations and submissions took {elapsed:.0f} s'
