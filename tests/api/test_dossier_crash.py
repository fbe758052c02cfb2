"""The dossier service killed with SIGKILL in the middle of a burst of writes.

A burst of creations (each with an Idempotency-Key), submissions and receptions
runs on 16 threads straight against the dossier service; part-way through, the
service is killed with `kill -9` and then started again the way deploy/local
starts it (same binary, arguments and environment, its pid file updated, ready
when /readyz answers 200). Then:

  - every request whose answer was lost is retried with the same Idempotency-Key
    and answered at once: a replay of what committed, or a first run of what did
    not. A key the killed request left pending names its holder process, whose
    advisory lock died with it, so the retry takes the key over instead of getting
    409 idempotency.in_progress (common/src/idempotency.c);
  - in the database (read with psql as the dossier service's role): every
    committed transition of the run's dossiers has its outbox event and every
    event has its committed transition (history rows and outbox events match
    one to one, per dossier, action and statuses); no event of the burst
    describes a dossier that does not exist; each dossier's status and revision
    agree with its history; each Idempotency-Key made at most one dossier; and
    the day's dossier codes of the agency are exactly 1..counter (a rolled-back
    submission gave its number back).

Two smaller tests pin down the holder rule without a kill: a pending key whose holder
holds its lock (a psql session here) is still in progress (409), one whose holder is
gone is taken over by the retry.

Needs the local test stack (tests/run or deploy/local/up): MOTCUA_TEST_LOCAL_DIR
with run/dossier.pid naming the running service, MOTCUA_TEST_PG_PORT, the
dossier role's password in secrets/dossier.password, psql, and
MOTCUA_TEST_SERVICE_URL_DOSSIER. Skipped otherwise.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from dossier_support import API, create, submit, token_sub
from motcua_api import ApiClient, unique_suffix
from service_process import ServiceProcess

WORKERS = 16
N_CREATE = 120        # creations during the burst
N_SUBMIT = 40         # drafts made beforehand, submitted during the burst
N_ACT = 40            # submitted dossiers made beforehand, received (or sent back) during the burst
KILL_AFTER = 70       # answered requests before the kill
READY_TIMEOUT = 90    # seconds; an ASan build starts slowly

# outbox event types that are not transitions (no history row): the watcher's flags
# and the evaluation
NON_TRANSITION_EVENTS = ('dossier.dossier.overdue', 'dossier.dossier.due_soon',
                         'dossier.dossier.evaluated')
NON_TRANSITION_ACTIONS = ('create', 'update')
# the event type of the burst's actions
EVENT_OF = {'submit': 'dossier.dossier.submitted', 'receive': 'dossier.dossier.received',
            'request_supplement': 'dossier.dossier.supplement_requested'}


# ---------------------------------------------------------------------------
# the service process

class DossierProcess(ServiceProcess):
    """The running dossier service of the local stack: kill it, start it again."""

    def __init__(self, local_dir: str, url: str):
        super().__init__('dossier', local_dir, url)


def psql_json(local_dir: str, port: str, sql: str):
    """Run one query returning a single json value as the dossier service's role."""
    with open(os.path.join(local_dir, 'secrets', 'dossier.password'), encoding='utf-8') as f:
        password = f.readline().rstrip('\r\n')
    env = dict(os.environ, PGPASSWORD=password, PGCONNECT_TIMEOUT='10')
    out = subprocess.run(['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-A', '-t', '-h', '127.0.0.1',
                          '-p', port, '-U', 'motcua_dossier', '-d', 'motcua', '-c', sql],
                         env=env, check=True, capture_output=True, text=True, timeout=60)
    return json.loads(out.stdout.strip() or 'null')


@pytest.fixture
def dossier_process():
    local_dir = os.environ.get('MOTCUA_TEST_LOCAL_DIR', '').strip()
    url = os.environ.get('MOTCUA_TEST_SERVICE_URL_DOSSIER', '').strip().rstrip('/')
    port = os.environ.get('MOTCUA_TEST_PG_PORT', '').strip()
    if not local_dir or not url or not port:
        pytest.skip('MOTCUA_TEST_LOCAL_DIR, MOTCUA_TEST_SERVICE_URL_DOSSIER and MOTCUA_TEST_PG_PORT '
                    'are set by tests/run (the local stack)')
    if not os.path.exists(os.path.join(local_dir, 'secrets', 'dossier.password')):
        pytest.skip('no secrets/dossier.password in MOTCUA_TEST_LOCAL_DIR')
    if shutil.which('psql') is None:
        pytest.skip('psql is not installed')
    proc = DossierProcess(local_dir, url)
    if not proc.alive():
        pytest.skip(f'the dossier service (pid {proc.pid}) is not running')
    proc.port = port  # type: ignore[attr-defined]
    yield proc
    if not proc.alive():  # whatever happened, leave the service running
        proc.start()


# ---------------------------------------------------------------------------
# the burst

class Outcome:
    """What a request of the burst got: a response, or nothing (lost)."""

    def __init__(self, kind: str, key: str, target: dict | None, body_marker: str | None = None):
        self.kind = kind            # create | submit | receive | request_supplement
        self.key = key              # its Idempotency-Key
        self.target = target        # the dossier acted on (None for a creation)
        self.marker = body_marker   # creations: the applicant address that names the key
        self.status: int | None = None
        self.doc: dict | None = None
        self.sent = False
        self.replayed = False       # answered from the stored response of an earlier attempt


def test_kill_during_burst_loses_nothing_and_duplicates_nothing(world, spec, dossier_process):
    proc = dossier_process
    procedure = world.procedure(mandatory=())
    citizen, officer = world.citizen(), world.officer
    agency = world.agency
    run = unique_suffix(8)
    local = threading.local()

    def client() -> ApiClient:
        c = getattr(local, 'client', None)
        if c is None:
            c = local.client = ApiClient(proc.url, spec, via='service', timeout=30)
        return c

    def marked(i: str) -> dict:
        return {'type': 'citizen', 'full_name': 'Nguyễn Văn An', 'personal_id': '001090012345',
                'address': f'crash-test {run} {i}'}

    # ---- beforehand: drafts to submit and submitted dossiers to act on
    with ThreadPoolExecutor(WORKERS) as pool:
        drafts = list(pool.map(
            lambda i: create(client(), citizen, procedure, agency, applicant=marked(f'pre{i}')).doc,
            range(N_SUBMIT + N_ACT)))
        submitted = list(pool.map(lambda d: submit(client(), citizen, d).doc, drafts[N_SUBMIT:]))
    drafts = drafts[:N_SUBMIT]
    outbox_before = psql_json(proc.local_dir, proc.port, 'SELECT coalesce(max(seq), 0) FROM outbox')

    tasks: list[Outcome] = []
    for i in range(N_CREATE):
        key = f'crash-{run}-c{i}'
        tasks.append(Outcome('create', key, None, f'crash-test {run} {key}'))
    for i, d in enumerate(drafts):
        tasks.append(Outcome('submit', f'crash-{run}-s{i}', d))
    for i, d in enumerate(submitted):
        tasks.append(Outcome('receive' if i % 4 else 'request_supplement', f'crash-{run}-a{i}', d))
    random.Random(run).shuffle(tasks)

    def send(o: Outcome) -> None:
        c = client()
        h = {'Idempotency-Key': o.key}
        try:
            if o.kind == 'create':
                r = create(c, citizen, procedure, agency, headers=h, expect=None,
                           applicant=marked(o.key))
            elif o.kind == 'submit':
                r = submit(c, citizen, o.target, headers=h, expect=None)
            else:
                body = {'missing_items': ['Bản sao giấy chứng sinh']} \
                    if o.kind == 'request_supplement' else {}
                r = c.post(f'{API}/dossiers/{o.target["id"]}/actions/{o.kind}', token=officer,
                           json=body, headers={**h, 'If-Match': f'"r{o.target["revision"]}"'})
        except requests.RequestException:
            return  # lost: the connection broke or was refused
        o.status, o.doc = r.status_code, r.doc
        o.replayed = r.headers.get('Idempotent-Replayed') == 'true'

    killed = threading.Event()
    answered = threading.Semaphore(0)

    def worker(batch: list[Outcome]) -> None:
        for o in batch:
            if killed.is_set():
                return
            o.sent = True
            send(o)
            if o.status is not None:
                answered.release()

    batches = [tasks[i::WORKERS] for i in range(WORKERS)]
    with ThreadPoolExecutor(WORKERS) as pool:
        futures = [pool.submit(worker, b) for b in batches]
        for _ in range(KILL_AFTER):
            if not answered.acquire(timeout=60):
                break
        killed.set()
        proc.kill()
        for f in futures:
            f.result()

    sent = [o for o in tasks if o.sent]
    lost = [o for o in sent if o.status is None]
    answered_ok = [o for o in sent if o.status is not None]
    wrong = [(o.kind, o.status, o.doc) for o in answered_ok if o.status not in (200, 201)]
    assert not wrong, f'requests before the kill failed: {wrong[:3]}'
    assert len(answered_ok) >= KILL_AFTER // 2, 'the burst hardly ran before the kill'

    # ---- restart, then retry what was lost with the same key
    proc.start()
    in_progress: list[Outcome] = []
    for o in lost:
        send(o)
        assert o.status is not None, f'{o.kind} retried after the restart got no answer'
        if o.status == 409 and (o.doc or {}).get('code') == 'idempotency.in_progress':
            in_progress.append(o)
            continue
        assert o.status in (200, 201), (o.kind, o.status, o.doc)
    # the killed process held no key any more: nothing waits for a key to go stale
    assert in_progress == [], \
        f'{len(in_progress)} keys of the killed process still pending: {[o.key for o in in_progress][:5]}'

    # the service works normally after its restart
    d = create(client(), citizen, procedure, agency, applicant=marked('after')).doc
    submit(client(), citizen, d)

    # ---- the database
    rows = psql_json(proc.local_dir, proc.port, f"""
        SELECT coalesce(json_agg(json_build_object(
            'id', d.id, 'marker', d.applicant->>'address', 'status', d.status,
            'revision', d.revision, 'code', d.code,
            'history', (SELECT coalesce(json_agg(json_build_array(h.action, h.from_status, h.to_status)
                                                 ORDER BY h.seq), '[]')
                        FROM dossier_history h WHERE h.dossier_id = d.id),
            'events', (SELECT coalesce(json_agg(json_build_array(o.data->>'action',
                                                                 (o.data->>'from_status')::int,
                                                                 (o.data->>'to_status')::int, o.type)
                                                ORDER BY o.seq), '[]')
                       FROM outbox o WHERE o.subject = 'dossiers/' || d.id::text
                        AND o.type NOT IN {NON_TRANSITION_EVENTS!r}))), '[]')
        FROM dossiers d WHERE d.applicant->>'address' LIKE 'crash-test {run} %'""")
    by_id = {r['id']: r for r in rows}
    assert len(by_id) >= N_SUBMIT + N_ACT + 1

    # every committed transition has its event, every event its transition
    for r in rows:
        transitions = [tuple(h) for h in r['history'] if h[0] not in NON_TRANSITION_ACTIONS]
        events = [tuple(e[:3]) for e in r['events']]
        assert sorted(transitions) == sorted(events), \
            f'dossier {r["id"]}: transitions {transitions} but events {r["events"]}'
        for e in r['events']:
            assert e[3] == EVENT_OF.get(e[0], e[3]), e
        # the row and its history were written together
        assert r['history'] and r['history'][0][0] == 'create'
        assert r['status'] == r['history'][-1][2], r
        assert r['revision'] == len(r['history']), r
        assert (r['code'] is None) == (r['status'] == 0), r

    # no event of the burst describes a change that did not commit
    orphans = psql_json(proc.local_dir, proc.port, f"""
        SELECT coalesce(json_agg(json_build_array(o.seq, o.type, o.subject)), '[]')
        FROM outbox o WHERE o.seq > {int(outbox_before)} AND NOT EXISTS (
            SELECT 1 FROM dossiers d WHERE 'dossiers/' || d.id::text = o.subject)""")
    assert orphans == [], f'events of dossiers that do not exist: {orphans[:5]}'
    unmatched = psql_json(proc.local_dir, proc.port, f"""
        SELECT coalesce(json_agg(json_build_array(o.seq, o.type, o.subject)), '[]')
        FROM outbox o WHERE o.seq > {int(outbox_before)}
         AND o.type NOT IN {NON_TRANSITION_EVENTS!r} AND NOT EXISTS (
            SELECT 1 FROM dossier_history h
            WHERE 'dossiers/' || h.dossier_id::text = o.subject AND h.action = o.data->>'action'
              AND h.from_status = (o.data->>'from_status')::int
              AND h.to_status = (o.data->>'to_status')::int)""")
    assert unmatched == [], f'events without their transition: {unmatched[:5]}'

    # each Idempotency-Key made at most one dossier; an answered one exactly the one it named
    per_marker: dict[str, list[str]] = {}
    for r in rows:
        per_marker.setdefault(r['marker'], []).append(r['id'])
    for o in tasks:
        if o.kind != 'create':
            continue
        made = per_marker.get(o.marker, [])
        assert len(made) <= 1, f'key {o.key} made {len(made)} dossiers'
        if o in in_progress or not o.sent:
            assert made == [], f'key {o.key} is pending but made a dossier'
        else:
            assert o.status == 201 and made == [o.doc['id']], (o.key, o.status, made)

    # actions: what was answered happened, what is still pending did not
    for o in tasks:
        if o.kind == 'create' or not o.sent:
            continue
        r = by_id[o.target['id']]
        done = [h for h in r['history'] if h[0] == o.kind]
        if o in in_progress:
            assert done == [] and r['status'] == o.target['status'], (o.kind, r)
        else:
            assert o.status == 200 and len(done) == 1, (o.kind, o.status, r)
            assert r['status'] == o.doc['status']
    for o in tasks:
        if o.kind == 'create' and o.status == 201:
            assert by_id[o.doc['id']]['status'] == 0

    # the day's codes of the agency: exactly 1..counter, none skipped or repeated
    counters = psql_json(proc.local_dir, proc.port, f"""
        SELECT coalesce(json_agg(json_build_object(
            'day', to_char(c.day, 'YYMMDD'), 'last', c.last_value,
            'seqs', (SELECT coalesce(json_agg(split_part(d.code, '-', 3)::int ORDER BY 1), '[]')
                     FROM dossiers d
                     WHERE d.code LIKE c.agency_code || '-' || to_char(c.day, 'YYMMDD') || '-%'))), '[]')
        FROM dossier_code_counters c
        WHERE c.agency_code = '{agency}' AND c.day >= (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date - 1""")
    assert counters, 'no code counter for the agency'
    for c in counters:
        assert sorted(c['seqs']) == list(range(1, c['last'] + 1)), \
            f'codes of {c["day"]}: {len(c["seqs"])} for a counter at {c["last"]}'

    replayed = sum(1 for o in lost if o.replayed)
    print(f'crash test: {len(sent)} sent, {len(lost)} answers lost ({replayed} of them committed: '
          f'replayed on retry; {len(in_progress)} keys still pending), {len(rows)} dossiers checked')



# ---------------------------------------------------------------------------
# the holder of a pending key

IDEM_LOCK_CLASS = 1835223364  # common/src/idempotency.c


def _pending_submit(proc, world, holder: int) -> tuple:
    """A draft and an Idempotency-Key left pending for its submit by `holder`, as a
    request still running (or killed) in that process leaves it."""
    citizen = world.citizen()
    procedure = world.procedure(mandatory=())
    client = ApiClient(proc.url, world.api.spec, via='service', timeout=30)
    draft = create(client, citizen, procedure, world.agency).doc
    key = f'holder-{unique_suffix(8)}'
    path = f'{API}/dossiers/{draft["id"]}/submit'
    digest = hashlib.sha256(b'POST\n' + path.encode() + b'\n{}').hexdigest()
    psql_json(proc.local_dir, proc.port, f"""
        INSERT INTO idempotency_keys (principal, idem_key, method, path, request_hash, state, holder)
        VALUES ('{token_sub(citizen)}', '{key}', 'POST', '{path}', '{digest}', 'pending', {holder})
        RETURNING 1""")
    return client, citizen, draft, key, path


def _submit_raw(client, citizen, draft, key, path):
    return client.post(path, token=citizen, data=b'{}',
                       headers={'Content-Type': 'application/json', 'Idempotency-Key': key,
                                'If-Match': f'"r{draft["revision"]}"'}, expect=None)


def test_pending_key_of_a_live_holder_is_in_progress(world, dossier_process):
    proc = dossier_process
    holder = random.randint(1, 2**31 - 1)
    with open(os.path.join(proc.local_dir, 'secrets', 'dossier.password'), encoding='utf-8') as f:
        password = f.readline().rstrip('\r\n')
    session = subprocess.Popen(
        ['psql', '-X', '-q', '-A', '-t', '-h', '127.0.0.1', '-p', proc.port, '-U', 'motcua_dossier',
         '-d', 'motcua'], env=dict(os.environ, PGPASSWORD=password), stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL, text=True)
    try:
        session.stdin.write(f'SELECT pg_advisory_lock({IDEM_LOCK_CLASS}, {holder});\n')
        session.stdin.flush()
        deadline = time.monotonic() + 10
        while not psql_json(proc.local_dir, proc.port, f"""
                SELECT to_json(count(*) > 0) FROM pg_locks WHERE locktype = 'advisory' AND granted
                AND classid = {IDEM_LOCK_CLASS} AND objid = {holder}"""):
            assert time.monotonic() < deadline, 'the psql session did not take the lock'
            time.sleep(0.05)
        client, citizen, draft, key, path = _pending_submit(proc, world, holder)
        r = _submit_raw(client, citizen, draft, key, path)
        assert r.status_code == 409 and r.doc['code'] == 'idempotency.in_progress', (r.status_code, r.doc)
        assert r.headers.get('Retry-After') == '1'
        after = client.get(f'{API}/dossiers/{draft["id"]}', token=citizen, expect=200).doc
        assert after['status'] == 0, 'a request still in progress must not run twice'
    finally:
        session.stdin.close()
        session.wait(timeout=10)
    # its holder gone (the session closed), the same retry now runs
    r = _submit_raw(client, citizen, draft, key, path)
    assert r.status_code == 200 and r.doc['status'] == 1, (r.status_code, r.doc)


def test_pending_key_of_a_dead_holder_is_taken_over_at_once(world, dossier_process):
    proc = dossier_process
    holder = random.randint(1, 2**31 - 1)  # no session holds its lock: the process is gone
    client, citizen, draft, key, path = _pending_submit(proc, world, holder)
    started = time.monotonic()
    r = _submit_raw(client, citizen, draft, key, path)
    assert r.status_code == 200 and r.doc['status'] == 1 and r.doc['code'], (r.status_code, r.doc)
    assert r.headers.get('Idempotent-Replayed') is None
    assert time.monotonic() - started < 5
    again = _submit_raw(client, citizen, draft, key, path)
    assert again.status_code == 200 and again.headers.get('Idempotent-Replayed') == 'true'
    assert again.doc['code'] == r.doc['code']
