/* Reconciliation, the pure part (reconcile_rules.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "motcua/csv.h"
#include "reconcile_rules.h"

/* ---- reading the statement ---- */

#define MAX_FIELDS 16
#define FIELD_MAX 256

struct csv_reader {
    const char *p, *end;
};

/* The next record's fields (copied, truncated to FIELD_MAX - 1) into f;
   *nf their count. false at the end of the text or on a malformed record
   (*bad set). */
static bool next_record(struct csv_reader *r, char f[MAX_FIELDS][FIELD_MAX], size_t *nf, bool *bad)
{
    *nf = 0;
    if (r->p >= r->end)
        return false;
    for (;;) {
        char *out = f[*nf];
        size_t n = 0;
        if (r->p < r->end && *r->p == '"') {
            r->p++;
            for (;;) {
                if (r->p >= r->end) {
                    *bad = true; /* an unterminated quote */
                    return false;
                }
                if (*r->p == '"') {
                    if (r->p + 1 < r->end && r->p[1] == '"')
                        r->p++;
                    else {
                        r->p++;
                        break;
                    }
                }
                if (n + 1 < FIELD_MAX)
                    out[n++] = *r->p;
                r->p++;
            }
        } else {
            while (r->p < r->end && *r->p != ',' && *r->p != '\r' && *r->p != '\n') {
                if (n + 1 < FIELD_MAX)
                    out[n++] = *r->p;
                r->p++;
            }
        }
        out[n] = '\0';
        (*nf)++;
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            if (*nf == MAX_FIELDS) {
                *bad = true;
                return false;
            }
            continue;
        }
        if (r->p < r->end && *r->p == '\r')
            r->p++;
        if (r->p < r->end && *r->p == '\n')
            r->p++;
        else if (r->p < r->end) {
            *bad = true; /* text after a closing quote */
            return false;
        }
        return true;
    }
}

enum column { COL_MERCHANT, COL_REF, COL_NO, COL_TYPE, COL_AMOUNT, COL_STATUS, COL_COUNT };
static const char *const column_names[COL_COUNT] = {
    "merchant_code", "txn_ref", "transaction_no", "transaction_type", "amount", "status"};

static bool amount_of(const char *s, long long *out)
{
    if (*s == '\0' || strlen(s) > 15)
        return false;
    long long v = 0;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return true;
}

bool recon_statement_parse(const char *text, size_t len, const char *merchant_code,
                           struct recon_line **out, size_t *n, char *why, size_t why_len)
{
    *out = NULL;
    *n = 0;
    struct csv_reader r = {text, text + len};
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        r.p += 3;
    char(*fields)[FIELD_MAX] = malloc(MAX_FIELDS * sizeof *fields);
    if (fields == NULL) {
        snprintf(why, why_len, "out of memory");
        return false;
    }
    size_t nf = 0, cap = 0, line = 1;
    bool bad = false, ok = false;
    int col[COL_COUNT];
    if (!next_record(&r, fields, &nf, &bad)) {
        snprintf(why, why_len, "no header line");
        goto done;
    }
    for (size_t c = 0; c < COL_COUNT; c++) {
        col[c] = -1;
        for (size_t i = 0; i < nf; i++)
            if (strcmp(fields[i], column_names[c]) == 0)
                col[c] = (int)i;
        if (col[c] < 0) {
            snprintf(why, why_len, "no column %s", column_names[c]);
            goto done;
        }
    }
    while (next_record(&r, fields, &nf, &bad)) {
        line++;
        if (nf == 1 && fields[0][0] == '\0')
            continue; /* a blank line */
        bool fits = true;
        for (size_t c = 0; c < COL_COUNT; c++)
            fits = fits && (size_t)col[c] < nf;
        if (!fits) {
            snprintf(why, why_len, "line %zu: %zu fields", line, nf);
            goto done;
        }
        if (strcmp(fields[col[COL_MERCHANT]], merchant_code) != 0)
            continue;
        struct recon_line l = {0};
        const char *type = fields[col[COL_TYPE]];
        if (strcmp(type, "01") == 0)
            l.type = RECON_PAYMENT;
        else if (strcmp(type, "02") == 0 || strcmp(type, "03") == 0)
            l.type = RECON_REFUND;
        else {
            snprintf(why, why_len, "line %zu: transaction_type is not 01, 02 or 03", line);
            goto done;
        }
        if (!amount_of(fields[col[COL_AMOUNT]], &l.amount)) {
            snprintf(why, why_len, "line %zu: amount is not a whole number of VND", line);
            goto done;
        }
        if (fields[col[COL_REF]][0] == '\0' || strlen(fields[col[COL_REF]]) >= sizeof l.txn_ref ||
            strlen(fields[col[COL_NO]]) >= sizeof l.transaction_no ||
            strlen(fields[col[COL_STATUS]]) >= sizeof l.status) {
            snprintf(why, why_len, "line %zu: txn_ref, transaction_no or status malformed", line);
            goto done;
        }
        strcpy(l.txn_ref, fields[col[COL_REF]]);
        strcpy(l.transaction_no, fields[col[COL_NO]]);
        strcpy(l.status, fields[col[COL_STATUS]]);
        if (*n == cap) {
            cap = cap == 0 ? 64 : cap * 2;
            struct recon_line *grown = realloc(*out, cap * sizeof **out);
            if (grown == NULL) {
                snprintf(why, why_len, "out of memory");
                goto done;
            }
            *out = grown;
        }
        (*out)[(*n)++] = l;
    }
    if (bad) {
        snprintf(why, why_len, "line %zu: malformed CSV", line + 1);
        goto done;
    }
    ok = true;
done:
    free(fields);
    if (!ok) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return ok;
}

/* ---- comparing ---- */

const char *recon_kind_name(enum recon_kind k)
{
    static const char *const names[] = {"missing_there", "missing_here", "amount", "status"};
    return names[k];
}

const char *recon_type_name(enum recon_txn_type t)
{
    return t == RECON_PAYMENT ? "payment" : "refund";
}

/* Statement lines sorted by (type, reference), searched by binary search. */
struct line_index {
    const struct recon_line *lines;
    const struct recon_line **order;
    size_t n;
    bool *used; /* by position in lines */
};

static int line_key_cmp(enum recon_txn_type type, const char *ref, const struct recon_line *l)
{
    if (type != l->type)
        return type < l->type ? -1 : 1;
    return strcmp(ref, l->txn_ref);
}

static int order_cmp(const void *a, const void *b)
{
    const struct recon_line *x = *(const struct recon_line *const *)a;
    const struct recon_line *y = *(const struct recon_line *const *)b;
    int c = line_key_cmp(x->type, x->txn_ref, y);
    if (c != 0)
        return c;
    return x < y ? -1 : (x > y); /* one array: statement order among equals */
}

/* The first unused line of (type, ref) (and of `amount` when >= 0), or SIZE_MAX. */
static size_t find_line(const struct line_index *ix, enum recon_txn_type type, const char *ref,
                        long long amount)
{
    size_t lo = 0, hi = ix->n;
    while (lo < hi) { /* the first position whose key is >= (type, ref) */
        size_t mid = lo + (hi - lo) / 2;
        if (line_key_cmp(type, ref, ix->order[mid]) > 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < ix->n && line_key_cmp(type, ref, ix->order[i]) == 0; i++) {
        size_t k = (size_t)(ix->order[i] - ix->lines);
        if (!ix->used[k] && (amount < 0 || ix->lines[k].amount == amount))
            return k;
    }
    return SIZE_MAX;
}

static bool add(struct recon_result *r, size_t *cap, enum recon_kind kind,
                const struct recon_record *ours, const struct recon_line *theirs)
{
    if (r->n_mismatches == *cap) {
        *cap = *cap == 0 ? 16 : *cap * 2;
        struct recon_mismatch *grown = realloc(r->mismatches, *cap * sizeof *grown);
        if (grown == NULL)
            return false;
        r->mismatches = grown;
    }
    struct recon_mismatch *m = &r->mismatches[r->n_mismatches++];
    *m = (struct recon_mismatch){.kind = kind, .our_amount = -1, .their_amount = -1};
    m->type = ours != NULL ? ours->type : theirs->type;
    snprintf(m->txn_ref, sizeof m->txn_ref, "%s", ours != NULL ? ours->txn_ref : theirs->txn_ref);
    if (ours != NULL) {
        snprintf(m->payment_id, sizeof m->payment_id, "%s", ours->payment_id);
        snprintf(m->our_state, sizeof m->our_state, "%s", ours->state);
        m->our_amount = ours->amount;
    }
    if (theirs != NULL) {
        snprintf(m->transaction_no, sizeof m->transaction_no, "%s", theirs->transaction_no);
        snprintf(m->their_status, sizeof m->their_status, "%s", theirs->status);
        m->their_amount = theirs->amount;
    }
    return true;
}

static bool settled_here(const struct recon_record *o)
{
    return strcmp(o->state, o->type == RECON_PAYMENT ? "paid" : "succeeded") == 0;
}

bool recon_compare(const struct recon_record *ours, size_t n_ours, const struct recon_line *theirs,
                   size_t n_theirs, struct recon_result *out)
{
    *out = (struct recon_result){.statement_lines = n_theirs};
    size_t cap = 0;
    struct line_index ix = {theirs, calloc(n_theirs + 1, sizeof(const struct recon_line *)),
                            n_theirs, calloc(n_theirs + 1, sizeof(bool))};
    bool *paired = calloc(n_ours + 1, sizeof(bool));
    bool ok = ix.order != NULL && ix.used != NULL && paired != NULL;
    for (size_t i = 0; ok && i < n_theirs; i++) {
        ix.order[i] = &theirs[i];
        if (strcmp(theirs[i].status, "00") == 0) {
            if (theirs[i].type == RECON_PAYMENT)
                out->their_paid += theirs[i].amount;
            else
                out->their_refunded += theirs[i].amount;
        }
    }
    if (ok && n_theirs > 1)
        qsort(ix.order, n_theirs, sizeof *ix.order, order_cmp);
    for (size_t i = 0; ok && i < n_ours; i++) {
        const struct recon_record *o = &ours[i];
        if (o->in_day && settled_here(o)) {
            if (o->type == RECON_PAYMENT)
                out->our_paid += o->amount;
            else
                out->our_refunded += o->amount;
        }
        /* Payments by reference; refunds by reference and amount first. */
        size_t k = find_line(&ix, o->type, o->txn_ref, o->type == RECON_PAYMENT ? -1 : o->amount);
        if (k == SIZE_MAX)
            continue;
        ix.used[k] = paired[i] = true;
        bool they_settled = strcmp(theirs[k].status, "00") == 0;
        if (settled_here(o) != they_settled)
            ok = add(out, &cap, RECON_STATUS, o, &theirs[k]);
        else if (o->amount != theirs[k].amount)
            ok = add(out, &cap, RECON_AMOUNT, o, &theirs[k]);
        else
            out->matched++;
    }
    /* What is settled here and still unpaired: a refund of another amount, or missing there. */
    for (size_t i = 0; ok && i < n_ours; i++) {
        const struct recon_record *o = &ours[i];
        if (paired[i] || !o->in_day || !settled_here(o))
            continue;
        size_t k = o->type == RECON_REFUND ? find_line(&ix, o->type, o->txn_ref, -1) : SIZE_MAX;
        if (k != SIZE_MAX) {
            ix.used[k] = true;
            ok = add(out, &cap, RECON_AMOUNT, o, &theirs[k]);
        } else
            ok = add(out, &cap, RECON_MISSING_THERE, o, NULL);
    }
    /* The statement's succeeded lines nobody here claims. */
    for (size_t k = 0; ok && k < n_theirs; k++)
        if (!ix.used[k] && strcmp(theirs[k].status, "00") == 0)
            ok = add(out, &cap, RECON_MISSING_HERE, NULL, &theirs[k]);
    free(ix.order);
    free(ix.used);
    free(paired);
    if (!ok)
        recon_result_clear(out);
    return ok;
}

void recon_result_clear(struct recon_result *r)
{
    free(r->mismatches);
    r->mismatches = NULL;
    r->n_mismatches = 0;
}

json_t *recon_mismatch_json(const struct recon_mismatch *m, size_t line)
{
    return json_pack("{sI ss ss ss so so so so so so}", "line", (json_int_t)line, "kind",
                     recon_kind_name(m->kind), "transaction_type", recon_type_name(m->type),
                     "txn_ref", m->txn_ref, "payment_id",
                     m->payment_id[0] != '\0' ? json_string(m->payment_id) : json_null(),
                     "transaction_no",
                     m->transaction_no[0] != '\0' ? json_string(m->transaction_no) : json_null(),
                     "our_amount", m->our_amount >= 0 ? json_integer(m->our_amount) : json_null(),
                     "their_amount",
                     m->their_amount >= 0 ? json_integer(m->their_amount) : json_null(),
                     "our_state", m->our_state[0] != '\0' ? json_string(m->our_state) : json_null(),
                     "their_status",
                     m->their_status[0] != '\0' ? json_string(m->their_status) : json_null());
}

bool recon_statement_url(const char *templ, const char *merchant_code, const char *day_yyyymmdd,
                         char *out, size_t out_len)
{
    size_t n = 0;
    for (const char *p = templ; *p != '\0';) {
        const char *value = NULL;
        size_t skip = 1;
        if (strncmp(p, "{merchant_code}", 15) == 0) {
            value = merchant_code;
            skip = 15;
        } else if (strncmp(p, "{date}", 6) == 0) {
            value = day_yyyymmdd;
            skip = 6;
        }
        if (value != NULL) {
            for (const char *v = value; *v != '\0'; v++) { /* codes are letters and digits */
                bool plain = (*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') ||
                             (*v >= '0' && *v <= '9') || *v == '-' || *v == '_' || *v == '.';
                if (!plain || n + 1 >= out_len)
                    return false;
                out[n++] = *v;
            }
        } else {
            if (n + 1 >= out_len)
                return false;
            out[n++] = *p;
        }
        p += skip;
    }
    out[n] = '\0';
    return true;
}

/* ---- the accountant's CSV ---- */

static const char *kind_label(const char *kind)
{
    static const char *const labels[][2] = {
        {"missing_there", "Có trong hệ thống, không có trong sao kê"},
        {"missing_here", "Có trong sao kê, không có trong hệ thống"},
        {"amount", "Lệch số tiền"},
        {"status", "Lệch trạng thái"},
    };
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
        if (strcmp(kind, labels[i][0]) == 0)
            return labels[i][1];
    return kind;
}

static void text_or_empty(struct mc_csv *c, const json_t *v)
{
    mc_csv_text(c, json_string_value(v));
}

static void int_or_empty(struct mc_csv *c, const json_t *v)
{
    if (json_is_integer(v))
        mc_csv_int(c, (long long)json_integer_value(v));
    else
        mc_csv_text(c, NULL);
}

static void summary_text(struct mc_csv *c, const char *label, const char *value)
{
    mc_csv_text(c, label);
    mc_csv_text(c, value);
    mc_csv_end_row(c);
}

static void summary_int(struct mc_csv *c, const char *label, const json_t *v)
{
    mc_csv_text(c, label);
    int_or_empty(c, v);
    mc_csv_end_row(c);
}

char *recon_report_csv(const json_t *report, size_t *len)
{
    static const char *const header[] = {
        "STT",          "Loại chênh lệch",    "Mã loại",           "Giao dịch",
        "Mã tham chiếu", "Mã giao dịch cổng", "Mã thanh toán",     "Số tiền hệ thống (VND)",
        "Số tiền sao kê (VND)", "Trạng thái hệ thống", "Trạng thái sao kê"};
    struct mc_csv c = {0};
    mc_csv_bom(&c);
    for (size_t i = 0; i < sizeof header / sizeof header[0]; i++)
        mc_csv_text(&c, header[i]);
    mc_csv_end_row(&c);
    size_t i;
    const json_t *m;
    json_array_foreach(json_object_get(report, "mismatches"), i, m)
    {
        const char *kind = json_string_value(json_object_get(m, "kind"));
        const char *type = json_string_value(json_object_get(m, "transaction_type"));
        int_or_empty(&c, json_object_get(m, "line"));
        mc_csv_text(&c, kind_label(kind != NULL ? kind : ""));
        mc_csv_text(&c, kind);
        mc_csv_text(&c, type != NULL && strcmp(type, "refund") == 0 ? "Hoàn tiền" : "Thanh toán");
        text_or_empty(&c, json_object_get(m, "txn_ref"));
        text_or_empty(&c, json_object_get(m, "transaction_no"));
        text_or_empty(&c, json_object_get(m, "payment_id"));
        int_or_empty(&c, json_object_get(m, "our_amount"));
        int_or_empty(&c, json_object_get(m, "their_amount"));
        text_or_empty(&c, json_object_get(m, "our_state"));
        text_or_empty(&c, json_object_get(m, "their_status"));
        mc_csv_end_row(&c);
    }
    mc_csv_end_row(&c);
    const json_t *s = json_object_get(report, "summary");
    summary_text(&c, "Tổng hợp đối soát", json_string_value(json_object_get(report, "id")));
    summary_text(&c, "Ngày", json_string_value(json_object_get(report, "date")));
    summary_text(&c, "Cơ quan", json_string_value(json_object_get(report, "agency_code")));
    summary_text(&c, "Cổng thanh toán", json_string_value(json_object_get(report, "provider")));
    summary_text(&c, "Mã đơn vị", json_string_value(json_object_get(report, "merchant_code")));
    summary_text(&c, "Kết quả", json_string_value(json_object_get(report, "state")));
    summary_int(&c, "Số dòng sao kê", json_object_get(s, "statement_lines"));
    summary_int(&c, "Số giao dịch khớp", json_object_get(s, "matched"));
    summary_int(&c, "Số chênh lệch", json_object_get(s, "mismatches"));
    summary_int(&c, "Đã thu theo hệ thống (VND)", json_object_get(s, "our_paid"));
    summary_int(&c, "Đã thu theo sao kê (VND)", json_object_get(s, "their_paid"));
    summary_int(&c, "Đã hoàn theo hệ thống (VND)", json_object_get(s, "our_refunded"));
    summary_int(&c, "Đã hoàn theo sao kê (VND)", json_object_get(s, "their_refunded"));
    return mc_csv_take(&c, len);
}
