-- Reconciliation: each run compares one merchant's payments and refunds of a
-- Vietnam-time day with the gateway's statement of that day (reconcile.c).
-- A day is re-runnable: a new run of (day, agency, provider) becomes the
-- current one and names the one it supersedes; the history is kept. Runs of
-- one (day, agency, provider) are serialised by an advisory lock, and the
-- partial unique index keeps one current run whatever happens.
CREATE TABLE reconciliations (
    id               uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    day              date        NOT NULL,
    agency_code      text        NOT NULL,
    provider         text        NOT NULL CHECK (provider IN ('vnpay', 'national_platform')),
    merchant_code    text        NOT NULL,
    state            text        NOT NULL CHECK (state IN ('matched', 'mismatched', 'failed')),
    failure          text,       -- why a failed run could not compare (no statement, unreadable)
    trigger          text        NOT NULL CHECK (trigger IN ('schedule', 'request')),
    requested_by     text,       -- the account that asked (a request), never a name
    current          boolean     NOT NULL DEFAULT true,
    supersedes       uuid        REFERENCES reconciliations (id),
    statement_lines  integer     NOT NULL DEFAULT 0,
    matched          integer     NOT NULL DEFAULT 0,
    mismatch_count   integer     NOT NULL DEFAULT 0,
    our_paid         bigint      NOT NULL DEFAULT 0,
    our_refunded     bigint      NOT NULL DEFAULT 0,
    their_paid       bigint      NOT NULL DEFAULT 0,
    their_refunded   bigint      NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX reconciliations_one_current ON reconciliations (day, agency_code, provider)
    WHERE current;
CREATE INDEX reconciliations_by_created ON reconciliations (created_at DESC, id DESC);
CREATE INDEX reconciliations_by_agency ON reconciliations (agency_code, created_at DESC, id DESC);

-- One line per mismatch of a run, numbered from 1.
CREATE TABLE reconciliation_mismatches (
    reconciliation_id uuid    NOT NULL REFERENCES reconciliations (id),
    line              integer NOT NULL,
    kind              text    NOT NULL CHECK (kind IN ('missing_there', 'missing_here', 'amount', 'status')),
    transaction_type  text    NOT NULL CHECK (transaction_type IN ('payment', 'refund')),
    txn_ref           text    NOT NULL,
    payment_id        uuid,
    transaction_no    text,
    our_amount        bigint,
    their_amount      bigint,
    our_state         text,
    their_status      text,
    PRIMARY KEY (reconciliation_id, line)
);

-- Reconciliation reads a merchant's payments by the day they were paid.
CREATE INDEX payments_paid_by_merchant ON payments (provider, merchant_code, paid_at)
    WHERE state = 'paid';

-- The national platform's e-receipt of a payment (GET_BILL), fetched once and
-- served from here after (handle_receipt_document.c).
CREATE TABLE receipt_documents (
    payment_id  uuid        PRIMARY KEY REFERENCES payments (id),
    receipt_no  text        NOT NULL,  -- SoBienLai
    media_type  text        NOT NULL,
    body        bytea       NOT NULL,
    fetched_at  timestamptz NOT NULL DEFAULT now()
);
