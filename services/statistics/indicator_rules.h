/*
 * Decision 766 indicators from rollup sums (pure, no I/O): what our data
 * measures, and the scores of a versioned formula (migration
 * 0002_indicator_formulas.sql; docs/services/statistics.md).
 */
#ifndef STATISTICS_INDICATOR_RULES_H
#define STATISTICS_INDICATOR_RULES_H

#include <jansson.h>

#include "report_rules.h"

/* The measured indicators of sums (a new object): on_time_share,
   online_filing_share, satisfied_share, evaluations, average_points (of 18),
   and null for what the events do not tell yet (online procedures with
   dossiers, paid online, digitised, electronic results). */
json_t *stat_766_values(const struct stat_sums *s);

/* The scores of `formula` ({"groups": [{code, weight, indicators: [{code,
   target}]}]}; a target may be {"province": x, "commune": y}, chosen by
   admin_level, "province" otherwise) over `values` (a new object):
   {groups: [{code, weight, score|null, indicators: [{code, value, target,
   score|null}]}], score, weight_measured}. NULL when the formula is malformed. */
json_t *stat_766_scores(const json_t *formula, const json_t *values, const char *admin_level);

#endif
