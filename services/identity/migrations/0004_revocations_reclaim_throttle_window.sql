-- Revocation across services (docs/services/identity.md, "Revocation"): a
-- per-subject "not before". Every service rejects the access tokens of
-- `subject` issued (iat) before not_before. A row is kept until every token it
-- cuts has expired (keep_until = not_before + access-token lifetime + the
-- largest clock leeway a verifier may allow), then dropped.
CREATE TABLE IF NOT EXISTS token_revocations (
    subject    text COLLATE "C" PRIMARY KEY,
    not_before timestamptz NOT NULL,
    keep_until timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS token_revocations_keep_until ON token_revocations (keep_until);

-- Per-address sign-in failures are counted over a window, across accounts,
-- and no longer reset by a success (password spraying): the window's start.
ALTER TABLE sign_in_throttle ADD COLUMN IF NOT EXISTS window_started_at timestamptz;

-- Reclaiming a personal id: staff who checked the owner's ID card take the
-- number away from the account that registered it (which is disabled and
-- flagged), so that the owner can register. Who, when and why are kept here
-- and in the audit trail.
ALTER TABLE accounts ADD COLUMN IF NOT EXISTS reclaimed_at timestamptz;
ALTER TABLE accounts ADD COLUMN IF NOT EXISTS reclaimed_by text;
ALTER TABLE accounts ADD COLUMN IF NOT EXISTS reclaim_reason text;
-- accounts_check is the name PostgreSQL gave the first unnamed table CHECK of
-- 0001_init.sql (the citizen one). A reclaimed citizen account has no personal id.
ALTER TABLE accounts DROP CONSTRAINT IF EXISTS accounts_check;
ALTER TABLE accounts DROP CONSTRAINT IF EXISTS accounts_citizen_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_citizen_check
    CHECK (kind <> 'citizen' OR ((personal_id IS NOT NULL OR reclaimed_at IS NOT NULL)
                                 AND phone IS NOT NULL AND date_of_birth IS NOT NULL
                                 AND username IS NULL));

-- Officers list their agency's active colleagues by name (GET /api/v1/colleagues),
-- in byte order (COLLATE "C", like the list's keyset comparison).
CREATE INDEX IF NOT EXISTS accounts_colleagues ON accounts (agency, (full_name COLLATE "C"), id)
    WHERE kind = 'staff' AND NOT disabled;
