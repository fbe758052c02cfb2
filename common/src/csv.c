/* A CSV document built in memory (motcua/csv.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "motcua/csv.h"

static void put(struct mc_csv *c, const char *s, size_t n)
{
    if (c->failed)
        return;
    if (c->len + n + 1 > c->cap) {
        size_t cap = (c->cap + n + 1) * 2;
        char *d = realloc(c->data, cap);
        if (d == NULL) {
            c->failed = true;
            return;
        }
        c->data = d;
        c->cap = cap;
    }
    memcpy(c->data + c->len, s, n);
    c->len += n;
    c->data[c->len] = '\0';
}

static void separator(struct mc_csv *c)
{
    if (c->in_row)
        put(c, ",", 1);
    c->in_row = true;
}

void mc_csv_bom(struct mc_csv *c)
{
    put(c, "\xEF\xBB\xBF", 3);
}

void mc_csv_text(struct mc_csv *c, const char *s)
{
    separator(c);
    const char *q = s != NULL ? s : "";
    put(c, "\"", 1);
    if (strchr("=+-@\t\r", *q) != NULL && *q != '\0')
        put(c, "'", 1); /* not a formula when opened in a spreadsheet */
    for (; *q != '\0'; q++) {
        put(c, q, 1);
        if (*q == '"')
            put(c, "\"", 1); /* a quote inside is doubled */
    }
    put(c, "\"", 1);
}

void mc_csv_int(struct mc_csv *c, long long v)
{
    char n[24];
    int len = snprintf(n, sizeof n, "%lld", v);
    separator(c);
    put(c, n, (size_t)len);
}

void mc_csv_end_row(struct mc_csv *c)
{
    put(c, "\r\n", 2);
    c->in_row = false;
}

char *mc_csv_take(struct mc_csv *c, size_t *len)
{
    if (c->failed || c->data == NULL) {
        free(c->data);
        *c = (struct mc_csv){0};
        return NULL;
    }
    char *out = c->data;
    *len = c->len;
    *c = (struct mc_csv){0};
    return out;
}
