/*
 * VNPay 2.1.0 (DOMAIN.md §6, payment-contract.md): the pay URL, the IPN and
 * return URL check, querydr and refund. Pure functions (provider.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "motcua/url.h"
#include "provider.h"

#define VNPAY_VERSION "2.1.0"

char *vnpay_urlencode(const char *s)
{
    static const char digits[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *out = malloc(3 * n + 1), *at = out;
    if (out == NULL)
        return NULL;
    for (const unsigned char *c = (const unsigned char *)s; *c != '\0'; c++) {
        if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
            *c == '-' || *c == '_' || *c == '.') {
            *at++ = (char)*c;
        } else if (*c == ' ') {
            *at++ = '+';
        } else {
            *at++ = '%';
            *at++ = digits[*c >> 4];
            *at++ = digits[*c & 15];
        }
    }
    *at = '\0';
    return out;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *vnpay_canonical(const json_t *fields)
{
    size_t n = json_object_size(fields), count = 0;
    const char **names = calloc(n + 1, sizeof *names);
    if (names == NULL)
        return NULL;
    const char *name;
    const json_t *value;
    json_object_foreach((json_t *)fields, name, value)
    {
        if (strncmp(name, "vnp_", 4) != 0 || strcmp(name, "vnp_SecureHash") == 0 ||
            strcmp(name, "vnp_SecureHashType") == 0 || !json_is_string(value) ||
            json_string_length(value) == 0)
            continue;
        names[count++] = name;
    }
    qsort(names, count, sizeof *names, compare_names);
    size_t cap = 1, len = 0;
    char *out = malloc(cap);
    bool ok = out != NULL;
    for (size_t i = 0; ok && i < count; i++) {
        char *k = vnpay_urlencode(names[i]);
        char *v = vnpay_urlencode(json_string_value(json_object_get(fields, names[i])));
        size_t need = (k != NULL ? strlen(k) : 0) + (v != NULL ? strlen(v) : 0) + 2;
        char *grown = (k != NULL && v != NULL) ? realloc(out, cap + need) : NULL;
        if (grown == NULL) {
            ok = false;
        } else {
            out = grown;
            cap += need;
            len += (size_t)sprintf(out + len, "%s%s=%s", i > 0 ? "&" : "", k, v);
        }
        free(k);
        free(v);
    }
    free(names);
    if (!ok) {
        free(out);
        return NULL;
    }
    out[len] = '\0';
    return out;
}

json_t *vnpay_pay_fields(const struct pay_merchant *m, const struct pay_order *o)
{
    char amount[24], created[15], expires[15];
    if (!pay_amount_minor(o->amount, amount, sizeof amount))
        return NULL;
    pay_vn_time(o->created_at, created);
    pay_vn_time(o->expires_at, expires);
    return json_pack("{ss ss ss ss ss ss ss ss ss ss ss ss ss}", "vnp_Version", VNPAY_VERSION,
                     "vnp_Command", "pay", "vnp_TmnCode", m->merchant_code, "vnp_Amount", amount,
                     "vnp_CurrCode", "VND", "vnp_TxnRef", o->txn_ref, "vnp_OrderInfo",
                     o->order_info, "vnp_OrderType", "other", "vnp_Locale",
                     o->locale != NULL ? o->locale : "vn", "vnp_ReturnUrl", o->return_url,
                     "vnp_IpAddr", o->ip, "vnp_CreateDate", created, "vnp_ExpireDate", expires);
}

char *vnpay_pay_url(const char *base, const struct pay_merchant *m, const struct pay_order *o)
{
    json_t *fields = vnpay_pay_fields(m, o);
    char *canonical = fields != NULL ? vnpay_canonical(fields) : NULL;
    char *hash = canonical != NULL ? pay_hmac_sha512_hex(m->secret, canonical) : NULL;
    char *url = NULL;
    if (hash != NULL) {
        size_t len = strlen(base) + strlen(canonical) + strlen(hash) + 32;
        url = malloc(len);
        if (url != NULL)
            snprintf(url, len, "%s?%s&vnp_SecureHash=%s", base, canonical, hash);
    }
    free(hash);
    free(canonical);
    json_decref(fields);
    return url;
}

json_t *vnpay_query_decode(const char *query)
{
    json_t *out = json_object();
    const char *p = query;
    while (out != NULL && *p != '\0') {
        const char *end = strchr(p, '&');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        if (len > 0) {
            size_t name_len = eq != NULL ? (size_t)(eq - p) : len;
            size_t value_len = eq != NULL ? len - name_len - 1 : 0;
            char *name = malloc(name_len + 1), *value = malloc(value_len + 1);
            unsigned flags = MC_URL_PLUS_IS_SPACE | MC_URL_REJECT_CONTROL | MC_URL_REQUIRE_UTF8;
            bool ok = name != NULL && value != NULL &&
                      mc_url_decode(p, name_len, name, flags, NULL) == MC_URL_OK &&
                      mc_url_decode(eq != NULL ? eq + 1 : "", value_len, value, flags, NULL) ==
                          MC_URL_OK &&
                      json_object_get(out, name) == NULL &&
                      json_object_set_new(out, name, json_string(value)) == 0;
            free(name);
            free(value);
            if (!ok) {
                json_decref(out);
                return NULL;
            }
        }
        p += len;
        if (*p == '&')
            p++;
    }
    return out;
}

bool vnpay_verify(const json_t *fields, const char *secret)
{
    const char *given = json_string_value(json_object_get(fields, "vnp_SecureHash"));
    if (given == NULL || secret == NULL)
        return false;
    char *canonical = vnpay_canonical(fields);
    char *expected = canonical != NULL ? pay_hmac_sha512_hex(secret, canonical) : NULL;
    bool ok = pay_hex_equal(given, expected);
    free(expected);
    free(canonical);
    return ok;
}

/* Copy a string member into out; false when absent, empty or too long. */
static bool copy_member(const json_t *obj, const char *name, char *out, size_t len, bool required)
{
    const char *v = json_string_value(json_object_get(obj, name));
    if (v == NULL || *v == '\0') {
        out[0] = '\0';
        return !required;
    }
    if (strlen(v) >= len)
        return false;
    memcpy(out, v, strlen(v) + 1);
    return true;
}

bool vnpay_callback_read(const json_t *f, struct pay_result *r)
{
    memset(r, 0, sizeof *r);
    char status[16];
    if (!copy_member(f, "vnp_TmnCode", r->merchant_code, sizeof r->merchant_code, true) ||
        !copy_member(f, "vnp_TxnRef", r->txn_ref, sizeof r->txn_ref, true) ||
        !copy_member(f, "vnp_ResponseCode", r->gateway_code, sizeof r->gateway_code, true) ||
        !copy_member(f, "vnp_TransactionStatus", status, sizeof status, false) ||
        !copy_member(f, "vnp_TransactionNo", r->transaction_no, sizeof r->transaction_no, false) ||
        !copy_member(f, "vnp_BankCode", r->bank_code, sizeof r->bank_code, false) ||
        !copy_member(f, "vnp_PayDate", r->pay_date, sizeof r->pay_date, false))
        return false;
    if (!pay_amount_from_minor(json_string_value(json_object_get(f, "vnp_Amount")), &r->amount))
        r->amount = -1;
    /* Paid only when both codes say so (DOMAIN.md §6). */
    r->outcome = strcmp(r->gateway_code, "00") == 0 && strcmp(status, "00") == 0
                     ? PAY_OUTCOME_PAID
                     : PAY_OUTCOME_FAILED;
    return true;
}

json_t *vnpay_querydr_request(const struct pay_merchant *m, const char *request_id,
                              const char *txn_ref, int64_t transaction_date, int64_t now,
                              const char *ip)
{
    char tdate[15], cdate[15];
    pay_vn_time(transaction_date, tdate);
    pay_vn_time(now, cdate);
    char info[96];
    snprintf(info, sizeof info, "Truy van giao dich %s", txn_ref);
    const char *parts[] = {request_id, VNPAY_VERSION, "querydr", m->merchant_code, txn_ref,
                           tdate,      cdate,         ip,        info};
    char *data = pay_join_pipe(parts, sizeof parts / sizeof parts[0]);
    char *hash = data != NULL ? pay_hmac_sha512_hex(m->secret, data) : NULL;
    json_t *body = hash == NULL ? NULL
                                : json_pack("{ss ss ss ss ss ss ss ss ss ss}", "vnp_RequestId",
                                            request_id, "vnp_Version", VNPAY_VERSION,
                                            "vnp_Command", "querydr", "vnp_TmnCode",
                                            m->merchant_code, "vnp_TxnRef", txn_ref,
                                            "vnp_OrderInfo", info, "vnp_TransactionDate", tdate,
                                            "vnp_CreateDate", cdate, "vnp_IpAddr", ip,
                                            "vnp_SecureHash", hash);
    free(hash);
    free(data);
    return body;
}

static const char *member(const json_t *obj, const char *name)
{
    const json_t *v = json_object_get(obj, name);
    return json_is_string(v) ? json_string_value(v) : "";
}

/* Check a signed merchant-API answer: HMAC-SHA512 of the named members joined with '|'. */
static bool answer_signed(const json_t *answer, const char *secret, const char *const *names,
                          size_t n)
{
    const char *values[16];
    for (size_t i = 0; i < n && i < 16; i++)
        values[i] = member(answer, names[i]);
    char *data = pay_join_pipe(values, n);
    char *expected = data != NULL ? pay_hmac_sha512_hex(secret, data) : NULL;
    bool ok = pay_hex_equal(member(answer, "vnp_SecureHash"), expected);
    free(expected);
    free(data);
    return ok;
}

/* What a querydr answer is signed over, in order (DOMAIN.md §6). */
static const char *const querydr_answer_names[] = {
    "vnp_ResponseId", "vnp_Command",         "vnp_ResponseCode",  "vnp_Message",
    "vnp_TmnCode",    "vnp_TxnRef",          "vnp_Amount",        "vnp_BankCode",
    "vnp_PayDate",    "vnp_TransactionNo",   "vnp_TransactionType", "vnp_TransactionStatus",
    "vnp_OrderInfo",  "vnp_PromotionCode",   "vnp_PromotionAmount"};
#define QUERYDR_ANSWER_NAMES (sizeof querydr_answer_names / sizeof querydr_answer_names[0])

bool vnpay_querydr_read(const json_t *answer, const char *secret, struct pay_result *r)
{
    if (!answer_signed(answer, secret, querydr_answer_names, QUERYDR_ANSWER_NAMES))
        return false;
    memset(r, 0, sizeof *r);
    const char *code = member(answer, "vnp_ResponseCode");
    const char *status = member(answer, "vnp_TransactionStatus");
    snprintf(r->gateway_code, sizeof r->gateway_code, "%s", code);
    snprintf(r->merchant_code, sizeof r->merchant_code, "%s", member(answer, "vnp_TmnCode"));
    snprintf(r->txn_ref, sizeof r->txn_ref, "%s", member(answer, "vnp_TxnRef"));
    snprintf(r->transaction_no, sizeof r->transaction_no, "%s", member(answer, "vnp_TransactionNo"));
    snprintf(r->bank_code, sizeof r->bank_code, "%s", member(answer, "vnp_BankCode"));
    snprintf(r->pay_date, sizeof r->pay_date, "%s", member(answer, "vnp_PayDate"));
    if (!pay_amount_from_minor(member(answer, "vnp_Amount"), &r->amount))
        r->amount = -1;
    if (strcmp(code, "91") == 0)
        r->outcome = PAY_OUTCOME_NOT_FOUND;
    else if (strcmp(code, "00") != 0)
        return false; /* the query itself failed: nothing is known */
    else if (strcmp(status, "00") == 0)
        r->outcome = PAY_OUTCOME_PAID;
    else if (strcmp(status, "01") == 0)
        r->outcome = PAY_OUTCOME_PENDING;
    else
        r->outcome = PAY_OUTCOME_FAILED;
    return true;
}

json_t *vnpay_refund_request(const struct pay_merchant *m, const char *request_id,
                             const char *txn_ref, long long amount, bool full,
                             const char *transaction_no, int64_t transaction_date,
                             const char *create_by, int64_t now, const char *ip)
{
    char minor[24], tdate[15], cdate[15], info[96];
    if (!pay_amount_minor(amount, minor, sizeof minor))
        return NULL;
    pay_vn_time(transaction_date, tdate);
    pay_vn_time(now, cdate);
    snprintf(info, sizeof info, "Hoan tien giao dich %s", txn_ref);
    const char *type = full ? "02" : "03";
    const char *tno = transaction_no != NULL && *transaction_no != '\0' ? transaction_no : "0";
    const char *parts[] = {request_id, VNPAY_VERSION, "refund", m->merchant_code, type, txn_ref,
                           minor,      tno,           tdate,    create_by,        cdate, ip, info};
    char *data = pay_join_pipe(parts, sizeof parts / sizeof parts[0]);
    char *hash = data != NULL ? pay_hmac_sha512_hex(m->secret, data) : NULL;
    json_t *body =
        hash == NULL
            ? NULL
            : json_pack("{ss ss ss ss ss ss ss ss ss ss ss ss ss ss}", "vnp_RequestId", request_id,
                        "vnp_Version", VNPAY_VERSION, "vnp_Command", "refund", "vnp_TmnCode",
                        m->merchant_code, "vnp_TransactionType", type, "vnp_TxnRef", txn_ref,
                        "vnp_Amount", minor, "vnp_TransactionNo", tno, "vnp_TransactionDate",
                        tdate, "vnp_CreateBy", create_by, "vnp_CreateDate", cdate, "vnp_IpAddr",
                        ip, "vnp_OrderInfo", info, "vnp_SecureHash", hash);
    free(hash);
    free(data);
    return body;
}

bool vnpay_refund_read(const json_t *answer, const char *secret, enum pay_refund_outcome *out,
                       char code[16])
{
    static const char *const names[] = {
        "vnp_ResponseId", "vnp_Command",       "vnp_ResponseCode",    "vnp_Message",
        "vnp_TmnCode",    "vnp_TxnRef",        "vnp_Amount",          "vnp_BankCode",
        "vnp_PayDate",    "vnp_TransactionNo", "vnp_TransactionType", "vnp_TransactionStatus",
        "vnp_OrderInfo"};
    if (!answer_signed(answer, secret, names, sizeof names / sizeof names[0]))
        return false;
    const char *response = member(answer, "vnp_ResponseCode");
    const char *status = member(answer, "vnp_TransactionStatus");
    bool accepted = strcmp(response, "00") == 0;
    snprintf(code, 16, "%s", accepted ? status : response);
    if (!accepted || strcmp(status, "09") == 0 || strcmp(status, "02") == 0)
        *out = PAY_REFUND_REFUSED;
    else if (strcmp(status, "05") == 0 || strcmp(status, "06") == 0)
        *out = PAY_REFUND_PENDING;
    else
        *out = PAY_REFUND_DONE;
    return true;
}

bool vnpay_refund_status_read(const json_t *answer, const char *secret, const char *txn_ref,
                              long long refunded_before, enum pay_refund_outcome *out,
                              char code[16])
{
    if (!answer_signed(answer, secret, querydr_answer_names, QUERYDR_ANSWER_NAMES) ||
        strcmp(member(answer, "vnp_TxnRef"), txn_ref) != 0 ||
        strcmp(member(answer, "vnp_ResponseCode"), "00") != 0)
        return false; /* about another order, or the query itself failed: nothing known */
    const char *type = member(answer, "vnp_TransactionType");
    const char *status = member(answer, "vnp_TransactionStatus");
    snprintf(code, 16, "%s", status);
    if (strcmp(status, "05") == 0 || strcmp(status, "06") == 0)
        *out = PAY_REFUND_PENDING; /* the gateway is still refunding */
    else if (strcmp(status, "09") == 0)
        *out = PAY_REFUND_REFUSED;
    else if (strcmp(status, "00") != 0)
        return false;
    else if (strcmp(type, "01") == 0 && refunded_before == 0)
        *out = PAY_REFUND_REFUSED; /* a payment never refunded: the request never took effect */
    else if (strcmp(type, "02") == 0)
        *out = PAY_REFUND_DONE; /* all of it refunded, this refund included */
    else if (strcmp(type, "03") == 0 && refunded_before == 0)
        *out = PAY_REFUND_DONE; /* partly refunded, and this was its only refund */
    else if (strcmp(type, "03") == 0)
        *out = PAY_REFUND_PENDING; /* an earlier refund alone would read the same: undecided */
    else
        return false;
    return true;
}
