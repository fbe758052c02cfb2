/*
 * Percent-decoding and UTF-8 validation (motcua/url.h): one decoder for the
 * router's path segments and the identity service's form bodies, so the two
 * cannot drift apart on what an escape is.
 */
#include "motcua/url.h"

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

enum mc_url_result mc_url_decode(const char *src, size_t n, char *dst, unsigned flags,
                                 size_t *out_len)
{
    size_t o = 0;
    if (out_len != NULL)
        *out_len = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c == '+' && (flags & MC_URL_PLUS_IS_SPACE) != 0) {
            c = ' ';
        } else if (c == '%') {
            if (i + 2 >= n) {
                dst[o] = '\0';
                return MC_URL_BAD_ESCAPE;
            }
            int h = hex_value((unsigned char)src[i + 1]), l = hex_value((unsigned char)src[i + 2]);
            if (h < 0 || l < 0) {
                dst[o] = '\0';
                return MC_URL_BAD_ESCAPE;
            }
            c = (unsigned char)(h * 16 + l);
            i += 2;
        }
        if (c == 0 || ((flags & MC_URL_REJECT_CONTROL) != 0 && (c < 0x20 || c == 0x7f))) {
            dst[o] = '\0';
            return c == 0 ? MC_URL_NUL : MC_URL_CONTROL;
        }
        dst[o++] = (char)c;
    }
    dst[o] = '\0';
    if ((flags & MC_URL_REQUIRE_UTF8) != 0 && !mc_utf8_valid(dst, o))
        return MC_URL_BAD_UTF8;
    if (out_len != NULL)
        *out_len = o;
    return MC_URL_OK;
}

bool mc_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned char b = p[i];
        size_t more;
        unsigned cp;
        if (b < 0x80) {
            i++;
            continue;
        } else if ((b & 0xE0) == 0xC0) {
            more = 1;
            cp = b & 0x1Fu;
        } else if ((b & 0xF0) == 0xE0) {
            more = 2;
            cp = b & 0x0Fu;
        } else if ((b & 0xF8) == 0xF0) {
            more = 3;
            cp = b & 0x07u;
        } else {
            return false; /* a continuation byte first, or 0xF8..0xFF */
        }
        if (n - i <= more)
            return false; /* truncated sequence */
        for (size_t k = 1; k <= more; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + k] & 0x3Fu);
        }
        if ((more == 1 && cp < 0x80) || (more == 2 && cp < 0x800) || (more == 3 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false; /* overlong, beyond Unicode, or a surrogate */
        i += more + 1;
    }
    return true;
}
