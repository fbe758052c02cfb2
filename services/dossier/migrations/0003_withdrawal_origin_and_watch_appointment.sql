-- Two corrections of the workflow (docs/services/dossier.md, *Lifecycle* and *Deadlines*).
--
-- 1. Where a withdrawal request returns to when it is declined is kept apart from
--    previous_status, which a pending supplement request needs: a withdrawal requested
--    while a supplement is requested (5 -> 7 -> declined -> 5) used to overwrite it, and
--    the supplement then returned the dossier to a guess instead of where the supplement
--    request came from.
ALTER TABLE dossiers
    ADD COLUMN withdrawal_from_status smallint
        CONSTRAINT dossiers_withdrawal_from_status CHECK (withdrawal_from_status IS NULL
               OR (withdrawal_from_status IN (1, 2, 4, 5, 6) AND status = 7));
COMMENT ON COLUMN dossiers.previous_status IS
    'where a supplement returns to (the status the supplement request came from)';
COMMENT ON COLUMN dossiers.withdrawal_from_status IS
    'status 7 only: where a declined withdrawal request returns to';
-- Dossiers waiting for a decision on a withdrawal: their previous_status was the
-- withdrawal's origin. A supplement request pending under it is not known any more
-- (a supplement then returns to processing, or to submitted before reception).
UPDATE dossiers SET withdrawal_from_status = previous_status,
                    previous_status = NULL
 WHERE status = 7 AND previous_status IN (1, 2, 4, 5, 6);

-- 2. The watcher warns about the appointment (what the applicant was told; the legal
--    due date until an apology moves it later), and its flags are cleared when the
--    appointment moves out of reach. The overdue scan reads this index, whose rows are
--    the open dossiers not yet flagged overdue: clearing a flag puts a dossier back.
--    due_at stays the measure of statistics.
DROP INDEX dossiers_open_due;
CREATE INDEX dossiers_open_due ON dossiers (appointment_at)
    WHERE status IN (2, 4, 6) AND overdue_flagged_at IS NULL;
-- Flags raised before, about a legal due date an apology had already moved the
-- appointment past: under the new rule they no longer hold (deadlines.h).
UPDATE dossiers SET overdue_flagged_at = NULL, due_soon_flagged_at = NULL
 WHERE status IN (2, 4, 6) AND overdue_flagged_at IS NOT NULL AND appointment_at >= now();
