/*
 * Reconciliation, the pure part (reconcile_rules.c): reading a gateway's
 * daily statement, comparing it with our payments and refunds of the day,
 * and the accountant's CSV. No I/O; tested in tests/unit/test_payment_reconcile.c.
 * The job around it is reconcile.c; the resource handle_reconciliations.c.
 */
#ifndef PAYMENT_RECONCILE_RULES_H
#define PAYMENT_RECONCILE_RULES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum recon_txn_type { RECON_PAYMENT = 0, RECON_REFUND };

/* One line of the gateway's statement (a settled payment or refund). */
struct recon_line {
    char txn_ref[65];        /* the payment's vnp_TxnRef / MaThamChieu */
    char transaction_no[65]; /* the gateway's number of this payment or refund */
    enum recon_txn_type type; /* transaction_type 01 payment; 02 full, 03 partial refund */
    long long amount;        /* VND */
    char status[8];          /* "00" succeeded */
};

/* One of ours: a payment attempt or a refund of the merchant. */
struct recon_record {
    char txn_ref[65];    /* the payment's reference (a refund: its payment's) */
    char payment_id[37];
    enum recon_txn_type type;
    long long amount;    /* VND */
    char state[16];      /* payment: pending|paid|failed|cancelled|expired; refund: pending|succeeded|failed */
    bool in_day;         /* paid (refund succeeded) within the reconciled day */
};

enum recon_kind {
    RECON_MISSING_THERE = 0, /* settled here, not in the statement */
    RECON_MISSING_HERE,      /* in the statement, not settled here */
    RECON_AMOUNT,            /* both, other amounts */
    RECON_STATUS,            /* both, the gateway says succeeded and we do not (or the reverse) */
};

struct recon_mismatch {
    enum recon_kind kind;
    enum recon_txn_type type;
    char txn_ref[65];
    char payment_id[37];      /* "" when we have none */
    char transaction_no[65];  /* the statement's, "" when it has none */
    long long our_amount;     /* -1 when we have none */
    long long their_amount;   /* -1 when the statement has none */
    char our_state[16];       /* "" when we have none */
    char their_status[8];     /* "" when the statement has none */
};

struct recon_result {
    size_t statement_lines;
    size_t matched;
    long long our_paid, our_refunded;     /* ours settled in the day, VND */
    long long their_paid, their_refunded; /* the statement's succeeded lines, VND */
    struct recon_mismatch *mismatches;    /* malloc'd, recon_result_clear */
    size_t n_mismatches;
};

/* Read a statement CSV (a header line naming at least merchant_code,
   txn_ref, transaction_no, transaction_type, amount, status, in any order;
   a UTF-8 BOM, CRLF or LF, quoted fields allowed), keeping the lines of
   merchant_code. *out malloc'd (free()). false with `why` when it cannot be
   read: a statement we cannot read is never taken as an empty one. */
bool recon_statement_parse(const char *text, size_t len, const char *merchant_code,
                           struct recon_line **out, size_t *n, char *why, size_t why_len);

/* Compare. Payments pair by reference; refunds by the payment's reference
   and amount (then by reference alone: an amount difference). Records not
   in the day take part only when the statement names them. false when out
   of memory. */
bool recon_compare(const struct recon_record *ours, size_t n_ours, const struct recon_line *theirs,
                   size_t n_theirs, struct recon_result *out);
void recon_result_clear(struct recon_result *r);

const char *recon_kind_name(enum recon_kind k);       /* "missing_there", ... */
const char *recon_type_name(enum recon_txn_type t);   /* "payment" | "refund" */

/* A mismatch as the API shows it (new), `line` its 1-based number. */
json_t *recon_mismatch_json(const struct recon_mismatch *m, size_t line);

/* The statement's URL for a merchant and day from a template with
   {merchant_code} and {date} (YYYYMMDD, Vietnam time) into out. false when
   it does not fit. */
bool recon_statement_url(const char *templ, const char *merchant_code, const char *day_yyyymmdd,
                         char *out, size_t out_len);

/* The accountant's CSV of a report (its API JSON, with `mismatches` and
   `summary`): UTF-8 with a BOM, one line per mismatch, then a blank line and
   the summary, one label and value a line. malloc'd, NULL when out of memory. */
char *recon_report_csv(const json_t *report, size_t *len);

#endif
