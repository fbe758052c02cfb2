/* The public lookup's second factors (motcua/lookup_factor.h). */
#include "motcua/lookup_factor.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#include "motcua/config.h"
#include "motcua/log.h"

bool mc_lookup_key_load(const char *service, unsigned char *key, size_t *len, bool *configured)
{
    const char *path = mc_config_str(service, "LOOKUP_KEY_FILE", NULL);
    *configured = path != NULL && path[0] != '\0';
    *len = 0;
    if (!*configured)
        return false;
    char line[MC_LOOKUP_KEY_MAX + 3];
    FILE *f = fopen(path, "r");
    bool ok = f != NULL && fgets(line, sizeof line, f) != NULL;
    if (f != NULL)
        fclose(f);
    size_t n = ok ? strcspn(line, "\r\n") : 0;
    if (!ok || n < MC_LOOKUP_KEY_MIN || n > MC_LOOKUP_KEY_MAX) {
        mc_log(MC_LOG_ERROR, NULL, "config.invalid",
               "LOOKUP_KEY_FILE %s: its first line must hold %d to %d bytes", path,
               MC_LOOKUP_KEY_MIN, MC_LOOKUP_KEY_MAX);
        memset(line, 0, sizeof line);
        return false;
    }
    memcpy(key, line, n);
    memset(line, 0, sizeof line);
    *len = n;
    return true;
}

bool mc_lookup_factor_canonical(mc_lookup_factor kind, const char *raw, char *out, size_t out_len)
{
    char digits[32];
    size_t n = 0;
    for (const char *p = raw; p != NULL && *p != '\0'; p++) {
        if (*p >= '0' && *p <= '9') {
            if (n + 1 >= sizeof digits)
                return false;
            digits[n++] = *p;
        } else if (kind == MC_LOOKUP_ID_NUMBER || (*p != ' ' && *p != '.' && *p != '-' && *p != '+')) {
            return false; /* an ID number is digits only; a phone allows its separators */
        }
    }
    digits[n] = '\0';
    const char *value;
    if (kind == MC_LOOKUP_ID_NUMBER) {
        if (n != 12)
            return false;
        value = digits;
    } else {
        if (n < 4)
            return false;
        value = digits + n - 4;
    }
    if (strlen(value) >= out_len)
        return false;
    memcpy(out, value, strlen(value) + 1);
    return true;
}

bool mc_lookup_factor_hash(const unsigned char *key, size_t key_len, mc_lookup_factor kind,
                           const char *raw, char *out)
{
    char value[16], message[32];
    if (!mc_lookup_factor_canonical(kind, raw, value, sizeof value))
        return false;
    int n = snprintf(message, sizeof message, "%s:%s",
                     kind == MC_LOOKUP_ID_NUMBER ? "id" : "phone4", value);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned mac_len = 0;
    if (n < 0 || (size_t)n >= sizeof message ||
        HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)message, (size_t)n, mac,
             &mac_len) == NULL ||
        mac_len * 2 != MC_LOOKUP_HASH_LEN)
        return false;
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < mac_len; i++) {
        out[2 * i] = hex[mac[i] >> 4];
        out[2 * i + 1] = hex[mac[i] & 15];
    }
    out[MC_LOOKUP_HASH_LEN] = '\0';
    return true;
}

bool mc_lookup_hash_equal(const char *a, const char *b)
{
    if (a == NULL || b == NULL || strlen(a) != MC_LOOKUP_HASH_LEN || strlen(b) != MC_LOOKUP_HASH_LEN)
        return false;
    unsigned char diff = 0;
    for (size_t i = 0; i < MC_LOOKUP_HASH_LEN; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

bool mc_lookup_mask_name(const char *name, char *out, size_t out_len)
{
    size_t o = 0;
    bool in_word = false;
    for (const unsigned char *p = (const unsigned char *)name; p != NULL && *p != '\0';) {
        if (*p == ' ' || *p == '\t') {
            in_word = false;
            p++;
            continue;
        }
        /* one UTF-8 character: a lead byte and its continuation bytes */
        size_t clen = 1;
        while (p[clen] != '\0' && (p[clen] & 0xC0) == 0x80)
            clen++;
        if (!in_word) {
            size_t need = (o > 0 ? 1 : 0) + clen + 3;
            if (o + need >= out_len)
                return false;
            if (o > 0)
                out[o++] = ' ';
            memcpy(out + o, p, clen);
            o += clen;
            memcpy(out + o, "***", 3);
            o += 3;
            in_word = true;
        }
        p += clen;
    }
    if (o == 0 || out_len == 0)
        return false;
    out[o] = '\0';
    return true;
}
