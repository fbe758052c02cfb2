-- How far the consumer has counted (docs/services/statistics.md, *The answer cache*):
-- the latest occurred_at of the dossier events applied, moved in the same
-- transaction as their counters. A report of a period that ended before this
-- time (minus a slack for commit-order skew) can no longer change, so its
-- answer may be kept.
CREATE TABLE applied_until (
    feed        text        PRIMARY KEY,
    occurred_at timestamptz NOT NULL
);
