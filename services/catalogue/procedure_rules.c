/*
 * Pure rules of catalogue documents. See procedure_rules.h.
 */
#include "procedure_rules.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "motcua/form_schema.h"
#include "motcua/json_spec.h"

#define PTR_LEN 512

const char *catalogue_check_not_blank(const json_t *value, const char **code)
{
    const char *s = json_string_value(value);
    if (s == NULL)
        return NULL;
    for (; *s != '\0'; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return NULL;
    *code = CATALOGUE_E_BLANK;
    return "must not be empty or only white space";
}

static void add_error(json_t *errors, size_t *count, const char *pointer, const char *code,
                      const char *message)
{
    (*count)++;
    if (errors != NULL)
        mc_errors_add(errors, pointer, code, message);
}

/* Pointer "<base>/<index>/<member>" (member may be NULL). */
static void item_pointer(char *out, const char *base, size_t index, const char *member)
{
    char item[PTR_LEN];
    mc_pointer_join_index(item, sizeof item, base, index);
    if (member != NULL)
        mc_pointer_join(out, PTR_LEN, item, member);
    else
        snprintf(out, PTR_LEN, "%s", item);
}

/* ---- Document shapes ------------------------------------------------- */

/*
 * A document shape: members in output order, each with the JSON text of its
 * default (NULL: required, copied when present) and, for nested objects or
 * arrays of objects, the shape of the nested object.
 *
 * A procedure document lists every member (api-spec ProcedureWrite): the
 * members whose default is "null" must be present but may be null, which
 * json_spec's tables cannot say (there, nullable means "null is absent"), so
 * check_present reports them; the defaults still serve agency and sector
 * bodies, whose optional members may be left out.
 */
struct shape {
    const char *name;
    const char *default_json;
    const struct shape *object; /* nested object, or the element of an array */
};

static const struct shape time_limit_shape[] = {
    {"value", NULL, NULL}, {"unit", NULL, NULL}, {NULL, NULL, NULL}};

static const struct shape fee_shape[] = {{"code", NULL, NULL},
                                         {"name", NULL, NULL},
                                         {"amount", NULL, NULL},
                                         {"description", "null", NULL},
                                         {"effective_from", "null", NULL},
                                         {"effective_to", "null", NULL},
                                         {NULL, NULL, NULL}};

static const struct shape channel_shape[] = {{"channel", NULL, NULL},
                                             {"time_limit", NULL, time_limit_shape},
                                             {"fees", "[]", fee_shape},
                                             {"fee_collection", "\"after\"", NULL},
                                             {NULL, NULL, NULL}};

static const struct shape document_shape[] = {
    {"code", NULL, NULL},          {"name", NULL, NULL},  {"template_url", "null", NULL},
    {"originals", "1", NULL},      {"copies", "0", NULL}, {"mandatory", "true", NULL},
    {"description", "null", NULL}, {NULL, NULL, NULL}};

static const struct shape processing_step_shape[] = {{"name", NULL, NULL},
                                                     {"role", NULL, NULL},
                                                     {"allowance_hours", NULL, NULL},
                                                     {NULL, NULL, NULL}};

static const struct shape case_shape[] = {
    {"code", NULL, NULL},
    {"name", NULL, NULL},
    {"steps", "[]", NULL},
    {"channels", NULL, channel_shape},
    {"documents", "[]", document_shape},
    {"form_schema", "null", NULL}, /* free-form: kept exactly as sent */
    {"processing_steps", "[]", processing_step_shape},
    {NULL, NULL, NULL}};

static const struct shape legal_basis_shape[] = {
    {"number", NULL, NULL}, {"title", NULL, NULL}, {"issued_on", "null", NULL}, {NULL, NULL, NULL}};

static const struct shape decision_shape[] = {
    {"number", NULL, NULL}, {"date", NULL, NULL}, {"summary", "null", NULL}, {NULL, NULL, NULL}};

static const struct shape procedure_shape[] = {{"code", NULL, NULL},
                                               {"name", NULL, NULL},
                                               {"sector_code", NULL, NULL},
                                               {"admin_level", NULL, NULL},
                                               {"applicant_types", NULL, NULL},
                                               {"agency_codes", NULL, NULL},
                                               {"implementing_agency", "null", NULL},
                                               {"competent_agency", "null", NULL},
                                               {"delegated_agency", "null", NULL},
                                               {"cooperating_agency", "null", NULL},
                                               {"description", "null", NULL},
                                               {"conditions", "null", NULL},
                                               {"result", "null", NULL},
                                               {"online_level", NULL, NULL},
                                               {"online_scope", NULL, NULL},
                                               {"supplement_clock", "\"restart\"", NULL},
                                               {"legal_basis", "[]", legal_basis_shape},
                                               {"publication_decision", "null", decision_shape},
                                               {"cases", NULL, case_shape},
                                               {NULL, NULL, NULL}};

static const struct shape session_shape[] = {
    {"start", NULL, NULL}, {"end", NULL, NULL}, {NULL, NULL, NULL}};

static const struct shape agency_shape[] = {
    {"code", NULL, NULL},
    {"name", NULL, NULL},
    {"admin_level", NULL, NULL},
    {"parent_code", "null", NULL},
    {"address", "null", NULL},
    {"phone", "null", NULL},
    {"email", "null", NULL},
    {"office_hours",
     "[{\"start\":\"07:00\",\"end\":\"11:30\"},{\"start\":\"13:30\",\"end\":\"17:00\"}]",
     session_shape},
    {"same_day_cutoff", "\"15:00\"", NULL},
    {NULL, NULL, NULL}};

static const struct shape sector_shape[] = {
    {"code", NULL, NULL}, {"name", NULL, NULL}, {"description", "null", NULL}, {NULL, NULL, NULL}};

static void check_present(const json_t *obj, const struct shape *shape, const char *base,
                          json_t *errors, size_t *count)
{
    for (const struct shape *m = shape; m->name != NULL; m++) {
        const json_t *v = json_object_get(obj, m->name);
        char ptr[PTR_LEN];
        mc_pointer_join(ptr, sizeof ptr, base, m->name);
        if (v == NULL) {
            if (m->default_json != NULL && strcmp(m->default_json, "null") == 0)
                add_error(errors, count, ptr, "required",
                          "is required (null when there is no value)");
            continue;
        }
        if (m->object == NULL)
            continue;
        if (json_is_object(v)) {
            check_present(v, m->object, ptr, errors, count);
        } else if (json_is_array(v)) {
            size_t i;
            const json_t *item;
            json_array_foreach(v, i, item)
            {
                char item_ptr[PTR_LEN];
                mc_pointer_join_index(item_ptr, sizeof item_ptr, ptr, i);
                if (json_is_object(item))
                    check_present(item, m->object, item_ptr, errors, count);
            }
        }
    }
}

/*
 * In an array (at `base`) report every element whose key repeats an earlier
 * element's key. The key is the element itself when `member` is NULL (an
 * array of strings), else the string member `member` of an object element.
 * Elements without a string key are skipped (the field table reports them).
 */
static void check_unique(const json_t *array, const char *base, const char *member,
                         const char *message, json_t *errors, size_t *count)
{
    if (!json_is_array(array))
        return;
    size_t n = json_array_size(array);
    for (size_t i = 1; i < n; i++) {
        const json_t *vi = json_array_get(array, i);
        const char *ki = member != NULL ? mc_json_str(vi, member, NULL) : json_string_value(vi);
        if (ki == NULL)
            continue;
        for (size_t j = 0; j < i; j++) {
            const json_t *vj = json_array_get(array, j);
            const char *kj = member != NULL ? mc_json_str(vj, member, NULL) : json_string_value(vj);
            if (kj != NULL && strcmp(ki, kj) == 0) {
                char ptr[PTR_LEN];
                item_pointer(ptr, base, i, member);
                add_error(errors, count, ptr, CATALOGUE_E_DUPLICATE, message);
                break;
            }
        }
    }
}

static void check_fees(const json_t *fees, const char *base, json_t *errors, size_t *count)
{
    check_unique(fees, base, "code", "duplicates the code of an earlier fee of this channel",
                 errors, count);
    size_t k;
    const json_t *fee;
    json_array_foreach(fees, k, fee)
    {
        const char *from = mc_json_str(fee, "effective_from", NULL);
        const char *to = mc_json_str(fee, "effective_to", NULL);
        mc_date df, dt;
        /* Both dates valid (else the field table reports them): "YYYY-MM-DD"
           strings then compare like the dates they denote. */
        if (from != NULL && to != NULL && mc_date_parse(from, &df) && mc_date_parse(to, &dt) &&
            strcmp(to, from) < 0) {
            char ptr[PTR_LEN];
            item_pointer(ptr, base, k, "effective_to");
            add_error(errors, count, ptr, CATALOGUE_E_RANGE, "must not be before effective_from");
        }
    }
}

/*
 * A channel's fee_collection must agree with its fees: "before_submission"
 * (the citizen pays to submit) needs a fee above zero to pay, and "exempt"
 * may list fees only at zero (a fee schedule that says "free of charge").
 * Absent means "after", which any fee list fits.
 */
static void check_fee_collection(const json_t *ch, const char *chan_ptr, json_t *errors,
                                 size_t *count)
{
    const char *collection = mc_json_str(ch, "fee_collection", NULL);
    const json_t *fees = json_object_get(ch, "fees");
    if (collection == NULL || !json_is_array(fees))
        return;
    bool positive = false;
    size_t k;
    const json_t *fee;
    json_array_foreach(fees, k, fee)
    {
        const json_t *amount = json_object_get(fee, "amount");
        if (json_is_integer(amount) && json_integer_value(amount) > 0)
            positive = true;
    }
    char ptr[PTR_LEN];
    mc_pointer_join(ptr, sizeof ptr, chan_ptr, "fee_collection");
    if (strcmp(collection, "before_submission") == 0 && !positive)
        add_error(errors, count, ptr, CATALOGUE_E_FEE_COLLECTION,
                  "paying before submission needs a fee above zero in fees");
    else if (strcmp(collection, "exempt") == 0 && positive)
        add_error(errors, count, ptr, CATALOGUE_E_FEE_COLLECTION,
                  "an exempt channel may list fees only with amount 0");
}

static void check_channels(const json_t *channels, const char *base, json_t *errors, size_t *count)
{
    check_unique(channels, base, "channel", "this channel is already listed for this case", errors,
                 count);
    size_t j;
    const json_t *ch;
    json_array_foreach(channels, j, ch)
    {
        char chan_ptr[PTR_LEN];
        item_pointer(chan_ptr, base, j, NULL);
        const json_t *limit = json_object_get(ch, "time_limit");
        const json_t *value = json_object_get(limit, "value");
        const char *unit = mc_json_str(limit, "unit", NULL);
        if (json_is_number(value) && unit != NULL && strcmp(unit, "calendar_days") == 0) {
            double v = json_number_value(value);
            if (isfinite(v) && floor(v) != v) {
                char lim_ptr[PTR_LEN], ptr[PTR_LEN];
                mc_pointer_join(lim_ptr, sizeof lim_ptr, chan_ptr, "time_limit");
                mc_pointer_join(ptr, sizeof ptr, lim_ptr, "value");
                add_error(errors, count, ptr, CATALOGUE_E_NOT_INTEGRAL,
                          "a time limit in calendar days must be a whole number");
            }
        }
        const json_t *fees = json_object_get(ch, "fees");
        if (json_is_array(fees)) {
            char fees_ptr[PTR_LEN];
            mc_pointer_join(fees_ptr, sizeof fees_ptr, chan_ptr, "fees");
            check_fees(fees, fees_ptr, errors, count);
        }
        check_fee_collection(ch, chan_ptr, errors, count);
    }
}

static void check_case(const json_t *c, const char *base, json_t *errors, size_t *count)
{
    char ptr[PTR_LEN];
    const json_t *channels = json_object_get(c, "channels");
    if (json_is_array(channels)) {
        mc_pointer_join(ptr, sizeof ptr, base, "channels");
        check_channels(channels, ptr, errors, count);
    }
    const json_t *documents = json_object_get(c, "documents");
    mc_pointer_join(ptr, sizeof ptr, base, "documents");
    check_unique(documents, ptr, "code", "duplicates the code of an earlier document of this case",
                 errors, count);

    const json_t *schema = json_object_get(c, "form_schema");
    if (json_is_object(schema)) {
        mc_pointer_join(ptr, sizeof ptr, base, "form_schema");
        size_t n = mc_form_schema_check(schema, ptr, errors);
        *count += n;
    }

    const json_t *steps = json_object_get(c, "processing_steps");
    size_t k;
    const json_t *step;
    json_array_foreach(steps, k, step)
    {
        const json_t *hours = json_object_get(step, "allowance_hours");
        if (json_is_number(hours) && !(json_number_value(hours) > 0)) {
            char steps_ptr[PTR_LEN];
            mc_pointer_join(steps_ptr, sizeof steps_ptr, base, "processing_steps");
            item_pointer(ptr, steps_ptr, k, "allowance_hours");
            add_error(errors, count, ptr, CATALOGUE_E_NOT_POSITIVE, "must be greater than 0");
        }
    }
}

size_t catalogue_procedure_check(const json_t *doc, json_t *errors)
{
    size_t count = 0;
    if (!json_is_object(doc))
        return 0; /* the field table reports the type */
    check_present(doc, procedure_shape, "", errors, &count);
    check_unique(json_object_get(doc, "applicant_types"), "/applicant_types", NULL,
                 "is listed twice", errors, &count);
    check_unique(json_object_get(doc, "agency_codes"), "/agency_codes", NULL, "is listed twice",
                 errors, &count);
    const json_t *cases = json_object_get(doc, "cases");
    check_unique(cases, "/cases", "code", "duplicates the code of an earlier case", errors, &count);
    size_t i;
    const json_t *c;
    json_array_foreach(cases, i, c)
    {
        if (!json_is_object(c))
            continue;
        char base[PTR_LEN];
        item_pointer(base, "/cases", i, NULL);
        check_case(c, base, errors, &count);
    }
    return count;
}

size_t catalogue_office_hours_check(const json_t *sessions, const char *base_pointer,
                                    json_t *errors)
{
    size_t count = 0;
    if (!json_is_array(sessions))
        return 0;
    int prev_start = -1, prev_end = -1;
    size_t i;
    const json_t *s;
    json_array_foreach(sessions, i, s)
    {
        int start = mc_catalogue_minutes_of_day(mc_json_str(s, "start", NULL));
        int end = mc_catalogue_minutes_of_day(mc_json_str(s, "end", NULL));
        if (start < 0 || end < 0) {
            prev_start = prev_end = -1; /* the field table reports the format */
            continue;
        }
        char ptr[PTR_LEN];
        if (end <= start) {
            item_pointer(ptr, base_pointer, i, "end");
            add_error(errors, &count, ptr, CATALOGUE_E_RANGE, "a session must end after it starts");
        } else if (prev_start >= 0 && start < prev_start) {
            item_pointer(ptr, base_pointer, i, "start");
            add_error(errors, &count, ptr, CATALOGUE_E_ORDER,
                      "sessions must be listed in ascending order");
        } else if (prev_end >= 0 && start < prev_end) {
            item_pointer(ptr, base_pointer, i, "start");
            add_error(errors, &count, ptr, CATALOGUE_E_OVERLAP, "overlaps the previous session");
        }
        if (end > start) {
            prev_start = start;
            prev_end = end;
        }
    }
    return count;
}

/* ---- Normalisation -------------------------------------------------- */

static json_t *normalize(const json_t *value, const struct shape *shape);

/* A member value: nested objects and arrays of objects are normalised too. */
static json_t *normalize_value(const json_t *v, const struct shape *nested)
{
    if (nested != NULL && json_is_object(v))
        return normalize(v, nested);
    if (nested != NULL && json_is_array(v)) {
        json_t *out = json_array();
        size_t i;
        const json_t *item;
        json_array_foreach(v, i, item)
        {
            json_t *n =
                json_is_object(item) ? normalize(item, nested) : json_incref((json_t *)item);
            if (n == NULL || json_array_append_new(out, n) != 0) {
                json_decref(out);
                return NULL;
            }
        }
        return out;
    }
    return json_deep_copy(v);
}

static json_t *normalize(const json_t *value, const struct shape *shape)
{
    json_t *out = json_object();
    if (out == NULL)
        return NULL;
    for (const struct shape *m = shape; m->name != NULL; m++) {
        const json_t *v = json_object_get(value, m->name);
        json_t *n;
        /* An explicit null counts as absent (json_spec treats it so). */
        if (v == NULL || json_is_null(v)) {
            if (m->default_json == NULL)
                continue;
            n = json_loads(m->default_json, JSON_DECODE_ANY, NULL);
        } else {
            n = normalize_value(v, m->object);
        }
        if (n == NULL || json_object_set_new(out, m->name, n) != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

static json_t *normalize_with_code(const json_t *body, const struct shape *shape, const char *code)
{
    json_t *out = normalize(body, shape);
    if (out != NULL && code != NULL && json_object_set_new(out, "code", json_string(code)) != 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}

json_t *catalogue_procedure_normalize(const json_t *doc, const char *code)
{
    return normalize_with_code(doc, procedure_shape, code);
}

json_t *catalogue_agency_normalize(const json_t *body, const char *code)
{
    return normalize_with_code(body, agency_shape, code);
}

json_t *catalogue_sector_normalize(const json_t *body, const char *code)
{
    return normalize_with_code(body, sector_shape, code);
}

/* ---- Reading stored documents ------------------------------------------ */

