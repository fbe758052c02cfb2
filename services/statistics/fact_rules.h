/*
 * What a dossier event does to the statistics (pure, no I/O): the dossier's
 * fact row changes and the rollup counters move (docs/services/statistics.md,
 * "How events become numbers").
 *
 * Days are civil days in Vietnam time as day numbers (days since 1970-01-01).
 * Every counter change is dated on the event's day D or later: the in-progress
 * stock of an open dossier is "within deadline" from D and turns "overdue" on
 * its crossing day max(due day, D), a change scheduled ahead of time and taken
 * back (on or after D) when the dossier leaves the stock first. So a late event
 * changes the period it happens in, never a closed one.
 */
#ifndef STATISTICS_FACT_RULES_H
#define STATISTICS_FACT_RULES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STAT_CODE_MAX 65
#define STAT_AGENCY_MAX 33
#define STAT_NO_DAY INT64_MIN

/* The measures of the rollups; stat_measure_name gives their stored names. */
enum stat_measure {
    M_RECEIVED_ONLINE,
    M_RECEIVED_OFFLINE,   /* in person and postal */
    M_RESOLVED_EARLY,
    M_RESOLVED_ON_TIME,
    M_RESOLVED_OVERDUE,
    M_RETURNED,
    M_WITHDRAWN,
    M_STOPPED,
    M_REFUSED,
    M_TRANSFERRED_IN,
    M_TRANSFERRED_OUT,
    M_EVALUATIONS,
    M_EVALUATION_POINTS,
    M_VERY_SATISFIED,
    M_SATISFIED,
    M_NOT_SATISFIED,
    /* Decision 766: fees paid (a fee demand above zero settled) and those
       paid online, on the payment's confirmation day; receipts and decisions
       whose event told the dossier's files, and those with an application
       file (digitised) or a result file (issued electronically). */
    M_FEES_PAID,
    M_FEES_PAID_ONLINE,
    M_RECEIVED_DOCUMENTS_KNOWN,
    M_RECEIVED_DIGITISED,
    M_RESOLVED_DOCUMENTS_KNOWN,
    M_RESOLVED_ELECTRONIC,
    /* stocks: deltas whose running sum is the number at the end of a day */
    M_OPEN_WITHIN,
    M_OPEN_OVERDUE,
    M_AWAITING_SUPPLEMENT,
    M_COUNT
};

const char *stat_measure_name(enum stat_measure m);
/* The measure named `name`, or -1. */
int stat_measure_from_name(const char *name);
bool stat_measure_is_stock(enum stat_measure m);

/* A dossier's fact row. */
struct stat_fact {
    bool exists;
    char dossier_id[37];
    char code[STAT_CODE_MAX];
    char agency[STAT_AGENCY_MAX];       /* counting agency: the one handling it */
    char procedure[STAT_CODE_MAX];
    char sector[STAT_CODE_MAX];
    char channel[16];
    int status;
    bool open;                          /* in the in-progress stock */
    bool in_supplement;                 /* in the awaiting-supplement stock */
    int64_t due_day;                    /* STAT_NO_DAY: no running clock */
    int64_t crossing_day;               /* open with a due day: the day it counts overdue from */
    int64_t received_day;
    char received_agency[STAT_AGENCY_MAX];
    int64_t resolved_day;
    char timeliness[10];                /* "early", "on_time", "overdue" or "" */
    char outcome[16];
    int64_t closed_day;
    char closed_kind[12];               /* "resolved", "withdrawn", "stopped", "refused" or "" */
    bool evaluated;
    bool fee_paid;                      /* a fee payment was counted (once per dossier) */
    long long sequence;                 /* the feed position of the last event applied */
};

/* The members of a dossier event the statistics use. */
struct stat_event {
    long long sequence;
    char type[64];
    char dossier_id[37];
    char code[STAT_CODE_MAX];
    char agency[STAT_AGENCY_MAX];       /* handling_agency */
    char procedure[STAT_CODE_MAX];
    char sector[STAT_CODE_MAX];
    char channel[16];
    char action[32];
    int from_status, to_status;
    int64_t day;                        /* the day of occurred_at */
    int64_t at;                         /* occurred_at, epoch seconds */
    int64_t due_day;                    /* STAT_NO_DAY when due_at is null */
    char outcome[16];
    int evaluation_total;               /* evaluated: details.total, else -1 */
    char satisfaction[20];              /* evaluated: details.satisfaction */
    long long fee_amount;               /* the fee demand, -1 when none */
    bool paid_online;                   /* a payment confirmation naming a payment provider */
    bool documents_known;               /* document_counts given (receive, approve, reject) */
    long long application_files, result_files;
};

struct stat_delta {
    char agency[STAT_AGENCY_MAX];
    char procedure[STAT_CODE_MAX];
    char sector[STAT_CODE_MAX];
    int64_t day;
    enum stat_measure measure;
    long long value;
};

#define STAT_DELTAS_MAX 32

struct stat_deltas {
    size_t n;
    struct stat_delta items[STAT_DELTAS_MAX];
};

/* The civil day in Vietnam time (UTC+7) of epoch seconds t. */
int64_t stat_day_of(int64_t t);

/* Read a CloudEvent of the dossier feed into *e. False (and a reason for the
   log, a static string) when it lacks what the statistics need. */
bool stat_event_parse(const json_t *event, struct stat_event *e, const char **reason);

/* Apply e to f (an empty fact, exists false, for a dossier not seen yet) and
   append the counter changes to out (merged: one per key, none zero). An
   event at or before the fact's last sequence was applied already (the feed
   replayed from an earlier position): false, and nothing changes. */
bool stat_fact_apply(struct stat_fact *f, const struct stat_event *e, struct stat_deltas *out);

#endif
