/* The payment service's pure rules (payment_rules.h). */
#include <string.h>

#include "payment_rules.h"

#define EVENT_PAYMENT_REQUESTED "dossier.dossier.payment_requested"
#define EVENT_SUBMISSION_PAYMENT_REQUIRED "dossier.dossier.submission_payment_required"

static const char *str_member(const json_t *obj, const char *name)
{
    const json_t *v = json_object_get(obj, name);
    return json_is_string(v) && json_string_length(v) > 0 ? json_string_value(v) : NULL;
}

/* The first of data.<name> and data.details.<name> that is present. */
static const json_t *data_member(const json_t *data, const char *name, bool details_first)
{
    const json_t *details = json_object_get(data, "details");
    const json_t *a = json_object_get(details_first ? details : data, name);
    const json_t *b = json_object_get(details_first ? data : details, name);
    return a != NULL && !json_is_null(a) ? a : b;
}

/* fee_items as sent, checked: [{code, name, amount > 0}] summing to amount;
   else one item LEPHI of the whole amount (the contract's default). */
static json_t *fee_items(const json_t *given, long long amount)
{
    if (json_is_array(given) && json_array_size(given) > 0 && json_array_size(given) <= 50) {
        long long sum = 0;
        size_t i;
        const json_t *item;
        json_t *out = json_array();
        json_array_foreach(given, i, item)
        {
            const char *code = str_member(item, "code"), *name = str_member(item, "name");
            const json_t *a = json_object_get(item, "amount");
            if (code == NULL || name == NULL || !json_is_integer(a) || json_integer_value(a) <= 0 ||
                json_integer_value(a) > amount) {
                json_decref(out);
                return NULL;
            }
            sum += json_integer_value(a);
            json_array_append_new(out, json_pack("{ss ss sI}", "code", code, "name", name, "amount",
                                                 (json_int_t)json_integer_value(a)));
        }
        if (sum == amount)
            return out;
        json_decref(out);
        return NULL;
    }
    return json_pack("[{ss ss sI}]", "code", "LEPHI", "name", "Lệ phí", "amount", (json_int_t)amount);
}

enum demand_read demand_from_event(const json_t *event, struct demand *out)
{
    memset(out, 0, sizeof *out);
    const char *type = str_member(event, "type");
    bool after = type != NULL && strcmp(type, EVENT_PAYMENT_REQUESTED) == 0;
    bool before = type != NULL && strcmp(type, EVENT_SUBMISSION_PAYMENT_REQUIRED) == 0;
    if (!after && !before)
        return DEMAND_NONE;
    const json_t *data = json_object_get(event, "data");
    out->event_id = str_member(event, "id");
    out->dossier_id = str_member(data, "dossier_id");
    out->dossier_code = str_member(data, "code");
    out->kind = after ? DEMAND_AFTER : DEMAND_BEFORE_SUBMISSION;
    out->agency_code = str_member(data, "handling_agency");
    if (out->agency_code == NULL)
        out->agency_code = str_member(data, "agency_code");
    out->procedure_code = str_member(data, "procedure_code");
    out->owner_sub = str_member(data, "owner_sub");
    /* pay after: the officer's amount is in details; pay first: in data */
    const json_t *amount = data_member(data, "amount", after);
    if (amount == NULL || json_is_null(amount))
        amount = json_object_get(data, "fee_amount");
    out->amount = json_is_integer(amount) ? (long long)json_integer_value(amount) : -1;
    if (out->event_id == NULL || out->dossier_id == NULL || out->agency_code == NULL ||
        out->procedure_code == NULL || out->amount <= 0)
        return DEMAND_INVALID;
    out->fee_items = fee_items(data_member(data, "fee_items", after), out->amount);
    return out->fee_items != NULL ? DEMAND_OK : DEMAND_INVALID;
}

void demand_clear(struct demand *d)
{
    json_decref(d->fee_items);
    d->fee_items = NULL;
}

const char *ipn_message(const char *code)
{
    static const struct {
        const char *code, *message;
    } messages[] = {
        {IPN_OK, "Confirm Success"},
        {IPN_ORDER_NOT_FOUND, "Order not found"},
        {IPN_ALREADY_CONFIRMED, "Order already confirmed"},
        {IPN_INVALID_AMOUNT, "Invalid amount"},
        {IPN_INVALID_SIGNATURE, "Invalid signature"},
    };
    for (size_t i = 0; i < sizeof messages / sizeof messages[0]; i++)
        if (strcmp(code, messages[i].code) == 0)
            return messages[i].message;
    return "Unknown error";
}

const char *payment_unpaid_state(enum pay_provider provider, const char *gateway_code)
{
    (void)provider; /* both say 24 for a payer who cancelled */
    return strcmp(gateway_code, "24") == 0 ? "cancelled" : "failed";
}

unsigned refund_query_delay(unsigned base_s, unsigned attempts)
{
    unsigned long long delay = base_s > 0 ? base_s : 1;
    for (unsigned i = 0; i < attempts && delay < REFUND_QUERY_MAX_DELAY_S; i++)
        delay *= 2;
    return delay < REFUND_QUERY_MAX_DELAY_S ? (unsigned)delay : REFUND_QUERY_MAX_DELAY_S;
}
