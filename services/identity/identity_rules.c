/*
 * Pure rules of the identity service (identity_rules.h).
 */
#include "identity_rules.h"
#include "motcua/uuid_text.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "motcua/form_schema.h"
#include "motcua/json_spec.h"
#include "motcua/url.h"

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_digit(s[i]))
            return false;
    return n > 0;
}

/* Is `value` valid for common's form-schema string format `format`? The
   province list of personal ids and the phone formats live there once. */
static bool common_format_ok(const char *format, const char *value)
{
    json_t *schema = json_pack("{s:s, s:s}", "type", "string", "format", format);
    json_t *instance = json_string(value);
    json_t *errors = json_array();
    bool ok = schema != NULL && instance != NULL && errors != NULL &&
              mc_form_schema_validate(schema, instance, "", errors) == 0;
    json_decref(schema);
    json_decref(instance);
    json_decref(errors);
    return ok;
}

const char *identity_check_personal_id(const char *pid, const char *dob, const char **code)
{
    *code = IDENTITY_E_FORMAT;
    if (pid == NULL || strlen(pid) != 12 || !all_digits(pid, 12))
        return "must be 12 digits";
    if (!common_format_ok("vn-personal-id", pid)) {
        *code = IDENTITY_E_PROVINCE;
        return "the first three digits are not a province code";
    }
    if (dob == NULL)
        return NULL;
    int year = atoi(dob); /* dob is a valid YYYY-MM-DD */
    int century_digit = pid[3] - '0';
    if (year < 1900 || year > 2399 || century_digit / 2 != year / 100 - 19) {
        *code = IDENTITY_E_CENTURY;
        return "the fourth digit does not match the century of date_of_birth";
    }
    int yy = (pid[4] - '0') * 10 + (pid[5] - '0');
    if (yy != year % 100) {
        *code = IDENTITY_E_BIRTH_YEAR;
        return "digits 5-6 do not match the year of date_of_birth";
    }
    return NULL;
}

bool identity_normalize_phone(const char *in, char *out, size_t out_len)
{
    if (in == NULL || strlen(in) > 32 || !common_format_ok("vn-phone", in))
        return false;
    char digits[24];
    size_t nd = 0;
    for (const char *p = in; *p != '\0'; p++)
        if (is_digit(*p) && nd < sizeof digits - 1)
            digits[nd++] = *p;
    digits[nd] = '\0';
    const char *nsn = digits[0] == '0' ? digits + 1 : digits + 2; /* "0..." or "84..." */
    int n = snprintf(out, out_len, "+84%s", nsn);
    return n > 0 && (size_t)n < out_len;
}

bool identity_is_email(const char *s)
{
    return s != NULL && strlen(s) <= 254 && common_format_ok("email", s);
}

bool identity_is_uuid(const char *s)
{
    return mc_is_uuid(s);
}

bool identity_is_refresh_token(const char *s)
{
    if (s == NULL || strlen(s) != 43)
        return false;
    for (size_t i = 0; i < 43; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-' ||
              c == '_'))
            return false;
    }
    return true;
}

static bool contains(const char *haystack, const char *needle)
{
    return needle != NULL && needle[0] != '\0' && strstr(haystack, needle) != NULL;
}

const char *identity_check_password(const char *password, const char *personal_id,
                                    const char *phone_e164, const char *username,
                                    const char **code)
{
    size_t len = password != NULL ? strlen(password) : 0;
    json_t *probe = password != NULL ? json_stringn(password, len) : NULL; /* checks UTF-8 */
    if (probe == NULL) {
        *code = IDENTITY_E_FORMAT;
        return "must be valid UTF-8 text";
    }
    json_decref(probe);
    size_t cps = mc_utf8_length(password);
    if (cps < IDENTITY_PASSWORD_MIN) {
        *code = IDENTITY_E_TOO_SHORT;
        return "must be at least 10 characters long";
    }
    if (cps > IDENTITY_PASSWORD_MAX) {
        *code = IDENTITY_E_TOO_LONG;
        return "must be at most 128 characters long";
    }
    if (all_digits(password, len)) {
        *code = IDENTITY_E_ALL_DIGITS;
        return "must not consist of digits only";
    }
    if (contains(password, personal_id)) {
        *code = IDENTITY_E_CONTAINS_ID;
        return "must not contain your personal identification number";
    }
    /* "+84912345678": the 9-10 digit national number is in both 0912... and 84912... */
    if (phone_e164 != NULL && strlen(phone_e164) > 3 && contains(password, phone_e164 + 3)) {
        *code = IDENTITY_E_CONTAINS_PHONE;
        return "must not contain your phone number";
    }
    if (contains(password, username)) {
        *code = IDENTITY_E_CONTAINS_USERNAME;
        return "must not contain your username";
    }
    return NULL;
}

bool identity_is_username(const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;
    if (n < 3 || n > 64 || s[0] < 'a' || s[0] > 'z')
        return false;
    for (size_t i = 1; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || is_digit(c) || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

enum identity_login_kind identity_login_kind(const char *username, char *out, size_t out_len)
{
    if (username == NULL || out_len < 72)
        return IDENTITY_LOGIN_INVALID;
    size_t n = strlen(username);
    /* A structurally valid personal id (province code first): 12-digit phone
       numbers such as 842xxxxxxxxx start with no province code. */
    const char *code = NULL;
    if (n == 12 && identity_check_personal_id(username, NULL, &code) == NULL) {
        memcpy(out, username, 13);
        return IDENTITY_LOGIN_PERSONAL_ID;
    }
    if (identity_is_username(username)) {
        memcpy(out, username, n + 1);
        return IDENTITY_LOGIN_USERNAME;
    }
    if (identity_normalize_phone(username, out, out_len))
        return IDENTITY_LOGIN_PHONE;
    return IDENTITY_LOGIN_INVALID;
}

unsigned identity_backoff_seconds(unsigned failures, unsigned threshold, unsigned max_seconds)
{
    if (failures < threshold)
        return 0;
    unsigned shift = failures - threshold;
    if (shift >= 31)
        return max_seconds;
    unsigned long long s = 1ull << shift;
    return s > max_seconds ? max_seconds : (unsigned)s;
}

void identity_mask_personal_id(const char *pid, char *out, size_t out_len)
{
    size_t n = strlen(pid);
    if (out_len == 0)
        return;
    size_t i = 0;
    for (; i < n && i + 1 < out_len; i++)
        out[i] = i + 3 < n ? '*' : pid[i];
    out[i] = '\0';
}

bool identity_is_scope(const char *s, size_t len)
{
    if (len == 0 || len > 64)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '.' ||
              c == '_' || c == ':' || c == '-'))
            return false;
    }
    return true;
}

bool identity_is_client_id(const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '.' ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* Is the scope s[0..len) one of the space-separated `granted`? */
static bool scope_in(const char *s, size_t len, const char *granted)
{
    const char *p = granted;
    while (*p != '\0') {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        if (n == len && memcmp(p, s, len) == 0)
            return true;
        p += n;
    }
    return false;
}

bool identity_scope_subset(const char *requested, const char *granted)
{
    const char *p = requested;
    if (p == NULL || granted == NULL)
        return false;
    if (*p == '\0' || *p == ' ')
        return false;
    while (*p != '\0') {
        size_t n = strcspn(p, " ");
        if (!identity_is_scope(p, n) || !scope_in(p, n, granted))
            return false;
        p += n;
        if (*p == ' ') {
            p++;
            if (*p == '\0' || *p == ' ')
                return false; /* trailing or double space */
        }
    }
    return true;
}

/* How the token endpoint decodes a form key or value (and each half of HTTP
   Basic credentials): '+' is a space; control characters (%00 included)
   and invalid UTF-8 are refused. */
#define FORM_DECODING (MC_URL_PLUS_IS_SPACE | MC_URL_REJECT_CONTROL | MC_URL_REQUIRE_UTF8)

/* A bad escape or a control character, as opposed to invalid UTF-8. */
static bool bad_escape(enum mc_url_result r)
{
    return r != MC_URL_OK && r != MC_URL_BAD_UTF8;
}

bool identity_form_parse(const char *body, size_t len, struct identity_form *form,
                         const char **error)
{
    memset(form, 0, sizeof *form);
    *error = NULL;
    form->buf = malloc(len + 1);
    if (form->buf == NULL) {
        *error = "out of memory";
        return false;
    }
    memcpy(form->buf, body, len);
    form->buf[len] = '\0';
    if (len == 0 || strlen(form->buf) != len) {
        *error = len == 0 ? "the form is empty" : "the form contains a NUL byte";
        goto fail;
    }
    char *p = form->buf;
    for (;;) {
        char *amp = strchr(p, '&');
        size_t pair_len = amp != NULL ? (size_t)(amp - p) : strlen(p);
        if (pair_len == 0) {
            *error = "empty pair in the form";
            goto fail;
        }
        if (form->n == IDENTITY_FORM_MAX_PAIRS) {
            *error = "too many parameters in the form";
            goto fail;
        }
        char *eq = memchr(p, '=', pair_len);
        if (eq == NULL || eq == p) {
            *error = "every form parameter needs a name and '='";
            goto fail;
        }
        size_t key_len = (size_t)(eq - p);
        size_t value_len = pair_len - key_len - 1;
        char *value = eq + 1;
        if (amp != NULL)
            *amp = '\0';
        /* Decoding in place only shrinks. Escapes are judged before UTF-8. */
        enum mc_url_result rk = mc_url_decode(p, key_len, p, FORM_DECODING, NULL);
        enum mc_url_result rv =
            bad_escape(rk) ? rk : mc_url_decode(value, value_len, value, FORM_DECODING, NULL);
        if (bad_escape(rk) || bad_escape(rv)) {
            *error = "bad percent-escape or control character in the form";
            goto fail;
        }
        if (rk != MC_URL_OK || rv != MC_URL_OK) {
            *error = "the form is not valid UTF-8";
            goto fail;
        }
        for (size_t i = 0; i < form->n; i++) {
            if (strcmp(form->keys[i], p) == 0) {
                *error = "a form parameter is repeated";
                goto fail;
            }
        }
        form->keys[form->n] = p;
        form->values[form->n] = value;
        form->n++;
        if (amp == NULL)
            break;
        p = amp + 1;
    }
    return true;
fail:
    identity_form_free(form);
    return false;
}

const char *identity_form_get(const struct identity_form *form, const char *key)
{
    for (size_t i = 0; i < form->n; i++)
        if (strcmp(form->keys[i], key) == 0)
            return form->values[i];
    return NULL;
}

void identity_form_free(struct identity_form *form)
{
    free(form->buf);
    memset(form, 0, sizeof *form);
}

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Strict RFC 4648 §4 base64 of src[0..n) into dst (>= n / 4 * 3 + 1 bytes),
   NUL-terminated; *out_len the decoded length. Padding required, no
   whitespace, no characters outside the alphabet, unused bits zero. */
static bool b64_decode_strict(const char *src, size_t n, char *dst, size_t *out_len)
{
    if (n == 0 || n % 4 != 0)
        return false;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        bool last = i + 4 == n;
        int v[4];
        size_t pad = 0;
        for (size_t k = 0; k < 4; k++) {
            unsigned char c = (unsigned char)src[i + k];
            if (c == '=' && last && k >= 2) {
                v[k] = 0;
                pad++;
                continue;
            }
            if (pad > 0)
                return false; /* data after '=' */
            v[k] = b64_value(c);
            if (v[k] < 0)
                return false;
        }
        if (pad == 2 && (v[1] & 0x0f) != 0)
            return false;
        if (pad == 1 && (v[2] & 0x03) != 0)
            return false;
        dst[o++] = (char)((v[0] << 2) | (v[1] >> 4));
        if (pad < 2)
            dst[o++] = (char)(((v[1] & 0x0f) << 4) | (v[2] >> 2));
        if (pad < 1)
            dst[o++] = (char)(((v[2] & 0x03) << 6) | v[3]);
    }
    dst[o] = '\0';
    *out_len = o;
    return true;
}

bool identity_basic_credentials(const char *header, char *id, size_t id_len, char *secret,
                                size_t secret_len)
{
    if (id_len > 0)
        id[0] = '\0';
    if (secret_len > 0)
        secret[0] = '\0';
    if (header == NULL || strncasecmp(header, "Basic ", 6) != 0)
        return false;
    const char *b64 = header + 6;
    size_t n = strlen(b64);
    if (n > IDENTITY_BASIC_MAX)
        return false;
    char *buf = malloc(n / 4 * 3 + 1);
    if (buf == NULL)
        return false;
    size_t len = 0;
    bool ok = b64_decode_strict(b64, n, buf, &len) && strlen(buf) == len;
    char *colon = ok ? strchr(buf, ':') : NULL;
    ok = colon != NULL && colon != buf && colon[1] != '\0';
    if (ok) {
        *colon = '\0';
        size_t id_n = (size_t)(colon - buf), secret_n = strlen(colon + 1);
        /* mc_url_decode writes at most n + 1 bytes */
        ok = id_n < id_len && secret_n < secret_len &&
             mc_url_decode(buf, id_n, id, FORM_DECODING, NULL) == MC_URL_OK &&
             mc_url_decode(colon + 1, secret_n, secret, FORM_DECODING, NULL) == MC_URL_OK &&
             id[0] != '\0' && secret[0] != '\0';
    }
    volatile char *wipe = buf;
    for (size_t i = 0; i < n / 4 * 3 + 1; i++)
        wipe[i] = 0;
    free(buf);
    if (!ok) {
        if (id_len > 0)
            memset(id, 0, id_len);
        if (secret_len > 0)
            memset(secret, 0, secret_len);
    }
    return ok;
}
