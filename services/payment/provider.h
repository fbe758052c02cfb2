/*
 * The payment gateways (DOMAIN.md §6): what the service sends to a provider
 * and how it checks what comes back. Pure functions, no I/O: the HTTP calls
 * are gateway.c's, so cmocka tests these with vectors computed independently
 * (tests/unit/test_payment_provider.c, tests/unit/payment_vectors.py).
 *
 *   provider_vnpay.c              VNPay 2.1.0: the signed pay URL, the IPN and
 *                                 return URL check, querydr and refund
 *   provider_national_platform.c  the national payment platform ("1.0.6"):
 *                                 INIT, the confirm callback, QUERY, REFUND
 *   provider.c                    what both share: Vietnam time, amounts,
 *                                 hex digests, the provider table
 *
 * Strings returned as `char *` are malloc'd and owned by the caller; json_t
 * results are new references.
 */
#ifndef PAYMENT_PROVIDER_H
#define PAYMENT_PROVIDER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pay_provider {
    PAY_VNPAY = 0,
    PAY_NATIONAL_PLATFORM,
    PAY_PROVIDER_COUNT
};

/* "vnpay" | "national_platform" (the API's names). */
const char *pay_provider_name(enum pay_provider p);
bool pay_provider_parse(const char *name, enum pay_provider *out);

/* A merchant account of an agency with a provider (secrets borrowed). */
struct pay_merchant {
    const char *merchant_code; /* vnp_TmnCode / MaDoiTac */
    const char *secret;        /* vnp_HashSecret / the MaXacThuc secret */
    const char *token;         /* NPP: the bearer token; NULL for VNPay */
};

/* An order to pay: what the create request carries. */
struct pay_order {
    const char *txn_ref;    /* our reference: vnp_TxnRef / MaThamChieu */
    long long amount;       /* VND */
    const char *order_info; /* shown to the payer (Vietnamese allowed) */
    const char *return_url; /* the browser comes back here */
    const char *ip;         /* the payer's address */
    const char *locale;     /* "vn" | "en" */
    int64_t created_at;     /* epoch seconds */
    int64_t expires_at;     /* epoch seconds */
};

/* What a callback (VNPay IPN, NPP confirm) or a status query says. */
enum pay_outcome {
    PAY_OUTCOME_PAID = 0,
    PAY_OUTCOME_FAILED,   /* refused, insufficient funds, cancelled by the payer, ... */
    PAY_OUTCOME_PENDING,  /* not settled yet (query only) */
    PAY_OUTCOME_NOT_FOUND /* the gateway does not know it (query only) */
};
struct pay_result {
    char merchant_code[65];
    char txn_ref[65];
    long long amount;         /* VND (the gateway's × 100 divided back); -1 when not whole */
    enum pay_outcome outcome;
    char gateway_code[16];    /* vnp_ResponseCode / MaLoi / TrangThaiGD, for the record */
    char transaction_no[65];  /* the gateway's own transaction number */
    char bank_code[33];
    char pay_date[15];        /* yyyyMMddHHmmss, Vietnam time, "" when none */
};

/* ---- shared (provider.c) ---- */

/* Epoch seconds as yyyyMMddHHmmss in Vietnam time (UTC+7, no DST). */
void pay_vn_time(int64_t t, char out[15]);
/* The inverse: false when s is not 14 digits of a real time. */
bool pay_vn_time_parse(const char *s, int64_t *out);
/* amount × 100 as decimal text (the gateways' unit); false on overflow or a
   negative amount. */
bool pay_amount_minor(long long amount, char *out, size_t len);
/* Decimal text of amount × 100 back to VND: false unless it is a whole,
   positive number of VND. */
bool pay_amount_from_minor(const char *text, long long *out);
/* Lower-case hex of HMAC-SHA512(key, data) / SHA-256(data). */
char *pay_hmac_sha512_hex(const char *key, const char *data);
char *pay_sha256_hex(const char *data);
/* Standard base64 (with padding, no line breaks) decoded into *out
   (malloc'd); false when it is not that. */
bool pay_base64_decode(const char *text, size_t n, unsigned char **out, size_t *out_len);
/* n bytes as standard base64 (malloc'd, NUL-terminated), NULL when out of memory. */
char *pay_base64_encode(const unsigned char *data, size_t n);
/* Compare two hex digests, case-insensitively, in time independent of where
   they differ. */
bool pay_hex_equal(const char *a, const char *b);
/* The fields joined with '|' (n of them). */
char *pay_join_pipe(const char *const *fields, size_t n);
/* A copy of a raw gateway message with the values of secret-bearing members
   (the signature fields and tokens) replaced by "***", for storage. `raw` is
   a JSON object (members masked in place in the copy) or a query string. */
char *pay_mask_query(const char *query);
json_t *pay_mask_json(const json_t *message);

/* ---- VNPay (provider_vnpay.c) ---- */

/* PHP urlencode of s (A-Za-z0-9 and -_. kept, space '+', else %XX). */
char *vnpay_urlencode(const char *s);
/* The string VNPay signs: see payment-contract.md. `fields` an object of
   string members. */
char *vnpay_canonical(const json_t *fields);
/* The pay URL: base?<canonical>&vnp_SecureHash=<hex>. */
char *vnpay_pay_url(const char *base, const struct pay_merchant *m, const struct pay_order *o);
/* The fields of a pay request (new reference), before signing. */
json_t *vnpay_pay_fields(const struct pay_merchant *m, const struct pay_order *o);
/* A raw query string decoded into an object of strings; NULL when a name
   repeats, an escape is bad or a value is not UTF-8 without controls. */
json_t *vnpay_query_decode(const char *query);
/* Is vnp_SecureHash right for these fields and secret? */
bool vnpay_verify(const json_t *fields, const char *secret);
/* Read an IPN / return URL's fields into *r (no signature check). False when
   a required field is missing or malformed (the answer is then 99, or 97
   when the signature is wrong as well: check the signature first). */
bool vnpay_callback_read(const json_t *fields, struct pay_result *r);
/* The querydr request body (new reference), signed. */
json_t *vnpay_querydr_request(const struct pay_merchant *m, const char *request_id,
                              const char *txn_ref, int64_t transaction_date, int64_t now,
                              const char *ip);
/* Check the querydr answer's signature and read it into *r. False when the
   signature or a field is wrong. */
bool vnpay_querydr_read(const json_t *answer, const char *secret, struct pay_result *r);
/* The refund request body (new reference), signed. `full` selects
   TransactionType 02 (else 03 partial). */
json_t *vnpay_refund_request(const struct pay_merchant *m, const char *request_id,
                             const char *txn_ref, long long amount, bool full,
                             const char *transaction_no, int64_t transaction_date,
                             const char *create_by, int64_t now, const char *ip);
/* What a gateway says of a refund request. */
enum pay_refund_outcome {
    PAY_REFUND_DONE = 0,
    PAY_REFUND_PENDING, /* accepted, not finished (VNPay 05/06, the platform's 3) */
    PAY_REFUND_REFUSED,
};
/* Check the refund answer's signature and read it: false when it cannot be
   trusted. *code gets vnp_ResponseCode (or the status when that is 00). */
bool vnpay_refund_read(const json_t *answer, const char *secret, enum pay_refund_outcome *out,
                       char code[16]);
/* A refund whose answer never came (lost, or "in progress"), settled by a
   querydr of its payment: read the signed answer (about txn_ref) for that
   refund, `refunded_before` being what the payment's earlier refunds that
   succeeded add up to. Status 05/06: still pending; 09: refused; 00 with
   TransactionType 02 (all refunded): done; 03 (partly): done when it was the
   payment's only refund, else undecided (pending: a later query or the
   reconciliation decides); 01 (never refunded): refused. *code gets the
   status. False when the answer cannot be trusted or says nothing. */
bool vnpay_refund_status_read(const json_t *answer, const char *secret, const char *txn_ref,
                              long long refunded_before, enum pay_refund_outcome *out,
                              char code[16]);

/* ---- the national payment platform (provider_national_platform.c) ---- */

/* MaXacThuc: sha256 hex of the fields joined with '|' and the secret last. */
char *npp_check_code(const char *const *fields, size_t n, const char *secret);
/* The INIT request (new reference), with MaXacThuc and the receipt data
   (`receipt`: an object, borrowed, put as ThongTinBienLai). */
json_t *npp_init_request(const struct pay_merchant *m, const struct pay_order *o,
                         const json_t *receipt);
/* The INIT answer's payment page URL (a copy); NULL when it failed, is about
   another order or its MaXacThuc (over LoaiBanTin|MaLoi|MaDoiTac|MaThamChieu|
   MaGiaoDich|UrlThanhToan|ThoiGianGD|secret) is wrong. */
char *npp_init_read(const json_t *answer, const struct pay_merchant *m, const char *txn_ref);
/* Check a confirm callback's MaXacThuc with the secret and read it into *r. */
bool npp_confirm_verify(const json_t *body, const char *secret);
bool npp_confirm_read(const json_t *body, struct pay_result *r);
/* The merchant's answer to a confirm callback (new reference), ThoiGianGD
   echoed from the callback; MaXacThuc "" when secret is NULL. */
json_t *npp_confirm_answer(const char *code, const char *message, const char *merchant_code,
                           const char *txn_ref, const char *callback_time, const char *secret);
/* QUERY (new reference) and its answer, checked over LoaiBanTin|MaLoi|
   MaDoiTac|MaThamChieu|MaGiaoDich|SoTien|TrangThaiGD|ThoiGianGD|secret. */
json_t *npp_query_request(const struct pay_merchant *m, const char *txn_ref, int64_t now);
bool npp_query_read(const json_t *answer, const struct pay_merchant *m, const char *txn_ref,
                    struct pay_result *r);

/* REFUND (new reference): `refund_ref` names this refund (MaHoanTien),
   `transaction_no` the platform's MaGiaoDich of the payment. */
json_t *npp_refund_request(const struct pay_merchant *m, const char *txn_ref,
                           const char *transaction_no, const char *refund_ref, long long amount,
                           const char *reason, int64_t now);
/* The REFUND answer, checked over LoaiBanTin|MaLoi|MaDoiTac|MaThamChieu|
   MaHoanTien|SoTienHoan|TrangThaiHoan|secret; false when it cannot be trusted. */
bool npp_refund_read(const json_t *answer, const struct pay_merchant *m, const char *txn_ref,
                     enum pay_refund_outcome *out, char code[16]);
/* QUERY_REFUND (new reference): where the refund `refund_ref` stands (this
   project's reconstruction: LoaiBanTin|PhienBan|MaDoiTac|MaThamChieu|
   MaHoanTien|ThoiGianGD|secret), answered like REFUND. The answer read:
   TrangThaiHoan 1 done, 3 pending, 4 refused; MaLoi 04 (the platform never
   received it) refused; false when it cannot be trusted or says nothing. */
json_t *npp_refund_query_request(const struct pay_merchant *m, const char *txn_ref,
                                 const char *refund_ref, int64_t now);
bool npp_refund_query_read(const json_t *answer, const struct pay_merchant *m, const char *txn_ref,
                           const char *refund_ref, enum pay_refund_outcome *out, char code[16]);

/* GET_BILL (new reference; fields as QUERY) and its answer: MaLoi 00, this
   merchant and order, MaXacThuc over LoaiBanTin|MaLoi|MaDoiTac|MaThamChieu|
   SoBienLai|secret, and BienLai (base64) a PDF (the check field does not
   cover it). The receipt number into receipt_no, the PDF (malloc'd) into
   *pdf. False when any of that fails. */
json_t *npp_get_bill_request(const struct pay_merchant *m, const char *txn_ref, int64_t now);
bool npp_get_bill_read(const json_t *answer, const struct pay_merchant *m, const char *txn_ref,
                       char receipt_no[65], unsigned char **pdf, size_t *pdf_len);

#endif
