-- The transactional outbox (ARCHITECTURE.md §4). A service writes an event in
-- the same transaction as the change it describes, so a crash can neither lose
-- an event nor leave one for a change that rolled back.
--
-- The relay (common/src/events.c) numbers committed events with
-- published_seq, one relay transaction at a time, in the order it finds them;
-- consumers read the feed by published_seq (GET /api/v1/events?after=N), so a
-- consumer's position is one number and no committed event is skipped even if
-- transactions commit out of seq order. Delivery is at-least-once; consumers
-- are idempotent by `id`.
CREATE TABLE IF NOT EXISTS outbox (
    seq            bigserial   PRIMARY KEY,
    id             uuid        NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    type           text        NOT NULL,
    source         text        NOT NULL,
    subject        text        NOT NULL,
    time           timestamptz NOT NULL DEFAULT clock_timestamp(),
    data           jsonb       NOT NULL,
    published_seq  bigint      UNIQUE,
    published_at   timestamptz
);
CREATE INDEX IF NOT EXISTS outbox_unpublished ON outbox (seq) WHERE published_seq IS NULL;
CREATE SEQUENCE IF NOT EXISTS outbox_published_seq;
