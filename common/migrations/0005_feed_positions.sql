-- Event feed consumers (common/src/feed_consumer.c, docs/architecture.md): how far this
-- schema's service has consumed each feed it reads. A consumer moves `position` in the
-- same transaction as the effects of the events up to it, so effects and position
-- commit or roll back together; the row is locked (FOR UPDATE) by that transaction, and
-- only events after the stored position are applied: each is applied exactly once.
CREATE TABLE IF NOT EXISTS feed_positions (
    feed        text        PRIMARY KEY,
    position    bigint      NOT NULL DEFAULT 0 CHECK (position >= 0),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
