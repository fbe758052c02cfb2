/* What a dossier event says to a citizen (timeline.h). */
#include "timeline.h"

#include <string.h>

/* The national statuses (DOMAIN.md §3) in the words a citizen reads. */
static const struct {
    const char *vi, *en;
} status_labels[] = {
    [1] = {"Mới đăng ký, chờ tiếp nhận", "Submitted, awaiting intake"},
    [2] = {"Đã tiếp nhận", "Received"},
    [3] = {"Không được tiếp nhận", "Not accepted"},
    [4] = {"Đang xử lý", "In processing"},
    [5] = {"Yêu cầu bổ sung giấy tờ", "Supplement requested"},
    [6] = {"Chờ thực hiện nghĩa vụ tài chính", "Awaiting payment"},
    [7] = {"Công dân yêu cầu rút hồ sơ", "Withdrawal requested"},
    [8] = {"Dừng xử lý", "Processing stopped"},
    [9] = {"Đã xử lý xong, có kết quả", "Processed, result ready"},
    [10] = {"Đã trả kết quả", "Result returned"},
};

/* The steps: one per event type that changes something the citizen sees. */
static const struct {
    const char *type; /* after "dossier.dossier." */
    const char *vi, *en;
} step_labels[] = {
    {"submitted", "Nộp hồ sơ", "Dossier submitted"},
    {"received", "Tiếp nhận hồ sơ, hẹn ngày trả kết quả", "Dossier received, appointment set"},
    {"refused", "Không tiếp nhận hồ sơ", "Dossier not accepted"},
    {"supplement_requested", "Yêu cầu bổ sung giấy tờ", "Supplement requested"},
    {"supplement_provided", "Đã bổ sung giấy tờ", "Supplement provided"},
    {"step_changed", "Chuyển bước xử lý", "Processing step changed"},
    {"transferred", "Chuyển cơ quan khác xử lý", "Transferred to another agency"},
    {"payment_requested", "Yêu cầu thực hiện nghĩa vụ tài chính", "Payment requested"},
    {"payment_confirmed", "Đã thực hiện nghĩa vụ tài chính", "Payment confirmed"},
    {"approved", "Đã có kết quả giải quyết", "Result ready"},
    {"rejected", "Đã có kết quả: không giải quyết", "Result ready: not granted"},
    {"result_returned", "Đã trả kết quả", "Result returned"},
    {"withdrawal_requested", "Yêu cầu rút hồ sơ", "Withdrawal requested"},
    {"withdrawn", "Đã rút hồ sơ, dừng xử lý", "Withdrawn, processing stopped"},
    {"withdrawal_declined", "Không chấp nhận rút hồ sơ", "Withdrawal declined"},
    {"stopped", "Dừng xử lý hồ sơ", "Processing stopped"},
    {"apology_issued", "Xin lỗi và hẹn lại ngày trả kết quả", "Apology, new appointment date"},
};

/* Members only the applicant (a second factor, a signed-in reader) sees. */
static const char *const private_step_members[] = {"reasons", "missing_items", "supplement_due_at",
                                                    "fee_amount", NULL};

bool timeline_status_labels(int status, const char **vi, const char **en)
{
    if (status < 1 || status > 10)
        return false;
    *vi = status_labels[status].vi;
    *en = status_labels[status].en;
    return true;
}

bool timeline_step_labels(const char *type, const char **vi, const char **en)
{
    size_t plen = strlen(TRACKING_EVENT_PREFIX);
    if (type == NULL || strncmp(type, TRACKING_EVENT_PREFIX, plen) != 0)
        return false;
    for (size_t i = 0; i < sizeof step_labels / sizeof *step_labels; i++)
        if (strcmp(type + plen, step_labels[i].type) == 0) {
            *vi = step_labels[i].vi;
            *en = step_labels[i].en;
            return true;
        }
    return false;
}

json_t *timeline_status_json(int status, const char *name)
{
    const char *vi, *en;
    if (!timeline_status_labels(status, &vi, &en))
        return NULL;
    return json_pack("{si ss? ss ss}", "code", status, "name", name, "label_vi", vi, "label_en", en);
}

/* data's member `name` if it is a string, else JSON null (new reference). */
static json_t *string_or_null(const json_t *data, const char *name)
{
    const json_t *v = json_object_get(data, name);
    return json_is_string(v) ? json_incref((json_t *)v) : json_null();
}

static int status_of(const json_t *data, const char *name)
{
    const json_t *v = json_object_get(data, name);
    return json_is_integer(v) ? (int)json_integer_value(v) : -1;
}

json_t *timeline_card(const json_t *data)
{
    const char *code = json_string_value(json_object_get(data, "code"));
    json_t *status = timeline_status_json(status_of(data, "to_status"),
                                          json_string_value(json_object_get(data, "status_name")));
    if (code == NULL || status == NULL || !json_is_string(json_object_get(data, "agency_code")) ||
        !json_is_string(json_object_get(data, "handling_agency"))) {
        json_decref(status);
        return NULL;
    }
    json_t *procedure = json_pack("{so so}", "code", string_or_null(data, "procedure_code"), "name",
                                  string_or_null(data, "procedure_name"));
    return json_pack("{ss so so so so so so so so so so}", "code", code, "status", status,
                     "procedure", procedure, "agency_code", string_or_null(data, "agency_code"),
                     "handling_agency", string_or_null(data, "handling_agency"), "channel",
                     string_or_null(data, "channel"), "submitted_at",
                     string_or_null(data, "submitted_at"), "received_at",
                     string_or_null(data, "received_at"), "appointment_at",
                     string_or_null(data, "appointment_at"), "outcome",
                     string_or_null(data, "outcome"), "updated_at",
                     string_or_null(data, "occurred_at"));
}

json_t *timeline_asked(const char *type, const json_t *data, const json_t *previous)
{
    int status = status_of(data, "to_status");
    const json_t *details = json_object_get(data, "details");
    json_t *missing = json_null(), *due = json_null(), *fee = json_null();
    if (status == 5) {
        const json_t *items = json_object_get(data, "missing_items");
        if (json_is_array(items)) {
            json_decref(missing);
            missing = json_incref((json_t *)items);
        }
        /* the deadline is told by the request itself; later events at 5 keep it */
        const json_t *d = json_object_get(details, "supplement_due_at");
        if (!json_is_string(d) && type != NULL &&
            strcmp(type, TRACKING_EVENT_PREFIX "supplement_requested") != 0)
            d = json_object_get(previous, "supplement_due_at");
        if (json_is_string(d)) {
            json_decref(due);
            due = json_incref((json_t *)d);
        }
    } else if (status == 6) {
        const json_t *amount = json_object_get(data, "fee_amount");
        if (json_is_integer(amount)) {
            json_decref(fee);
            fee = json_incref((json_t *)amount);
        }
    }
    return json_pack("{so so so}", "missing_items", missing, "supplement_due_at", due, "fee_amount",
                     fee);
}

json_t *timeline_step(const char *type, const json_t *data, const json_t *previous_card)
{
    const char *vi, *en;
    if (!timeline_step_labels(type, &vi, &en))
        return NULL;
    json_t *status = timeline_status_json(status_of(data, "to_status"),
                                          json_string_value(json_object_get(data, "status_name")));
    if (status == NULL)
        return NULL;
    const json_t *details = json_object_get(data, "details");
    const char *appointment = json_string_value(json_object_get(data, "appointment_at"));
    const char *before = json_string_value(json_object_get(previous_card, "appointment_at"));
    bool changed = before != NULL && (appointment == NULL || strcmp(before, appointment) != 0);
    json_t *asked = timeline_asked(type, data, NULL);
    const json_t *reasons = json_object_get(data, "reasons");
    json_t *step = json_pack(
        "{ss ss? ss ss so ss? so so so so so}", "kind", type + strlen(TRACKING_EVENT_PREFIX), "at",
        json_string_value(json_object_get(data, "occurred_at")), "label_vi", vi, "label_en", en,
        "status", status, "agency_code",
        json_string_value(json_object_get(data, "handling_agency")), "appointment_at",
        string_or_null(data, "appointment_at"), "previous_appointment_at",
        changed ? json_string(before) : json_null(), "reasons",
        json_is_array(reasons) ? json_incref((json_t *)reasons) : json_null(), "missing_items",
        json_incref(json_object_get(asked, "missing_items")), "fee_amount",
        json_incref(json_object_get(asked, "fee_amount")));
    /* the request's own deadline; a transfer names both agencies (never an officer) */
    const json_t *due = json_object_get(details, "supplement_due_at");
    json_object_set_new(step, "supplement_due_at",
                        json_is_string(due) ? json_incref((json_t *)due) : json_null());
    const json_t *from = json_object_get(details, "from_agency");
    json_object_set_new(step, "from_agency",
                        json_is_string(from) ? json_incref((json_t *)from) : json_null());
    json_decref(asked);
    return step;
}

json_t *timeline_step_public(const json_t *step)
{
    json_t *copy = json_copy((json_t *)step);
    for (size_t i = 0; copy != NULL && private_step_members[i] != NULL; i++)
        json_object_del(copy, private_step_members[i]);
    return copy;
}
