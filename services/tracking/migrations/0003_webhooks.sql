-- Webhooks for agency systems (docs/services/tracking.md, "Webhooks").
--
-- A subscription belongs to an agency (its owner's agency, never wider);
-- deliveries are written by the projection in the feed consumer's
-- transaction (one per subscription and event), so every event is delivered
-- at least once even across a crash, and never enqueued twice.

CREATE TABLE webhook_subscriptions (
    id                  uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_sub           text        NOT NULL,        -- who registered it (told when it is disabled)
    agency_code         text        NOT NULL,
    url                 text        NOT NULL,
    event_types         text[]      NOT NULL DEFAULT '{}',  -- empty: every event type
    description         text        NOT NULL DEFAULT '',
    secret              text        NOT NULL,        -- whsec_..., shown once
    previous_secret     text,                        -- still signs until previous_secret_until
    previous_secret_until timestamptz,
    state               text        NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'disabled')),
    disabled_reason     text,
    disabled_at         timestamptz,
    failing_since       timestamptz,                 -- first failure since the last success
    in_flight_until     timestamptz,                 -- one delivery in flight per subscription
    revision            bigint      NOT NULL DEFAULT 1,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_subscriptions_agency ON webhook_subscriptions (agency_code, created_at, id);

CREATE TABLE webhook_deliveries (
    id                  uuid        PRIMARY KEY DEFAULT gen_random_uuid(),  -- the webhook-id
    subscription_id     uuid        NOT NULL REFERENCES webhook_subscriptions ON DELETE CASCADE,
    event_id            uuid        NOT NULL,
    event_type          text        NOT NULL,
    payload             text        NOT NULL,        -- the exact body signed and sent
    state               text        NOT NULL DEFAULT 'pending'
                                    CHECK (state IN ('pending', 'failed', 'delivered', 'given_up')),
    attempts            integer     NOT NULL DEFAULT 0,
    next_attempt_at     timestamptz NOT NULL DEFAULT now(),
    last_status         integer,
    last_error          text,
    delivered_at        timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (subscription_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE state IN ('pending', 'failed');
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (subscription_id, created_at DESC, id DESC);

-- The delivery log: every attempt with its answer.
CREATE TABLE webhook_attempts (
    id                  bigserial   PRIMARY KEY,
    delivery_id         uuid        NOT NULL REFERENCES webhook_deliveries ON DELETE CASCADE,
    attempt             integer     NOT NULL,        -- 1, 2, ... (again from 1 after a redelivery)
    attempted_at        timestamptz NOT NULL DEFAULT now(),
    status              integer,                     -- NULL: no answer
    error               text,
    duration_ms         integer     NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);
