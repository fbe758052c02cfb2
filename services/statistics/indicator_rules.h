/*
 * Decision 766 indicators from rollup sums (pure, no I/O): what our data
 * measures, and the scores of a versioned formula (migration
 * 0002_indicator_formulas.sql; docs/services/statistics.md).
 */
#ifndef STATISTICS_INDICATOR_RULES_H
#define STATISTICS_INDICATOR_RULES_H

#include <jansson.h>

#include "report_rules.h"

/* The procedures offered online (`offered`: agency -> [procedure codes])
   and how many of them received an online dossier in the period (`active`:
   agency -> {procedure code: anything}); each agency's own procedures. */
struct stat_online_procedures {
    long long offered, with_dossiers;
};
struct stat_online_procedures stat_online_procedures_count(const json_t *offered,
                                                           const json_t *active);

/* The measured indicators of sums (a new object): on_time_share,
   online_filing_share, online_procedures_with_dossiers_share (of `online`;
   NULL when the catalogue could not say), paid_online_share,
   digitised_share, electronic_results_share, satisfied_share, evaluations,
   average_points (of 18); a share is null when nothing was there to count. */
json_t *stat_766_values(const struct stat_sums *s, const struct stat_online_procedures *online);

/* The scores of `formula` ({"groups": [{code, weight, indicators: [{code,
   target}]}]}; a target may be {"province": x, "commune": y}, chosen by
   admin_level, "province" otherwise) over `values` (a new object):
   {groups: [{code, weight, score|null, indicators: [{code, value, target,
   score|null}]}], score, weight_measured}. NULL when the formula is malformed. */
json_t *stat_766_scores(const json_t *formula, const json_t *values, const char *admin_level);

#endif
