-- The payment service: merchant accounts per agency, fee demands learned from
-- the dossier feed, payment attempts, every gateway message, and the outbox
-- of dossier confirmations (docs/services/payment.md).

-- An agency's account with a provider. The secret and token are never
-- returned by the API.
CREATE TABLE merchants (
    agency_code    text        NOT NULL,
    provider       text        NOT NULL CHECK (provider IN ('vnpay', 'national_platform')),
    merchant_code  text        NOT NULL,
    secret         text        NOT NULL,
    token          text,
    revision       bigint      NOT NULL DEFAULT 1,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agency_code, provider),
    UNIQUE (provider, merchant_code)
);

-- A fee to pay for a dossier: "after" (the officer's request_payment) or
-- "before_submission" (pay first). One demand per dossier event; a newer
-- demand of a dossier supersedes its open ones.
CREATE TABLE demands (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    dossier_id      uuid        NOT NULL,
    dossier_code    text,
    kind            text        NOT NULL CHECK (kind IN ('after', 'before_submission')),
    agency_code     text        NOT NULL,
    procedure_code  text        NOT NULL,
    owner_sub       text,
    amount          bigint      NOT NULL CHECK (amount > 0),
    fee_items       jsonb       NOT NULL,
    source_event_id text        NOT NULL UNIQUE,
    state           text        NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'paid', 'superseded')),
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX demands_open_by_dossier ON demands (dossier_id) WHERE state = 'open';

-- An attempt to pay a demand through one provider. txn_ref is what the
-- gateway knows it by (vnp_TxnRef / MaThamChieu).
CREATE TABLE payments (
    id               uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    demand_id        uuid        NOT NULL REFERENCES demands (id),
    dossier_id       uuid        NOT NULL,
    txn_ref          text        NOT NULL UNIQUE,
    provider         text        NOT NULL CHECK (provider IN ('vnpay', 'national_platform')),
    agency_code      text        NOT NULL,
    merchant_code    text        NOT NULL,
    amount           bigint      NOT NULL CHECK (amount > 0),
    state            text        NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'paid', 'failed', 'cancelled', 'expired')),
    payer_sub        text        NOT NULL,
    redirect_url     text,
    gateway_code     text,
    transaction_no   text,
    bank_code        text,
    amount_refunded  bigint      NOT NULL DEFAULT 0 CHECK (amount_refunded >= 0 AND amount_refunded <= amount),
    revision         bigint      NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz NOT NULL,
    paid_at          timestamptz,
    settled_at       timestamptz,
    last_query_at    timestamptz
);
-- Never two paid attempts, nor two live ones, for one demand.
CREATE UNIQUE INDEX payments_one_paid_per_demand ON payments (demand_id) WHERE state = 'paid';
CREATE UNIQUE INDEX payments_one_pending_per_demand ON payments (demand_id) WHERE state = 'pending';
CREATE INDEX payments_pending_expiry ON payments (expires_at) WHERE state = 'pending';
CREATE INDEX payments_by_payer ON payments (payer_sub, created_at DESC, id DESC);
CREATE INDEX payments_by_agency ON payments (agency_code, created_at DESC, id DESC);

-- Every message to and from a gateway, raw, with signatures and secrets masked.
CREATE TABLE gateway_messages (
    id          bigserial   PRIMARY KEY,
    payment_id  uuid        REFERENCES payments (id),
    provider    text        NOT NULL,
    direction   text        NOT NULL CHECK (direction IN ('out', 'in')),
    kind        text        NOT NULL,
    body        text        NOT NULL,
    answer      text,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX gateway_messages_by_payment ON gateway_messages (payment_id, id);

-- The dossier confirmations still to send (an outbox of this service): written
-- in the transaction that marks a payment paid, sent until the dossier
-- service answers, so a dossier service down at IPN time loses nothing.
CREATE TABLE dossier_confirmations (
    payment_id       uuid        PRIMARY KEY REFERENCES payments (id),
    dossier_id       uuid        NOT NULL,
    action           text        NOT NULL CHECK (action IN ('confirm_payment', 'confirm_submission_payment')),
    body             jsonb       NOT NULL,
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    done_at          timestamptz,
    last_status      integer
);
CREATE INDEX dossier_confirmations_due ON dossier_confirmations (next_attempt_at) WHERE done_at IS NULL;
