"""Signing of the two payment providers, shared by the simulators and the tests.

Python 3 standard library only. Each function builds the provider's canonical string
exactly (so the tests can also check the canonical string itself against hand-written
ones) and the signature over it.

VNPay 2.1.0 (DOMAIN.md §6):
- Payment URL, return URL and IPN: drop vnp_SecureHash and vnp_SecureHashType, drop
  parameters with an empty value (as VNPay's own samples do), sort the rest by name
  (byte order), URL-encode each name and value the way PHP's urlencode() does (UTF-8
  bytes; A-Z a-z 0-9 - _ . kept; space as "+"; everything else %XX with upper-case hex),
  join "name=value" with "&". vnp_SecureHash = hex HMAC-SHA512(secret, that string).
- Merchant API (querydr, refund) and its answers: HMAC-SHA512 over the values joined
  with "|" in the fixed order below (values as sent, not URL-encoded).

National payment platform ("1.0.6", reconstructed, DOMAIN.md §6): MaXacThuc = hex
SHA-256 (not HMAC) of the values joined with "|", the merchant secret appended as the
last value. The field orders below; the ones DOMAIN.md does not give are this
project's reconstruction, written in tests/sim/README.md and the payment contract.
"""

import hashlib
import hmac

# ---------------------------------------------------------------------------
# VNPay

VNPAY_HASH_EXCLUDED = ("vnp_SecureHash", "vnp_SecureHashType")
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")

# Merchant API canonical field orders (without the vnp_ prefix).
VNPAY_QUERYDR_FIELDS = ("RequestId", "Version", "Command", "TmnCode", "TxnRef",
                        "TransactionDate", "CreateDate", "IpAddr", "OrderInfo")
VNPAY_REFUND_FIELDS = ("RequestId", "Version", "Command", "TmnCode", "TransactionType",
                       "TxnRef", "Amount", "TransactionNo", "TransactionDate", "CreateBy",
                       "CreateDate", "IpAddr", "OrderInfo")
VNPAY_QUERYDR_RESPONSE_FIELDS = ("ResponseId", "Command", "ResponseCode", "Message",
                                 "TmnCode", "TxnRef", "Amount", "BankCode", "PayDate",
                                 "TransactionNo", "TransactionType", "TransactionStatus",
                                 "OrderInfo", "PromotionCode", "PromotionAmount")
VNPAY_REFUND_RESPONSE_FIELDS = VNPAY_QUERYDR_RESPONSE_FIELDS[:-2]


def php_urlencode(text):
    """PHP urlencode(): what VNPay's reference code hashes."""
    out = []
    for byte in str(text).encode("utf-8"):
        if byte in _UNRESERVED:
            out.append(chr(byte))
        elif byte == 0x20:
            out.append("+")
        else:
            out.append("%%%02X" % byte)
    return "".join(out)


def vnpay_hash_data(params):
    """The canonical string of a pay request, a return URL or an IPN."""
    items = sorted((k, v) for k, v in params.items()
                   if k not in VNPAY_HASH_EXCLUDED and v is not None and str(v) != "")
    return "&".join(php_urlencode(k) + "=" + php_urlencode(v) for k, v in items)


def hmac_sha512_hex(secret, text):
    return hmac.new(secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha512).hexdigest()


def vnpay_sign(params, secret):
    return hmac_sha512_hex(secret, vnpay_hash_data(params))


def vnpay_query_string(params, secret):
    """params signed: the query string VNPay sends (the hashed string + vnp_SecureHash)."""
    return vnpay_hash_data(params) + "&vnp_SecureHash=" + vnpay_sign(params, secret)


def vnpay_verify(params, secret):
    """True when params (a dict of str) carries a valid vnp_SecureHash."""
    given = params.get("vnp_SecureHash", "")
    return bool(given) and hmac.compare_digest(given.lower(), vnpay_sign(params, secret))


def vnpay_api_data(fields, body, prefix="vnp_"):
    """The "|"-joined canonical string of a merchant API message (missing = empty)."""
    return "|".join(str(body.get(prefix + f, "") if body.get(prefix + f) is not None else "")
                    for f in fields)


def vnpay_api_sign(fields, body, secret):
    return hmac_sha512_hex(secret, vnpay_api_data(fields, body))


def vnpay_api_verify(fields, body, secret):
    given = str(body.get("vnp_SecureHash", ""))
    return bool(given) and hmac.compare_digest(given.lower(),
                                               vnpay_api_sign(fields, body, secret))


# ---------------------------------------------------------------------------
# National payment platform

NPP_INIT_FIELDS = ("LoaiBanTin", "PhienBan", "MaDoiTac", "MaThamChieu", "SoTien",
                   "LoaiHinhThanhToan", "MaKenhThanhToan", "MaThietBi", "NgonNgu",
                   "MaTienTe", "MaNganHang", "ThongTinGiaoDich", "ThoiGianGD", "Ip")
NPP_INIT_RESPONSE_FIELDS = ("LoaiBanTin", "MaLoi", "MaDoiTac", "MaThamChieu", "MaGiaoDich",
                            "UrlThanhToan", "ThoiGianGD")
NPP_CONFIRM_FIELDS = ("LoaiBanTin", "MaLoi", "MaDoiTac", "MaThamChieu", "SoTien", "MaTienTe",
                      "MaGiaoDich", "MaNganHang", "ThoiGianGD", "ThongTinGiaoDich")
NPP_CONFIRM_ANSWER_FIELDS = ("MaLoi", "MaDoiTac", "MaThamChieu", "ThoiGianGD")
NPP_QUERY_FIELDS = ("LoaiBanTin", "PhienBan", "MaDoiTac", "MaThamChieu", "ThoiGianGD")
NPP_QUERY_RESPONSE_FIELDS = ("LoaiBanTin", "MaLoi", "MaDoiTac", "MaThamChieu", "MaGiaoDich",
                             "SoTien", "TrangThaiGD", "ThoiGianGD")
NPP_GET_BILL_RESPONSE_FIELDS = ("LoaiBanTin", "MaLoi", "MaDoiTac", "MaThamChieu",
                                "SoBienLai")
NPP_REFUND_FIELDS = ("LoaiBanTin", "PhienBan", "MaDoiTac", "MaThamChieu", "MaGiaoDich",
                     "MaHoanTien", "SoTienHoan", "ThoiGianGD")
NPP_REFUND_RESPONSE_FIELDS = ("LoaiBanTin", "MaLoi", "MaDoiTac", "MaThamChieu",
                              "MaHoanTien", "SoTienHoan", "TrangThaiHoan")
# The status of one refund by its MaHoanTien (this project's reconstruction: the
# platform's documents give none); answered like REFUND.
NPP_QUERY_REFUND_FIELDS = ("LoaiBanTin", "PhienBan", "MaDoiTac", "MaThamChieu", "MaHoanTien",
                           "ThoiGianGD")

# Request fields checked per LoaiBanTin (GET_BILL signs like QUERY).
NPP_REQUEST_FIELDS = {
    "INIT": NPP_INIT_FIELDS,
    "QUERY": NPP_QUERY_FIELDS,
    "GET_BILL": NPP_QUERY_FIELDS,
    "REFUND": NPP_REFUND_FIELDS,
    "QUERY_REFUND": NPP_QUERY_REFUND_FIELDS,
}


def npp_check_data(fields, body, secret):
    """The "|"-joined canonical string, the secret as the last value."""
    values = ["" if body.get(f) is None else str(body.get(f)) for f in fields]
    return "|".join(values + [secret])


def npp_check(fields, body, secret):
    return hashlib.sha256(npp_check_data(fields, body, secret).encode("utf-8")).hexdigest()


def npp_verify(fields, body, secret):
    given = str(body.get("MaXacThuc", ""))
    return bool(given) and hmac.compare_digest(given.lower(), npp_check(fields, body, secret))
