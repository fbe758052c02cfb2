-- The rollups the agency-level reports read (docs/services/statistics.md, "Cost"):
-- the daily counters of migration 0001 summed over procedures, per agency and day
-- and per agency and month. store_rollup_add writes all three in one statement, so
-- they always agree. A report of an agency's subtree reads whole months from
-- agency_months and only the days of a partly covered month from agency_days, and a
-- stock (the running sum of its deltas) from the months before plus the days of its
-- own month: at most agencies x (months + 62 days) x measures rows, however many
-- dossiers were counted.

CREATE TABLE agency_days (
    agency_code         text        NOT NULL,
    day                 date        NOT NULL,
    measure             text        NOT NULL,
    value               bigint      NOT NULL,
    PRIMARY KEY (agency_code, day, measure)
);

CREATE TABLE agency_months (
    agency_code         text        NOT NULL,
    month               date        NOT NULL CHECK (extract(day FROM month) = 1),
    measure             text        NOT NULL,
    value               bigint      NOT NULL,
    PRIMARY KEY (agency_code, month, measure)
);

-- What was counted before this migration.
INSERT INTO agency_days (agency_code, day, measure, value)
SELECT agency_code, day, measure, sum(value) FROM rollups GROUP BY 1, 2, 3;
INSERT INTO agency_months (agency_code, month, measure, value)
SELECT agency_code, date_trunc('month', day::timestamp)::date, measure, sum(value)
FROM rollups GROUP BY 1, 2, 3;
ANALYZE agency_days;
ANALYZE agency_months;
