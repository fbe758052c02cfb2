-- The dossier service: dossiers, their documents, the append-only audit trail,
-- dossier-code counters and evaluations (docs/services/dossier.md).
--
-- status: 0 = draft (ours, never sent to the national portal), 1..10 the
-- national codes of DOMAIN.md §3.

CREATE TABLE dossiers (
    id                  uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    code                text        UNIQUE,
    status              smallint    NOT NULL DEFAULT 0 CHECK (status BETWEEN 0 AND 10),
    revision            bigint      NOT NULL DEFAULT 1,
    -- what was applied for, frozen at creation (the procedure version is immutable)
    procedure_code      text        NOT NULL,
    procedure_version   integer     NOT NULL,
    procedure_name      text        NOT NULL,
    sector_code         text        NOT NULL,
    case_code           text        NOT NULL,
    channel             text        NOT NULL CHECK (channel IN ('online', 'in_person', 'postal')),
    time_limit_value    double precision NOT NULL,
    time_limit_unit     text        NOT NULL,
    supplement_clock    text        NOT NULL CHECK (supplement_clock IN ('restart', 'extend')),
    -- who: the agency it was filed with, the one handling it now, and the transfer chain
    agency_code         text        NOT NULL,
    handling_agency     text        NOT NULL,
    transfer_chain      text[]      NOT NULL DEFAULT '{}',
    owner_sub           text,                 -- the citizen account it belongs to (NULL: filed at the counter for someone without one)
    filed_by_sub        text        NOT NULL,
    filed_by_role       text        NOT NULL,
    applicant           jsonb       NOT NULL,
    representative      jsonb,
    form_data           jsonb       NOT NULL,
    delivery            jsonb       NOT NULL,
    -- processing
    step_index          integer,
    assignee_sub        text,
    previous_status     smallint,             -- where a supplement or a withdrawal request returns to
    outcome             text CHECK (outcome IN ('approved', 'rejected', 'refused', 'withdrawn', 'stopped')),
    result              jsonb,
    missing_items       jsonb,                -- the current supplement request's list
    fee_amount          bigint,
    -- time (UTC instants)
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    submitted_at        timestamptz,
    received_at         timestamptz,
    clock_start_at      timestamptz,          -- the instant the time limit runs from (restarts after a supplement in 'restart' mode)
    due_at              timestamptz,          -- the legal due date: the measure for statistics
    appointment_at      timestamptz,          -- what the applicant was told; moves with an apology
    pauses              jsonb       NOT NULL DEFAULT '[]', -- [[from, to|null], ...] epoch seconds: supplement and payment waits
    paused_since        timestamptz,
    supplement_due_at   timestamptz,
    decided_at          timestamptz,
    returned_at         timestamptz,
    finished_at         timestamptz,
    overdue_flagged_at  timestamptz,
    due_soon_flagged_at timestamptz
);

-- A citizen's own list, newest first.
CREATE INDEX dossiers_owner ON dossiers (owner_sub, created_at DESC, id) WHERE owner_sub IS NOT NULL;
-- The agency inbox: by handling agency, newest submission first (keyset), with filters.
CREATE INDEX dossiers_inbox ON dossiers (handling_agency, submitted_at DESC, id) WHERE status > 0;
CREATE INDEX dossiers_inbox_status ON dossiers (handling_agency, status, submitted_at DESC, id) WHERE status > 0;
CREATE INDEX dossiers_inbox_due ON dossiers (handling_agency, due_at) WHERE status IN (2, 4, 5, 6);
CREATE INDEX dossiers_assignee ON dossiers (assignee_sub, submitted_at DESC, id) WHERE assignee_sub IS NOT NULL;
-- Transferred dossiers stay visible to every agency of the chain.
CREATE INDEX dossiers_transfer_chain ON dossiers USING gin (transfer_chain);
-- The deadline watcher.
CREATE INDEX dossiers_supplement_due ON dossiers (supplement_due_at) WHERE status = 5;
CREATE INDEX dossiers_open_due ON dossiers (due_at) WHERE status IN (2, 4, 6) AND overdue_flagged_at IS NULL;

-- Dossier codes: agency code-YYMMDD-sequence (Circular 01/2018 art. 19). The
-- row lock of the upsert serialises the numbering per agency and day.
CREATE TABLE dossier_code_counters (
    agency_code  text    NOT NULL,
    day          date    NOT NULL,
    last_value   integer NOT NULL,
    PRIMARY KEY (agency_code, day)
);

-- Uploaded files: one current file per slot (a required document's code, or
-- extra-N / result-N); replaced files are kept for the record.
CREATE TABLE dossier_documents (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    dossier_id    uuid        NOT NULL REFERENCES dossiers (id),
    slot          text        NOT NULL,
    kind          text        NOT NULL CHECK (kind IN ('application', 'supplement', 'result')),
    file_name     text        NOT NULL,
    media_type    text        NOT NULL CHECK (media_type IN ('application/pdf', 'image/jpeg', 'image/png')),
    size_bytes    bigint      NOT NULL CHECK (size_bytes > 0),
    sha256        text        NOT NULL,
    storage_key   text        NOT NULL,
    uploaded_by   text        NOT NULL,
    uploaded_at   timestamptz NOT NULL DEFAULT now(),
    replaced_at   timestamptz
);
CREATE UNIQUE INDEX dossier_documents_current ON dossier_documents (dossier_id, slot) WHERE replaced_at IS NULL;
CREATE INDEX dossier_documents_dossier ON dossier_documents (dossier_id, uploaded_at);

-- The audit trail: every transition, append-only.
CREATE TABLE dossier_history (
    seq           bigserial   PRIMARY KEY,
    dossier_id    uuid        NOT NULL REFERENCES dossiers (id),
    at            timestamptz NOT NULL DEFAULT now(),
    actor_sub     text        NOT NULL,
    actor_role    text        NOT NULL,
    actor_agency  text,
    action        text        NOT NULL,
    from_status   smallint    NOT NULL,
    to_status     smallint    NOT NULL,
    reasons       jsonb,
    note          text,
    documents     jsonb,
    details       jsonb
);
CREATE INDEX dossier_history_dossier ON dossier_history (dossier_id, seq);

CREATE FUNCTION dossier_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'dossier_history is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER dossier_history_no_update BEFORE UPDATE OR DELETE OR TRUNCATE ON dossier_history
    FOR EACH STATEMENT EXECUTE FUNCTION dossier_history_append_only();

-- Evaluations (DOMAIN.md §7): once per dossier, after the result was returned.
CREATE TABLE dossier_evaluations (
    dossier_id    uuid        PRIMARY KEY REFERENCES dossiers (id),
    scores        smallint[]  NOT NULL CHECK (array_length(scores, 1) = 9),
    total         smallint    NOT NULL CHECK (total BETWEEN 0 AND 18),
    satisfaction  text        NOT NULL CHECK (satisfaction IN ('very_satisfied', 'satisfied', 'not_satisfied')),
    comment       text,
    agency_code   text        NOT NULL,
    procedure_code text       NOT NULL,
    evaluated_by  text        NOT NULL,
    evaluated_at  timestamptz NOT NULL DEFAULT now()
);
