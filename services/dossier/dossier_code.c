/* Dossier code formatting (dossier_code.h). */
#include "dossier_code.h"

#include <stdio.h>
#include <string.h>

bool dossier_code_format(char *out, size_t out_len, const char *agency, mc_date day, long sequence)
{
    if (out == NULL || agency == NULL || agency[0] == '\0' || !mc_date_is_valid(day) ||
        sequence < 1 || sequence > 99999999L || strchr(agency, ' ') != NULL)
        return false;
    int n = snprintf(out, out_len, "%s-%02d%02d%02d-%04ld", agency, day.year % 100, day.month,
                     day.day, sequence);
    return n > 0 && (size_t)n < out_len;
}

bool dossier_code_is_valid(const char *code)
{
    if (code == NULL)
        return false;
    size_t len = strlen(code);
    if (len < 1 + 1 + 6 + 1 + 4 || len >= DOSSIER_CODE_MAX)
        return false;
    const char *last = strrchr(code, '-');
    if (last == NULL || last - code < 8)
        return false;
    size_t digits = strlen(last + 1);
    if (digits < 4 || digits > 8 || strspn(last + 1, "0123456789") != digits)
        return false;
    const char *date = last - 6;
    if (date[-1] != '-' || strspn(date, "0123456789") != 6)
        return false;
    int mm = (date[2] - '0') * 10 + (date[3] - '0'), dd = (date[4] - '0') * 10 + (date[5] - '0');
    if (mm < 1 || mm > 12 || dd < 1 || dd > 31)
        return false;
    size_t agency_len = (size_t)(date - 1 - code);
    for (size_t i = 0; i < agency_len; i++) {
        char c = code[i];
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              c == '.' || c == '_'))
            return false;
    }
    return agency_len > 0;
}

bool dossier_id_is_valid(const char *s)
{
    if (strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        char c = s[i];
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}
