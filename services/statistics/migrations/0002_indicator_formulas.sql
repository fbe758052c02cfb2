-- The formulas of Decision 766/QĐ-TTg (2022) indicators as versioned data: a year's
-- weights and targets can change without code (docs/services/statistics.md,
-- "Decision 766 indicators"). A report uses the version valid on its first day.
CREATE TABLE indicator_formulas (
    version     text        PRIMARY KEY,
    valid_from  date        NOT NULL UNIQUE,
    formula     jsonb       NOT NULL
);

-- Weights of the groups we can measure (DOMAIN.md §5; those of the last groups are
-- uncertain). Each indicator's score is min(1, value / target); a group's score is its
-- weight times the mean of its measured indicators' scores.
INSERT INTO indicator_formulas (version, valid_from, formula) VALUES ('766-2022', DATE '2022-01-01', '{
  "title": "Quyết định 766/QĐ-TTg (2022)",
  "groups": [
    {"code": "timeliness", "weight": 20,
     "indicators": [{"code": "on_time_share", "target": 1.0}]},
    {"code": "online_services", "weight": 12,
     "indicators": [{"code": "online_filing_share", "target": {"province": 0.9, "commune": 0.7}},
                    {"code": "online_procedures_with_dossiers_share", "target": 1.0}]},
    {"code": "online_payment", "weight": 10,
     "indicators": [{"code": "paid_online_share", "target": 1.0}]},
    {"code": "satisfaction", "weight": 18,
     "indicators": [{"code": "satisfied_share", "target": 1.0}]},
    {"code": "digitisation", "weight": 22,
     "indicators": [{"code": "digitised_share", "target": 1.0},
                    {"code": "electronic_results_share", "target": 1.0}]}
  ]
}'::jsonb) ON CONFLICT (version) DO NOTHING;
