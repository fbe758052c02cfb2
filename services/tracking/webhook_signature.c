/* Standard Webhooks signatures (webhook_signature.h). */
#include "webhook_signature.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#define PREFIX_LEN (sizeof WEBHOOK_SECRET_PREFIX - 1)
#define KEY_MIN 24
#define KEY_MAX 64

/* Decode the key of a "whsec_" secret into key (KEY_MAX bytes); its length,
   or 0 when the secret is not valid. */
static size_t secret_key(const char *secret, unsigned char key[KEY_MAX])
{
    if (secret == NULL || strncmp(secret, WEBHOOK_SECRET_PREFIX, PREFIX_LEN) != 0)
        return 0;
    const char *b64 = secret + PREFIX_LEN;
    size_t n = strlen(b64);
    if (n == 0 || n % 4 != 0 || n > (KEY_MAX + 2) / 3 * 4)
        return 0;
    if (strspn(b64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") != n)
        return 0;
    size_t padding = b64[n - 1] == '=' ? (b64[n - 2] == '=' ? 2 : 1) : 0;
    if (memchr(b64, '=', n - padding) != NULL)
        return 0;
    unsigned char buf[(KEY_MAX + 2) / 3 * 3];
    int len = EVP_DecodeBlock(buf, (const unsigned char *)b64, (int)n);
    if (len < 0 || (size_t)len < padding)
        return 0;
    size_t key_len = (size_t)len - padding;
    if (key_len < KEY_MIN || key_len > KEY_MAX) {
        OPENSSL_cleanse(buf, sizeof buf);
        return 0;
    }
    memcpy(key, buf, key_len);
    OPENSSL_cleanse(buf, sizeof buf);
    return key_len;
}

bool webhook_secret_generate(char out[WEBHOOK_SECRET_MAX])
{
    unsigned char key[WEBHOOK_SECRET_KEY_BYTES];
    if (RAND_bytes(key, sizeof key) != 1)
        return false;
    memcpy(out, WEBHOOK_SECRET_PREFIX, PREFIX_LEN);
    EVP_EncodeBlock((unsigned char *)out + PREFIX_LEN, key, (int)sizeof key);
    OPENSSL_cleanse(key, sizeof key);
    return true;
}

bool webhook_secret_valid(const char *secret)
{
    unsigned char key[KEY_MAX];
    size_t n = secret_key(secret, key);
    OPENSSL_cleanse(key, sizeof key);
    return n > 0;
}

bool webhook_sign(const char *secret, const char *msg_id, int64_t timestamp, const char *body,
                  size_t body_len, char out[WEBHOOK_SIGNATURE_MAX])
{
    unsigned char key[KEY_MAX];
    size_t key_len = secret_key(secret, key);
    if (key_len == 0)
        return false;
    char prefix[160];
    int plen = snprintf(prefix, sizeof prefix, "%s.%" PRId64 ".", msg_id, timestamp);
    bool ok = plen > 0 && (size_t)plen < sizeof prefix;
    /* One buffer for the signed content: HMAC() is OpenSSL 3's one-shot
       call that is not deprecated. */
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned mac_len = 0;
    unsigned char *content = ok ? malloc((size_t)plen + body_len + 1) : NULL;
    if (content != NULL) {
        memcpy(content, prefix, (size_t)plen);
        if (body_len > 0)
            memcpy(content + plen, body, body_len);
        ok = HMAC(EVP_sha256(), key, (int)key_len, content, (size_t)plen + body_len, mac, &mac_len) !=
                 NULL &&
             mac_len == 32;
        free(content);
    } else {
        ok = false;
    }
    OPENSSL_cleanse(key, sizeof key);
    if (!ok)
        return false;
    memcpy(out, "v1,", 3);
    EVP_EncodeBlock((unsigned char *)out + 3, mac, (int)mac_len);
    return true;
}

bool webhook_signature_header(const char *const *secrets, size_t n, const char *msg_id,
                              int64_t timestamp, const char *body, size_t body_len, char *out,
                              size_t out_len)
{
    if (n == 0 || n > WEBHOOK_MAX_LIVE_SECRETS || out_len == 0)
        return false;
    out[0] = '\0';
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        char sig[WEBHOOK_SIGNATURE_MAX];
        if (!webhook_sign(secrets[i], msg_id, timestamp, body, body_len, sig))
            return false;
        int w = snprintf(out + used, out_len - used, "%s%s", i > 0 ? " " : "", sig);
        if (w < 0 || (size_t)w >= out_len - used)
            return false;
        used += (size_t)w;
    }
    return true;
}
