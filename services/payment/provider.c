/* What both gateways share (provider.h): Vietnam time, amounts, digests. */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "provider.h"

#define VN_OFFSET_SECONDS (7 * 3600)

static const char *const provider_names[PAY_PROVIDER_COUNT] = {"vnpay", "national_platform"};

const char *pay_provider_name(enum pay_provider p)
{
    return (unsigned)p < PAY_PROVIDER_COUNT ? provider_names[p] : "unknown";
}

bool pay_provider_parse(const char *name, enum pay_provider *out)
{
    for (unsigned i = 0; name != NULL && i < PAY_PROVIDER_COUNT; i++)
        if (strcmp(name, provider_names[i]) == 0) {
            *out = (enum pay_provider)i;
            return true;
        }
    return false;
}

void pay_vn_time(int64_t t, char out[15])
{
    time_t local = (time_t)(t + VN_OFFSET_SECONDS);
    struct tm tm;
    gmtime_r(&local, &tm);
    if (strftime(out, 15, "%Y%m%d%H%M%S", &tm) != 14)
        out[0] = '\0';
}

bool pay_vn_time_parse(const char *s, int64_t *out)
{
    if (s == NULL || strlen(s) != 14)
        return false;
    for (size_t i = 0; i < 14; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    int v[6], widths[6] = {4, 2, 2, 2, 2, 2};
    for (int i = 0, at = 0; i < 6; at += widths[i], i++) {
        v[i] = 0;
        for (int k = 0; k < widths[i]; k++)
            v[i] = v[i] * 10 + (s[at + k] - '0');
    }
    struct tm tm = {.tm_year = v[0] - 1900, .tm_mon = v[1] - 1, .tm_mday = v[2],
                    .tm_hour = v[3], .tm_min = v[4], .tm_sec = v[5]};
    time_t t = timegm(&tm);
    struct tm back;
    if (t == (time_t)-1 || gmtime_r(&t, &back) == NULL || back.tm_mday != v[2] ||
        back.tm_mon != v[1] - 1 || back.tm_hour != v[3] || back.tm_min != v[4] || back.tm_sec != v[5])
        return false;
    *out = (int64_t)t - VN_OFFSET_SECONDS;
    return true;
}

bool pay_amount_minor(long long amount, char *out, size_t len)
{
    if (amount < 0 || amount > LLONG_MAX / 100)
        return false;
    int n = snprintf(out, len, "%lld", amount * 100);
    return n > 0 && (size_t)n < len;
}

bool pay_amount_from_minor(const char *text, long long *out)
{
    if (text == NULL || *text == '\0' || strlen(text) > 18)
        return false;
    long long v = 0;
    for (const char *c = text; *c != '\0'; c++) {
        if (!isdigit((unsigned char)*c))
            return false;
        v = v * 10 + (*c - '0');
    }
    if (v <= 0 || v % 100 != 0)
        return false;
    *out = v / 100;
    return true;
}

static char *hex(const unsigned char *digest, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char *out = malloc(2 * n + 1);
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[digest[i] >> 4];
        out[2 * i + 1] = digits[digest[i] & 15];
    }
    out[2 * n] = '\0';
    return out;
}

char *pay_hmac_sha512_hex(const char *key, const char *data)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (HMAC(EVP_sha512(), key, (int)strlen(key), (const unsigned char *)data, strlen(data), digest,
             &n) == NULL)
        return NULL;
    return hex(digest, n);
}

char *pay_sha256_hex(const char *data)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_Digest(data, strlen(data), digest, &n, EVP_sha256(), NULL) != 1)
        return NULL;
    return hex(digest, n);
}

bool pay_hex_equal(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return false;
    size_t n = strlen(a);
    if (n != strlen(b) || n == 0)
        return false;
    unsigned diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned)(tolower((unsigned char)a[i]) ^ tolower((unsigned char)b[i]));
    return diff == 0;
}

char *pay_join_pipe(const char *const *fields, size_t n)
{
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(fields[i] != NULL ? fields[i] : "") + 1;
    char *out = malloc(len), *at = out;
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const char *f = fields[i] != NULL ? fields[i] : "";
        size_t k = strlen(f);
        if (i > 0)
            *at++ = '|';
        memcpy(at, f, k);
        at += k;
    }
    *at = '\0';
    return out;
}

/* Members whose values are secrets or signatures, masked before storage. */
static bool secret_member(const char *name)
{
    static const char *const names[] = {"vnp_SecureHash", "vnp_SecureHashType", "MaXacThuc",
                                        "token", "secret", "Authorization"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i]) == 0)
            return true;
    return false;
}

char *pay_mask_query(const char *query)
{
    size_t n = strlen(query);
    char *out = malloc(4 * n + 1), *at = out; /* "***" may be longer than a short value */
    if (out == NULL)
        return NULL;
    const char *p = query;
    while (*p != '\0') {
        const char *end = strchr(p, '&');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        char name[64] = "";
        if (eq != NULL && (size_t)(eq - p) < sizeof name) {
            memcpy(name, p, (size_t)(eq - p));
            name[eq - p] = '\0';
        }
        if (eq != NULL && secret_member(name)) {
            size_t keep = (size_t)(eq - p) + 1;
            memcpy(at, p, keep);
            at += keep;
            memcpy(at, "***", 3);
            at += 3;
        } else {
            memcpy(at, p, len);
            at += len;
        }
        p += len;
        if (*p == '&')
            *at++ = *p++;
    }
    *at = '\0';
    return out;
}

json_t *pay_mask_json(const json_t *message)
{
    json_t *copy = json_deep_copy(message);
    const char *name;
    json_t *value;
    json_object_foreach(copy, name, value)
    {
        if (secret_member(name))
            json_object_set_new(copy, name, json_string("***"));
    }
    return copy;
}

bool pay_base64_decode(const char *text, size_t n, unsigned char **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (n == 0 || n % 4 != 0 || n > INT_MAX)
        return false;
    unsigned char *buf = malloc(n / 4 * 3 + 1);
    int len = buf != NULL ? EVP_DecodeBlock(buf, (const unsigned char *)text, (int)n) : -1;
    if (len < 0) {
        free(buf);
        return false;
    }
    *out = buf;
    *out_len = (size_t)len - (text[n - 1] == '=') - (text[n - 2] == '='); /* the padding */
    return true;
}

char *pay_base64_encode(const unsigned char *data, size_t n)
{
    if (n > INT_MAX / 2)
        return NULL;
    char *out = malloc((n + 2) / 3 * 4 + 1);
    if (out != NULL)
        EVP_EncodeBlock((unsigned char *)out, data, (int)n);
    return out;
}
