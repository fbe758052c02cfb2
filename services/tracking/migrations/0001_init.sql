-- The tracking service: a projection of the dossier service's event feed
-- (docs/services/tracking.md). Rows are written only by the feed consumer,
-- in the transaction that moves the feed position (feed_positions, common
-- migration 0005), so each event is reflected exactly once.
--
-- Nothing here names an officer, and of the applicant only what the public
-- lookup may show: the masked name and keyed hashes (HMAC-SHA256 with the
-- platform's LOOKUP_KEY) of the ID number and of the phone's last 4 digits,
-- as the dossier's events carry them.

CREATE TABLE dossiers (
    dossier_id          uuid        PRIMARY KEY,
    code                text        UNIQUE,          -- NULL never happens after submission
    short_code          text        UNIQUE,          -- the receipt slip's link: /t/<short_code>
    owner_sub           text,                        -- the citizen account (NULL: filed at the counter)
    agency_code         text        NOT NULL,        -- where it was filed
    handling_agency     text        NOT NULL,        -- where it is now
    transfer_chain      text[]      NOT NULL DEFAULT '{}',
    applicant_masked_name text,
    applicant_id_hash   text,                        -- hex HMAC, NULL when the applicant gave none
    applicant_phone_hash text,
    card                jsonb       NOT NULL,        -- the public card's state (projection.c)
    asked               jsonb       NOT NULL,        -- what is asked of the applicant now
    last_sequence       bigint      NOT NULL,        -- feed position of the last event applied
    updated_at          timestamptz NOT NULL DEFAULT now()
);

-- Staff timelines are read per agency.
CREATE INDEX dossiers_handling_agency ON dossiers (handling_agency);

-- One row per event that makes a step (projection.c decides which do).
CREATE TABLE timeline_steps (
    dossier_id          uuid        NOT NULL REFERENCES dossiers ON DELETE CASCADE,
    sequence            bigint      NOT NULL,        -- the event's feed position
    event_id            uuid        NOT NULL UNIQUE, -- idempotent by event id, beside the position check
    step                jsonb       NOT NULL,        -- the step as the API shows it
    event_time          timestamptz,                 -- the event's `time` (the dossier service's outbox)
    applied_at          timestamptz NOT NULL DEFAULT clock_timestamp(), -- applied_at - event_time: the lag
    PRIMARY KEY (dossier_id, sequence)
);

-- Gaps: feed positions that expired before they were consumed (410
-- events.position_expired); see docs/services/tracking.md, "Resync".
CREATE TABLE feed_gaps (
    feed                text        NOT NULL,
    oldest_after        bigint      NOT NULL,
    recorded_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (feed, oldest_after)
);
