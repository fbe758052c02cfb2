/* The fees of a dossier (fees.h). */
#include "fees.h"

#include <stdint.h>
#include <string.h>

#include "motcua/json_spec.h"

/* Is the fee in force on `today`? Its dates are "YYYY-MM-DD" (the catalogue
   checked them), which compare like the dates they denote; null is open. */
static bool in_force(const json_t *fee, const char *today)
{
    const char *from = mc_json_str(fee, "effective_from", NULL);
    const char *to = mc_json_str(fee, "effective_to", NULL);
    return (from == NULL || strcmp(from, today) <= 0) && (to == NULL || strcmp(today, to) <= 0);
}

static const json_t *channel_offer(const json_t *the_case, const char *channel)
{
    size_t i;
    const json_t *offer;
    json_array_foreach(json_object_get(the_case, "channels"), i, offer)
    {
        const char *name = mc_json_str(offer, "channel", NULL);
        if (name != NULL && channel != NULL && strcmp(name, channel) == 0)
            return offer;
    }
    return NULL;
}

bool dossier_pay_first_fee(const json_t *the_case, const char *channel, const char *today,
                           long long *amount, json_t **items)
{
    *amount = 0;
    *items = NULL;
    const json_t *offer = channel_offer(the_case, channel);
    const char *collection = mc_json_str(offer, "fee_collection", "after");
    if (offer == NULL || strcmp(collection, "before_submission") != 0)
        return false;
    json_t *list = json_array();
    long long total = 0;
    size_t i;
    const json_t *fee;
    json_array_foreach(json_object_get(offer, "fees"), i, fee)
    {
        const json_t *value = json_object_get(fee, "amount");
        if (!json_is_integer(value) || json_integer_value(value) <= 0 || !in_force(fee, today))
            continue;
        json_int_t v = json_integer_value(value);
        if (v > INT64_MAX - total) {
            json_decref(list);
            return false;
        }
        total += v;
        json_array_append_new(list, json_pack("{ss ss sI}", "code", mc_json_str(fee, "code", ""),
                                              "name", mc_json_str(fee, "name", ""), "amount", v));
    }
    if (total <= 0) {
        json_decref(list);
        return false;
    }
    *amount = total;
    *items = list;
    return true;
}

json_t *dossier_fee_items(const json_t *given, long long amount)
{
    if (json_is_array(given))
        return json_deep_copy(given);
    return json_pack("[{ss ss sI}]", "code", "LEPHI", "name", "Lệ phí", "amount",
                     (json_int_t)amount);
}

bool dossier_fee_items_total(const json_t *items, long long *total)
{
    *total = 0;
    size_t i;
    const json_t *item;
    json_array_foreach(items, i, item)
    {
        const json_t *value = json_object_get(item, "amount");
        if (!json_is_integer(value) || json_integer_value(value) < 0 ||
            json_integer_value(value) > INT64_MAX - *total)
            return false;
        *total += json_integer_value(value);
    }
    return true;
}
