/*
 * motcua - form-schema validator (a documented subset of JSON Schema 2020-12).
 *
 * See common/include/motcua/form_schema.h for the API contract and docs/form-schema.md
 * for the subset understood by both this code and the frontends.
 *
 * Design notes:
 *   - No global or static mutable state: all tables are const, and every call carries its
 *     own context (error array, running count, JSON Pointer buffer). Regular expressions
 *     are compiled per use into a local regex_t and freed before returning.
 *   - Recursion only follows subschemas ("properties", "items") and is bounded by
 *     MC_FORM_SCHEMA_MAX_DEPTH; value comparison ("const", "enum") is bounded the same
 *     way. Hostile documents therefore cannot exhaust the stack.
 *   - Character classification is done by hand (not <ctype.h>) so that results do not
 *     depend on the process locale.
 */
#include "motcua/form_schema.h"

#include <locale.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Upper bound on the number of elements a pattern may expand to once bounded
   repetitions such as {1,50} are unrolled (which is what glibc's regcomp does).
   Stops patterns like "((a{0,255}){0,255}){0,255}" from costing seconds and gigabytes
   of memory on every validation. */
#define PATTERN_MAX_COST 5000UL

/* ------------------------------------------------------------------------------------ */
/* Small character helpers (locale independent).                                         */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_alnum(char c)
{
    return is_digit(c) || is_alpha(c);
}

/* Number of Unicode code points in a UTF-8 byte string: every byte that is not a
   continuation byte (10xxxxxx) starts a code point. jansson guarantees valid UTF-8. */
static size_t utf8_length(const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        if (((unsigned char)s[i] & 0xC0U) != 0x80U)
            count++;
    }
    return count;
}

/* ------------------------------------------------------------------------------------ */
/* JSON Pointer buffer.                                                                  */

typedef struct {
    char *buf;
    size_t len;
    size_t cap;
} pointer_buf;

static bool ptr_reserve(pointer_buf *p, size_t extra)
{
    if (extra > SIZE_MAX - p->len - 1)
        return false;
    size_t need = p->len + extra + 1;
    if (need <= p->cap)
        return true;
    size_t cap = p->cap ? p->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *nb = realloc(p->buf, cap);
    if (!nb)
        return false;
    p->buf = nb;
    p->cap = cap;
    return true;
}

static void ptr_init(pointer_buf *p, const char *base)
{
    p->buf = NULL;
    p->len = 0;
    p->cap = 0;
    size_t n = base ? strlen(base) : 0;
    if (ptr_reserve(p, n)) {
        if (n)
            memcpy(p->buf, base, n);
        p->len = n;
        p->buf[n] = '\0';
    }
}

static void ptr_free(pointer_buf *p)
{
    free(p->buf);
    p->buf = NULL;
    p->len = p->cap = 0;
}

/* Appends "/<key>" with RFC 6901 escaping ('~' -> "~0", '/' -> "~1"). Returns the
   previous length, to be handed to ptr_pop(). On allocation failure nothing is appended
   (the reported pointer then names the parent, which is the best we can do). */
static size_t ptr_push_key(pointer_buf *p, const char *key, size_t klen)
{
    size_t old = p->len;
    size_t extra = 1;
    for (size_t i = 0; i < klen; i++)
        extra += (key[i] == '~' || key[i] == '/') ? 2 : 1;
    if (!ptr_reserve(p, extra))
        return old;
    char *o = p->buf + p->len;
    *o++ = '/';
    for (size_t i = 0; i < klen; i++) {
        if (key[i] == '~') {
            *o++ = '~';
            *o++ = '0';
        } else if (key[i] == '/') {
            *o++ = '~';
            *o++ = '1';
        } else {
            *o++ = key[i];
        }
    }
    p->len += extra;
    p->buf[p->len] = '\0';
    return old;
}

static size_t ptr_push_cstr(pointer_buf *p, const char *key)
{
    return ptr_push_key(p, key, strlen(key));
}

static size_t ptr_push_index(pointer_buf *p, size_t index)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%zu", index);
    return ptr_push_key(p, tmp, n > 0 ? (size_t)n : 0);
}

static void ptr_pop(pointer_buf *p, size_t old)
{
    if (p->buf && old <= p->len) {
        p->len = old;
        p->buf[old] = '\0';
    }
}

/* ------------------------------------------------------------------------------------ */
/* Error reporting.                                                                      */

typedef struct {
    json_t *errors; /* caller-owned array, may be NULL */
    size_t count;
    pointer_buf ptr;
} ctx_t;

static void ctx_init(ctx_t *c, const char *base_pointer, json_t *errors)
{
    c->errors = json_is_array(errors) ? errors : NULL;
    c->count = 0;
    ptr_init(&c->ptr, base_pointer);
}

__attribute__((format(printf, 3, 4))) static void report(ctx_t *c, const char *code,
                                                         const char *fmt, ...)
{
    c->count++;
    if (!c->errors)
        return;

    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        msg[0] = '\0';

    json_t *ptr = c->ptr.buf ? json_stringn(c->ptr.buf, c->ptr.len) : NULL;
    if (!ptr) /* invalid UTF-8 in a key or out of memory: degrade, never drop */
        ptr = json_string("");
    json_t *err = json_object();
    if (!err) {
        json_decref(ptr);
        return;
    }
    json_object_set_new(err, "pointer", ptr);
    json_object_set_new(err, "code", json_string(code));
    json_object_set_new(err, "message", json_string(msg));
    json_array_append_new(c->errors, err);
}

/* Reports at "<current pointer>/<keyword>" (used by the schema check). */
__attribute__((format(printf, 4, 5))) static void report_at(ctx_t *c, const char *keyword,
                                                            const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        msg[0] = '\0';
    size_t old = ptr_push_cstr(&c->ptr, keyword);
    report(c, code, "%s", msg);
    ptr_pop(&c->ptr, old);
}

/* ------------------------------------------------------------------------------------ */
/* Numbers and equality.                                                                 */

/* Exact comparison of an integer with a double (no precision loss for large values). */
static int cmp_int_real(json_int_t i, double d)
{
    if (d >= 0x1p63)
        return -1;
    if (d < -0x1p63)
        return 1;
    json_int_t t = (json_int_t)d; /* truncation toward zero; fits, see range checks */
    if (i < t)
        return -1;
    if (i > t)
        return 1;
    double frac = d - (double)t; /* exact */
    return frac > 0 ? -1 : (frac < 0 ? 1 : 0);
}

/* Compares two JSON numbers mathematically (1 == 1.0). jansson never stores NaN/inf. */
static int num_cmp(const json_t *a, const json_t *b)
{
    if (json_is_integer(a) && json_is_integer(b)) {
        json_int_t x = json_integer_value(a), y = json_integer_value(b);
        return x < y ? -1 : (x > y ? 1 : 0);
    }
    if (json_is_real(a) && json_is_real(b)) {
        double x = json_real_value(a), y = json_real_value(b);
        return x < y ? -1 : (x > y ? 1 : 0);
    }
    if (json_is_integer(a))
        return cmp_int_real(json_integer_value(a), json_real_value(b));
    return -cmp_int_real(json_integer_value(b), json_real_value(a));
}

/* JSON Schema equality: numbers compare mathematically, objects ignore key order.
   `remaining` bounds the container nesting walked; deeper values compare unequal. */
static bool values_equal(const json_t *a, const json_t *b, unsigned remaining)
{
    if (json_is_number(a) && json_is_number(b))
        return num_cmp(a, b) == 0;
    if (json_typeof(a) != json_typeof(b))
        return false;
    switch (json_typeof(a)) {
    case JSON_STRING:
        return json_string_length(a) == json_string_length(b) &&
               memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
    case JSON_TRUE:
    case JSON_FALSE:
    case JSON_NULL:
        return true;
    case JSON_ARRAY: {
        if (remaining == 0 || json_array_size(a) != json_array_size(b))
            return false;
        for (size_t i = 0; i < json_array_size(a); i++) {
            if (!values_equal(json_array_get(a, i), json_array_get(b, i), remaining - 1))
                return false;
        }
        return true;
    }
    case JSON_OBJECT: {
        if (remaining == 0 || json_object_size(a) != json_object_size(b))
            return false;
        json_t *oa = (json_t *)a;
        for (void *it = json_object_iter(oa); it; it = json_object_iter_next(oa, it)) {
            const json_t *other =
                json_object_getn(b, json_object_iter_key(it), json_object_iter_key_len(it));
            if (!other || !values_equal(json_object_iter_value(it), other, remaining - 1))
                return false;
        }
        return true;
    }
    default:
        return false;
    }
}

/* True if `v` nests arrays/objects more than `remaining` levels deep. */
static bool value_too_deep(const json_t *v, unsigned remaining)
{
    if (json_is_array(v)) {
        if (remaining == 0)
            return true;
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (value_too_deep(json_array_get(v, i), remaining - 1))
                return true;
        }
    } else if (json_is_object(v)) {
        if (remaining == 0)
            return true;
        json_t *o = (json_t *)v;
        for (void *it = json_object_iter(o); it; it = json_object_iter_next(o, it)) {
            if (value_too_deep(json_object_iter_value(it), remaining - 1))
                return true;
        }
    }
    return false;
}

/* Formats a schema number for a message, locale independently ("100", "0.5"). */
static void format_number(const json_t *n, char *out, size_t outlen)
{
    if (json_is_integer(n)) {
        snprintf(out, outlen, "%" JSON_INTEGER_FORMAT, json_integer_value(n));
        return;
    }
    double d = json_real_value(n);
    if (d > -1e15 && d < 1e15 && cmp_int_real((json_int_t)d, d) == 0) {
        snprintf(out, outlen, "%" JSON_INTEGER_FORMAT, (json_int_t)d);
        return;
    }
    char *s = json_dumps(n, JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
    snprintf(out, outlen, "%s", s ? s : "the limit");
    free(s);
}

/* ------------------------------------------------------------------------------------ */
/* Types.                                                                                */

static const char *const k_types[] = {"string", "number", "integer", "boolean",
                                      "object", "array",  "null"};

static bool known_type(const json_t *t)
{
    if (!json_is_string(t))
        return false;
    for (size_t i = 0; i < sizeof k_types / sizeof k_types[0]; i++) {
        if (strcmp(json_string_value(t), k_types[i]) == 0 &&
            json_string_length(t) == strlen(k_types[i]))
            return true;
    }
    return false;
}

/* "integer" only matches numbers that jansson parsed as integers: 3 is an integer, 3.0
   is not (documented in docs/form-schema.md). */
static bool type_matches(const char *t, const json_t *v)
{
    if (strcmp(t, "string") == 0)
        return json_is_string(v);
    if (strcmp(t, "number") == 0)
        return json_is_number(v);
    if (strcmp(t, "integer") == 0)
        return json_is_integer(v);
    if (strcmp(t, "boolean") == 0)
        return json_is_boolean(v);
    if (strcmp(t, "object") == 0)
        return json_is_object(v);
    if (strcmp(t, "array") == 0)
        return json_is_array(v);
    if (strcmp(t, "null") == 0)
        return json_is_null(v);
    return false;
}

static const char *type_phrase(const char *t)
{
    if (strcmp(t, "string") == 0)
        return "a string";
    if (strcmp(t, "number") == 0)
        return "a number";
    if (strcmp(t, "integer") == 0)
        return "an integer";
    if (strcmp(t, "boolean") == 0)
        return "true or false";
    if (strcmp(t, "object") == 0)
        return "an object";
    if (strcmp(t, "array") == 0)
        return "an array";
    return "null";
}

/* ------------------------------------------------------------------------------------ */
/* Formats.                                                                              */

static bool format_date(const char *s, size_t n)
{
    if (n != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (size_t i = 0; i < 10; i++) {
        if (i != 4 && i != 7 && !is_digit(s[i]))
            return false;
    }
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0');
    int d = (s[8] - '0') * 10 + (s[9] - '0');
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1)
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    int dim = days[m - 1] + ((m == 2 && leap) ? 1 : 0);
    return d <= dim;
}

static bool email_local_char(char c)
{
    return is_alnum(c) || (c != '\0' && strchr("!#$%&'*+/=?^_`{|}~-", c) != NULL);
}

/* Pragmatic address check (not full RFC 5322): ASCII only, exactly one '@', dot-atom
   local part of 1..64 characters, and a domain of at least two DNS labels (1..63
   letters/digits/hyphens, no leading or trailing hyphen) whose last label is at least
   two characters and not all digits. Total length at most 254. */
static bool format_email(const char *s, size_t n)
{
    if (n < 3 || n > 254)
        return false;
    const char *at = memchr(s, '@', n);
    if (!at || memchr(at + 1, '@', n - (size_t)(at - s) - 1))
        return false;
    size_t llen = (size_t)(at - s);
    if (llen < 1 || llen > 64 || s[0] == '.' || s[llen - 1] == '.')
        return false;
    for (size_t i = 0; i < llen; i++) {
        if (s[i] == '.') {
            if (s[i + 1] == '.')
                return false;
        } else if (!email_local_char(s[i])) {
            return false;
        }
    }
    const char *d = at + 1;
    size_t dlen = n - llen - 1;
    if (dlen < 1 || dlen > 253)
        return false;
    size_t labels = 0, start = 0;
    for (size_t i = 0; i <= dlen; i++) {
        if (i < dlen && d[i] != '.') {
            if (!is_alnum(d[i]) && d[i] != '-')
                return false;
            continue;
        }
        size_t l = i - start;
        if (l < 1 || l > 63 || d[start] == '-' || d[i - 1] == '-')
            return false;
        labels++;
        if (i == dlen) { /* top-level label */
            if (l < 2)
                return false;
            bool all_digits = true;
            for (size_t k = start; k < i; k++)
                all_digits = all_digits && is_digit(d[k]);
            if (all_digits)
                return false;
        }
        start = i + 1;
    }
    return labels >= 2;
}

/* Province/city codes used as the first three digits of the 12-digit personal
   identification number (số định danh cá nhân / CCCD), per Circular 07/2016/TT-BCA (as
   amended by Circular 59/2021/TT-BCA); they follow the General Statistics Office codes
   of the 63 provinces and centrally-run cities. Numbers keep their code for life, so
   the list stays valid for numbers issued before the 2025 province mergers. */
static const unsigned short k_vn_province_codes[63] = {
    1,  /* Hà Nội */
    2,  /* Hà Giang */
    4,  /* Cao Bằng */
    6,  /* Bắc Kạn */
    8,  /* Tuyên Quang */
    10, /* Lào Cai */
    11, /* Điện Biên */
    12, /* Lai Châu */
    14, /* Sơn La */
    15, /* Yên Bái */
    17, /* Hòa Bình */
    19, /* Thái Nguyên */
    20, /* Lạng Sơn */
    22, /* Quảng Ninh */
    24, /* Bắc Giang */
    25, /* Phú Thọ */
    26, /* Vĩnh Phúc */
    27, /* Bắc Ninh */
    30, /* Hải Dương */
    31, /* Hải Phòng */
    33, /* Hưng Yên */
    34, /* Thái Bình */
    35, /* Hà Nam */
    36, /* Nam Định */
    37, /* Ninh Bình */
    38, /* Thanh Hóa */
    40, /* Nghệ An */
    42, /* Hà Tĩnh */
    44, /* Quảng Bình */
    45, /* Quảng Trị */
    46, /* Thừa Thiên Huế */
    48, /* Đà Nẵng */
    49, /* Quảng Nam */
    51, /* Quảng Ngãi */
    52, /* Bình Định */
    54, /* Phú Yên */
    56, /* Khánh Hòa */
    58, /* Ninh Thuận */
    60, /* Bình Thuận */
    62, /* Kon Tum */
    64, /* Gia Lai */
    66, /* Đắk Lắk */
    67, /* Đắk Nông */
    68, /* Lâm Đồng */
    70, /* Bình Phước */
    72, /* Tây Ninh */
    74, /* Bình Dương */
    75, /* Đồng Nai */
    77, /* Bà Rịa - Vũng Tàu */
    79, /* Hồ Chí Minh */
    80, /* Long An */
    82, /* Tiền Giang */
    83, /* Bến Tre */
    84, /* Trà Vinh */
    86, /* Vĩnh Long */
    87, /* Đồng Tháp */
    89, /* An Giang */
    91, /* Kiên Giang */
    92, /* Cần Thơ */
    93, /* Hậu Giang */
    94, /* Sóc Trăng */
    95, /* Bạc Liêu */
    96, /* Cà Mau */
};

/* Structure of a 12-digit personal identification number: PPP G YY NNNNNN where PPP is
   a province code from the list above, G encodes century and sex (any digit), YY the
   last two digits of the birth year and NNNNNN a serial number. */
static bool format_vn_personal_id(const char *s, size_t n)
{
    if (n != 12)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return false;
    }
    unsigned code = (unsigned)((s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0'));
    for (size_t i = 0; i < sizeof k_vn_province_codes / sizeof k_vn_province_codes[0]; i++) {
        if (k_vn_province_codes[i] == code)
            return true;
    }
    return false;
}

/* Vietnamese phone number. Digit groups may be separated by single spaces, dots or
   dashes. Accepted after removing separators:
     0 [35789] + 8 digits          mobile, 10 digits (03x, 05x, 07x, 08x, 09x)
     0 2 + 8..9 digits             landline, 10-11 digits (area codes 02x)
     +84 / 84 followed by the same numbers without their leading 0. */
static bool format_vn_phone(const char *s, size_t n)
{
    char digits[16];
    size_t nd = 0;
    size_t i = 0;
    bool plus = false;
    if (n > 0 && s[0] == '+') {
        plus = true;
        i = 1;
    }
    if (i >= n || !is_digit(s[i]))
        return false;
    for (; i < n; i++) {
        char c = s[i];
        if (is_digit(c)) {
            if (nd == sizeof digits)
                return false;
            digits[nd++] = c;
        } else if (c == ' ' || c == '.' || c == '-') {
            /* a separator must sit between two digits */
            if (i + 1 >= n || !is_digit(s[i + 1]))
                return false;
        } else {
            return false;
        }
    }
    const char *nsn; /* national significant number (without trunk prefix 0) */
    size_t nlen;
    if (nd >= 2 && digits[0] == '8' && digits[1] == '4') {
        nsn = digits + 2;
        nlen = nd - 2;
    } else if (!plus && nd >= 1 && digits[0] == '0') {
        nsn = digits + 1;
        nlen = nd - 1;
    } else {
        return false;
    }
    if (nlen == 0)
        return false;
    switch (nsn[0]) {
    case '3':
    case '5':
    case '7':
    case '8':
    case '9':
        return nlen == 9;
    case '2':
        return nlen == 9 || nlen == 10;
    default:
        return false;
    }
}

typedef struct {
    const char *name;
    bool (*fn)(const char *s, size_t n);
    const char *message;
} format_def;

static const format_def k_formats[] = {
    {"date", format_date, "must be a valid date in the form YYYY-MM-DD"},
    {"email", format_email, "must be a valid email address"},
    {"vn-personal-id", format_vn_personal_id,
     "must be a valid 12-digit personal identification number"},
    {"vn-phone", format_vn_phone, "must be a valid Vietnamese phone number"},
};

static const format_def *find_format(const json_t *f)
{
    if (!json_is_string(f))
        return NULL;
    for (size_t i = 0; i < sizeof k_formats / sizeof k_formats[0]; i++) {
        if (json_string_length(f) == strlen(k_formats[i].name) &&
            strcmp(json_string_value(f), k_formats[i].name) == 0)
            return &k_formats[i];
    }
    return NULL;
}

/* ------------------------------------------------------------------------------------ */
/* Patterns (POSIX ERE).                                                                 */

/* Rough size of the pattern once bounded repetitions are unrolled; saturates at
   PATTERN_MAX_COST + 1. Only needs to be an upper-bound-ish estimate. */
static bool pattern_too_complex(const char *p, size_t n)
{
    unsigned long sum[MC_FORM_SCHEMA_MAX_PATTERN_LEN + 2];
    unsigned long last[MC_FORM_SCHEMA_MAX_PATTERN_LEN + 2];
    const unsigned long cap = PATTERN_MAX_COST + 1;
    size_t lvl = 0;
    bool prev_quant = false;
    sum[0] = last[0] = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned long atom = 1;
        char ch = p[i];
        /* A quantifier on a quantifier ("a++", "(x){0,9}*") is undefined in
           POSIX ERE; glibc accepts it and its compile time explodes. */
        bool was_quant = prev_quant;
        prev_quant = false;
        if (ch == '\\') {
            i++;
        } else if (ch == '[') {
            size_t j = i + 1;
            if (j < n && p[j] == '^')
                j++;
            if (j < n && p[j] == ']')
                j++;
            while (j < n && p[j] != ']') {
                if (p[j] == '[' && j + 1 < n &&
                    (p[j + 1] == ':' || p[j + 1] == '.' || p[j + 1] == '=')) {
                    char close = p[j + 1];
                    j += 2;
                    while (j + 1 < n && !(p[j] == close && p[j + 1] == ']'))
                        j++;
                    j += 2;
                    continue;
                }
                j++;
            }
            i = j;
        } else if (ch == '(') {
            if (lvl + 1 < sizeof sum / sizeof sum[0]) {
                lvl++;
                sum[lvl] = last[lvl] = 0;
            }
            continue;
        } else if (ch == ')' && lvl > 0) {
            atom = sum[lvl] ? sum[lvl] : 1;
            lvl--;
        } else if (ch == '*' || ch == '+' || ch == '?') {
            if (was_quant)
                return true;
            prev_quant = true;
            if (ch == '+') {
                /* glibc compiles x+ as xx*: the atom is doubled */
                unsigned long prev = last[lvl];
                sum[lvl] = sum[lvl] + prev;
                last[lvl] = prev * 2;
                if (sum[lvl] > cap)
                    return true;
            }
            continue;
        } else if (ch == '|') {
            last[lvl] = 0;
            continue;
        } else if (ch == '{') {
            size_t j = i + 1;
            unsigned long lo = 0, hi = 0;
            bool has_lo = false, comma = false, has_hi = false;
            while (j < n && is_digit(p[j])) {
                lo = lo < 100000 ? lo * 10 + (unsigned long)(p[j] - '0') : lo;
                has_lo = true;
                j++;
            }
            if (j < n && p[j] == ',') {
                comma = true;
                j++;
                while (j < n && is_digit(p[j])) {
                    hi = hi < 100000 ? hi * 10 + (unsigned long)(p[j] - '0') : hi;
                    has_hi = true;
                    j++;
                }
            }
            /* glibc also reads "{,n}" as "{0,n}" */
            if ((has_lo || (comma && has_hi)) && j < n && p[j] == '}') {
                if (was_quant)
                    return true;
                prev_quant = true;
                unsigned long factor = (comma ? (has_hi ? hi : lo + 1) : lo);
                factor = (factor < lo ? lo : factor) + 1;
                unsigned long prev = last[lvl];
                unsigned long grown = prev * factor;
                sum[lvl] = sum[lvl] - prev + grown;
                last[lvl] = grown;
                if (sum[lvl] > cap)
                    return true;
                i = j;
                continue;
            }
            /* not a bound: a literal '{' */
        }
        sum[lvl] += atom;
        last[lvl] = atom;
        if (sum[lvl] > cap)
            return true;
    }
    return sum[0] > PATTERN_MAX_COST;
}

/* Patterns are compiled and executed under the "C.UTF-8" locale, installed for the
   calling thread only (uselocale) and restored afterwards. This makes matching
   independent of whatever locale the process runs in, and character based: "." and
   [[:alpha:]] match whole code points such as "ễ", as an ECMA-262 regex with the "u" flag
   would. If C.UTF-8 is unavailable the calling thread's current locale is used. */
typedef struct {
    locale_t loc;
    locale_t prev;
} pattern_locale;

static void pattern_locale_enter(pattern_locale *pl)
{
    pl->loc = newlocale(LC_CTYPE_MASK | LC_COLLATE_MASK, "C.UTF-8", (locale_t)0);
    pl->prev = pl->loc ? uselocale(pl->loc) : (locale_t)0;
}

static void pattern_locale_leave(pattern_locale *pl)
{
    if (pl->loc) {
        uselocale(pl->prev);
        freelocale(pl->loc);
    }
}

/* Validates a pattern string and compiles it into `re` (which the caller must regfree()
   on success). On failure writes a human-readable reason into `why` and returns false. */
static bool pattern_compile(const json_t *pat, regex_t *re, char *why, size_t whylen)
{
    if (!json_is_string(pat)) {
        snprintf(why, whylen, "pattern must be a string");
        return false;
    }
    const char *p = json_string_value(pat);
    size_t n = json_string_length(pat);
    if (n > MC_FORM_SCHEMA_MAX_PATTERN_LEN) {
        snprintf(why, whylen, "pattern must be at most %d bytes long",
                 MC_FORM_SCHEMA_MAX_PATTERN_LEN);
        return false;
    }
    if (strlen(p) != n) {
        snprintf(why, whylen, "pattern must not contain NUL characters");
        return false;
    }
    /* A backslash may only escape punctuation. "\\1".."\\9" are back-references (not
       ERE, and exponential to match); "\\d", "\\w", "\\s", "\\b" are ECMA-262 habits that
       glibc would silently read as a literal letter or as a GNU extension. */
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\\') {
            if (i + 1 < n && p[i + 1] >= '1' && p[i + 1] <= '9') {
                snprintf(why, whylen, "pattern must not use back-references (\\1 to \\9)");
                return false;
            }
            if (i + 1 < n && is_alnum(p[i + 1])) {
                snprintf(why, whylen,
                         "pattern escape \\%c is not supported: POSIX ERE has no \\d, \\w, "
                         "\\s or \\b; use [0-9], [[:alnum:]_] or [[:space:]]",
                         p[i + 1]);
                return false;
            }
            i++;
        }
    }
    if (pattern_too_complex(p, n)) {
        snprintf(why, whylen, "pattern is too complex (bounded repetitions too large)");
        return false;
    }
    int rc = regcomp(re, p, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char buf[200];
        regerror(rc, re, buf, sizeof buf);
        snprintf(why, whylen, "pattern is not a valid POSIX extended regular expression: %s", buf);
        return false;
    }
    return true;
}

/* ------------------------------------------------------------------------------------ */
/* Schema check.                                                                         */

enum keyword {
    KW_TYPE,
    KW_PROPERTIES,
    KW_REQUIRED,
    KW_ADDITIONAL_PROPERTIES,
    KW_ENUM,
    KW_CONST,
    KW_MIN_LENGTH,
    KW_MAX_LENGTH,
    KW_PATTERN,
    KW_MINIMUM,
    KW_MAXIMUM,
    KW_EXCLUSIVE_MINIMUM,
    KW_EXCLUSIVE_MAXIMUM,
    KW_ITEMS,
    KW_MIN_ITEMS,
    KW_MAX_ITEMS,
    KW_FORMAT,
    KW_TITLE,
    KW_DESCRIPTION,
    KW_DEFAULT,
    KW_EXAMPLES,
    KW_COMMENT,
    KW_COUNT
};

static const char *const k_keywords[KW_COUNT] = {
    [KW_TYPE] = "type",
    [KW_PROPERTIES] = "properties",
    [KW_REQUIRED] = "required",
    [KW_ADDITIONAL_PROPERTIES] = "additionalProperties",
    [KW_ENUM] = "enum",
    [KW_CONST] = "const",
    [KW_MIN_LENGTH] = "minLength",
    [KW_MAX_LENGTH] = "maxLength",
    [KW_PATTERN] = "pattern",
    [KW_MINIMUM] = "minimum",
    [KW_MAXIMUM] = "maximum",
    [KW_EXCLUSIVE_MINIMUM] = "exclusiveMinimum",
    [KW_EXCLUSIVE_MAXIMUM] = "exclusiveMaximum",
    [KW_ITEMS] = "items",
    [KW_MIN_ITEMS] = "minItems",
    [KW_MAX_ITEMS] = "maxItems",
    [KW_FORMAT] = "format",
    [KW_TITLE] = "title",
    [KW_DESCRIPTION] = "description",
    [KW_DEFAULT] = "default",
    [KW_EXAMPLES] = "examples",
    [KW_COMMENT] = "$comment",
};

static int find_keyword(const char *key, size_t klen)
{
    for (int i = 0; i < KW_COUNT; i++) {
        if (strlen(k_keywords[i]) == klen && memcmp(k_keywords[i], key, klen) == 0)
            return i;
    }
    return -1;
}

static void check_schema(ctx_t *c, const json_t *s, unsigned depth);

static void check_value_depth(ctx_t *c, const json_t *v, const char *what)
{
    if (value_too_deep(v, MC_FORM_SCHEMA_MAX_DEPTH))
        report(c, MC_FORM_SCHEMA_E_TOO_DEEP, "%s value is nested more than %d levels deep", what,
               MC_FORM_SCHEMA_MAX_DEPTH);
}

/* enum and examples hold a list of values: each element gets the full depth budget. */
static void check_array_values_depth(ctx_t *c, const json_t *arr, const char *what)
{
    for (size_t i = 0; i < json_array_size(arr); i++) {
        size_t old = ptr_push_index(&c->ptr, i);
        check_value_depth(c, json_array_get(arr, i), what);
        ptr_pop(&c->ptr, old);
    }
}

static void check_type(ctx_t *c, const json_t *v)
{
    if (json_is_string(v)) {
        if (!known_type(v))
            report(c, MC_FORM_SCHEMA_E_INVALID_SCHEMA,
                   "type must be one of string, number, integer, boolean, object, array, "
                   "null");
        return;
    }
    if (!json_is_array(v) || json_array_size(v) == 0) {
        report(c, MC_FORM_SCHEMA_E_INVALID_SCHEMA,
               "type must be a type name or a non-empty array of type names");
        return;
    }
    for (size_t i = 0; i < json_array_size(v); i++) {
        const json_t *t = json_array_get(v, i);
        size_t old = ptr_push_index(&c->ptr, i);
        if (!known_type(t)) {
            report(c, MC_FORM_SCHEMA_E_INVALID_SCHEMA,
                   "type must be one of string, number, integer, boolean, object, array, "
                   "null");
        } else {
            for (size_t j = 0; j < i; j++) {
                if (values_equal(json_array_get(v, j), t, 0)) {
                    report(c, MC_FORM_SCHEMA_E_INVALID_SCHEMA, "type names must be unique");
                    break;
                }
            }
        }
        ptr_pop(&c->ptr, old);
    }
}

static void check_required(ctx_t *c, const json_t *s, const json_t *v)
{
    if (!json_is_array(v)) {
        report(c, MC_FORM_SCHEMA_E_INVALID_SCHEMA, "required must be an array of property names");
        return;
    }
    const json_t *props = json_object_get(s, "properties");
    bool closed = json_is_false(json_object_get(s, "additionalProperties"));
    for (size_t i = 0; i < json_array_size(v); i++) {
        const json_t *name = json_array_get(v, i);
        size_t old = ptr_push_index(&c->ptr, i);
        if (!json_is_string(name)) {
            report(c, MC_FORM_SCHEMA_E_INVALID_SCHEMA, "required entries must be strings");
        } else {
            bool dup = false;
            for (size_t j = 0; j < i && !dup; j++)
                dup = values_equal(json_array_get(v, j), name, 0);
            if (dup)
                report(c, MC_FORM_SCHEMA_E_INVALID_SCHEMA,
                       "required property names must be unique");
            else if (closed &&
                     (!json_is_object(props) ||
                      !json_object_getn(props, json_string_value(name), json_string_length(name))))
                report(c, MC_FORM_SCHEMA_E_INVALID_SCHEMA,
                       "required property is not declared in properties although "
                       "additionalProperties is false, so no data could ever be valid");
        }
        ptr_pop(&c->ptr, old);
    }
}

static bool check_size_keyword(ctx_t *c, const json_t *v, const char *name)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        report(c, MC_FORM_SCHEMA_E_INVALID_SCHEMA, "%s must be a non-negative integer", name);
        return false;
    }
    return true;
}

/* Cross-keyword consistency: bounds that no value could satisfy. */
static void check_bounds(ctx_t *c, const json_t *s)
{
    static const struct {
        const char *lo, *hi;
        bool strict; /* true: lo must be < hi; false: lo <= hi */
    } pairs[] = {
        {"minLength", "maxLength", false},     {"minItems", "maxItems", false},
        {"minimum", "maximum", false},         {"exclusiveMinimum", "exclusiveMaximum", true},
        {"minimum", "exclusiveMaximum", true}, {"exclusiveMinimum", "maximum", true},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        const json_t *lo = json_object_get(s, pairs[i].lo);
        const json_t *hi = json_object_get(s, pairs[i].hi);
        if (!json_is_number(lo) || !json_is_number(hi))
            continue;
        int cmp = num_cmp(lo, hi);
        if (cmp > 0 || (pairs[i].strict && cmp == 0))
            report_at(c, pairs[i].lo, MC_FORM_SCHEMA_E_INVALID_SCHEMA,
                      "%s is not compatible with %s: no value could be valid", pairs[i].lo,
                      pairs[i].hi);
    }
}

static void check_keyword(ctx_t *c, const json_t *s, int kw, const json_t *v, unsigned depth)
{
    const char *name = k_keywords[kw];
    switch ((enum keyword)kw) {
    case KW_TYPE:
        check_type(c, v);
        break;
    case KW_PROPERTIES: {
        if (!json_is_object(v)) {
            report(c, MC_FORM_SCHEMA_E_INVALID_SCHEMA, "properties must be an object");
            break;
        }
        json_t *o = (json_t *)v;
        for (void *it = json_object_iter(o); it; it = json_object_iter_next(o, it)) {
            size_t old =
                ptr_push_key(&c->ptr, json_object_iter_key(it), json_object_iter_key_len(it));
            check_schema(c, json_object_iter_value(it), depth + 1);
            ptr_pop(&c->ptr, old);
        }
        break;
    }
    case KW_REQUIRED:
        check_required(c, s, v);
        break;
    case KW_ADDITIONAL_PROPERTIES:
        if (!json_is_boolean(v))
            report(c, MC_FORM_SCHEMA_E_INVALID_SCHEMA,
                   "additionalProperties must be true or false (schemas are not supported)");
        break;
    case KW_ENUM:
        if (!json_is_array(v) || json_array_size(v) == 0)
            report(c, MC_FORM_SCHEMA_E_INVALID_SCHEMA, "enum must be a non-empty array");
        else
            check_array_values_depth(c, v, name);
        break;
    case KW_CONST:
    case KW_DEFAULT:
        check_value_depth(c, v, name);
        break;
    case KW_EXAMPLES:
        if (!json_is_array(v))
            report(c, MC_FORM_SCHEMA_E_INVALID_SCHEMA, "examples must be an array");
        else
            check_array_values_depth(c, v, name);
        break;
    case KW_MIN_LENGTH:
    case KW_MAX_LENGTH:
    case KW_MIN_ITEMS:
    case KW_MAX_ITEMS:
        check_size_keyword(c, v, name);
        break;
    case KW_MINIMUM:
    case KW_MAXIMUM:
    case KW_EXCLUSIVE_MINIMUM:
    case KW_EXCLUSIVE_MAXIMUM:
        if (!json_is_number(v))
            report(c, MC_FORM_SCHEMA_E_INVALID_SCHEMA, "%s must be a number", name);
        break;
    case KW_PATTERN: {
        regex_t re;
        char why[400];
        pattern_locale pl;
        pattern_locale_enter(&pl);
        bool ok = pattern_compile(v, &re, why, sizeof why);
        if (ok)
            regfree(&re);
        pattern_locale_leave(&pl);
        if (!ok)
            report(c, MC_FORM_SCHEMA_E_INVALID_SCHEMA, "%s", why);
        break;
    }
    case KW_ITEMS:
        check_schema(c, v, depth + 1);
        break;
    case KW_FORMAT:
        if (!find_format(v))
            report(c, MC_FORM_SCHEMA_E_INVALID_SCHEMA,
                   "format must be one of date, email, vn-personal-id, vn-phone");
        break;
    case KW_TITLE:
    case KW_DESCRIPTION:
    case KW_COMMENT:
        if (!json_is_string(v))
            report(c, MC_FORM_SCHEMA_E_INVALID_SCHEMA, "%s must be a string", name);
        break;
    case KW_COUNT:
        break;
    }
}

static void check_schema(ctx_t *c, const json_t *s, unsigned depth)
{
    if (depth > MC_FORM_SCHEMA_MAX_DEPTH) {
        report(c, MC_FORM_SCHEMA_E_TOO_DEEP, "schema is nested more than %d levels deep",
               MC_FORM_SCHEMA_MAX_DEPTH);
        return;
    }
    if (!json_is_object(s)) {
        report(c, MC_FORM_SCHEMA_E_INVALID_SCHEMA, "schema must be a JSON object");
        return;
    }
    json_t *o = (json_t *)s;
    for (void *it = json_object_iter(o); it; it = json_object_iter_next(o, it)) {
        const char *key = json_object_iter_key(it);
        size_t klen = json_object_iter_key_len(it);
        size_t old = ptr_push_key(&c->ptr, key, klen);
        int kw = find_keyword(key, klen);
        if (kw < 0)
            report(c, MC_FORM_SCHEMA_E_UNSUPPORTED_KEYWORD,
                   "keyword is not supported by the form-schema subset");
        else
            check_keyword(c, s, kw, json_object_iter_value(it), depth);
        ptr_pop(&c->ptr, old);
    }
    check_bounds(c, s);
}

size_t mc_form_schema_check(const json_t *schema, const char *base_pointer, json_t *errors)
{
    ctx_t c;
    ctx_init(&c, base_pointer, errors);
    check_schema(&c, schema, 0);
    ptr_free(&c.ptr);
    return c.count;
}

/* ------------------------------------------------------------------------------------ */
/* Validation.                                                                           */

static void malformed(ctx_t *c, const char *keyword)
{
    report(c, MC_FORM_SCHEMA_E_INVALID_SCHEMA,
           "cannot be validated: the schema keyword %s is malformed", keyword);
}

/* Reads a non-negative integer keyword. Returns 0 if absent, 1 if present and valid,
   -1 if malformed (already reported). */
static int get_size(ctx_t *c, const json_t *s, const char *name, json_int_t *out)
{
    const json_t *v = json_object_get(s, name);
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        malformed(c, name);
        return -1;
    }
    *out = json_integer_value(v);
    return 1;
}

static const char *plural(json_int_t n)
{
    return n == 1 ? "" : "s";
}

static void validate_type(ctx_t *c, const json_t *t, const json_t *inst)
{
    if (json_is_string(t)) {
        if (!known_type(t)) {
            malformed(c, "type");
        } else if (!type_matches(json_string_value(t), inst)) {
            report(c, MC_FORM_SCHEMA_E_TYPE, "must be %s", type_phrase(json_string_value(t)));
        }
        return;
    }
    if (!json_is_array(t) || json_array_size(t) == 0) {
        malformed(c, "type");
        return;
    }
    char list[256];
    size_t used = 0;
    list[0] = '\0';
    for (size_t i = 0; i < json_array_size(t); i++) {
        const json_t *e = json_array_get(t, i);
        if (!known_type(e)) {
            malformed(c, "type");
            return;
        }
        if (type_matches(json_string_value(e), inst))
            return;
        if (used < sizeof list) {
            int n = snprintf(list + used, sizeof list - used, "%s%s", i ? " or " : "",
                             type_phrase(json_string_value(e)));
            if (n > 0)
                used += (size_t)n;
        }
    }
    report(c, MC_FORM_SCHEMA_E_TYPE, "must be %s", list);
}

static void validate_string(ctx_t *c, const json_t *s, const json_t *inst)
{
    const char *str = json_string_value(inst);
    size_t bytes = json_string_length(inst);
    json_int_t lim;

    int has_min = get_size(c, s, "minLength", &lim);
    size_t chars = utf8_length(str, bytes);
    if (has_min > 0 && (json_int_t)chars < lim)
        report(c, MC_FORM_SCHEMA_E_MIN_LENGTH,
               "must be at least %" JSON_INTEGER_FORMAT " character%s", lim, plural(lim));
    if (get_size(c, s, "maxLength", &lim) > 0 && (json_int_t)chars > lim)
        report(c, MC_FORM_SCHEMA_E_MAX_LENGTH,
               "must be at most %" JSON_INTEGER_FORMAT " character%s", lim, plural(lim));

    const json_t *pat = json_object_get(s, "pattern");
    if (pat) {
        regex_t re;
        char why[400];
        bool compiled, matched = false;
        pattern_locale pl;
        pattern_locale_enter(&pl);
        compiled = pattern_compile(pat, &re, why, sizeof why);
        if (compiled) {
            /* too long to match, or an embedded NUL regexec can't see: no match */
            if (bytes <= MC_FORM_SCHEMA_MAX_PATTERN_INPUT && strlen(str) == bytes)
                matched = regexec(&re, str, 0, NULL, 0) == 0;
            regfree(&re);
        }
        pattern_locale_leave(&pl);
        if (!compiled)
            malformed(c, "pattern");
        else if (!matched)
            report(c, MC_FORM_SCHEMA_E_PATTERN, "does not match the required pattern");
    }

    const json_t *fmt = json_object_get(s, "format");
    if (fmt) {
        const format_def *f = find_format(fmt);
        if (!f)
            malformed(c, "format");
        else if (!f->fn(str, bytes))
            report(c, MC_FORM_SCHEMA_E_FORMAT, "%s", f->message);
    }
}

static void validate_number(ctx_t *c, const json_t *s, const json_t *inst)
{
    static const struct {
        const char *keyword;
        const char *code;
        const char *phrase;
        int kind; /* 0: inst < limit is bad, 1: inst > limit, 2: inst <= limit, 3: >= */
    } bounds[] = {
        {"minimum", MC_FORM_SCHEMA_E_MINIMUM, "must be at least", 0},
        {"maximum", MC_FORM_SCHEMA_E_MAXIMUM, "must be at most", 1},
        {"exclusiveMinimum", MC_FORM_SCHEMA_E_EXCLUSIVE_MINIMUM, "must be greater than", 2},
        {"exclusiveMaximum", MC_FORM_SCHEMA_E_EXCLUSIVE_MAXIMUM, "must be less than", 3},
    };
    for (size_t i = 0; i < sizeof bounds / sizeof bounds[0]; i++) {
        const json_t *lim = json_object_get(s, bounds[i].keyword);
        if (!lim)
            continue;
        if (!json_is_number(lim)) {
            malformed(c, bounds[i].keyword);
            continue;
        }
        int cmp = num_cmp(inst, lim);
        bool bad;
        switch (bounds[i].kind) {
        case 0:
            bad = cmp < 0;
            break;
        case 1:
            bad = cmp > 0;
            break;
        case 2:
            bad = cmp <= 0;
            break;
        default:
            bad = cmp >= 0;
            break;
        }
        if (bad) {
            char num[64];
            format_number(lim, num, sizeof num);
            report(c, bounds[i].code, "%s %s", bounds[i].phrase, num);
        }
    }
}

static void validate_node(ctx_t *c, const json_t *s, const json_t *inst, unsigned depth);

static void validate_object(ctx_t *c, const json_t *s, const json_t *inst, unsigned depth)
{
    const json_t *req = json_object_get(s, "required");
    if (req) {
        if (!json_is_array(req)) {
            malformed(c, "required");
        } else {
            for (size_t i = 0; i < json_array_size(req); i++) {
                const json_t *name = json_array_get(req, i);
                if (!json_is_string(name)) {
                    malformed(c, "required");
                    break;
                }
                const char *k = json_string_value(name);
                size_t klen = json_string_length(name);
                if (!json_object_getn(inst, k, klen)) {
                    size_t old = ptr_push_key(&c->ptr, k, klen);
                    report(c, MC_FORM_SCHEMA_E_REQUIRED, "is required");
                    ptr_pop(&c->ptr, old);
                }
            }
        }
    }

    const json_t *props = json_object_get(s, "properties");
    if (props && !json_is_object(props)) {
        malformed(c, "properties");
        props = NULL;
    }
    if (props) {
        json_t *o = (json_t *)props;
        for (void *it = json_object_iter(o); it; it = json_object_iter_next(o, it)) {
            const char *k = json_object_iter_key(it);
            size_t klen = json_object_iter_key_len(it);
            const json_t *child = json_object_getn(inst, k, klen);
            if (!child)
                continue;
            size_t old = ptr_push_key(&c->ptr, k, klen);
            validate_node(c, json_object_iter_value(it), child, depth + 1);
            ptr_pop(&c->ptr, old);
        }
    }

    const json_t *addl = json_object_get(s, "additionalProperties");
    if (addl && !json_is_boolean(addl)) {
        malformed(c, "additionalProperties");
    } else if (json_is_false(addl)) {
        json_t *o = (json_t *)inst;
        for (void *it = json_object_iter(o); it; it = json_object_iter_next(o, it)) {
            const char *k = json_object_iter_key(it);
            size_t klen = json_object_iter_key_len(it);
            if (props && json_object_getn(props, k, klen))
                continue;
            size_t old = ptr_push_key(&c->ptr, k, klen);
            report(c, MC_FORM_SCHEMA_E_ADDITIONAL_PROPERTY, "is not an allowed field");
            ptr_pop(&c->ptr, old);
        }
    }
}

static void validate_array(ctx_t *c, const json_t *s, const json_t *inst, unsigned depth)
{
    json_int_t lim;
    json_int_t size = (json_int_t)json_array_size(inst);
    if (get_size(c, s, "minItems", &lim) > 0 && size < lim)
        report(c, MC_FORM_SCHEMA_E_MIN_ITEMS, "must have at least %" JSON_INTEGER_FORMAT " item%s",
               lim, plural(lim));
    if (get_size(c, s, "maxItems", &lim) > 0 && size > lim)
        report(c, MC_FORM_SCHEMA_E_MAX_ITEMS, "must have at most %" JSON_INTEGER_FORMAT " item%s",
               lim, plural(lim));

    const json_t *items = json_object_get(s, "items");
    if (!items)
        return;
    for (size_t i = 0; i < json_array_size(inst); i++) {
        size_t old = ptr_push_index(&c->ptr, i);
        validate_node(c, items, json_array_get(inst, i), depth + 1);
        ptr_pop(&c->ptr, old);
    }
}

static void validate_node(ctx_t *c, const json_t *s, const json_t *inst, unsigned depth)
{
    if (depth > MC_FORM_SCHEMA_MAX_DEPTH) {
        report(c, MC_FORM_SCHEMA_E_TOO_DEEP, "is nested more than %d levels deep",
               MC_FORM_SCHEMA_MAX_DEPTH);
        return;
    }
    if (!json_is_object(s)) {
        report(c, MC_FORM_SCHEMA_E_INVALID_SCHEMA,
               "cannot be validated: the schema is not a JSON object");
        return;
    }

    const json_t *t = json_object_get(s, "type");
    if (t)
        validate_type(c, t, inst);

    const json_t *cst = json_object_get(s, "const");
    if (cst && !values_equal(cst, inst, MC_FORM_SCHEMA_MAX_DEPTH))
        report(c, MC_FORM_SCHEMA_E_CONST, "must be equal to the required value");

    const json_t *en = json_object_get(s, "enum");
    if (en) {
        if (!json_is_array(en)) {
            malformed(c, "enum");
        } else {
            bool found = false;
            for (size_t i = 0; i < json_array_size(en) && !found; i++)
                found = values_equal(json_array_get(en, i), inst, MC_FORM_SCHEMA_MAX_DEPTH);
            if (!found)
                report(c, MC_FORM_SCHEMA_E_ENUM, "must be one of the allowed values");
        }
    }

    if (json_is_string(inst))
        validate_string(c, s, inst);
    else if (json_is_number(inst))
        validate_number(c, s, inst);
    else if (json_is_object(inst))
        validate_object(c, s, inst, depth);
    else if (json_is_array(inst))
        validate_array(c, s, inst, depth);
}

size_t mc_form_schema_validate(const json_t *schema, const json_t *instance,
                               const char *base_pointer, json_t *errors)
{
    ctx_t c;
    ctx_init(&c, base_pointer, errors);
    if (!instance)
        report(&c, MC_FORM_SCHEMA_E_TYPE, "is missing");
    else
        validate_node(&c, schema, instance, 0);
    ptr_free(&c.ptr);
    return c.count;
}
