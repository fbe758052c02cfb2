"""Paying through a provider the dossier's agency has no merchant account with: a clear
409 `payment.merchant_not_configured`, nothing recorded, and the same demand payable once
the account is back. The account is removed with DELETE /payments/merchants/{agency}/
{provider} (system_admin), refused while one of its payments is pending."""
from __future__ import annotations

import time

from dossier_support import dossier_in
from test_payment_ipn import PAYMENTS, Merchant, create_payment


def test_paying_without_a_merchant_account(api, world, admin):
    Merchant(api, admin, world.agency, 'national_platform')
    dossier = dossier_in(world, world.procedure(mandatory=()), 6)
    account = f'{PAYMENTS}/merchants/{world.agency}/national_platform'
    api.delete(account, token=world.officer, expect=403)
    api.delete(f'{PAYMENTS}/merchants/{world.agency}/paypal', token=admin, expect=400)
    # earlier tests' attempts through this account may still be pending: they expire
    # (30 s in the test stack) and the sweeper settles them; until then it stays
    deadline = time.monotonic() + 90
    while api.delete(account, token=admin, expect=(204, 409)).status_code == 409:
        assert time.monotonic() < deadline, 'the account kept a pending payment'
        time.sleep(1)
    try:
        api.delete(account, token=admin, expect=404)
        deadline = time.monotonic() + 15
        while True:  # until the demand came through the dossier feed
            r = api.post(PAYMENTS, token=world.citizen(),
                         json={'dossier_id': dossier['id'], 'provider': 'national_platform'}, expect=409)
            if r.doc['code'] != 'payment.no_open_demand' or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert r.doc['code'] == 'payment.merchant_not_configured', r.doc
        assert r.headers['Content-Type'].startswith('application/problem+json') and r.doc['status'] == 409
        # nothing was recorded: no attempt for the dossier
        page = api.get(PAYMENTS, token=world.citizen(), params={'dossier_id': dossier['id']}, expect=200).doc
        assert page['items'] == []
    finally:
        Merchant(api, admin, world.agency, 'national_platform')
    # the same demand is payable once the account is back
    payment = create_payment(api, world, dossier, 'national_platform')
    assert payment['state'] == 'pending' and payment['amount'] == 10000
    # an account with a pending payment is not removed
    assert api.delete(account, token=admin, expect=409).doc['code'] == 'resource.conflict'
