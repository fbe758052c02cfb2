/*
 * The national payment platform (DOMAIN.md §6, payment-contract.md): JSON
 * messages with Vietnamese field names, checked by MaXacThuc, the SHA-256
 * hex of the '|'-joined fields with the secret last. Pure functions
 * (provider.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provider.h"

#define NPP_VERSION "1.0.6"
#define NPP_CURRENCY "VND"

char *npp_check_code(const char *const *fields, size_t n, const char *secret)
{
    const char *all[24];
    if (n >= sizeof all / sizeof all[0])
        return NULL;
    for (size_t i = 0; i < n; i++)
        all[i] = fields[i];
    all[n] = secret;
    char *data = pay_join_pipe(all, n + 1);
    char *check = data != NULL ? pay_sha256_hex(data) : NULL;
    free(data);
    return check;
}

static const char *member(const json_t *obj, const char *name)
{
    const json_t *v = json_object_get(obj, name);
    return json_is_string(v) ? json_string_value(v) : "";
}

/* A member as the platform hashes it: a string as is, an integer as its
   decimal text (amounts come either way), else "". */
static const char *member_text(const json_t *obj, const char *name, char *buf, size_t len)
{
    const json_t *v = json_object_get(obj, name);
    if (json_is_integer(v)) {
        snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
    }
    return json_is_string(v) ? json_string_value(v) : "";
}

/* A whole, positive amount of VND (the platform's unit) from a member. */
static long long amount_member(const json_t *obj, const char *name)
{
    char buf[32];
    const char *text = member_text(obj, name, buf, sizeof buf);
    long long v = 0;
    if (*text == '\0' || strlen(text) > 15)
        return -1;
    for (const char *c = text; *c != '\0'; c++) {
        if (*c < '0' || *c > '9')
            return -1;
        v = v * 10 + (*c - '0');
    }
    return v > 0 ? v : -1;
}

/* Is MaXacThuc of obj right over these members and the secret? */
static bool check_matches(const json_t *obj, const char *const *names, size_t n, const char *secret)
{
    const char *values[20];
    char numbers[20][32];
    if (n > 20 || secret == NULL)
        return false;
    for (size_t i = 0; i < n; i++)
        values[i] = member_text(obj, names[i], numbers[i], sizeof numbers[i]);
    char *expected = npp_check_code(values, n, secret);
    bool ok = pay_hex_equal(member(obj, "MaXacThuc"), expected);
    free(expected);
    return ok;
}

json_t *npp_init_request(const struct pay_merchant *m, const struct pay_order *o,
                         const json_t *receipt)
{
    char amount[24], when[15];
    if (o->amount <= 0)
        return NULL;
    snprintf(amount, sizeof amount, "%lld", o->amount); /* VND: the platform takes no x100 */
    pay_vn_time(o->created_at, when);
    const char *language = o->locale != NULL && strcmp(o->locale, "en") == 0 ? "en" : "vi";
    const char *fields[] = {"INIT", NPP_VERSION, m->merchant_code, o->txn_ref, amount, "PAY",
                            "",     "",          language,         NPP_CURRENCY, "", o->order_info,
                            when,   o->ip};
    char *check = npp_check_code(fields, sizeof fields / sizeof fields[0], m->secret);
    if (check == NULL)
        return NULL;
    json_t *body = json_pack(
        "{ss ss ss ss ss ss ss ss ss ss ss ss ss ss ss ss sO}", "LoaiBanTin", "INIT", "PhienBan",
        NPP_VERSION, "MaDoiTac", m->merchant_code, "MaThamChieu", o->txn_ref, "SoTien", amount,
        "LoaiHinhThanhToan", "PAY", "MaKenhThanhToan", "", "MaThietBi", "", "NgonNgu", language,
        "MaTienTe", NPP_CURRENCY, "MaNganHang", "", "ThongTinGiaoDich", o->order_info,
        "ThoiGianGD", when, "Ip", o->ip, "UrlTraVe", o->return_url, "MaXacThuc", check,
        "ThongTinBienLai", receipt != NULL ? (json_t *)receipt : json_null());
    free(check);
    return body;
}

char *npp_init_read(const json_t *answer, const struct pay_merchant *m, const char *txn_ref)
{
    static const char *const names[] = {"LoaiBanTin", "MaLoi",        "MaDoiTac",  "MaThamChieu",
                                        "MaGiaoDich", "UrlThanhToan", "ThoiGianGD"};
    if (strcmp(member(answer, "MaLoi"), "00") != 0 ||
        strcmp(member(answer, "MaDoiTac"), m->merchant_code) != 0 ||
        strcmp(member(answer, "MaThamChieu"), txn_ref) != 0 ||
        !check_matches(answer, names, sizeof names / sizeof names[0], m->secret))
        return NULL;
    const char *url = member(answer, "UrlThanhToan");
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        return NULL;
    return strdup(url);
}

static const char *const confirm_fields[] = {"LoaiBanTin", "MaLoi",       "MaDoiTac",
                                             "MaThamChieu", "SoTien",     "MaTienTe",
                                             "MaGiaoDich",  "MaNganHang", "ThoiGianGD",
                                             "ThongTinGiaoDich"};

bool npp_confirm_verify(const json_t *body, const char *secret)
{
    return check_matches(body, confirm_fields, sizeof confirm_fields / sizeof confirm_fields[0],
                         secret);
}

bool npp_confirm_read(const json_t *body, struct pay_result *r)
{
    memset(r, 0, sizeof *r);
    const char *merchant = member(body, "MaDoiTac"), *ref = member(body, "MaThamChieu");
    const char *code = member(body, "MaLoi");
    if (*merchant == '\0' || *ref == '\0' || *code == '\0' || strlen(merchant) >= sizeof r->merchant_code ||
        strlen(ref) >= sizeof r->txn_ref || strlen(code) >= sizeof r->gateway_code)
        return false;
    snprintf(r->merchant_code, sizeof r->merchant_code, "%s", merchant);
    snprintf(r->txn_ref, sizeof r->txn_ref, "%s", ref);
    snprintf(r->gateway_code, sizeof r->gateway_code, "%s", code);
    snprintf(r->transaction_no, sizeof r->transaction_no, "%s", member(body, "MaGiaoDich"));
    snprintf(r->bank_code, sizeof r->bank_code, "%s", member(body, "MaNganHang"));
    const char *when = member(body, "ThoiGianGD");
    if (strlen(when) == 14)
        snprintf(r->pay_date, sizeof r->pay_date, "%s", when);
    r->amount = amount_member(body, "SoTien");
    r->outcome = strcmp(code, "00") == 0 ? PAY_OUTCOME_PAID : PAY_OUTCOME_FAILED;
    return true;
}

json_t *npp_confirm_answer(const char *code, const char *message, const char *merchant_code,
                           const char *txn_ref, const char *callback_time, const char *secret)
{
    const char *when = callback_time != NULL ? callback_time : "";
    const char *fields[] = {code, merchant_code, txn_ref, when};
    /* Without a merchant (unknown sender) there is no secret to sign with. */
    char *check = secret != NULL ? npp_check_code(fields, 4, secret) : NULL;
    json_t *answer = json_pack("{ss ss ss ss ss}", "MaLoi", code, "MoTaLoi", message, "MaDoiTac",
                               merchant_code, "MaThamChieu", txn_ref, "ThoiGianGD", when);
    json_object_set_new(answer, "MaXacThuc", check != NULL ? json_string(check) : json_string(""));
    free(check);
    return answer;
}

/* QUERY and GET_BILL: the same fields, checked the same way. */
static json_t *order_request(const char *kind, const struct pay_merchant *m, const char *txn_ref,
                             int64_t now)
{
    char when[15];
    pay_vn_time(now, when);
    const char *fields[] = {kind, NPP_VERSION, m->merchant_code, txn_ref, when};
    char *check = npp_check_code(fields, 5, m->secret);
    json_t *body = check == NULL ? NULL
                                 : json_pack("{ss ss ss ss ss ss}", "LoaiBanTin", kind,
                                             "PhienBan", NPP_VERSION, "MaDoiTac", m->merchant_code,
                                             "MaThamChieu", txn_ref, "ThoiGianGD", when,
                                             "MaXacThuc", check);
    free(check);
    return body;
}

json_t *npp_query_request(const struct pay_merchant *m, const char *txn_ref, int64_t now)
{
    return order_request("QUERY", m, txn_ref, now);
}

bool npp_query_read(const json_t *answer, const struct pay_merchant *m, const char *txn_ref,
                    struct pay_result *r)
{
    static const char *const names[] = {"LoaiBanTin", "MaLoi",  "MaDoiTac",    "MaThamChieu",
                                        "MaGiaoDich", "SoTien", "TrangThaiGD", "ThoiGianGD"};
    memset(r, 0, sizeof *r);
    if (strcmp(member(answer, "MaDoiTac"), m->merchant_code) != 0 ||
        strcmp(member(answer, "MaThamChieu"), txn_ref) != 0 ||
        !check_matches(answer, names, sizeof names / sizeof names[0], m->secret))
        return false;
    const char *code = member(answer, "MaLoi"), *state = member(answer, "TrangThaiGD");
    snprintf(r->merchant_code, sizeof r->merchant_code, "%s", m->merchant_code);
    snprintf(r->txn_ref, sizeof r->txn_ref, "%s", txn_ref);
    snprintf(r->gateway_code, sizeof r->gateway_code, "%s", state);
    snprintf(r->transaction_no, sizeof r->transaction_no, "%s", member(answer, "MaGiaoDich"));
    r->amount = amount_member(answer, "SoTien");
    if (strcmp(code, "00") != 0)
        r->outcome = PAY_OUTCOME_NOT_FOUND;
    else if (strcmp(state, "1") == 0)
        r->outcome = PAY_OUTCOME_PAID;
    else if (strcmp(state, "4") == 0)
        r->outcome = PAY_OUTCOME_FAILED;
    else
        r->outcome = PAY_OUTCOME_PENDING;
    return true;
}

json_t *npp_refund_request(const struct pay_merchant *m, const char *txn_ref,
                           const char *transaction_no, const char *refund_ref, long long amount,
                           const char *reason, int64_t now)
{
    char when[15], text[24];
    if (amount <= 0)
        return NULL;
    snprintf(text, sizeof text, "%lld", amount);
    pay_vn_time(now, when);
    const char *fields[] = {"REFUND", NPP_VERSION, m->merchant_code, txn_ref, transaction_no,
                            refund_ref, text, when};
    char *check = npp_check_code(fields, sizeof fields / sizeof fields[0], m->secret);
    json_t *body = check == NULL
                       ? NULL
                       : json_pack("{ss ss ss ss ss ss ss ss ss ss}", "LoaiBanTin", "REFUND",
                                   "PhienBan", NPP_VERSION, "MaDoiTac", m->merchant_code,
                                   "MaThamChieu", txn_ref, "MaGiaoDich", transaction_no,
                                   "MaHoanTien", refund_ref, "SoTienHoan", text, "ThoiGianGD",
                                   when, "LyDo", reason, "MaXacThuc", check);
    free(check);
    return body;
}

/* What the answers of REFUND and QUERY_REFUND are checked over, in order. */
static const char *const refund_answer_names[] = {"LoaiBanTin", "MaLoi",      "MaDoiTac",
                                                  "MaThamChieu", "MaHoanTien", "SoTienHoan",
                                                  "TrangThaiHoan"};
#define REFUND_ANSWER_NAMES (sizeof refund_answer_names / sizeof refund_answer_names[0])

/* TrangThaiHoan: 1 done, 4 refused, else (3) still in progress. */
static enum pay_refund_outcome refund_state(const char *state)
{
    if (strcmp(state, "1") == 0)
        return PAY_REFUND_DONE;
    return strcmp(state, "4") == 0 ? PAY_REFUND_REFUSED : PAY_REFUND_PENDING;
}

bool npp_refund_read(const json_t *answer, const struct pay_merchant *m, const char *txn_ref,
                     enum pay_refund_outcome *out, char code[16])
{
    if (strcmp(member(answer, "MaDoiTac"), m->merchant_code) != 0 ||
        strcmp(member(answer, "MaThamChieu"), txn_ref) != 0 ||
        !check_matches(answer, refund_answer_names, REFUND_ANSWER_NAMES, m->secret))
        return false;
    const char *error = member(answer, "MaLoi"), *state = member(answer, "TrangThaiHoan");
    bool accepted = strcmp(error, "00") == 0;
    snprintf(code, 16, "%s", accepted ? state : error);
    if (!accepted)
        *out = PAY_REFUND_REFUSED;
    else
        *out = refund_state(state);
    return true;
}

json_t *npp_refund_query_request(const struct pay_merchant *m, const char *txn_ref,
                                 const char *refund_ref, int64_t now)
{
    char when[15];
    pay_vn_time(now, when);
    const char *fields[] = {"QUERY_REFUND", NPP_VERSION, m->merchant_code, txn_ref, refund_ref, when};
    char *check = npp_check_code(fields, sizeof fields / sizeof fields[0], m->secret);
    json_t *body = check == NULL ? NULL
                                 : json_pack("{ss ss ss ss ss ss ss}", "LoaiBanTin", "QUERY_REFUND",
                                             "PhienBan", NPP_VERSION, "MaDoiTac", m->merchant_code,
                                             "MaThamChieu", txn_ref, "MaHoanTien", refund_ref,
                                             "ThoiGianGD", when, "MaXacThuc", check);
    free(check);
    return body;
}

bool npp_refund_query_read(const json_t *answer, const struct pay_merchant *m, const char *txn_ref,
                           const char *refund_ref, enum pay_refund_outcome *out, char code[16])
{
    if (strcmp(member(answer, "LoaiBanTin"), "QUERY_REFUND") != 0 ||
        strcmp(member(answer, "MaDoiTac"), m->merchant_code) != 0 ||
        strcmp(member(answer, "MaThamChieu"), txn_ref) != 0 ||
        strcmp(member(answer, "MaHoanTien"), refund_ref) != 0 ||
        !check_matches(answer, refund_answer_names, REFUND_ANSWER_NAMES, m->secret))
        return false;
    const char *error = member(answer, "MaLoi");
    if (strcmp(error, "04") == 0) { /* never received: the refund did not happen */
        snprintf(code, 16, "%s", error);
        *out = PAY_REFUND_REFUSED;
        return true;
    }
    const char *state = member(answer, "TrangThaiHoan");
    if (strcmp(error, "00") != 0 ||
        (strcmp(state, "1") != 0 && strcmp(state, "3") != 0 && strcmp(state, "4") != 0))
        return false; /* the query failed: nothing known */
    snprintf(code, 16, "%s", state);
    *out = refund_state(state);
    return true;
}

json_t *npp_get_bill_request(const struct pay_merchant *m, const char *txn_ref, int64_t now)
{
    return order_request("GET_BILL", m, txn_ref, now);
}

bool npp_get_bill_read(const json_t *answer, const struct pay_merchant *m, const char *txn_ref,
                       char receipt_no[65], unsigned char **pdf, size_t *pdf_len)
{
    static const char *const names[] = {"LoaiBanTin", "MaLoi", "MaDoiTac", "MaThamChieu",
                                        "SoBienLai"};
    *pdf = NULL;
    *pdf_len = 0;
    const char *b64 = member(answer, "BienLai"), *number = member(answer, "SoBienLai");
    size_t n = strlen(b64);
    if (strcmp(member(answer, "LoaiBanTin"), "GET_BILL") != 0 ||
        strcmp(member(answer, "MaLoi"), "00") != 0 ||
        strcmp(member(answer, "MaDoiTac"), m->merchant_code) != 0 ||
        strcmp(member(answer, "MaThamChieu"), txn_ref) != 0 || number[0] == '\0' ||
        strlen(number) >= 65 || n == 0 || n % 4 != 0 || n > 16u * 1024 * 1024 ||
        !check_matches(answer, names, sizeof names / sizeof names[0], m->secret))
        return false;
    unsigned char *out;
    size_t size;
    if (!pay_base64_decode(b64, n, &out, &size))
        return false;
    /* The check field does not cover the document: take nothing but a PDF. */
    if (size < 5 || memcmp(out, "%PDF-", 5) != 0) {
        free(out);
        return false;
    }
    snprintf(receipt_no, 65, "%s", number);
    *pdf = out;
    *pdf_len = size;
    return true;
}
