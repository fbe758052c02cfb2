/* Which events notify the citizen, and their template variables (notify_rules.h). */
#include "notify_rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EV(x) "dossier.dossier." x

static const struct notify_kind kinds[] = {
    {EV("received"), "received", true},
    {EV("supplement_requested"), "supplement_requested", true},
    {EV("payment_requested"), "payment_requested", false},
    {EV("approved"), "result_ready", false},
    {EV("rejected"), "result_ready", false},
    {EV("apology_issued"), "apology", true},
    {EV("refused"), "refused", true},
    {EV("stopped"), "stopped", true},
};

const struct notify_kind *notify_kind_for_event(const char *event_type)
{
    if (event_type == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].event_type, event_type) == 0)
            return &kinds[i];
    return NULL;
}

bool notify_format_date(const char *rfc3339, char out[11])
{
    if (rfc3339 == NULL || strlen(rfc3339) < 10 || rfc3339[4] != '-' || rfc3339[7] != '-')
        return false;
    for (size_t i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (rfc3339[i] < '0' || rfc3339[i] > '9'))
            return false;
    snprintf(out, 11, "%.2s/%.2s/%.4s", rfc3339 + 8, rfc3339 + 5, rfc3339);
    return true;
}

void notify_format_amount(long long amount, char *out, size_t out_len)
{
    char digits[32];
    unsigned long long v = amount < 0 ? 0ULL - (unsigned long long)amount : (unsigned long long)amount;
    int n = snprintf(digits, sizeof digits, "%llu", v);
    char grouped[48];
    size_t g = 0;
    if (amount < 0)
        grouped[g++] = '-';
    for (int i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            grouped[g++] = '.';
        grouped[g++] = digits[i];
    }
    grouped[g] = '\0';
    snprintf(out, out_len, "%s đồng", grouped);
}

/* The strings of a JSON array joined with "; " (a new string), or null. */
static json_t *joined(const json_t *items)
{
    if (!json_is_array(items) || json_array_size(items) == 0)
        return json_null();
    size_t total = 1, i;
    const json_t *item;
    json_array_foreach (items, i, item)
        total += (json_is_string(item) ? json_string_length(item) : 0) + 2;
    char *s = malloc(total);
    if (s == NULL)
        return NULL;
    size_t len = 0;
    json_array_foreach (items, i, item) {
        if (!json_is_string(item))
            continue;
        if (len > 0) {
            memcpy(s + len, "; ", 2);
            len += 2;
        }
        memcpy(s + len, json_string_value(item), json_string_length(item));
        len += json_string_length(item);
    }
    s[len] = '\0';
    json_t *out = json_stringn(s, len);
    free(s);
    return out;
}

static json_t *string_or_null(const json_t *v)
{
    return json_is_string(v) ? json_string(json_string_value(v)) : json_null();
}

static json_t *date_or_null(const json_t *v)
{
    char d[11];
    return json_is_string(v) && notify_format_date(json_string_value(v), d) ? json_string(d)
                                                                              : json_null();
}

json_t *notify_template_vars(const json_t *data)
{
    json_t *vars = json_object();
    if (vars == NULL)
        return NULL;
    const json_t *details = json_object_get(data, "details");
    const json_t *fee = json_object_get(data, "fee_amount");
    json_t *amount = json_null();
    if (json_is_integer(fee)) {
        char text[64];
        notify_format_amount((long long)json_integer_value(fee), text, sizeof text);
        amount = json_string(text);
    }
    const char *agency = json_string_value(json_object_get(data, "handling_agency"));
    if (json_object_set_new(vars, "code", string_or_null(json_object_get(data, "code"))) != 0 ||
        json_object_set_new(vars, "procedure_code",
                            string_or_null(json_object_get(data, "procedure_code"))) != 0 ||
        json_object_set_new(vars, "agency_code",
                            agency != NULL ? json_string(agency)
                                           : string_or_null(json_object_get(data, "agency_code"))) != 0 ||
        json_object_set_new(vars, "status_name", string_or_null(json_object_get(data, "status_name"))) != 0 ||
        json_object_set_new(vars, "appointment_date",
                            date_or_null(json_object_get(data, "appointment_at"))) != 0 ||
        json_object_set_new(vars, "supplement_deadline",
                            date_or_null(json_object_get(details, "supplement_due_at"))) != 0 ||
        json_object_set_new(vars, "missing_items", joined(json_object_get(data, "missing_items"))) != 0 ||
        json_object_set_new(vars, "reasons", joined(json_object_get(data, "reasons"))) != 0 ||
        json_object_set_new(vars, "amount", amount) != 0 ||
        json_object_set_new(vars, "outcome", string_or_null(json_object_get(data, "outcome"))) != 0) {
        json_decref(vars);
        return NULL;
    }
    return vars;
}
