/*
 * motcua - form-schema "format" values: date, email, vn-personal-id, vn-phone
 * (docs/form-schema.md). Pure functions of the string, locale independent.
 */
#include <stdbool.h>
#include <string.h>

#include "form_schema_internal.h"

static bool format_date(const char *s, size_t n)
{
    if (n != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (size_t i = 0; i < 10; i++) {
        if (i != 4 && i != 7 && !fs_is_digit(s[i]))
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
    return fs_is_alnum(c) || (c != '\0' && strchr("!#$%&'*+/=?^_`{|}~-", c) != NULL);
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
            if (!fs_is_alnum(d[i]) && d[i] != '-')
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
                all_digits = all_digits && fs_is_digit(d[k]);
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
        if (!fs_is_digit(s[i]))
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
    if (i >= n || !fs_is_digit(s[i]))
        return false;
    for (; i < n; i++) {
        char c = s[i];
        if (fs_is_digit(c)) {
            if (nd == sizeof digits)
                return false;
            digits[nd++] = c;
        } else if (c == ' ' || c == '.' || c == '-') {
            /* a separator must sit between two digits */
            if (i + 1 >= n || !fs_is_digit(s[i + 1]))
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

static const fs_format k_formats[] = {
    {"date", format_date, "must be a valid date in the form YYYY-MM-DD"},
    {"email", format_email, "must be a valid email address"},
    {"vn-personal-id", format_vn_personal_id,
     "must be a valid 12-digit personal identification number"},
    {"vn-phone", format_vn_phone, "must be a valid Vietnamese phone number"},
};

const fs_format *fs_find_format(const json_t *f)
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
