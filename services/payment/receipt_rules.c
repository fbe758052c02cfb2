/* The e-receipt rendered as HTML (receipt_rules.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "receipt_rules.h"

static void put_escaped(FILE *f, const char *s)
{
    for (const char *p = s != NULL ? s : ""; *p != '\0'; p++) {
        switch (*p) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*p, f);
        }
    }
}

/* An amount of VND as Vietnamese write it: 1.250.000 */
static void put_vnd(FILE *f, const json_t *v)
{
    long long n = json_is_integer(v) ? (long long)json_integer_value(v) : 0;
    char digits[24], out[32];
    int len = snprintf(digits, sizeof digits, "%lld", n < 0 ? -n : n);
    size_t o = 0;
    if (n < 0)
        out[o++] = '-';
    for (int i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            out[o++] = '.';
        out[o++] = digits[i];
    }
    out[o] = '\0';
    fprintf(f, "%s&nbsp;₫", out);
}

static void row(FILE *f, const char *label, const char *value)
{
    fprintf(f, "<tr><th>%s</th><td>", label);
    put_escaped(f, value);
    fputs("</td></tr>\n", f);
}

static const char *text(const json_t *obj, const char *name)
{
    return json_string_value(json_object_get(obj, name));
}

char *receipt_html(const json_t *receipt, size_t *len)
{
    char *out = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&out, &size);
    if (f == NULL)
        return NULL;
    fputs("<!doctype html>\n<html lang=\"vi\"><head><meta charset=\"utf-8\">"
          "<title>Biên lai thu phí, lệ phí ",
          f);
    put_escaped(f, text(receipt, "receipt_no"));
    fputs("</title><style>body{font-family:sans-serif;max-width:48em;margin:2em auto}"
          "table{border-collapse:collapse;width:100%}th,td{border:1px solid #999;padding:.3em;"
          "text-align:left}td.n{text-align:right}</style></head><body>\n"
          "<h1>Biên lai thu phí, lệ phí điện tử</h1>\n<table>\n",
          f);
    row(f, "Số biên lai", text(receipt, "receipt_no"));
    row(f, "Cơ quan thu", text(receipt, "agency_code"));
    row(f, "Mã hồ sơ", text(receipt, "dossier_code"));
    row(f, "Thủ tục", text(receipt, "procedure_code"));
    row(f, "Người nộp (tài khoản)", text(receipt, "payer_account"));
    row(f, "Thời gian thanh toán", text(receipt, "paid_at"));
    row(f, "Cổng thanh toán", text(receipt, "provider"));
    row(f, "Mã giao dịch", text(receipt, "transaction_no"));
    fputs("</table>\n<h2>Các khoản phí, lệ phí</h2>\n<table>\n"
          "<tr><th>Mã</th><th>Tên khoản</th><th>Số tiền</th></tr>\n",
          f);
    size_t i;
    const json_t *item;
    json_array_foreach(json_object_get(receipt, "fee_items"), i, item)
    {
        fputs("<tr><td>", f);
        put_escaped(f, text(item, "code"));
        fputs("</td><td>", f);
        put_escaped(f, text(item, "name"));
        fputs("</td><td class=\"n\">", f);
        put_vnd(f, json_object_get(item, "amount"));
        fputs("</td></tr>\n", f);
    }
    fputs("<tr><th colspan=\"2\">Tổng cộng</th><td class=\"n\">", f);
    put_vnd(f, json_object_get(receipt, "amount"));
    fputs("</td></tr>\n</table>\n", f);
    const json_t *refunded = json_object_get(receipt, "amount_refunded");
    if (json_is_integer(refunded) && json_integer_value(refunded) > 0) {
        fputs("<p>Đã hoàn trả: ", f);
        put_vnd(f, refunded);
        fputs("</p>\n", f);
    }
    fputs("</body></html>\n", f);
    if (fclose(f) != 0) {
        free(out);
        return NULL;
    }
    *len = size;
    return out;
}
