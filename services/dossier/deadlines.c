/* A dossier's clock (deadlines.h). */
#include "deadlines.h"

#include <stdlib.h>

#define MAX_PAUSES 64

/* The closed pauses of d as an array for the calendar engine. */
static size_t pauses_of(const struct dossier *d, mc_pause *out, size_t cap)
{
    size_t n = 0, i;
    const json_t *p;
    json_array_foreach(d->pauses, i, p)
    {
        if (n == cap)
            break;
        const json_t *from = json_array_get(p, 0), *to = json_array_get(p, 1);
        if (!json_is_integer(from) || !json_is_integer(to))
            continue;
        out[n].from = (int64_t)json_integer_value(from);
        out[n].to = (int64_t)json_integer_value(to);
        n++;
    }
    return n;
}

static bool compute_due(struct dossier *d, const mc_calendar *cal, int64_t *due)
{
    mc_time_unit unit;
    if (mc_time_unit_parse(d->limit_unit, &unit) != 0 || d->clock_start_at == 0)
        return false;
    mc_pause pauses[MAX_PAUSES];
    size_t n = pauses_of(d, pauses, MAX_PAUSES);
    return mc_calendar_due(cal, d->clock_start_at, d->limit_value, unit, pauses, n, due) == 0;
}

bool deadline_start(struct dossier *d, const mc_calendar *cal, int64_t now)
{
    d->clock_start_at = now;
    json_decref(d->pauses);
    d->pauses = json_array();
    d->paused_since = 0;
    int64_t due;
    if (!compute_due(d, cal, &due))
        return false;
    d->due_at = due;
    d->appointment_at = due;
    return true;
}

void deadline_pause(struct dossier *d, int64_t now)
{
    if (d->clock_start_at != 0 && d->paused_since == 0)
        d->paused_since = now;
}

bool deadline_resume(struct dossier *d, const mc_calendar *cal, int64_t now, bool restart)
{
    if (d->clock_start_at == 0)
        return true; /* not received yet: there is no clock */
    if (restart)
        return deadline_start(d, cal, now); /* a new time limit, a new appointment slip */
    if (d->paused_since != 0 && now > d->paused_since)
        json_array_append_new(d->pauses, json_pack("[II]", (json_int_t)d->paused_since,
                                                   (json_int_t)now));
    d->paused_since = 0;
    int64_t due;
    if (!compute_due(d, cal, &due))
        return false;
    d->due_at = due;
    if (d->appointment_at < due)
        d->appointment_at = due;
    return true;
}

int64_t deadline_supplement_due(const mc_calendar *cal, int64_t now, unsigned working_days)
{
    int64_t due;
    if (mc_calendar_due(cal, now, (double)working_days, MC_UNIT_WORKING_DAYS, NULL, 0, &due) != 0)
        return 0;
    return due;
}

void deadline_years(int64_t from, int *first_year, int *last_year)
{
    mc_date d = mc_date_from_days((from + DOSSIER_UTC_OFFSET_MIN * 60) / 86400);
    *first_year = d.year;
    *last_year = d.year + 2;
}

int64_t deadline_due_soon_window(unsigned due_soon_working_hours)
{
    return (int64_t)due_soon_working_hours * 3 * 3600;
}

unsigned deadline_flags_to_clear(const struct dossier *d, int64_t before, int64_t now, int64_t soon)
{
    int64_t after = d->appointment_at;
    if (after == before || after == 0)
        return 0;
    unsigned clear = 0;
    if (d->overdue_flagged_at != 0 && after >= now)
        clear |= DEADLINE_FLAG_OVERDUE;
    if (d->due_soon_flagged_at != 0 && (after >= soon || (clear & DEADLINE_FLAG_OVERDUE) != 0))
        clear |= DEADLINE_FLAG_DUE_SOON;
    return clear;
}
