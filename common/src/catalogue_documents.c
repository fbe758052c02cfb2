/* Readers of the catalogue's published documents (motcua/catalogue_client.h). Pure. */
#include <string.h>

#include "motcua/catalogue_client.h"
#include "motcua/json_spec.h"

int mc_catalogue_minutes_of_day(const char *s)
{
    if (s == NULL || strlen(s) != 5 || s[2] != ':')
        return -1;
    for (int i = 0; i < 5; i++)
        if (i != 2 && (s[i] < '0' || s[i] > '9'))
            return -1;
    int h = (s[0] - '0') * 10 + (s[1] - '0');
    int m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h > 23 || m > 59)
        return -1;
    return h * 60 + m;
}

mc_error mc_catalogue_time_limit(const json_t *procedure, const char *case_code,
                                 const char *channel, double *value, mc_time_unit *unit)
{
    const json_t *cases = json_object_get(procedure, "cases");
    if (!json_is_array(cases) || json_array_size(cases) == 0)
        return MC_ERR_INTERNAL;
    const json_t *found = NULL;
    if (case_code == NULL) {
        found = json_array_get(cases, 0);
    } else {
        size_t i;
        const json_t *c;
        json_array_foreach(cases, i, c)
        {
            const char *code = mc_json_str(c, "code", NULL);
            if (code != NULL && strcmp(code, case_code) == 0) {
                found = c;
                break;
            }
        }
    }
    if (found == NULL)
        return MC_ERR_CASE_NOT_FOUND;
    size_t j;
    const json_t *ch;
    json_array_foreach(json_object_get(found, "channels"), j, ch)
    {
        const char *name = mc_json_str(ch, "channel", NULL);
        if (name == NULL || strcmp(name, channel) != 0)
            continue;
        const json_t *limit = json_object_get(ch, "time_limit");
        const json_t *v = json_object_get(limit, "value");
        if (!json_is_number(v) || mc_time_unit_parse(mc_json_str(limit, "unit", NULL), unit) != 0)
            return MC_ERR_INTERNAL;
        *value = json_number_value(v);
        return MC_OK;
    }
    return MC_ERR_CHANNEL_NOT_OFFERED;
}

bool mc_catalogue_calendar_set_hours(mc_calendar *cal, const json_t *office_hours,
                                     const char *same_day_cutoff)
{
    size_t n = json_array_size(office_hours);
    int cutoff = mc_catalogue_minutes_of_day(same_day_cutoff);
    if (!json_is_array(office_hours) || n == 0 || n > MC_CALENDAR_MAX_SESSIONS || cutoff < 0)
        return false;
    mc_office_session sessions[MC_CALENDAR_MAX_SESSIONS];
    for (size_t i = 0; i < n; i++) {
        const json_t *s = json_array_get(office_hours, i);
        sessions[i].start_min = mc_catalogue_minutes_of_day(mc_json_str(s, "start", NULL));
        sessions[i].end_min = mc_catalogue_minutes_of_day(mc_json_str(s, "end", NULL));
        if (sessions[i].start_min < 0 || sessions[i].end_min <= sessions[i].start_min)
            return false;
        if (i > 0 && sessions[i].start_min < sessions[i - 1].end_min)
            return false;
    }
    memcpy(cal->sessions, sessions, n * sizeof sessions[0]);
    cal->n_sessions = n;
    cal->same_day_cutoff_min = cutoff;
    return true;
}

bool mc_catalogue_procedure_has_agency(const json_t *procedure, const char *agency)
{
    size_t i;
    const json_t *a;
    json_array_foreach(json_object_get(procedure, "agency_codes"), i, a)
    {
        if (json_is_string(a) && strcmp(json_string_value(a), agency) == 0)
            return true;
    }
    return false;
}
