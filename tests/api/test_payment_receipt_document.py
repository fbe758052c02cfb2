"""The e-receipt as a document: the national platform's own receipt (GET_BILL, a PDF)
fetched once and then served from the service, and VNPay's rendered by the service as an
HTML page; for the readers of the JSON receipt only, and only once paid."""
from __future__ import annotations

import re

from test_payment_ipn import PAYMENTS, Merchant
from test_payment_journey import fresh_payment, merchants, paid_payment  # noqa: F401


def test_national_platform_receipt_is_its_get_bill_pdf_fetched_once(api, world, admin, merchants):  # noqa: F811
    paid = paid_payment(api, world, 'national_platform')
    url = f'{PAYMENTS}/{paid["id"]}/receipt/document'
    r = api.get(url, token=world.citizen(), expect=200)
    assert r.headers['Content-Type'] == 'application/pdf'
    assert re.search(r'attachment; filename="bien-lai-[A-Za-z0-9._-]+\.pdf"', r.headers['Content-Disposition'])
    assert r.content.startswith(b'%PDF-') and b'%%EOF' in r.content[-16:]
    assert paid['transaction_no'].encode() in r.content   # the platform's MaGiaoDich, in its receipt
    # a second download does not ask the platform: with a wrong token it would be refused
    api.put(f'{PAYMENTS}/merchants/{world.agency}/national_platform', token=admin,
            json={'merchant_code': merchants['national_platform'].code,
                  'secret': merchants['national_platform'].secret, 'token': 'not-the-token-0000'}, expect=200)
    try:
        again = api.get(url, token=world.officer, expect=200)
    finally:
        Merchant(api, admin, world.agency, 'national_platform')
    assert again.content == r.content
    api.get(url, token=world.citizen(1), expect=404)
    api.get(url, token=world.staff(('officer',), world.other_agency), expect=404)


def test_vnpay_receipt_is_rendered_html(api, world, merchants):  # noqa: F811
    pending = fresh_payment(api, world)
    assert api.get(f'{PAYMENTS}/{pending["id"]}/receipt/document', token=world.citizen(),
                   expect=409).doc['code'] == 'resource.conflict'
    paid = paid_payment(api, world, 'vnpay')
    receipt = api.get(f'{PAYMENTS}/{paid["id"]}/receipt', token=world.citizen(), expect=200).doc
    r = api.get(f'{PAYMENTS}/{paid["id"]}/receipt/document', token=world.citizen(), expect=200)
    assert r.headers['Content-Type'] == 'text/html; charset=utf-8'
    assert f'filename="bien-lai-{receipt["receipt_no"]}.html"' in r.headers['Content-Disposition']
    page = r.content.decode('utf-8')
    assert 'Biên lai thu phí, lệ phí điện tử' in page
    for value in (receipt['receipt_no'], receipt['agency_code'], receipt['dossier_code'],
                  receipt['payer_account'], receipt['paid_at'], receipt['transaction_no']):
        assert f'<td>{value}</td>' in page, value
    for item in receipt['fee_items']:
        assert f'<td>{item["code"]}</td>' in page and f'<td>{item["name"]}</td>' in page
    assert '10.000&nbsp;₫' in page and '<script' not in page
    api.get(f'{PAYMENTS}/{paid["id"]}/receipt/document', token=world.citizen(1), expect=404)
