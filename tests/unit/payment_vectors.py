#!/usr/bin/python3
"""Signature vectors for tests/unit/test_payment_provider.c, computed here
independently of the C code (Python's hmac/hashlib/urllib), the way VNPay's
PHP sample (urlencode, ksort, hash_hmac sha512) and the national platform's
MaXacThuc (sha256 of the '|'-joined fields, secret last) compute them.
Run it to print the values the C test asserts."""
import hashlib
import hmac
import urllib.parse


def php_urlencode(s):
    # PHP urlencode: keeps A-Za-z0-9 -_. ; space -> '+'; Python's quote_plus also keeps '~'.
    return urllib.parse.quote_plus(s, safe="").replace("~", "%7E")


def vnpay_canonical(fields):
    keys = sorted(k for k, v in fields.items()
                  if k.startswith("vnp_") and v and k not in ("vnp_SecureHash", "vnp_SecureHashType"))
    return "&".join(php_urlencode(k) + "=" + php_urlencode(fields[k]) for k in keys)


SECRET = "SECRETKEY0123456789ABCDEFGHIJKLM"
PAY = {
    "vnp_Version": "2.1.0", "vnp_Command": "pay", "vnp_TmnCode": "DEMOV210",
    "vnp_Amount": "15000000", "vnp_CurrCode": "VND", "vnp_TxnRef": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    "vnp_OrderInfo": "Lệ phí hồ sơ 000.00.01.H01-261203-0001 & phí ~ a+b=c/d?",
    "vnp_OrderType": "other", "vnp_Locale": "vn",
    "vnp_ReturnUrl": "https://dichvucong.example.vn/api/v1/payments/return/vnpay",
    "vnp_IpAddr": "203.0.113.7", "vnp_CreateDate": "20261203140000", "vnp_ExpireDate": "20261203141500",
}

if __name__ == "__main__":
    c = vnpay_canonical(PAY)
    print("canonical:", c)
    print("hash:", hmac.new(SECRET.encode(), c.encode(), hashlib.sha512).hexdigest())
    querydr = "|".join(["REQ1", "2.1.0", "querydr", "DEMOV210", "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
                        "20261203140000", "20261203143000", "127.0.0.1",
                        "Truy van giao dich 0f1e2d3c4b5a69788796a5b4c3d2e1f0"])
    print("querydr:", hmac.new(SECRET.encode(), querydr.encode(), hashlib.sha512).hexdigest())
    # the platform takes VND as is (no x100: payment-contract.md)
    init = "|".join(["INIT", "1.0.6", "NPP01", "0f1e2d3c4b5a69788796a5b4c3d2e1f0", "150000", "PAY",
                     "", "", "vi", "VND", "", "Lệ phí hồ sơ | số 1", "20261203140000", "203.0.113.7",
                     "npp-secret"])
    print("npp init:", hashlib.sha256(init.encode()).hexdigest())
    # QUERY_REFUND: where one refund (MaHoanTien) stands
    query_refund = "|".join(["QUERY_REFUND", "1.0.6", "NPP01", "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
                             "RF1", "20261203143000", "npp-secret"])
    print("npp query_refund:", hashlib.sha256(query_refund.encode()).hexdigest())
    # its answer: a refund done (TrangThaiHoan 1), checked like REFUND's
    answer = "|".join(["QUERY_REFUND", "00", "NPP01", "0f1e2d3c4b5a69788796a5b4c3d2e1f0", "RF1",
                       "4000", "1", "npp-secret"])
    print("npp query_refund answer:", hashlib.sha256(answer.encode()).hexdigest())
