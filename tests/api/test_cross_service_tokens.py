"""Tokens issued by the identity service are honoured by the other services.

The catalogue takes the identity service's keys from its JWKS (the local
stack sets MOTCUA_JWKS_URL), so a citizen who signed in at identity is
authenticated at the catalogue: allowed where a citizen may act, 403 (not
401) where a citizen may not, and a tampered copy of the same token is 401.
"""
from __future__ import annotations

import base64
import json

from test_identity_service import API, ident, register, sign_in  # noqa: F401 (ident is a fixture)


def test_an_identity_token_authenticates_at_the_catalogue(ident, svc):
    person = register(ident)
    tokens = sign_in(ident, person['personal_id'], person['password'])
    access = tokens['access_token']
    header = json.loads(base64.urlsafe_b64decode(access.split('.')[0] + '=='))
    assert header['alg'] == 'RS256' and header.get('kid'), header

    # public read with the token: fine
    svc.get(f'{API}/procedures/1.001193', token=access, expect=200)
    # authenticated, but a citizen may not write the catalogue: 403, not 401
    r = svc.post(f'{API}/sectors', token=access,
                 json={'code': 'khong-duoc-phep', 'name': 'Không được phép', 'description': None},
                 expect=403)
    assert r.json()['code'] == 'auth.forbidden'

    # the same token with its payload changed to claim system_admin: 401
    head, payload, sig = access.split('.')
    claims = json.loads(base64.urlsafe_b64decode(payload + '=' * (-len(payload) % 4)))
    claims['roles'] = ['system_admin']
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b'=').decode()
    r = svc.post(f'{API}/sectors', token=f'{head}.{forged_payload}.{sig}',
                 json={'code': 'khong-duoc-phep', 'name': 'Không được phép', 'description': None},
                 expect=401)
    assert r.json()['code'] == 'auth.unauthenticated'
