"""One citizen cannot exhaust the storage (issue 9): drafts per citizen, files and bytes
per dossier are limited (422/429 problems with the limit), and a sweeper gives back the
files of long-abandoned drafts and stored files no row names. Also: an assignee is never
stored unchecked when identity cannot be asked (503).

These tests run a second dossier instance ("sidecar") beside the stack's, on the same
database and document directory, with small limits, a sweeper every second and an
identity URL nobody answers; it is started like deploy/local's (the running service's
environment, a few settings changed) and stopped at the end of the module."""
from __future__ import annotations

import os
import subprocess
import time
import uuid

import pytest

from dossier_instances import DossierInstance, free_port, stack as _stack
from dossier_support import API, PDF, act, create, filed, upload
from motcua_api import ApiClient, assert_problem, error_pointers

@pytest.fixture(scope='module')
def sidecar(spec):
    instance = DossierInstance('sidecar', {
        'MOTCUA_DOSSIER_MAX_DRAFTS_PER_CITIZEN': '2',
        'MOTCUA_DOSSIER_MAX_FILES_PER_DOSSIER': '3',
        'MOTCUA_DOSSIER_MAX_BYTES_PER_DOSSIER': str(1 << 20),
        'MOTCUA_DOSSIER_SWEEP_INTERVAL_SECONDS': '1',
        'MOTCUA_DOSSIER_ABANDONED_DRAFT_DAYS': '1',
        'MOTCUA_DOSSIER_ORPHAN_FILE_HOURS': '1',
        'MOTCUA_DOSSIER_WATCH_INTERVAL_SECONDS': '0',
        'MOTCUA_DOSSIER_IDENTITY_URL': f'http://127.0.0.1:{free_port()}'})
    try:
        instance.wait_ready()
        yield ApiClient(instance.url, spec, via='service', timeout=30)
    finally:
        instance.stop()


def psql(sql: str, *params: str) -> str:
    local_dir, _, pg_port = _stack()
    with open(os.path.join(local_dir, 'secrets', 'dossier.password'), encoding='utf-8') as f:
        password = f.readline().rstrip('\r\n')
    args = ['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-A', '-t', '-h', '127.0.0.1', '-p', pg_port,
            '-U', 'motcua_dossier', '-d', 'motcua']
    for i, value in enumerate(params, 1):
        args += ['-v', f'p{i}={value}']
    out = subprocess.run(args, input=sql, env=dict(os.environ, PGPASSWORD=password), check=True,
                         capture_output=True, text=True, timeout=60)
    return out.stdout.strip()


@pytest.fixture(scope='module')
def code(world) -> str:
    return world.procedure(value=2, mandatory=())


def pdf_of(size: int) -> bytes:
    return PDF + b'%' + os.urandom(size // 2).hex().encode()[:size - len(PDF) - 1]


def test_drafts_per_citizen_are_limited(world, code, sidecar):
    citizen = world.citizen(3)  # a citizen of this test alone
    for _ in range(2):
        create(sidecar, citizen, code, world.agency)
    r = create(sidecar, citizen, code, world.agency, expect=429)
    problem = assert_problem(r, 429, 'dossier.too_many_drafts')
    assert problem['limit'] == 2 and problem['limit_name'] == 'MAX_DRAFTS_PER_CITIZEN'
    # the oldest draft stops counting after ABANDONED_DRAFT_DAYS (1 here)
    assert 86000 < int(r.headers['Retry-After']) <= 86400
    # another citizen is not limited by them
    create(sidecar, world.citizen(4), code, world.agency)


def test_files_per_dossier_are_limited_replacements_included(world, code, sidecar):
    citizen = world.citizen(5)
    d = create(sidecar, citizen, code, world.agency).doc
    upload(sidecar, citizen, d, 'extra-1', PDF + b'% 1\n')
    upload(sidecar, citizen, d, 'extra-1', PDF + b'% 2\n')  # a replacement is kept: it counts
    upload(sidecar, citizen, d, 'extra-2', PDF + b'% 3\n')
    r = upload(sidecar, citizen, d, 'extra-2', PDF + b'% 4\n', expect=422)
    problem = assert_problem(r, 422, 'dossier.storage_limit')
    assert problem['limit'] == 3 and problem['limit_name'] == 'MAX_FILES_PER_DOSSIER'
    assert error_pointers(problem) == {''}
    # the same file again (a retried PUT) is still answered as it is
    upload(sidecar, citizen, d, 'extra-2', PDF + b'% 3\n', expect=200)
    docs = sidecar.get(f'{API}/dossiers/{d["id"]}/documents', token=citizen, params={'all': 'true'},
                       expect=200).doc['items']
    assert len(docs) == 3


def test_bytes_per_dossier_are_limited(world, code, sidecar):
    citizen = world.citizen(5)
    d = create(sidecar, citizen, code, world.agency).doc
    upload(sidecar, citizen, d, 'extra-1', pdf_of(700 * 1024))
    r = upload(sidecar, citizen, d, 'extra-2', pdf_of(400 * 1024), expect=422)
    problem = assert_problem(r, 422, 'dossier.storage_limit')
    assert problem['limit'] == 1 << 20 and problem['limit_name'] == 'MAX_BYTES_PER_DOSSIER'
    upload(sidecar, citizen, d, 'extra-2', pdf_of(300 * 1024), expect=201)


def test_the_sweeper_reclaims_abandoned_drafts_and_unnamed_files(world, code, sidecar):
    local_dir, _, _ = _stack()
    root = os.path.join(local_dir, 'documents')
    citizen = world.citizen(6)
    old = create(world.api, citizen, code, world.agency).doc
    upload(world.api, citizen, old, 'extra-1')
    upload(world.api, citizen, old, 'extra-1', PDF + b'% moi\n')
    recent = create(world.api, citizen, code, world.agency).doc
    upload(world.api, citizen, recent, 'extra-1')
    keys = psql("SELECT string_agg(storage_key, ' ') FROM dossier_documents"
                " WHERE dossier_id = :'p1'::uuid", old['id']).split()
    assert len(keys) == 2
    psql("UPDATE dossiers SET updated_at = now() - interval '2 days' WHERE id = :'p1'::uuid;"
         " UPDATE dossier_documents SET uploaded_at = now() - interval '2 days'"
         " WHERE dossier_id = :'p1'::uuid", old['id'])

    def stray(hours_old: float, tmp: bool = False) -> str:
        name = str(uuid.uuid4())
        path = os.path.join(root, name[:2], name[2:4], ('.tmp-' if tmp else '') + name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'wb') as f:
            f.write(PDF)
        t = time.time() - hours_old * 3600
        os.utime(path, (t, t))
        return path

    old_orphan, old_tmp, young_orphan = stray(2), stray(2, tmp=True), stray(0.1)
    deadline = time.monotonic() + 30
    while any(os.path.exists(p) for p in [old_orphan, old_tmp] + [os.path.join(root, k) for k in keys]):
        assert time.monotonic() < deadline, 'the sweeper did not reclaim the files'
        time.sleep(0.5)
    assert os.path.exists(young_orphan)  # maybe an upload still in flight
    os.unlink(young_orphan)
    # the abandoned draft: no files, and the trail says why
    assert world.api.get(f'{API}/dossiers/{old["id"]}/documents', token=citizen,
                         params={'all': 'true'}, expect=200).doc['items'] == []
    items = world.api.get(f'{API}/dossiers/{old["id"]}/history', token=citizen, expect=200).doc['items']
    swept = [h for h in items if h['action'] == 'documents_swept']
    assert len(swept) == 1 and swept[0]['actor']['role'] == 'system'
    assert swept[0]['details']['files'] == 2
    # the recent draft keeps its file and its bytes
    mine = world.api.get(f'{API}/dossiers/{recent["id"]}/documents/extra-1/content', token=citizen,
                         expect=200)
    assert mine.content == PDF


def test_an_assignee_is_not_stored_unchecked(world, code, sidecar):
    """The sidecar's identity URL answers nothing: 503, and the dossier is unchanged."""
    d = act(world.api, world.officer, filed(world, code, documents=()), 'receive').doc
    r = act(sidecar, world.officer, d, 'assign', {'assignee': str(uuid.uuid4())}, expect=503)
    assert_problem(r, 503, 'dossier.identity_unavailable')
    now = world.api.get(f'{API}/dossiers/{d["id"]}', token=world.officer, expect=200).doc
    assert now['revision'] == d['revision'] and now['processing']['assignee'] is None
    # a name that cannot be an account is refused without asking
    r = act(sidecar, world.officer, d, 'assign', {'assignee': 'khong-ton-tai'}, expect=422)
    assert error_pointers(assert_problem(r, 422)) == {'/assignee'}
