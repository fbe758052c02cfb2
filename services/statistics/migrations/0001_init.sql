-- The statistics service (docs/services/statistics.md): one fact row per dossier,
-- derived from the dossier event feed only, and the daily rollups every report
-- reads (a report never scans dossiers).
--
-- Days are civil dates in Vietnam time (Asia/Ho_Chi_Minh). Every change is dated
-- on the day its event happened (or, for the scheduled "becomes overdue" change of
-- an open dossier, on its due date's day, never earlier than the event), so a late
-- event never changes a closed period.

CREATE TABLE facts (
    dossier_id          uuid        PRIMARY KEY,
    code                text,
    agency_code         text        NOT NULL,   -- the agency counting it: the one handling it
    procedure_code      text        NOT NULL,
    sector_code         text        NOT NULL,
    channel             text        NOT NULL,
    status              smallint    NOT NULL,
    is_open             boolean     NOT NULL DEFAULT false,
    in_supplement       boolean     NOT NULL DEFAULT false,
    due_day             date,                   -- the legal due date (an apology does not move it)
    crossing_day        date,                   -- open: the day it counts overdue from
    received_day        date,
    received_agency     text,
    resolved_day        date,
    timeliness          text        CHECK (timeliness IN ('early', 'on_time', 'overdue')),
    outcome             text,
    closed_day          date,
    closed_kind         text        CHECK (closed_kind IN ('resolved', 'withdrawn', 'stopped', 'refused')),
    evaluated           boolean     NOT NULL DEFAULT false,
    updated_sequence    bigint      NOT NULL
);

CREATE INDEX facts_received ON facts (received_agency, received_day) WHERE received_day IS NOT NULL;
CREATE INDEX facts_closed ON facts (agency_code, closed_day) WHERE closed_day IS NOT NULL;

-- One counter per agency x procedure x day x measure. Flows (received_online,
-- resolved_early, ...) count what happened that day; stocks (open_within,
-- open_overdue, awaiting_supplement) are deltas whose running sum is the stock.
CREATE TABLE rollups (
    agency_code         text        NOT NULL,
    procedure_code      text        NOT NULL,
    day                 date        NOT NULL,
    measure             text        NOT NULL,
    sector_code         text        NOT NULL,
    value               bigint      NOT NULL,
    PRIMARY KEY (agency_code, day, procedure_code, measure)
);
