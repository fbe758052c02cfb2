"""Documents in an S3-compatible object store (issue 16): MOTCUA_DOSSIER_STORAGE=s3.

The tests start s3rver (the npm package, a real S3-protocol server) behind a proxy that
checks every request's AWS Signature V4 (s3rver accepts any: s3_sigv4_proxy.py), and two
dossier instances on the stack's database, both on one bucket: a document uploaded through one downloads through
the other byte for byte, also when it spans several ranged reads; wrong keys are
refused by the store (the upload is a 500, nothing is recorded); and the sweeper of an
instance lists the bucket and removes an object no row names.

s3rver is installed with npm into .local/s3rver of the checkout (kept across runs; the
stack's own folder is purged at each start) when missing (npm is needed; the tests are
skipped without it)."""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import time

import pytest
import requests

from dossier_instances import DossierInstance, free_port, stack
from dossier_support import API, PDF, create, dossier_sql, upload
from motcua_api import ApiClient
from s3_sigv4_proxy import SigV4Proxy

S3RVER_VERSION = '3.7.1'
BUCKET = 'motcua-documents'
KEY = 'S3RVER'  # s3rver's account: access key id and secret are both this


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def s3rver_bin() -> str:
    prefix = os.path.join(ROOT, '.local', 's3rver')
    exe = os.path.join(prefix, 'node_modules', '.bin', 's3rver')
    if not os.path.exists(exe):
        if shutil.which('npm') is None or shutil.which('node') is None:
            pytest.skip('npm and node are needed to install s3rver')
        os.makedirs(prefix, exist_ok=True)
        subprocess.run(['npm', 'install', '--prefix', prefix, '--no-audit', '--no-fund',
                        '--loglevel=error', f's3rver@{S3RVER_VERSION}'],
                       check=True, capture_output=True, timeout=600)
    return exe


@pytest.fixture(scope='module')
def s3(tmp_path_factory):
    local_dir, _, _ = stack()
    exe = s3rver_bin()
    data = tmp_path_factory.mktemp('s3rver')
    port = free_port()
    log = open(os.path.join(local_dir, 'log', 's3rver.log'), 'ab')
    p = subprocess.Popen([exe, '-d', str(data), '-a', '127.0.0.1', '-p', str(port), '--no-vhost-buckets',
                          '--configure-bucket', BUCKET], stdout=log, stderr=log)
    url = f'http://127.0.0.1:{port}'
    proxy = None
    try:
        deadline = time.monotonic() + 60
        while True:
            assert p.poll() is None, 's3rver exited'
            try:
                requests.get(url, timeout=1)
                break
            except requests.RequestException:
                assert time.monotonic() < deadline, 's3rver is not answering'
                time.sleep(0.2)
        proxy = SigV4Proxy(url, KEY, KEY)
        secrets = tmp_path_factory.mktemp('s3-secrets')
        for name, value in (('access', KEY), ('secret', KEY), ('wrong', 'not-the-secret')):
            (secrets / name).write_text(value + '\n')
        yield {'url': proxy.url, 'data': str(data), 'secrets': secrets, 'proxy': proxy}
    finally:  # s3rver never outlives the module, whatever failed
        if proxy is not None:
            proxy.close()
        p.terminate()
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(10)
        log.close()


def s3_settings(s3, secret: str = 'secret') -> dict[str, str]:
    return {'MOTCUA_DOSSIER_STORAGE': 's3', 'MOTCUA_DOSSIER_S3_ENDPOINT': s3['url'],
            'MOTCUA_DOSSIER_S3_BUCKET': BUCKET, 'MOTCUA_DOSSIER_S3_REGION': 'us-east-1',
            'MOTCUA_DOSSIER_S3_ACCESS_KEY_FILE': str(s3['secrets'] / 'access'),
            'MOTCUA_DOSSIER_S3_SECRET_KEY_FILE': str(s3['secrets'] / secret),
            # the document directory must not be what serves the files
            'MOTCUA_DOSSIER_DOCUMENT_DIR': '/nonexistent',
            'MOTCUA_DOSSIER_WATCH_INTERVAL_SECONDS': '0',
            'MOTCUA_DOSSIER_SWEEP_INTERVAL_SECONDS': '1',
            'MOTCUA_DOSSIER_ORPHAN_FILE_HOURS': '1'}


@pytest.fixture(scope='module')
def replicas(s3, spec):
    started = [DossierInstance(f's3-{n}', s3_settings(s3)) for n in (1, 2)]
    try:
        yield [ApiClient(i.wait_ready().url, spec, via='service', timeout=30) for i in started]
    finally:
        for i in started:
            i.stop()


def stored_objects(s3) -> list[str]:
    """The object files s3rver keeps for the bucket."""
    return glob.glob(os.path.join(s3['data'], BUCKET, '**', '*._S3rver_object'), recursive=True)


def object_file(s3, key: str) -> str:
    return os.path.join(s3['data'], BUCKET, key + '._S3rver_object')


@pytest.fixture(scope='module')
def code(world) -> str:
    return world.procedure(mandatory=())


def test_upload_through_one_replica_download_through_the_other(world, code, s3, replicas):
    a, b = replicas
    citizen = world.citizen()
    d = create(a, citizen, code, world.agency).doc
    small = PDF + b'% mot\n'
    large = PDF + b'%' + os.urandom(1_300_000).hex().encode()  # 2.6 MB: three ranged reads
    upload(a, citizen, d, 'extra-1', small, expect=201)
    upload(b, citizen, d, 'extra-2', large, expect=201)
    keys = dossier_sql(f"SELECT string_agg(storage_key, ' ' ORDER BY slot) FROM dossier_documents"
                       f" WHERE dossier_id = '{d['id']}'").split()
    assert len(keys) == 2
    for key in keys:  # in the bucket, not in any document directory
        assert os.path.getsize(object_file(s3, key)) in (len(small), len(large))
    for api in (a, b):
        assert api.get(f'{API}/dossiers/{d["id"]}/documents/extra-1/content', token=citizen,
                       expect=200).content == small
        r = api.get(f'{API}/dossiers/{d["id"]}/documents/extra-2/content', token=citizen, expect=200)
        assert r.content == large and int(r.headers['Content-Length']) == len(large)
    # replaced: the new bytes are served, the old object stays for the record
    upload(b, citizen, d, 'extra-1', PDF + b'% hai\n', expect=(200, 201))
    assert a.get(f'{API}/dossiers/{d["id"]}/documents/extra-1/content', token=citizen,
                 expect=200).content == PDF + b'% hai\n'
    assert os.path.exists(object_file(s3, keys[0]))
    assert s3['proxy'].refused == []  # every request was correctly signed


def test_wrong_keys_are_refused_by_the_store_and_nothing_is_recorded(world, code, s3, spec):
    wrong = DossierInstance('s3-wrong-key', s3_settings(s3, secret='wrong'))
    try:
        api = ApiClient(wrong.wait_ready().url, spec, via='service', timeout=30)
        citizen = world.citizen()
        d = create(api, citizen, code, world.agency).doc
        before = len(stored_objects(s3))
        # a server fault (500, as when a disk refuses a write), not in the spec's list
        r = api.request('PUT', f'{API}/dossiers/{d["id"]}/documents/extra-1', token=citizen,
                        params={'file_name': 'giay-to.pdf'}, data=PDF,
                        headers={'Content-Type': 'application/pdf'}, validate=False)
        assert r.status_code == 500
        assert r.headers['Content-Type'].startswith('application/problem+json')
        assert s3['proxy'].refused[-1:] == ['signature mismatch']
        assert len(stored_objects(s3)) == before
        assert dossier_sql(f"SELECT count(*) FROM dossier_documents WHERE dossier_id = '{d['id']}'") == '0'
    finally:
        wrong.stop()


def test_the_sweeper_removes_objects_no_row_names(world, code, s3, replicas):
    a, _ = replicas
    citizen = world.citizen()
    d = create(a, citizen, code, world.agency).doc
    upload(a, citizen, d, 'extra-1', expect=201)
    upload(a, citizen, d, 'extra-2', expect=201)
    unnamed, kept = dossier_sql(
        f"SELECT string_agg(storage_key, ' ' ORDER BY slot) FROM dossier_documents"
        f" WHERE dossier_id = '{d['id']}'").split()
    # the first loses its row (as when an upload's transaction failed after the PUT),
    # and both objects are made two hours old
    dossier_sql(f"DELETE FROM dossier_documents WHERE storage_key = '{unnamed}'")
    t = time.time() - 2 * 3600
    for key in (unnamed, kept):
        os.utime(object_file(s3, key), (t, t))
    deadline = time.monotonic() + 30
    while os.path.exists(object_file(s3, unnamed)):
        assert time.monotonic() < deadline, 'the sweeper did not remove the unnamed object'
        time.sleep(0.5)
    assert os.path.exists(object_file(s3, kept))
    assert a.get(f'{API}/dossiers/{d["id"]}/documents/extra-2/content', token=citizen,
                 expect=200).content == PDF
