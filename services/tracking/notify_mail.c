/* The e-mail message as sent (notify.h, pure). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "notify.h"

/* A header value that cannot break out of its line: no control character. */
static bool header_safe(const char *s, bool allow_space)
{
    if (s == NULL || s[0] == '\0')
        return false;
    for (const unsigned char *c = (const unsigned char *)s; *c != '\0'; c++)
        if (*c < 0x20 || *c == 0x7f || (!allow_space && *c == ' '))
            return false;
    return true;
}

/* base64 of s[0..n) (malloc'd), optionally broken into 76-character lines. */
static char *base64(const char *s, size_t n, bool lines)
{
    size_t enc = 4 * ((n + 2) / 3);
    char *raw = malloc(enc + 1);
    if (raw == NULL)
        return NULL;
    EVP_EncodeBlock((unsigned char *)raw, (const unsigned char *)s, (int)n);
    if (!lines)
        return raw;
    char *out = malloc(enc + 2 * (enc / 76 + 1) + 1);
    if (out == NULL) {
        free(raw);
        return NULL;
    }
    size_t o = 0;
    for (size_t i = 0; i < enc; i += 76) {
        size_t take = enc - i < 76 ? enc - i : 76;
        memcpy(out + o, raw + i, take);
        o += take;
        out[o++] = '\r';
        out[o++] = '\n';
    }
    out[o] = '\0';
    free(raw);
    return out;
}

char *notify_mail_compose(const char *from, const char *to, const char *subject, const char *body,
                          const char *message_id, const char *date)
{
    if (!header_safe(from, false) || !header_safe(to, false) || !header_safe(message_id, false) ||
        !header_safe(date, true) || subject == NULL || body == NULL)
        return NULL;
    /* The subject travels encoded (RFC 2047), so its bytes never end a line. */
    char *subject64 = base64(subject, strlen(subject), false);
    char *body64 = subject64 != NULL ? base64(body, strlen(body), true) : NULL;
    char *msg = NULL;
    if (body64 != NULL) {
#define MAIL_FORMAT                                                                               \
    "From: %s\r\nTo: %s\r\nSubject: =?UTF-8?B?%s?=\r\nDate: %s\r\nMessage-ID: <%s>\r\n"              \
    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"                              \
    "Content-Transfer-Encoding: base64\r\n\r\n%s"
        int n = snprintf(NULL, 0, MAIL_FORMAT, from, to, subject64, date, message_id, body64);
        msg = n > 0 ? malloc((size_t)n + 1) : NULL;
        if (msg != NULL)
            snprintf(msg, (size_t)n + 1, MAIL_FORMAT, from, to, subject64, date, message_id, body64);
#undef MAIL_FORMAT
    }
    free(subject64);
    free(body64);
    return msg;
}
