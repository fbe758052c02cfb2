"""Forged and malformed bearer tokens on a write endpoint: every one is a 401
problem with WWW-Authenticate: Bearer, and nothing is written."""
from __future__ import annotations

import json
import shutil
import time

import pytest

import catalogue_data as cd
from catalogue_data import API
from motcua_api import (assert_problem, b64url, b64url_json, generate_rsa_key, jwt_parts, sign_hs256, sign_rs256,
                        standard_claims, tmpdir)

needs_openssl = pytest.mark.skipif(shutil.which('openssl') is None, reason='openssl is not installed')


@pytest.fixture(scope='module')
def genuine(tokens) -> str:
    return tokens.system_admin


@pytest.fixture(scope='module')
def other_key() -> str:
    if shutil.which('openssl') is None:
        pytest.skip('openssl is not installed')
    return generate_rsa_key(tmpdir())


def admin_claims(**over):
    claims = standard_claims('attacker', ['system_admin'])
    claims.update(over)
    return claims


def forgeries(genuine: str, public_pem: bytes, private_key: str, other_key: str, minter) -> dict[str, str]:
    h, p, sig = genuine.split('.')
    header, payload, _ = jwt_parts(genuine)
    now = int(time.time())
    out = {
        'hs256 keyed with the RSA public key': sign_hs256({'alg': 'HS256', 'typ': 'JWT'}, admin_claims(), public_pem),
        'hs256 keyed with the public key, stripped': sign_hs256({'alg': 'HS256', 'typ': 'JWT'}, admin_claims(),
                                                                public_pem.strip()),
        'hs512 keyed with the RSA public key': _hmac512(admin_claims(), public_pem),
        'alg none, no signature': f'{b64url_json({"alg": "none", "typ": "JWT"})}.{b64url_json(admin_claims())}.',
        'alg none, with a signature': f'{b64url_json({"alg": "none", "typ": "JWT"})}.{p}.{sig}',
        'alg None': f'{b64url_json({"alg": "None"})}.{b64url_json(admin_claims())}.',
        'alg NONE, two parts': f'{b64url_json({"alg": "NONE"})}.{b64url_json(admin_claims())}',
        'alg missing': f'{b64url_json({"typ": "JWT"})}.{p}.{sig}',
        'alg ES256 over an RS256 signature': f'{b64url_json(dict(header, alg="ES256"))}.{p}.{sig}',
        'expired an hour ago': minter.mint('test-expired', ['system_admin'], ttl=-3600),
        'wrong audience': minter.mint('test-aud', ['system_admin'], aud='another-system'),
        'wrong issuer': minter.mint('test-iss', ['system_admin'], iss='https://evil.example'),
        'issuer differs in case': minter.mint('test-iss2', ['system_admin'], iss='Motcua-Identity'),
        'signed by another RSA key': minter.mint('test-other', ['system_admin'], key_path=other_key),
        'payload tampered (citizen -> system_admin)': _tamper(minter.mint('test-citizen-x', ['citizen'])),
        'signature of another token': f'{h}.{b64url_json(admin_claims())}.{sig}',
        'signature truncated': f'{h}.{p}.{sig[:-10]}',
        'signature empty': f'{h}.{p}.',
        'garbage': 'garbage',
        'three dots': '...',
        'a.b.c': 'a.b.c',
        'not base64': '@@@.###.$$$',
        'header is not JSON': f'{b64url(b"not json")}.{p}.{sig}',
        'four parts': f'{genuine}.{sig}',
        'jwe-shaped (5 parts)': f'{h}.{p}.{sig}.{sig}.{sig}',
    }
    if shutil.which('openssl'):
        rs = {'alg': 'RS256', 'typ': 'JWT'}
        out.update({
            'not yet valid (nbf in an hour)': sign_rs256(rs, admin_claims(nbf=now + 3600), private_key),
            'no exp': sign_rs256(rs, {k: v for k, v in admin_claims().items() if k != 'exp'}, private_key),
            'exp as a string': sign_rs256(rs, admin_claims(exp=str(now + 3600)), private_key),
            'payload is not JSON': sign_rs256(rs, b'{"sub": "x", "roles": ["system_admin"', private_key),
            'payload is an array': sign_rs256(rs, b'["system_admin"]', private_key),
            'RS512 with the right key': _rs512(admin_claims(), private_key),
            'embedded jwk of the attacker': sign_rs256(dict(rs, jwk={'kty': 'RSA', 'n': 'AQAB', 'e': 'AQAB'}),
                                                       admin_claims(), other_key),
            'audience list without motcua': sign_rs256(rs, admin_claims(aud=['other']), private_key),
        })
    return out


def _tamper(token: str) -> str:
    h, p, s = token.split('.')
    _, claims, _ = jwt_parts(token)
    claims['roles'] = ['system_admin']
    return f'{h}.{b64url_json(claims)}.{s}'


def _hmac512(claims, secret: bytes) -> str:
    import hashlib
    import hmac
    signing_input = f'{b64url_json({"alg": "HS512", "typ": "JWT"})}.{b64url_json(claims)}'.encode()
    return f'{signing_input.decode()}.{b64url(hmac.new(secret, signing_input, hashlib.sha512).digest())}'


def _rs512(claims, key_path: str) -> str:
    import subprocess
    signing_input = f'{b64url_json({"alg": "RS512", "typ": "JWT"})}.{b64url_json(claims)}'.encode()
    sig = subprocess.run(['openssl', 'dgst', '-sha512', '-sign', key_path], input=signing_input,
                         capture_output=True, check=True).stdout
    return f'{signing_input.decode()}.{b64url(sig)}'


@pytest.fixture(scope='module')
def forged(genuine, public_key_path, private_key_path, other_key, minter) -> dict[str, str]:
    with open(public_key_path, 'rb') as f:
        public_pem = f.read()
    return forgeries(genuine, public_pem, private_key_path, other_key, minter)


FORGERY_NAMES = [
    'hs256 keyed with the RSA public key', 'hs256 keyed with the public key, stripped',
    'hs512 keyed with the RSA public key', 'alg none, no signature', 'alg none, with a signature',
    'alg None', 'alg NONE, two parts', 'alg missing', 'alg ES256 over an RS256 signature', 'expired an hour ago',
    'wrong audience', 'wrong issuer', 'issuer differs in case', 'signed by another RSA key',
    'payload tampered (citizen -> system_admin)', 'signature of another token', 'signature truncated',
    'signature empty', 'garbage', 'three dots', 'a.b.c', 'not base64', 'header is not JSON', 'four parts',
    'jwe-shaped (5 parts)', 'not yet valid (nbf in an hour)', 'no exp', 'exp as a string', 'payload is not JSON',
    'payload is an array', 'RS512 with the right key', 'embedded jwk of the attacker',
    'audience list without motcua',
]


def refused(api, authorization: str, *, expect=401):
    body = cd.sector_body()
    r = api.post(f'{API}/sectors', headers={'Authorization': authorization}, json=body, expect=expect)
    if r.status_code == 401:
        assert_problem(r, 401, 'auth.unauthenticated')
        assert r.headers['WWW-Authenticate'].lower().startswith('bearer'), r.headers['WWW-Authenticate']
    assert authorization.split(' ')[-1][:40] not in r.text or len(authorization) < 20, 'the token is echoed back'
    api.get(f'{API}/sectors/{body["code"]}', expect=404)
    return r


def test_the_genuine_token_works(api, genuine):
    """Control: the same request with the real token succeeds."""
    api.post(f'{API}/sectors', token=genuine, json=cd.sector_body(), expect=201)


@pytest.mark.parametrize('name', FORGERY_NAMES)
def test_forged_token_is_refused(api, forged, name):
    if name not in forged:
        pytest.skip('needs openssl')
    refused(api, f'Bearer {forged[name]}')


@pytest.mark.parametrize('authorization', [
    '{token}',                      # scheme missing
    'Token {token}',
    'Basic c3lzdGVtX2FkbWluOnBhc3N3b3Jk',
    'Bearer',
    'Bearer ',
    'Bearer{token}',
    'Bearer "{token}"',
    'Bearer {token} {token}',
])
def test_malformed_authorization_header(api, genuine, authorization):
    refused(api, authorization.format(token=genuine))


@pytest.mark.parametrize('scheme', ['bearer', 'BEARER', 'BeArEr'])
def test_scheme_is_case_insensitive(api, genuine, scheme):
    body = cd.sector_body()
    api.post(f'{API}/sectors', headers={'Authorization': f'{scheme} {genuine}'}, json=body, expect=201)


def test_no_token_on_a_write(api):
    refused_body = cd.sector_body()
    r = api.post(f'{API}/sectors', json=refused_body, expect=401)
    assert_problem(r, 401, 'auth.unauthenticated')
    assert r.headers['WWW-Authenticate'].lower().startswith('bearer')


def _huge_token(genuine: str) -> str:
    h, _, s = genuine.split('.')
    claims = admin_claims(padding='A' * 20000)
    return f'{h}.{b64url_json(claims)}.{s}'


def test_huge_token_at_the_service(svc, genuine):
    token = _huge_token(genuine)
    assert len(token) > 20000
    refused(svc, f'Bearer {token}')


def test_huge_token_at_the_gateway(api, genuine):
    """nginx allows 16 KiB per header line: a 20 KB token is refused there (431) or by the service (401)."""
    refused(api, f'Bearer {_huge_token(genuine)}', expect=(401, 431))


def test_bad_token_on_a_public_read_is_401(api, forged, tokens):
    r = api.get(f'{API}/sectors', token=forged['expired an hour ago'], expect=401)
    assert_problem(r, 401, 'auth.unauthenticated')
    api.get(f'{API}/sectors', token=tokens.citizen, params={'limit': 1}, expect=200)


def test_token_claims_are_not_trusted_for_other_agencies(api, tokens, departments):
    """An agency_admin token is bound to its `agency` claim."""
    token = tokens.agency_admin(departments[0])
    body = cd.agency_body(parent=departments[1])
    api.post(f'{API}/agencies', token=token, json=body, expect=403)
    api.get(f'{API}/agencies/{body["code"]}', expect=404)


def test_agency_admin_without_agency_claim_cannot_write(api, minter):
    token = minter.mint('test-no-agency', ['agency_admin'])
    body = cd.agency_body()
    api.post(f'{API}/agencies', token=token, json=body, expect=403)
    api.get(f'{API}/agencies/{body["code"]}', expect=404)


def test_unknown_roles_grant_nothing(api, minter):
    token = minter.mint('test-roles', ['superuser', 'root', 'admin', 'System_Admin'])
    r = api.post(f'{API}/sectors', token=token, json=cd.sector_body(), expect=403)
    assert_problem(r, 403, 'auth.forbidden')


def test_problem_does_not_leak_internals(api, forged):
    r = api.post(f'{API}/sectors', token=forged['signed by another RSA key'], json=cd.sector_body(), expect=401)
    text = json.dumps(r.json()).lower()
    for leak in ('libjwt', 'openssl', '.pem', 'stack', 'segfault', '/work/', 'select '):
        assert leak not in text, leak
