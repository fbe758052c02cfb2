-- Outbox retention. Published events older than the retention
-- (MOTCUA_<SVC>_EVENTS_RETENTION_DAYS) are deleted by the relay, a batch at a
-- time, oldest first. outbox_horizon remembers the highest published_seq
-- deleted so far:
--   * the relay numbers new events after greatest(max(published_seq), horizon),
--     so a position is never reused even when every published row is gone;
--   * the feed answers 410 to a consumer whose position is behind it (the events
--     it has not read are gone: it must resynchronise from the resources).
CREATE TABLE IF NOT EXISTS outbox_horizon (
    only_row        boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    pruned_through  bigint  NOT NULL DEFAULT 0
);
INSERT INTO outbox_horizon (only_row, pruned_through) VALUES (true, 0) ON CONFLICT DO NOTHING;
CREATE INDEX IF NOT EXISTS outbox_published_at ON outbox (published_at) WHERE published_seq IS NOT NULL;
