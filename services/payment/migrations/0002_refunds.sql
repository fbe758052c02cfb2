-- Refunds: one row per request of an officer or agency administrator. The amount is
-- reserved on the payment (payments.amount_refunded) when the request is recorded, under
-- the payment's row lock, so two refunds racing can never exceed what was paid; a refund
-- the gateway refuses gives its amount back.
CREATE TABLE refunds (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    payment_id      uuid        NOT NULL REFERENCES payments (id),
    reference       text        NOT NULL UNIQUE,  -- vnp_RequestId / MaHoanTien
    amount          bigint      NOT NULL CHECK (amount > 0),
    reason          text        NOT NULL,
    state           text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'succeeded', 'failed')),
    requested_by    text        NOT NULL,
    gateway_code    text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    settled_at      timestamptz
);
CREATE INDEX refunds_by_payment ON refunds (payment_id, created_at);
