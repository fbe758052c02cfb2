-- Responses remembered for Idempotency-Key replay (ARCHITECTURE.md §2).
-- One row per (caller, key). A row stays 'pending' while the first request
-- runs; a crashed request's pending row is taken over after a minute.
CREATE TABLE IF NOT EXISTS idempotency_keys (
    principal      text        NOT NULL,
    idem_key       text        NOT NULL,
    method         text        NOT NULL,
    path           text        NOT NULL,
    request_hash   text        NOT NULL,
    state          text        NOT NULL CHECK (state IN ('pending', 'done')),
    status         integer,
    response_body  text,
    location       text,
    etag           text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (principal, idem_key)
);
CREATE INDEX IF NOT EXISTS idempotency_keys_created_at ON idempotency_keys (created_at);
