-- The feed consumer probe's own tables (tests/feed/feed_consumer_probe.c): one row per
-- event applied, deliberately without a unique key, so that a doubled effect is seen
-- and counted by tests/api/test_feed_consumer.py instead of being refused.
CREATE TABLE IF NOT EXISTS applied (
    event_id    uuid        NOT NULL,
    sequence    bigint      NOT NULL,
    instance    text        NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE TABLE IF NOT EXISTS resyncs (
    oldest_after  bigint      NOT NULL,
    instance      text        NOT NULL,
    at            timestamptz NOT NULL DEFAULT clock_timestamp()
);
