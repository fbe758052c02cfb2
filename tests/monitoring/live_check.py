"""The alert rules against the running local stack (tests/monitoring/run).

Starts one more dossier instance beside the stack's, then Debian's Prometheus scraping
every service of the stack and that instance (job motcua-<service>, every second) with
deploy/monitoring/alerts.yml, its `for:` durations shortened to 2 s. Checks that the
metrics the rules read exist on the real services, that no MotcuaServiceDown fires while
everything runs, and that it fires for the extra instance once that is stopped.
Prints 'N passed, N failed'."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'api'))
from dossier_instances import DossierInstance, free_port  # noqa: E402

# what the rules read that every service, or the dossier service, exports while running
EXPORTED = ['motcua_http_requests_total', 'motcua_http_request_duration_seconds_bucket',
            'motcua_db_pool_connections', 'motcua_db_pool_size', 'motcua_db_pool_timeouts_total',
            'motcua_outbox_relay_last_pass_timestamp_seconds',
            'motcua_outbox_oldest_unpublished_age_seconds', 'motcua_dossier_overdue_open',
            'motcua_dossier_watch_last_pass_timestamp_seconds', 'motcua_dossier_watch_failed_total']

results: list[tuple[str, bool, str]] = []


def check(name: str, ok: bool, detail: str = '') -> None:
    results.append((name, ok, detail))
    print(f'{"ok  " if ok else "FAIL"} {name}{": " + detail if detail and not ok else ""}', flush=True)


def query(prom: str, expr: str) -> list[dict]:
    r = requests.get(f'{prom}/api/v1/query', params={'query': expr}, timeout=10)
    r.raise_for_status()
    return r.json()['data']['result']


def wait_for(what, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if what():
            return True
        time.sleep(0.5)
    return False


def main() -> int:
    services = {k[len('MOTCUA_TEST_SERVICE_URL_'):].lower(): v for k, v in os.environ.items()
                if k.startswith('MOTCUA_TEST_SERVICE_URL_')}
    up = {svc: url for svc, url in services.items() if _answers(url)}
    work = tempfile.mkdtemp(prefix='motcua-prom-')
    extra = DossierInstance('monitoring', {'MOTCUA_DOSSIER_WATCH_INTERVAL_SECONDS': '1'})
    try:
        extra.wait_ready()
    except AssertionError:
        extra.stop()
        raise
    target = extra.url.split('//', 1)[1]
    jobs = []
    for svc, url in sorted(up.items()):
        targets = [url.split('//', 1)[1]] + ([target] if svc == 'dossier' else [])
        jobs.append(f'  - job_name: motcua-{svc}\n    static_configs:\n      - targets: {targets}\n')
    with open(os.path.join(ROOT, 'deploy', 'monitoring', 'alerts.yml'), encoding='utf-8') as f:
        rules = re.sub(r'\bfor: \d+[smh]', 'for: 2s', f.read())
    with open(os.path.join(work, 'alerts.yml'), 'w', encoding='utf-8') as f:
        f.write(rules)
    with open(os.path.join(work, 'prometheus.yml'), 'w', encoding='utf-8') as f:
        f.write('global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n'
                'rule_files:\n  - alerts.yml\nscrape_configs:\n' + ''.join(jobs))
    port = free_port()
    prom = f'http://127.0.0.1:{port}'
    log = open(os.path.join(work, 'prometheus.log'), 'wb')
    p = subprocess.Popen(['prometheus', f'--config.file={work}/prometheus.yml',
                          f'--storage.tsdb.path={work}/data', f'--web.listen-address=127.0.0.1:{port}'],
                         stdout=log, stderr=log, cwd=work)
    try:
        ready = wait_for(lambda: _answers(f'{prom}/-/ready'), 60)
        check('prometheus starts with the rules', ready, f'see {work}/prometheus.log')
        if not ready:
            return 1
        n_targets = len(up) + 1
        check(f'all {n_targets} targets are scraped and up',
              wait_for(lambda: len([s for s in query(prom, 'up == 1')]) == n_targets, 30),
              str(query(prom, 'up')))
        for name in EXPORTED:
            check(f'{name} is exported', wait_for(lambda n=name: query(prom, n) != [], 20))
        time.sleep(4)  # a few rule evaluations with everything up
        check('no MotcuaServiceDown while everything runs',
              query(prom, 'ALERTS{alertname="MotcuaServiceDown"}') == [])
        extra.stop()
        fired = wait_for(lambda: any(a['metric'].get('instance') == target for a in query(
            prom, 'ALERTS{alertname="MotcuaServiceDown", alertstate="firing"}')), 60)
        check('MotcuaServiceDown fires for the stopped instance', fired,
              str(query(prom, 'ALERTS')))
        check('and for that instance only',
              all(a['metric'].get('instance') == target for a in query(
                  prom, 'ALERTS{alertname="MotcuaServiceDown"}')))
    finally:
        extra.stop()
        p.terminate()
        p.wait(30)
        log.close()
    failed = sum(1 for _, ok, _ in results if not ok)
    print(f'{len(results) - failed} passed, {failed} failed')
    return 1 if failed else 0


def _answers(url: str) -> bool:
    try:
        return requests.get(url if url.endswith('ready') else f'{url}/healthz', timeout=2).status_code == 200
    except requests.RequestException:
        return False


if __name__ == '__main__':
    sys.exit(main())
