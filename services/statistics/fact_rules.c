/* Dossier events into facts and counter changes (fact_rules.h). */
#include "fact_rules.h"

#include <stdio.h>
#include <string.h>

#include "motcua/calendar.h"

#define VIETNAM_OFFSET_S (7 * 3600)

/* National status codes (DOMAIN.md §3) the rules look at. */
enum {
    ST_SUBMITTED = 1,
    ST_RECEIVED = 2,
    ST_REFUSED = 3,
    ST_SUPPLEMENT_REQUESTED = 5,
    ST_WITHDRAWAL_REQUESTED = 7,
    ST_STOPPED = 8,
    ST_RESULT_READY = 9,
    ST_RESULT_RETURNED = 10,
};

static const char *const measure_names[M_COUNT] = {
    [M_RECEIVED_ONLINE] = "received_online",
    [M_RECEIVED_OFFLINE] = "received_offline",
    [M_RESOLVED_EARLY] = "resolved_early",
    [M_RESOLVED_ON_TIME] = "resolved_on_time",
    [M_RESOLVED_OVERDUE] = "resolved_overdue",
    [M_RETURNED] = "returned",
    [M_WITHDRAWN] = "withdrawn",
    [M_STOPPED] = "stopped",
    [M_REFUSED] = "refused",
    [M_TRANSFERRED_IN] = "transferred_in",
    [M_TRANSFERRED_OUT] = "transferred_out",
    [M_EVALUATIONS] = "evaluations",
    [M_EVALUATION_POINTS] = "evaluation_points",
    [M_VERY_SATISFIED] = "very_satisfied",
    [M_SATISFIED] = "satisfied",
    [M_NOT_SATISFIED] = "not_satisfied",
    [M_FEES_PAID] = "fees_paid",
    [M_FEES_PAID_ONLINE] = "fees_paid_online",
    [M_RECEIVED_DOCUMENTS_KNOWN] = "received_documents_known",
    [M_RECEIVED_DIGITISED] = "received_digitised",
    [M_RESOLVED_DOCUMENTS_KNOWN] = "resolved_documents_known",
    [M_RESOLVED_ELECTRONIC] = "resolved_electronic",
    [M_OPEN_WITHIN] = "open_within",
    [M_OPEN_OVERDUE] = "open_overdue",
    [M_AWAITING_SUPPLEMENT] = "awaiting_supplement",
};

const char *stat_measure_name(enum stat_measure m)
{
    return m < M_COUNT ? measure_names[m] : NULL;
}

int stat_measure_from_name(const char *name)
{
    for (int m = 0; m < M_COUNT; m++)
        if (name != NULL && strcmp(measure_names[m], name) == 0)
            return m;
    return -1;
}

bool stat_measure_is_stock(enum stat_measure m)
{
    return m == M_OPEN_WITHIN || m == M_OPEN_OVERDUE || m == M_AWAITING_SUPPLEMENT;
}

int64_t stat_day_of(int64_t t)
{
    int64_t s = t + VIETNAM_OFFSET_S;
    return s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
}

/* Received and not finished: the in-progress stock (received, processing,
   supplement requested, awaiting payment, withdrawal requested). */
static bool status_is_open(int status)
{
    return status == ST_RECEIVED || status == 4 || status == ST_SUPPLEMENT_REQUESTED || status == 6 ||
           status == ST_WITHDRAWAL_REQUESTED;
}

static bool copy_member(char *out, size_t len, const json_t *obj, const char *name, bool required)
{
    const json_t *v = json_object_get(obj, name);
    if (!json_is_string(v)) {
        out[0] = '\0';
        return !required && (v == NULL || json_is_null(v));
    }
    if (json_string_length(v) >= len)
        return false;
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return true;
}

static bool day_member(const json_t *obj, const char *name, int64_t *day)
{
    const json_t *v = json_object_get(obj, name);
    int64_t t;
    if (v == NULL || json_is_null(v)) {
        *day = STAT_NO_DAY;
        return true;
    }
    if (!json_is_string(v) || mc_rfc3339_parse(json_string_value(v), &t) != 0)
        return false;
    *day = stat_day_of(t);
    return true;
}

/* A non-negative integer member, or -1 (absent, null or not one). */
static long long count_member(const json_t *obj, const char *name)
{
    const json_t *v = json_object_get(obj, name);
    return json_is_integer(v) && json_integer_value(v) >= 0 ? (long long)json_integer_value(v) : -1;
}

bool stat_event_parse(const json_t *event, struct stat_event *e, const char **reason)
{
    memset(e, 0, sizeof *e);
    e->evaluation_total = -1;
    const json_t *data = json_object_get(event, "data");
    const char *seq = json_string_value(json_object_get(event, "sequence"));
    int64_t occurred;
    if (seq == NULL || sscanf(seq, "%lld", &e->sequence) != 1) {
        *reason = "no sequence";
        return false;
    }
    if (!copy_member(e->type, sizeof e->type, event, "type", true) || !json_is_object(data)) {
        *reason = "no type or data";
        return false;
    }
    if (!copy_member(e->dossier_id, sizeof e->dossier_id, data, "dossier_id", true) ||
        !copy_member(e->code, sizeof e->code, data, "code", false) ||
        !copy_member(e->agency, sizeof e->agency, data, "handling_agency", true) ||
        !copy_member(e->procedure, sizeof e->procedure, data, "procedure_code", true) ||
        !copy_member(e->sector, sizeof e->sector, data, "sector_code", true) ||
        !copy_member(e->channel, sizeof e->channel, data, "channel", true) ||
        !copy_member(e->action, sizeof e->action, data, "action", true) ||
        !copy_member(e->outcome, sizeof e->outcome, data, "outcome", false)) {
        *reason = "a member is missing or too long";
        return false;
    }
    const json_t *from = json_object_get(data, "from_status"), *to = json_object_get(data, "to_status");
    if (!json_is_integer(from) || !json_is_integer(to)) {
        *reason = "no from_status or to_status";
        return false;
    }
    e->from_status = (int)json_integer_value(from);
    e->to_status = (int)json_integer_value(to);
    const json_t *occurred_v = json_object_get(data, "occurred_at");
    if (!json_is_string(occurred_v) || mc_rfc3339_parse(json_string_value(occurred_v), &occurred) != 0 ||
        !day_member(data, "due_at", &e->due_day)) {
        *reason = "occurred_at or due_at is not a date-time";
        return false;
    }
    e->day = stat_day_of(occurred);
    e->at = (int64_t)occurred;
    e->fee_amount = count_member(data, "fee_amount");
    const json_t *counts = json_object_get(data, "document_counts");
    e->application_files = count_member(counts, "application");
    e->result_files = count_member(counts, "result");
    e->documents_known = e->application_files >= 0 && e->result_files >= 0;
    const json_t *details = json_object_get(data, "details");
    /* Only the payment service confirms with a provider (VNPay, the national
       platform): a fee taken at the counter is confirmed without one. */
    e->paid_online = json_is_string(json_object_get(details, "provider"));
    if (strcmp(e->type, "dossier.dossier.evaluated") == 0 && json_is_object(details)) {
        const json_t *total = json_object_get(details, "total");
        if (json_is_integer(total))
            e->evaluation_total = (int)json_integer_value(total);
        copy_member(e->satisfaction, sizeof e->satisfaction, details, "satisfaction", false);
    }
    return true;
}

/* Add a counter change, merged with an earlier one of the same key. */
static void add(struct stat_deltas *out, const struct stat_fact *f, int64_t day, enum stat_measure m,
                long long value)
{
    for (size_t i = 0; i < out->n; i++) {
        struct stat_delta *d = &out->items[i];
        if (d->day == day && d->measure == m && strcmp(d->agency, f->agency) == 0 &&
            strcmp(d->procedure, f->procedure) == 0 && strcmp(d->sector, f->sector) == 0) {
            d->value += value;
            return;
        }
    }
    if (out->n == STAT_DELTAS_MAX)
        return; /* cannot happen: one event makes at most 16 changes */
    struct stat_delta *d = &out->items[out->n++];
    snprintf(d->agency, sizeof d->agency, "%s", f->agency);
    snprintf(d->procedure, sizeof d->procedure, "%s", f->procedure);
    snprintf(d->sector, sizeof d->sector, "%s", f->sector);
    d->day = day;
    d->measure = m;
    d->value = value;
}

/* The dossier leaves the stocks on day d: a crossing still ahead (on or after
   d) is taken back; one behind it means the dossier is counted overdue. */
static void stock_leave(struct stat_fact *f, int64_t d, struct stat_deltas *out)
{
    if (f->open) {
        if (f->crossing_day != STAT_NO_DAY && f->crossing_day < d) {
            add(out, f, d, M_OPEN_OVERDUE, -1);
        } else {
            if (f->crossing_day != STAT_NO_DAY) {
                add(out, f, f->crossing_day, M_OPEN_WITHIN, +1);
                add(out, f, f->crossing_day, M_OPEN_OVERDUE, -1);
            }
            add(out, f, d, M_OPEN_WITHIN, -1);
        }
    }
    if (f->in_supplement)
        add(out, f, d, M_AWAITING_SUPPLEMENT, -1);
    f->crossing_day = STAT_NO_DAY;
}

/* The dossier enters the stocks on day d as it now stands. */
static void stock_enter(struct stat_fact *f, int64_t d, struct stat_deltas *out)
{
    if (f->open) {
        add(out, f, d, M_OPEN_WITHIN, +1);
        if (f->due_day != STAT_NO_DAY) {
            f->crossing_day = f->due_day > d ? f->due_day : d;
            add(out, f, f->crossing_day, M_OPEN_WITHIN, -1);
            add(out, f, f->crossing_day, M_OPEN_OVERDUE, +1);
        }
    }
    if (f->in_supplement)
        add(out, f, d, M_AWAITING_SUPPLEMENT, +1);
}

static void close_as(struct stat_fact *f, int64_t d, const char *kind)
{
    f->closed_day = d;
    snprintf(f->closed_kind, sizeof f->closed_kind, "%s", kind);
}

static void drop_zeros(struct stat_deltas *out)
{
    size_t k = 0;
    for (size_t i = 0; i < out->n; i++)
        if (out->items[i].value != 0)
            out->items[k++] = out->items[i];
    out->n = k;
}

bool stat_fact_apply(struct stat_fact *f, const struct stat_event *e, struct stat_deltas *out)
{
    const int64_t d = e->day;
    if (f->exists && e->sequence <= f->sequence)
        return false;
    if (!f->exists) {
        memset(f, 0, sizeof *f);
        f->exists = true;
        snprintf(f->dossier_id, sizeof f->dossier_id, "%s", e->dossier_id);
        f->due_day = f->crossing_day = f->received_day = f->resolved_day = f->closed_day = STAT_NO_DAY;
    }
    stock_leave(f, d, out);
    bool was_counted = f->received_day != STAT_NO_DAY && f->open;
    char old_agency[STAT_AGENCY_MAX];
    snprintf(old_agency, sizeof old_agency, "%s", f->agency);

    /* The dossier as the event describes it now. */
    snprintf(f->code, sizeof f->code, "%s", e->code);
    snprintf(f->agency, sizeof f->agency, "%s", e->agency);
    snprintf(f->procedure, sizeof f->procedure, "%s", e->procedure);
    snprintf(f->sector, sizeof f->sector, "%s", e->sector);
    snprintf(f->channel, sizeof f->channel, "%s", e->channel);
    f->status = e->to_status;
    f->due_day = e->due_day;
    f->sequence = e->sequence;
    if (e->outcome[0] != '\0')
        snprintf(f->outcome, sizeof f->outcome, "%s", e->outcome);

    /* A transfer while open: the old agency hands the stock to the new one. */
    if (was_counted && strcmp(old_agency, f->agency) != 0) {
        struct stat_fact old = *f;
        snprintf(old.agency, sizeof old.agency, "%s", old_agency);
        add(out, &old, d, M_TRANSFERRED_OUT, 1);
        add(out, f, d, M_TRANSFERRED_IN, 1);
    }

    /* What happened: the flows of the day. */
    if (f->received_day == STAT_NO_DAY && e->from_status == ST_SUBMITTED &&
        e->to_status == ST_RECEIVED) {
        f->received_day = d;
        snprintf(f->received_agency, sizeof f->received_agency, "%s", f->agency);
        add(out, f, d, strcmp(f->channel, "online") == 0 ? M_RECEIVED_ONLINE : M_RECEIVED_OFFLINE, 1);
        if (e->documents_known) {
            add(out, f, d, M_RECEIVED_DOCUMENTS_KNOWN, 1);
            if (e->application_files > 0)
                add(out, f, d, M_RECEIVED_DIGITISED, 1);
        }
    } else if (e->to_status == ST_REFUSED && f->closed_day == STAT_NO_DAY) {
        close_as(f, d, "refused");
        add(out, f, d, M_REFUSED, 1);
    } else if (e->to_status == ST_RESULT_READY && e->from_status != ST_RESULT_READY &&
               f->received_day != STAT_NO_DAY && f->resolved_day == STAT_NO_DAY) {
        /* Compared with the legal due date, day by day (DOMAIN.md §5): never
           the appointment an apology gave. A paused clock has no due date:
           the result is then on time. */
        f->resolved_day = d;
        close_as(f, d, "resolved");
        enum stat_measure m = M_RESOLVED_ON_TIME;
        if (f->due_day != STAT_NO_DAY && d < f->due_day)
            m = M_RESOLVED_EARLY;
        else if (f->due_day != STAT_NO_DAY && d > f->due_day)
            m = M_RESOLVED_OVERDUE;
        snprintf(f->timeliness, sizeof f->timeliness, "%s",
                 m == M_RESOLVED_EARLY ? "early" : m == M_RESOLVED_OVERDUE ? "overdue" : "on_time");
        add(out, f, d, m, 1);
        if (e->documents_known) {
            add(out, f, d, M_RESOLVED_DOCUMENTS_KNOWN, 1);
            if (e->result_files > 0)
                add(out, f, d, M_RESOLVED_ELECTRONIC, 1);
        }
    } else if (e->to_status == ST_RESULT_RETURNED && e->from_status == ST_RESULT_READY &&
               f->received_day != STAT_NO_DAY) {
        add(out, f, d, M_RETURNED, 1);
    } else if (e->to_status == ST_STOPPED && e->from_status != ST_STOPPED &&
               f->received_day != STAT_NO_DAY && f->closed_day == STAT_NO_DAY) {
        bool withdrawn = e->from_status == ST_WITHDRAWAL_REQUESTED;
        close_as(f, d, withdrawn ? "withdrawn" : "stopped");
        add(out, f, d, withdrawn ? M_WITHDRAWN : M_STOPPED, 1);
    } else if (strcmp(e->type, "dossier.dossier.evaluated") == 0 && !f->evaluated &&
               e->evaluation_total >= 0) {
        f->evaluated = true;
        add(out, f, d, M_EVALUATIONS, 1);
        add(out, f, d, M_EVALUATION_POINTS, e->evaluation_total);
        if (strcmp(e->satisfaction, "very_satisfied") == 0)
            add(out, f, d, M_VERY_SATISFIED, 1);
        else if (strcmp(e->satisfaction, "satisfied") == 0)
            add(out, f, d, M_SATISFIED, 1);
        else
            add(out, f, d, M_NOT_SATISFIED, 1);
    }

    /* A fee settled: once per dossier, on the confirmation's day (the fee's
       date); a zero or no demand (exempt) is no fee. */
    if (!f->fee_paid && e->fee_amount > 0 &&
        (strcmp(e->action, "confirm_payment") == 0 ||
         strcmp(e->action, "confirm_submission_payment") == 0)) {
        f->fee_paid = true;
        add(out, f, d, M_FEES_PAID, 1);
        if (e->paid_online)
            add(out, f, d, M_FEES_PAID_ONLINE, 1);
    }

    f->open = f->received_day != STAT_NO_DAY && f->closed_day == STAT_NO_DAY &&
              status_is_open(f->status);
    f->in_supplement = f->open && f->status == ST_SUPPLEMENT_REQUESTED;
    stock_enter(f, d, out);
    drop_zeros(out);
    return true;
}
