/*
 * Identifier matchers and vocabularies of the catalogue. See codes.h.
 */
#include "codes.h"

#include <stddef.h>
#include <string.h>

const char *const catalogue_admin_levels[] = {"central", "province", "district", "commune", NULL};
const char *const catalogue_channels[] = {"online", "in_person", "postal", NULL};
const char *const catalogue_applicant_types[] = {"citizen", "business", "organisation", NULL};
const char *const catalogue_online_scopes[] = {"full", "partial", "none", NULL};
const char *const catalogue_supplement_clocks[] = {"restart", "extend", NULL};
const char *const catalogue_fee_collections[] = {"after", "before_submission", "exempt", NULL};
const char *const catalogue_time_units[] = {"working_days", "calendar_days", "working_hours", NULL};
const char *const catalogue_step_roles[] = {"officer", "approver", "agency_admin", NULL};
const char *const catalogue_day_kinds[] = {"day_off", "working_day", NULL};

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_lower(char c)
{
    return c >= 'a' && c <= 'z';
}

static bool is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

/* ^[a-z0-9][a-z0-9<extra>]{0,63}$ */
static bool is_slug(const char *s, const char *extra)
{
    if (s == NULL || !(is_lower(s[0]) || is_digit(s[0])))
        return false;
    size_t n = 1;
    for (; s[n] != '\0'; n++) {
        if (n >= 64)
            return false;
        char c = s[n];
        if (!(is_lower(c) || is_digit(c) || strchr(extra, c) != NULL))
            return false;
    }
    return true;
}

bool catalogue_is_sector_code(const char *s)
{
    return is_slug(s, "-");
}

bool catalogue_is_case_code(const char *s)
{
    return is_slug(s, "_-");
}

/* ^[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}$ : "000.00.06.H56" */
bool catalogue_is_agency_code(const char *s)
{
    static const char shape[] = "ddd.dd.dd.Udd";
    if (s == NULL || strlen(s) != sizeof shape - 1)
        return false;
    for (size_t i = 0; i < sizeof shape - 1; i++) {
        bool ok = shape[i] == 'd' ? is_digit(s[i]) : shape[i] == 'U' ? is_upper(s[i]) : s[i] == '.';
        if (!ok)
            return false;
    }
    return true;
}

/* ^[0-9]\.[0-9]{6}(\.[0-9A-Za-z]+)*$ and at most 64 characters. */
bool catalogue_is_procedure_code(const char *s)
{
    if (s == NULL || strlen(s) > CATALOGUE_PROCEDURE_CODE_MAX || strlen(s) < 8)
        return false;
    if (!is_digit(s[0]) || s[1] != '.')
        return false;
    for (size_t i = 2; i < 8; i++)
        if (!is_digit(s[i]))
            return false;
    const char *p = s + 8;
    while (*p != '\0') {
        if (*p != '.')
            return false;
        p++;
        size_t run = 0;
        while (is_digit(*p) || is_lower(*p) || is_upper(*p)) {
            p++;
            run++;
        }
        if (run == 0)
            return false;
    }
    return true;
}

bool catalogue_in_list(const char *const *list, const char *s)
{
    if (s == NULL)
        return false;
    for (; *list != NULL; list++)
        if (strcmp(*list, s) == 0)
            return true;
    return false;
}
