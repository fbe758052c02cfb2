/* The public lookup's rules (lookup_rules.h). */
#include "lookup_rules.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
    return is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

bool lookup_code_valid(const char *code)
{
    size_t len = code != NULL ? strlen(code) : 0;
    if (len == 0 || len > TRACKING_CODE_MAX)
        return false;
    const char *dash = strchr(code, '-');
    if (dash == NULL || dash == code)
        return false;
    for (const char *p = code; p < dash; p++)
        if (!is_alnum(*p) && *p != '.')
            return false;
    const char *date = dash + 1;
    for (int i = 0; i < 6; i++)
        if (!is_digit(date[i]))
            return false;
    if (date[6] != '-')
        return false;
    const char *seq = date + 7;
    size_t n = strlen(seq), digits = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_alnum(seq[i]))
            return false;
        digits += is_digit(seq[i]) ? 1 : 0;
    }
    return digits >= 4;
}

bool lookup_short_code(const unsigned char *key, size_t key_len, const char *dossier_id, char *out)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned mac_len = 0;
    if (key_len == 0 || dossier_id == NULL ||
        HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)dossier_id, strlen(dossier_id),
             mac, &mac_len) == NULL ||
        mac_len < 7)
        return false;
    /* 50 bits: five bits per character from the first 7 bytes */
    unsigned long long bits = 0;
    for (int i = 0; i < 7; i++)
        bits = (bits << 8) | mac[i];
    for (int i = 0; i < TRACKING_SHORT_LEN; i++)
        out[i] = crockford[(bits >> (51 - 5 * i)) & 31];
    out[TRACKING_SHORT_LEN] = '\0';
    return true;
}

void lookup_key_id(const unsigned char *key, size_t key_len, char *out)
{
    static const char label[] = "motcua.tracking.key-id";
    static const char hex[] = "0123456789abcdef";
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned mac_len = 0;
    out[0] = '\0';
    if (key_len == 0 ||
        HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)label, sizeof label - 1, mac,
             &mac_len) == NULL ||
        mac_len < TRACKING_KEY_ID_LEN / 2)
        return;
    for (int i = 0; i < TRACKING_KEY_ID_LEN / 2; i++) {
        out[2 * i] = hex[mac[i] >> 4];
        out[2 * i + 1] = hex[mac[i] & 15];
    }
    out[TRACKING_KEY_ID_LEN] = '\0';
}

bool lookup_short_valid(const char *s)
{
    if (s == NULL || strlen(s) != TRACKING_SHORT_LEN)
        return false;
    for (const char *p = s; *p != '\0'; p++) {
        char c = (*p >= 'a' && *p <= 'z') ? (char)(*p - 'a' + 'A') : *p;
        if (strchr(crockford, c) == NULL)
            return false;
    }
    return true;
}

void lookup_short_normalise(char *s)
{
    for (; *s != '\0'; s++)
        if (*s >= 'a' && *s <= 'z')
            *s = (char)(*s - 'a' + 'A');
}

bool lookup_may_read_timeline(const mc_principal *p, const char *owner_sub,
                              const char *handling_agency, const json_t *transfer_chain)
{
    if ((p->roles & MC_ROLE_CITIZEN) != 0 && owner_sub != NULL && owner_sub[0] != '\0' &&
        strcmp(owner_sub, p->sub) == 0)
        return true;
    if ((p->roles & (MC_ROLE_AUDITOR | MC_ROLE_SYSTEM_ADMIN)) != 0)
        return true;
    if ((p->roles & (MC_ROLE_OFFICER | MC_ROLE_APPROVER | MC_ROLE_AGENCY_ADMIN)) == 0 ||
        p->agency[0] == '\0')
        return false;
    if (handling_agency != NULL && strcmp(p->agency, handling_agency) == 0)
        return true;
    size_t i;
    const json_t *a;
    json_array_foreach(transfer_chain, i, a) {
        if (json_is_string(a) && strcmp(json_string_value(a), p->agency) == 0)
            return true;
    }
    return false;
}
