/*
 * The pure rules of a dossier's documents: see document_rules.h.
 */
#include "document_rules.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "motcua/json_spec.h"
#include "workflow.h"

static const struct document_upload_rule upload_rules[] = {
    {DS_DRAFT, ACTOR_OWNER | ACTOR_COUNTER, "application", false},
    {DS_SUPPLEMENT_REQUESTED, ACTOR_OWNER | ACTOR_COUNTER, "supplement", false},
    {DS_PROCESSING, ACTOR_OFFICER | ACTOR_APPROVER, "result", true},
};
#define N_RULES (sizeof upload_rules / sizeof upload_rules[0])

const struct document_upload_rule *document_upload_rule_for(int status, unsigned actors, bool *ever)
{
    *ever = false;
    for (size_t i = 0; i < N_RULES; i++) {
        if ((upload_rules[i].actors & actors) == 0)
            continue;
        *ever = true;
        if (upload_rules[i].status == status)
            return &upload_rules[i];
    }
    return NULL;
}

bool document_slot_syntax_ok(const char *slot)
{
    size_t n = strlen(slot);
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = slot[i];
        bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
            return false;
    }
    return true;
}

bool document_is_extra_slot(const char *slot)
{
    if (strncmp(slot, "extra-", 6) != 0)
        return false;
    const char *n = slot + 6;
    if (n[0] < '1' || n[0] > '9')
        return false;
    int value = 0;
    for (const char *c = n; *c != '\0'; c++) {
        if (*c < '0' || *c > '9' || c - n >= 2)
            return false;
        value = value * 10 + (*c - '0');
    }
    return value <= DOCUMENT_EXTRA_SLOTS;
}

/* The media type of a Content-Type header: past leading blanks, up to the
   parameters; its length in *n. */
static const char *media_type_token(const char *content_type, size_t *n)
{
    while (*content_type == ' ' || *content_type == '\t')
        content_type++;
    *n = strcspn(content_type, "; \t");
    return content_type;
}

const char *document_accepted_media_type(const char *content_type)
{
    static const char *const types[] = {"application/pdf", "image/jpeg", "image/png"};
    if (content_type == NULL)
        return NULL;
    size_t n;
    const char *type = media_type_token(content_type, &n);
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strlen(types[i]) == n && strncasecmp(type, types[i], n) == 0)
            return types[i];
    return NULL;
}

const char *document_sniffed_media_type(const unsigned char *p, size_t len)
{
    static const struct {
        const char *media_type;
        unsigned char magic[8];
        size_t n;
    } signatures[] = {
        {"application/pdf", {'%', 'P', 'D', 'F', '-'}, 5},
        {"image/jpeg", {0xFF, 0xD8, 0xFF}, 3},
        {"image/png", {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}, 8},
    };
    for (size_t i = 0; i < sizeof signatures / sizeof signatures[0]; i++)
        if (len >= signatures[i].n && memcmp(p, signatures[i].magic, signatures[i].n) == 0)
            return signatures[i].media_type;
    return NULL;
}

bool document_is_octet_stream(const char *content_type)
{
    static const char octet[] = "application/octet-stream";
    if (content_type == NULL)
        return false;
    size_t n;
    const char *type = media_type_token(content_type, &n);
    return n == sizeof octet - 1 && strncasecmp(type, octet, n) == 0;
}

bool document_has_deceptive_code_points(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p != '\0') {
        if (p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F)
            return true;
        if (p[0] == 0xE2 && p[1] == 0x80 && p[2] >= 0xAA && p[2] <= 0xAE)
            return true;
        if (p[0] == 0xE2 && p[1] == 0x81 && p[2] >= 0xA6 && p[2] <= 0xA9)
            return true;
        p++;
    }
    return false;
}

const char *document_file_name_problem(const char *raw, char *out, size_t out_len,
                                       const char **detail)
{
    static const char too_long[] = "must be at most 255 characters";
    while (*raw == ' ')
        raw++;
    size_t n = strlen(raw);
    while (n > 0 && raw[n - 1] == ' ')
        n--;
    if (n == 0) {
        *detail = "the file name is empty";
        return "required";
    }
    if (n >= out_len) {
        *detail = too_long;
        return "max_length";
    }
    memcpy(out, raw, n);
    out[n] = '\0';
    if (mc_utf8_length(out) > DOCUMENT_FILE_NAME_MAX) {
        *detail = too_long;
        return "max_length";
    }
    if (strpbrk(out, "/\\") != NULL || strcmp(out, ".") == 0 || strcmp(out, "..") == 0) {
        *detail = "a file name only, without folders (no / or \\)";
        return "path";
    }
    if (document_has_deceptive_code_points(out)) {
        *detail = "must not contain control or text-direction characters";
        return "control_characters";
    }
    return NULL;
}

void document_content_disposition(const char *name, char *out, size_t len)
{
    char ascii[DOCUMENT_FILE_NAME_MAX + 1];
    size_t a = 0;
    for (const unsigned char *p = (const unsigned char *)name;
         *p != '\0' && a < DOCUMENT_FILE_NAME_MAX;) {
        if (*p >= 0x80) {
            /* one '_' per non-ASCII character */
            ascii[a++] = '_';
            p++;
            while ((*p & 0xC0) == 0x80)
                p++;
            continue;
        }
        ascii[a++] = (*p < 0x20 || *p == '"' || *p == '\\' || *p == '%') ? '_' : (char)*p;
        p++;
    }
    ascii[a] = '\0';
    int n = snprintf(out, len, "attachment; filename=\"%s\"; filename*=UTF-8''", ascii);
    size_t o = n > 0 ? (size_t)n : 0;
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)name; *p != '\0' && o + 4 < len; p++) {
        bool attr_char = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                         (*p >= '0' && *p <= '9') || strchr("!#$&+-.^_`|~", *p) != NULL;
        if (attr_char) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 0x0F];
        }
    }
    out[o < len ? o : len - 1] = '\0';
}
