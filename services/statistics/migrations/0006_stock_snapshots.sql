-- Month-start stocks (docs/services/statistics.md, "Cost"): a stock (in progress
-- within deadline, overdue, awaiting supplement) is the running sum of its deltas
-- from the beginning, so a report read every month before its bound from
-- agency_months (three stock measures per agency and month: about 2,200 rows three
-- years in). stock_snapshots holds, per agency and measure, the sum of every delta
-- dated before the month's first day; a report reads that row and only the months
-- after it. Written by the statistics service's snapshot step (stock_snapshots.c)
-- once the month before has settled (no later event can be dated before the month:
-- the watermark of migration 0005). stock_snapshot_months lists the months whose
-- snapshot is complete (an agency without a row there had no stock yet); a report
-- uses only those, and reads from the months as before when there is none.
CREATE TABLE stock_snapshots (
    month               date        NOT NULL CHECK (extract(day FROM month) = 1),
    agency_code         text        NOT NULL,
    measure             text        NOT NULL,
    value               bigint      NOT NULL,
    PRIMARY KEY (month, agency_code, measure)
);

CREATE TABLE stock_snapshot_months (
    month               date        PRIMARY KEY CHECK (extract(day FROM month) = 1)
);
