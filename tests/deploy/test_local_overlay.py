"""The local overlay (deploy/k8s/local/play) as a whole: run by tests/deploy/run.

It plays PostgreSQL, two replicas of every service and the gateway from the images of
deploy/docker/build; these tests talk to the gateway pod (and, for the shared documents,
to the two dossier replicas directly) on 127.0.0.1 only.

- test_journey: sign in, search, file, upload through one dossier replica and download
  through the other, submit, receive.
- test_replica_kill: SIGKILL one replica of every service in the middle of a load of reads
  and idempotent writes (create + submit with Idempotency-Key, retried by the client):
  nothing fails, every dossier exists once, every event once.
- test_rolling_restart: SIGTERM each replica in turn under the same load: no request
  fails and none needs a retry.

Settings: MOTCUA_K8S_LOCAL_DIR (ports.tsv and secrets of the played overlay),
MOTCUA_DEPLOY_DEMO_PASSWORD_FILE (password of the demo accounts load-demo created),
CONTAINERS_CONF. The figures are printed (pytest -s) and kept in
$MOTCUA_K8S_LOCAL_DIR/figures.json.
"""
import json
import os
import random
import subprocess
import sys
import threading
import time
import uuid

import pytest
import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'api'))
from dossier_support import PDF, dossier_body, procedure_for_tests  # noqa: E402

LOCAL_DIR = os.environ['MOTCUA_K8S_LOCAL_DIR']
API = '/api/v1'
AGENCY = '000.00.06.H56'  # the demo Department of Justice (deploy/local/demo)
RETRYABLE = (502, 503, 504)


def _ports() -> dict:
    ports: dict = {}
    with open(os.path.join(LOCAL_DIR, 'ports.tsv'), encoding='utf-8') as f:
        for line in f:
            name, replica, port = line.split()
            ports.setdefault(name, {})[replica] = int(port)
    return ports


PORTS = _ports()
SERVICES = sorted(n for n in PORTS if n not in ('gateway', 'postgres'))
GATEWAY = f'http://127.0.0.1:{PORTS["gateway"]["-"]}'


def replica_url(svc: str, replica: str) -> str:
    return f'http://127.0.0.1:{PORTS[svc][replica]}'


def podman(*args: str) -> str:
    return subprocess.run(['podman', *args], check=True, capture_output=True, text=True).stdout.strip()


def container(svc: str, replica: str) -> str:
    return f'motcua-{svc}-{replica}-pod-0-{svc}'


def psql(sql: str) -> str:
    # The statement goes through stdin: with thousands of dossier ids it is longer than one
    # command-line argument may be (128 KiB).
    return subprocess.run(['podman', 'exec', '-i', 'motcua-postgres-pod-0-postgres', 'psql', '-X', '-q',
                           '-At', '-h', '/tmp', '-U', 'postgres', '-d', 'motcua', '-v', 'ON_ERROR_STOP=1',
                           '-f', '-'],
                          input=sql, check=True, capture_output=True, text=True).stdout.strip()


def signal_replica(svc: str, replica: str, sig: str) -> int:
    """Send sig to the replica's process (its pid on this machine, as a crash or the kubelet
    would; `podman kill` would count as a stop and defeat the restart policy)."""
    pid = int(podman('inspect', container(svc, replica), '--format', '{{.State.Pid}}'))
    assert pid > 0, f'{svc}-{replica} is not running'
    subprocess.run(['kill', f'-{sig}', str(pid)], check=True)
    return pid


def wait_ready(svc: str, replica: str, old_pid: int | None = None, timeout: float = 60) -> float:
    """Seconds until the replica (restarted by podman's restart policy) answers /readyz."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            pid = int(podman('inspect', container(svc, replica), '--format', '{{.State.Pid}}'))
            if (old_pid is None or pid not in (0, old_pid)) and requests.get(
                    replica_url(svc, replica) + '/readyz', timeout=2).status_code == 200:
                return time.monotonic() - start
        except (requests.RequestException, subprocess.CalledProcessError, ValueError):
            pass
        time.sleep(0.2)
    pytest.fail(f'{svc}-{replica} not ready {timeout} s after the signal')


def sign_in(username: str, password: str) -> str:
    r = requests.post(GATEWAY + API + '/auth/token', timeout=15,
                      data={'grant_type': 'password', 'username': username, 'password': password})
    assert r.status_code == 200, r.text
    return r.json()['access_token']


def auth(token: str, **headers: str) -> dict:
    return {'Authorization': f'Bearer {token}', **headers}


def read_file(path: str) -> str:
    with open(path, encoding='utf-8') as f:
        return f.read().strip()


@pytest.fixture(scope='module')
def admin() -> str:
    return sign_in('admin', read_file(os.path.join(LOCAL_DIR, 'secrets', 'identity.admin.password')))


@pytest.fixture(scope='module')
def officer() -> str:
    return sign_in('demo.canbo', read_file(os.environ['MOTCUA_DEPLOY_DEMO_PASSWORD_FILE']))


@pytest.fixture(scope='module')
def other_agency(admin: str) -> str:
    r = requests.get(GATEWAY + API + '/agencies', params={'limit': 50}, timeout=10)
    assert r.status_code == 200, r.text
    codes = [a['code'] for a in r.json()['items'] if a['code'] != AGENCY]
    assert codes, 'load-demo loaded no other agency'
    return codes[0]


def publish(admin: str, body: dict) -> str:
    r = requests.post(GATEWAY + API + '/procedures', json=body, headers=auth(admin), timeout=15)
    assert r.status_code == 201, r.text
    code = r.json()['code']
    etag = requests.get(GATEWAY + API + f'/procedures/{code}/draft', headers=auth(admin),
                        timeout=10).headers['ETag']
    r = requests.post(GATEWAY + API + f'/procedures/{code}/publish', headers=auth(admin, **{'If-Match': etag}),
                      timeout=15)
    assert r.status_code == 200, r.text
    return code


@pytest.fixture(scope='module')
def citizen() -> str:
    """The access token of a citizen registered for this run."""
    password = 'Mk-' + uuid.uuid4().hex
    for _ in range(10):
        person = {'full_name': 'Công Dân Kiểm Thử', 'date_of_birth': '1990-05-17',
                  'personal_id': f'001090{random.randint(0, 999999):06d}',
                  'phone': f'09{random.randint(0, 99999999):08d}', 'password': password}
        r = requests.post(GATEWAY + API + '/accounts', json=person, timeout=15)
        if r.status_code == 201:
            return sign_in(person['personal_id'], password)
        assert r.status_code == 409, r.text
    pytest.fail('could not register a citizen')


def test_journey(admin: str, officer: str, citizen: str, other_agency: str):
    token = citizen
    body = procedure_for_tests([AGENCY, other_agency])
    body['name'] = f'Đăng ký khai sinh triển khai {uuid.uuid4().hex[:8]}'
    code = publish(admin, body)

    # Search (public reads are cached up to RESPONSE_CACHE_TTL_MS: retry a few seconds).
    for _ in range(50):
        r = requests.get(GATEWAY + API + '/procedures', params={'q': body['name'], 'limit': 5}, timeout=10)
        assert r.status_code == 200, r.text
        if code in [p['code'] for p in r.json()['items']]:
            break
        time.sleep(0.2)
    else:
        pytest.fail(f'search did not find procedure {code}')

    # File.
    r = requests.post(GATEWAY + API + '/dossiers', json=dossier_body(code, AGENCY), timeout=15,
                      headers=auth(token, **{'Idempotency-Key': str(uuid.uuid4())}))
    assert r.status_code == 201, r.text
    dossier = r.json()

    # Upload through replica a, download through replica b: the documents are on the
    # volume both replicas mount (the local overlay's stand-in for production's S3).
    path = API + f'/dossiers/{dossier["id"]}/documents/TK'
    r = requests.put(replica_url('dossier', 'a') + path, data=PDF, params={'file_name': 'to-khai.pdf'},
                     headers=auth(token, **{'Content-Type': 'application/pdf'}), timeout=15)
    assert r.status_code in (200, 201), r.text
    for base in (replica_url('dossier', 'b'), GATEWAY):
        r = requests.get(base + path + '/content', headers=auth(token), timeout=15)
        assert r.status_code == 200, r.text
        assert r.content == PDF

    # Submit, then the officer receives it.
    dossier = requests.get(GATEWAY + API + f'/dossiers/{dossier["id"]}', headers=auth(token), timeout=10).json()
    r = requests.post(GATEWAY + API + f'/dossiers/{dossier["id"]}/submit', json={}, timeout=15,
                      headers=auth(token, **{'If-Match': f'"r{dossier["revision"]}"',
                                             'Idempotency-Key': str(uuid.uuid4())}))
    assert r.status_code == 200, r.text
    dossier = r.json()
    assert dossier['status'] == 1 and dossier['code']
    r = requests.post(GATEWAY + API + f'/dossiers/{dossier["id"]}/actions/receive', json={}, timeout=15,
                      headers=auth(officer, **{'If-Match': f'"r{dossier["revision"]}"',
                                               'Idempotency-Key': str(uuid.uuid4())}))
    assert r.status_code == 200, r.text
    assert r.json()['status'] == 2


class Load:
    """Workers sending reads and idempotent writes through the gateway until stopped.

    Writes: create a dossier (POST /dossiers with an Idempotency-Key) and submit it
    (If-Match + Idempotency-Key). A request that gets no answer or 502/503/504 is sent
    again, same key, up to 20 times (a client's safe retry); `retried` counts those.
    """

    def __init__(self, token: str, procedure: str, workers: int = 4):
        self.token = token
        self.procedure = procedure
        self.workers = workers
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.sent = self.retried = self.failed = 0
        self.failures: list[str] = []
        self.retry_reasons: list[str] = []
        self.dossiers: dict[str, str] = {}  # idempotency key of the create -> dossier id
        self.submitted: set[str] = set()

    def _send(self, method: str, path: str, ok: tuple, **kw) -> requests.Response | None:
        for attempt in range(20):
            with self.lock:
                self.sent += 1
                if attempt:
                    self.retried += 1
            try:
                r = requests.request(method, GATEWAY + path, timeout=15, **kw)
                if r.status_code in ok:
                    return r
                if r.status_code not in RETRYABLE:
                    break
                detail = f'{r.status_code} {r.text[:200]}'
            except requests.RequestException as e:
                detail = repr(e)
            with self.lock:
                if len(self.retry_reasons) < 10:
                    self.retry_reasons.append(f'{method} {path}: {detail}')
            time.sleep(0.25)
        else:
            r = None
        with self.lock:
            self.failed += 1
            self.failures.append(f'{method} {path}: ' + (f'{r.status_code} {r.text[:200]}' if r is not None else detail))
        return None

    def _write(self) -> None:
        key = str(uuid.uuid4())
        r = self._send('POST', API + '/dossiers', (201,), json=dossier_body(self.procedure, AGENCY),
                       headers=auth(self.token, **{'Idempotency-Key': key}))
        if r is None:
            return
        doc = r.json()
        with self.lock:
            self.dossiers[key] = doc['id']
        r = self._send('POST', API + f'/dossiers/{doc["id"]}/submit', (200,), json={},
                       headers=auth(self.token, **{'If-Match': f'"r{doc["revision"]}"',
                                                   'Idempotency-Key': str(uuid.uuid4())}))
        if r is not None:
            with self.lock:
                self.submitted.add(doc['id'])

    def _read(self) -> None:
        with self.lock:
            ids = list(self.dossiers.values())
        choice = random.random()
        if ids and choice < 0.4:
            self._send('GET', API + f'/dossiers/{random.choice(ids)}', (200,), headers=auth(self.token))
        elif choice < 0.7:
            self._send('GET', API + '/procedures', (200,), params={'q': 'khai sinh', 'limit': 5})
        else:
            self._send('GET', API + '/agencies', (200,), params={'limit': 10})

    def _worker(self) -> None:
        while not self.stop.is_set():
            if random.random() < 0.3:
                self._write()
            else:
                self._read()

    def __enter__(self):
        self.threads = [threading.Thread(target=self._worker, daemon=True) for _ in range(self.workers)]
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(60)

    def figures(self) -> dict:
        return {'requests_sent': self.sent, 'retried': self.retried, 'failed': self.failed,
                'dossiers_created': len(self.dossiers), 'dossiers_submitted': len(self.submitted),
                'why_retried': self.retry_reasons[:3]}


@pytest.fixture
def load_procedure(admin: str, other_agency: str) -> str:
    # One per test (its dossiers are counted by procedure). No mandatory document: a draft
    # can be submitted at once.
    return publish(admin, procedure_for_tests([AGENCY, other_agency], mandatory=(), optional=()))


def check_nothing_lost_or_doubled(load: Load) -> dict:
    ids = sorted(set(load.dossiers.values()))
    assert ids, f'the load created no dossier: {load.failures[:5]}'
    assert len(ids) == len(load.dossiers), 'two idempotency keys gave the same dossier'
    id_list = "'{" + ','.join(ids) + "}'::uuid[]"
    # Every create the client saw exists once; no create the client retried made a second.
    rows = psql(f'SELECT count(*), count(*) FILTER (WHERE status = 1) FROM dossier.dossiers '
                f'WHERE id = ANY({id_list})').split('|')
    assert int(rows[0]) == len(ids)
    owner = psql(f'SELECT DISTINCT owner_sub FROM dossier.dossiers WHERE id = ANY({id_list})').splitlines()
    assert len(owner) == 1
    total = int(psql(f"SELECT count(*) FROM dossier.dossiers WHERE owner_sub = '{owner[0]}' "
                     f"AND procedure_code = '{load.procedure}'"))
    assert total == len(ids), f'{total - len(ids)} dossier(s) the client never saw (doubled writes)'
    # Events: one per (dossier, type), every one published by a relay (the surviving replica's,
    # then the restarted one's).
    subjects = ','.join(f"'dossiers/{i}'" for i in ids)
    doubled = psql(f'SELECT subject, type, count(*) FROM dossier.outbox WHERE subject IN ({subjects}) '
                   f'GROUP BY 1, 2 HAVING count(*) > 1')
    assert doubled == '', f'events doubled: {doubled}'
    deadline = time.monotonic() + 20
    while True:
        unpublished = int(psql(f'SELECT count(*) FROM dossier.outbox WHERE subject IN ({subjects}) '
                               f'AND published_seq IS NULL'))
        if unpublished == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert unpublished == 0, f'{unpublished} events never published'
    events = int(psql(f'SELECT count(*) FROM dossier.outbox WHERE subject IN ({subjects})'))
    submitted = int(psql(f"SELECT count(*) FROM dossier.outbox WHERE subject IN ({subjects}) "
                         f"AND type = 'dossier.dossier.submitted'"))
    # A retried submit carries the same Idempotency-Key: replayed, not done twice.
    assert submitted == int(rows[1]) == len(load.submitted)
    return {'events': events, 'submitted_events': submitted}


def record(name: str, figures: dict) -> None:
    path = os.path.join(LOCAL_DIR, 'figures.json')
    data = json.load(open(path, encoding='utf-8')) if os.path.exists(path) else {}
    data[name] = figures
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(data, f, indent=2)
    print(f'\n{name}: {json.dumps(figures)}')


def test_replica_kill(citizen: str, load_procedure: str):
    """SIGKILL replica a of every service during the load: the gateway retries reads on
    replica b, the client retries idempotent writes; nothing is lost or doubled."""
    load = Load(citizen, load_procedure)
    restart = {}
    with load:
        time.sleep(4)
        pids = {svc: signal_replica(svc, 'a', 'KILL') for svc in SERVICES}
        time.sleep(4)
        for svc in SERVICES:
            restart[svc] = round(wait_ready(svc, 'a', pids[svc]), 1)
        time.sleep(2)
    figures = load.figures()
    figures['seconds_to_ready_after_kill'] = restart
    figures.update(check_nothing_lost_or_doubled(load))
    record('replica_kill', figures)
    assert load.failed == 0, load.failures[:10]
    assert figures['dossiers_created'] > 0 and figures['dossiers_submitted'] > 0


def test_rolling_restart(citizen: str, load_procedure: str):
    """SIGTERM each replica in turn (the next once the previous is back and ready): not one
    request fails or has to be retried."""
    load = Load(citizen, load_procedure)
    with load:
        time.sleep(2)
        for svc in SERVICES:
            for replica in ('a', 'b'):
                pid = signal_replica(svc, replica, 'TERM')
                wait_ready(svc, replica, pid)
                time.sleep(1)
        time.sleep(1)
    figures = load.figures()
    figures.update(check_nothing_lost_or_doubled(load))
    record('rolling_restart', figures)
    assert load.failed == 0, load.failures[:10]
    assert load.retried == 0, f'{load.retried} requests had to be retried: {load.retry_reasons}'


def test_migrate_entry():
    """The image's other entry, `migrate` (the base's migration Job): run against the
    local database, each service's migrations are found applied and it exits 0."""
    import yaml
    tag = podman('inspect', container(SERVICES[0], 'a'), '--format', '{{.ImageName}}').rsplit(':', 1)[1]
    for svc in SERVICES:
        with open(os.path.join(LOCAL_DIR, f'{svc}.yaml'), encoding='utf-8') as f:
            config = next(d for d in yaml.safe_load_all(f)
                          if d and d['kind'] == 'ConfigMap' and d['metadata']['name'] == f'{svc}-a-config')
        var = f'MOTCUA_{svc.upper()}_DATABASE_URL'
        r = subprocess.run(['podman', 'run', '--rm', '--network=host', '--read-only',
                            '-e', f'{var}={config["data"][var]}', f'localhost/motcua-{svc}:{tag}', 'migrate'],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
