"""Spec coverage: every operation of every API document (api-spec/*.yaml: each service's
public operations and the operations endpoints of operations.yaml) was exercised by
some test of this session with a successful answer (status < 400) that was validated
against the spec. An operation no test calls successfully is an operation whose
documented success answer nothing checks.

Named test_zz_* so that it runs after every other module (pytest runs the files of
tests/api in name order). It only judges a whole run: with -k, -m or a subset of files
it is skipped."""
from __future__ import annotations

import pytest

from motcua_api import EXERCISED, whole_suite_collected

METHODS = ('get', 'put', 'post', 'delete', 'patch')


def test_every_operation_is_exercised(spec, base_url):
    if not whole_suite_collected():
        pytest.skip('not the whole suite: coverage is judged on a whole run only')
    documented = {(m, template, fname) for _, template, item, fname in spec.operations
                  for m in METHODS if m in item}
    files = {f for _, _, f in documented}
    assert {'catalogue.yaml', 'identity.yaml', 'dossier.yaml', 'operations.yaml'} <= files
    missing = sorted(f'{fname}: {m.upper()} {t}' for m, t, fname in documented
                     if (m, t) not in EXERCISED)
    assert not missing, 'operations no test exercised successfully:\n  ' + '\n  '.join(missing)
