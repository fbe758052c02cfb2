/*
 * Percent-decoding (RFC 3986 §2.1, and the application/x-www-form-urlencoded
 * variant where '+' is a space) and UTF-8 validation, shared by the router
 * (path segments) and services that read form bodies themselves (the
 * identity service's token endpoint and its HTTP Basic credentials).
 *
 * Pure functions: no allocation, no global state.
 */
#ifndef MOTCUA_URL_H
#define MOTCUA_URL_H

#include <stdbool.h>
#include <stddef.h>

enum mc_url_flags {
    MC_URL_PLUS_IS_SPACE = 1u << 0,  /* '+' decodes to ' ' (form encoding) */
    MC_URL_REJECT_CONTROL = 1u << 1, /* refuse bytes below 0x20 and 0x7f, literal or escaped */
    MC_URL_REQUIRE_UTF8 = 1u << 2,   /* the decoded bytes must be valid UTF-8 */
};

enum mc_url_result {
    MC_URL_OK = 0,
    MC_URL_BAD_ESCAPE, /* '%' not followed by two hex digits */
    MC_URL_NUL,        /* a NUL byte, literal or %00: never accepted (it would cut the text) */
    MC_URL_CONTROL,    /* another control character, with MC_URL_REJECT_CONTROL */
    MC_URL_BAD_UTF8,   /* with MC_URL_REQUIRE_UTF8 */
};

/* Decode src[0..n) into dst, which needs n + 1 bytes and may be src itself
   (decoding only shrinks); dst is NUL-terminated, *out_len (may be NULL) the
   decoded length. Escape, NUL and control errors are found over the whole
   input before UTF-8 is checked, so MC_URL_BAD_UTF8 means the escapes were
   well formed. On failure dst holds a partial result the caller must not
   use (callers decoding secrets wipe it). */
enum mc_url_result mc_url_decode(const char *src, size_t n, char *dst, unsigned flags,
                                 size_t *out_len);

/* Is s[0..n) valid UTF-8 (RFC 3629: no overlong forms, no surrogates,
   nothing above U+10FFFF)? The same acceptance as jansson's. */
bool mc_utf8_valid(const char *s, size_t n);

#endif
