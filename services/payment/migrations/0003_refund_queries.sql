-- Refunds whose gateway answer was lost or said "in progress" are settled later by a
-- status query (sweep.c): when the next query is due and how many were made (the
-- back-off). next_query_at is NULL once the refund is settled, or when three days of
-- asking decided nothing (the reconciliation then decides).
ALTER TABLE refunds
    ADD COLUMN query_attempts integer     NOT NULL DEFAULT 0,
    ADD COLUMN next_query_at  timestamptz;
CREATE INDEX refunds_query_due ON refunds (next_query_at) WHERE state = 'pending';
