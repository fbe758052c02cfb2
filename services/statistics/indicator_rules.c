/* Decision 766 indicators (indicator_rules.h). */
#include "indicator_rules.h"

#include <string.h>

static json_t *share(long long part, long long whole)
{
    return whole > 0 ? json_real((double)part / (double)whole) : json_null();
}

struct stat_online_procedures stat_online_procedures_count(const json_t *offered,
                                                           const json_t *active)
{
    struct stat_online_procedures n = {0, 0};
    const char *agency;
    const json_t *codes;
    json_object_foreach((json_t *)offered, agency, codes) {
        const json_t *received = json_object_get(active, agency);
        size_t i;
        const json_t *code;
        json_array_foreach(codes, i, code) {
            n.offered++;
            if (json_is_string(code) && json_object_get(received, json_string_value(code)) != NULL)
                n.with_dossiers++;
        }
    }
    return n;
}

json_t *stat_766_values(const struct stat_sums *s, const struct stat_online_procedures *online)
{
    const long long *p = s->period;
    double rate = stat_on_time_rate(s);
    long long evaluations = p[M_EVALUATIONS];
    json_t *v = json_object();
    json_object_set_new(v, "on_time_share", rate >= 0 ? json_real(rate) : json_null());
    json_object_set_new(v, "online_filing_share",
                        share(p[M_RECEIVED_ONLINE], p[M_RECEIVED_ONLINE] + p[M_RECEIVED_OFFLINE]));
    json_object_set_new(v, "online_procedures_with_dossiers_share",
                        online != NULL ? share(online->with_dossiers, online->offered) : json_null());
    json_object_set_new(v, "paid_online_share", share(p[M_FEES_PAID_ONLINE], p[M_FEES_PAID]));
    json_object_set_new(v, "digitised_share",
                        share(p[M_RECEIVED_DIGITISED], p[M_RECEIVED_DOCUMENTS_KNOWN]));
    json_object_set_new(v, "electronic_results_share",
                        share(p[M_RESOLVED_ELECTRONIC], p[M_RESOLVED_DOCUMENTS_KNOWN]));
    json_object_set_new(v, "satisfied_share", share(p[M_VERY_SATISFIED] + p[M_SATISFIED], evaluations));
    json_object_set_new(v, "evaluations", json_integer((json_int_t)evaluations));
    json_object_set_new(v, "average_points",
                        evaluations > 0 ? json_real((double)p[M_EVALUATION_POINTS] / (double)evaluations)
                                        : json_null());
    return v;
}

/* The target of an indicator for the agency's level, or a negative number. */
static double target_of(const json_t *indicator, const char *admin_level)
{
    const json_t *t = json_object_get(indicator, "target");
    if (json_is_object(t)) {
        const json_t *level = json_object_get(t, admin_level != NULL ? admin_level : "province");
        t = level != NULL ? level : json_object_get(t, "province");
    }
    return json_is_number(t) && json_number_value(t) > 0 ? json_number_value(t) : -1.0;
}

json_t *stat_766_scores(const json_t *formula, const json_t *values, const char *admin_level)
{
    const json_t *groups = json_object_get(formula, "groups");
    if (!json_is_array(groups))
        return NULL;
    json_t *out_groups = json_array();
    double total = 0, measured_weight = 0;
    size_t i;
    const json_t *g;
    json_array_foreach(groups, i, g) {
        const json_t *weight = json_object_get(g, "weight");
        const json_t *indicators = json_object_get(g, "indicators");
        const char *code = json_string_value(json_object_get(g, "code"));
        if (code == NULL || !json_is_number(weight) || !json_is_array(indicators)) {
            json_decref(out_groups);
            return NULL;
        }
        json_t *out_indicators = json_array();
        double sum = 0;
        int measured = 0;
        size_t k;
        const json_t *ind;
        json_array_foreach(indicators, k, ind) {
            const char *name = json_string_value(json_object_get(ind, "code"));
            double target = target_of(ind, admin_level);
            if (name == NULL || target < 0) {
                json_decref(out_indicators);
                json_decref(out_groups);
                return NULL;
            }
            const json_t *value = json_object_get(values, name);
            json_t *score = json_null();
            if (json_is_number(value)) {
                double ratio = json_number_value(value) / target;
                ratio = ratio > 1.0 ? 1.0 : ratio;
                sum += ratio;
                measured++;
                score = json_real(ratio);
            }
            json_array_append_new(out_indicators,
                                  json_pack("{ss sO sf so}", "code", name, "value",
                                            value != NULL ? value : json_null(), "target", target,
                                            "score", score));
        }
        json_t *group_score = json_null();
        if (measured > 0) {
            double s = json_number_value(weight) * sum / measured;
            total += s;
            measured_weight += json_number_value(weight);
            group_score = json_real(s);
        }
        json_array_append_new(out_groups, json_pack("{ss sO so so}", "code", code, "weight", weight,
                                                    "score", group_score, "indicators", out_indicators));
    }
    return json_pack("{so sf sf}", "groups", out_groups, "score", total, "weight_measured",
                     measured_weight);
}
