"""Reading the local test stack's database as a service's own role, for tests that
check what a service stored (audit rows, pending keys). Skips the calling test when
the stack's environment (MOTCUA_TEST_PG_PORT, MOTCUA_TEST_LOCAL_DIR with
secrets/<service>.password) or psql is missing."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest


def psql_as(service: str, sql: str) -> str:
    """Run `sql` as motcua_<service>; its unaligned, tuples-only output."""
    port = os.environ.get('MOTCUA_TEST_PG_PORT', '').strip()
    local = os.environ.get('MOTCUA_TEST_LOCAL_DIR', '').strip()
    secret = os.path.join(local, 'secrets', f'{service}.password')
    if not port or not local or not os.path.exists(secret) or shutil.which('psql') is None:
        pytest.skip(f'MOTCUA_TEST_PG_PORT, MOTCUA_TEST_LOCAL_DIR and psql are needed to read the '
                    f'{service} tables')
    with open(secret, encoding='utf-8') as f:
        password = f.readline().rstrip('\r\n')
    conninfo = f'host=127.0.0.1 port={port} dbname=motcua user=motcua_{service} password={password}'
    return subprocess.run(['psql', conninfo, '-X', '-v', 'ON_ERROR_STOP=1', '-At', '-c', sql],
                          check=True, capture_output=True, text=True, timeout=60).stdout.strip()
