"""Known-answer vectors for tests/sim/signing.py: canonical strings written out by hand
and digests computed by a separate implementation (openssl dgst, recorded below)."""

import hashlib
import hmac

import signing

VNPAY_SECRET = "SECRETKEYVNPAY0123456789ABCDEFGH"
PAY_PARAMS = {
    "vnp_Version": "2.1.0", "vnp_Command": "pay", "vnp_TmnCode": "T0006H56",
    "vnp_Amount": "1000000", "vnp_CurrCode": "VND", "vnp_TxnRef": "P20261203ABC",
    "vnp_OrderInfo": "Lệ phí hồ sơ H56.06-261203-0001 & 50%/a~*",
    "vnp_OrderType": "other", "vnp_Locale": "vn",
    "vnp_ReturnUrl": "https://dvc.example.vn/api/v1/payments/return/vnpay",
    "vnp_IpAddr": "127.0.0.1", "vnp_CreateDate": "20261203143000",
    "vnp_BankCode": "",  # empty: left out of the hash like VNPay's samples do
}
# Sorted by name; PHP urlencode of UTF-8: ệ=E1 BB 87, í=C3 AD, ồ=E1 BB 93, ơ=C6 A1,
# space "+", "~" and "*" encoded too.
PAY_CANONICAL = (
    "vnp_Amount=1000000&vnp_Command=pay&vnp_CreateDate=20261203143000&vnp_CurrCode=VND"
    "&vnp_IpAddr=127.0.0.1&vnp_Locale=vn"
    "&vnp_OrderInfo=L%E1%BB%87+ph%C3%AD+h%E1%BB%93+s%C6%A1+H56.06-261203-0001+%26+50%25%2Fa%7E%2A"
    "&vnp_OrderType=other"
    "&vnp_ReturnUrl=https%3A%2F%2Fdvc.example.vn%2Fapi%2Fv1%2Fpayments%2Freturn%2Fvnpay"
    "&vnp_TmnCode=T0006H56&vnp_TxnRef=P20261203ABC&vnp_Version=2.1.0")
# printf '%s' "$PAY_CANONICAL" | openssl dgst -sha512 -hmac "$VNPAY_SECRET"
PAY_HASH = ("5ddbb3b637a6b9be9dc4030fd4b24180534a9e020976d2fe208610624210b88f"
            "50f1dff810c4b32db1698c31ccb7150a2deb46f2bdc44d0fe6bad816ca33a9ff")


def test_vnpay_pay_canonical_string_and_known_hash():
    assert signing.vnpay_hash_data(PAY_PARAMS) == PAY_CANONICAL
    assert signing.vnpay_sign(PAY_PARAMS, VNPAY_SECRET) == PAY_HASH
    assert hmac.new(VNPAY_SECRET.encode(), PAY_CANONICAL.encode(), hashlib.sha512).hexdigest() == PAY_HASH


def test_vnpay_hash_ignores_secure_hash_fields_and_verifies():
    signed = dict(PAY_PARAMS, vnp_SecureHash=PAY_HASH.upper(), vnp_SecureHashType="HmacSHA512")
    assert signing.vnpay_hash_data(signed) == PAY_CANONICAL
    assert signing.vnpay_verify(signed, VNPAY_SECRET)
    assert not signing.vnpay_verify(signed, VNPAY_SECRET + "x")
    assert not signing.vnpay_verify(dict(signed, vnp_Amount="1000100"), VNPAY_SECRET)
    assert not signing.vnpay_verify(PAY_PARAMS, VNPAY_SECRET)  # no hash at all


def test_vnpay_query_string_is_the_canonical_string_plus_hash():
    assert signing.vnpay_query_string(PAY_PARAMS, VNPAY_SECRET) == PAY_CANONICAL + "&vnp_SecureHash=" + PAY_HASH


def test_php_urlencode_reserved_characters():
    assert signing.php_urlencode("a b+c&d=e/f?g#h~i*j-k_l.m") == \
        "a+b%2Bc%26d%3De%2Ff%3Fg%23h%7Ei%2Aj-k_l.m"
    assert signing.php_urlencode("Đ") == "%C4%90"


def test_vnpay_querydr_known_hash():
    body = {"vnp_RequestId": "REQ1", "vnp_Version": "2.1.0", "vnp_Command": "querydr",
            "vnp_TmnCode": "T0006H56", "vnp_TxnRef": "P20261203ABC",
            "vnp_TransactionDate": "20261203143000", "vnp_CreateDate": "20261203150000",
            "vnp_IpAddr": "127.0.0.1", "vnp_OrderInfo": "Truy van"}
    canonical = "REQ1|2.1.0|querydr|T0006H56|P20261203ABC|20261203143000|20261203150000|127.0.0.1|Truy van"
    assert signing.vnpay_api_data(signing.VNPAY_QUERYDR_FIELDS, body) == canonical
    # openssl dgst -sha512 -hmac
    assert signing.vnpay_api_sign(signing.VNPAY_QUERYDR_FIELDS, body, VNPAY_SECRET) == (
        "d68b1b6a83aeff7a525c6059c354a4d7e77f44f125fe8b44ee70e747360960af"
        "1dfb5eccdfbaee13ff7d5bd0c300fcabd0bad3636f556ddcf69d79de2e7cc01a")


def test_vnpay_refund_canonical_order():
    body = {"vnp_RequestId": "R2", "vnp_Version": "2.1.0", "vnp_Command": "refund",
            "vnp_TmnCode": "T1", "vnp_TransactionType": "03", "vnp_TxnRef": "X",
            "vnp_Amount": "500000", "vnp_TransactionNo": "0", "vnp_TransactionDate": "20261203143000",
            "vnp_CreateBy": "officer", "vnp_CreateDate": "20261203160000",
            "vnp_IpAddr": "10.0.0.1", "vnp_OrderInfo": "Hoàn tiền"}
    canonical = "R2|2.1.0|refund|T1|03|X|500000|0|20261203143000|officer|20261203160000|10.0.0.1|Hoàn tiền"
    assert signing.vnpay_api_data(signing.VNPAY_REFUND_FIELDS, body) == canonical
    assert signing.vnpay_api_sign(signing.VNPAY_REFUND_FIELDS, body, "k") == \
        hmac.new(b"k", canonical.encode(), hashlib.sha512).hexdigest()


def test_vnpay_response_orders():
    answer = {"vnp_ResponseId": "a", "vnp_Command": "querydr", "vnp_ResponseCode": "00",
              "vnp_Message": "m", "vnp_TmnCode": "T", "vnp_TxnRef": "R", "vnp_Amount": "100",
              "vnp_BankCode": "NCB", "vnp_PayDate": "20261203143000", "vnp_TransactionNo": "1",
              "vnp_TransactionType": "01", "vnp_TransactionStatus": "00", "vnp_OrderInfo": "o",
              "vnp_PromotionCode": "", "vnp_PromotionAmount": ""}
    assert signing.vnpay_api_data(signing.VNPAY_QUERYDR_RESPONSE_FIELDS, answer) == \
        "a|querydr|00|m|T|R|100|NCB|20261203143000|1|01|00|o||"
    assert signing.vnpay_api_data(signing.VNPAY_REFUND_RESPONSE_FIELDS, answer) == \
        "a|querydr|00|m|T|R|100|NCB|20261203143000|1|01|00|o"


NPP_SECRET = "npp-secret-ÀĐ"
NPP_INIT = {"LoaiBanTin": "INIT", "PhienBan": "1.0.6", "MaDoiTac": "DVC0006H56",
            "MaThamChieu": "P20261203ABC", "SoTien": 10000, "LoaiHinhThanhToan": "01",
            "MaKenhThanhToan": "WEB", "MaThietBi": "DESKTOP", "NgonNgu": "vi", "MaTienTe": "VND",
            "MaNganHang": "", "ThongTinGiaoDich": "Lệ phí hồ sơ H56.06",
            "ThoiGianGD": "20261203143000", "Ip": "127.0.0.1",
            "ThongTinBienLai": {"not": "hashed"}}


def test_npp_init_canonical_string_and_known_check():
    canonical = ("INIT|1.0.6|DVC0006H56|P20261203ABC|10000|01|WEB|DESKTOP|vi|VND||"
                 "Lệ phí hồ sơ H56.06|20261203143000|127.0.0.1|npp-secret-ÀĐ")
    assert signing.npp_check_data(signing.NPP_INIT_FIELDS, NPP_INIT, NPP_SECRET) == canonical
    # printf '%s' "$canonical" | openssl dgst -sha256  (plain SHA-256, not HMAC)
    expected = "724ccb7951903a87e6f9c905a6c417105eabc44753648a63d97e5251eb8f6842"
    assert signing.npp_check(signing.NPP_INIT_FIELDS, NPP_INIT, NPP_SECRET) == expected
    assert signing.npp_verify(signing.NPP_INIT_FIELDS, dict(NPP_INIT, MaXacThuc=expected.upper()), NPP_SECRET)
    assert not signing.npp_verify(signing.NPP_INIT_FIELDS, dict(NPP_INIT, SoTien=10001, MaXacThuc=expected),
                                  NPP_SECRET)


def test_npp_confirm_query_refund_orders():
    msg = {"LoaiBanTin": "CONFIRM", "MaLoi": "00", "MaDoiTac": "D", "MaThamChieu": "R",
           "SoTien": "10000", "MaTienTe": "VND", "MaGiaoDich": "G", "MaNganHang": "NCB",
           "ThoiGianGD": "20261203143000", "ThongTinGiaoDich": "t", "PhienBan": "1.0.6",
           "MaHoanTien": "H", "SoTienHoan": "500", "TrangThaiGD": "1", "TrangThaiHoan": "1",
           "UrlThanhToan": "u", "SoBienLai": "B"}
    cases = {
        signing.NPP_CONFIRM_FIELDS: "CONFIRM|00|D|R|10000|VND|G|NCB|20261203143000|t|s",
        signing.NPP_CONFIRM_ANSWER_FIELDS: "00|D|R|20261203143000|s",
        signing.NPP_QUERY_FIELDS: "CONFIRM|1.0.6|D|R|20261203143000|s",
        signing.NPP_QUERY_RESPONSE_FIELDS: "CONFIRM|00|D|R|G|10000|1|20261203143000|s",
        signing.NPP_REFUND_FIELDS: "CONFIRM|1.0.6|D|R|G|H|500|20261203143000|s",
        signing.NPP_REFUND_RESPONSE_FIELDS: "CONFIRM|00|D|R|H|500|1|s",
        signing.NPP_INIT_RESPONSE_FIELDS: "CONFIRM|00|D|R|G|u|20261203143000|s",
        signing.NPP_GET_BILL_RESPONSE_FIELDS: "CONFIRM|00|D|R|B|s",
    }
    for fields, canonical in cases.items():
        assert signing.npp_check_data(fields, msg, "s") == canonical
        assert signing.npp_check(fields, msg, "s") == hashlib.sha256(canonical.encode()).hexdigest()
