-- Pay first (DOMAIN.md §6): a dossier whose channel's fees are collected
-- before submission waits in status 11, awaiting_submission_payment, from
-- the citizen's submit until the payment succeeds (then 1, submitted at the
-- payment time), is cancelled or expires back to draft. Like draft (0), 11 is
-- the applicant's own, not a national status and not in an agency's inbox:
-- the inbox's partial indexes now take the national codes 1..10 (the store's
-- WF_FILED_STATUSES_SQL repeats the predicate, so the planner uses them).
ALTER TABLE dossiers DROP CONSTRAINT dossiers_status_check;
ALTER TABLE dossiers ADD CONSTRAINT dossiers_status_check CHECK (status BETWEEN 0 AND 11);

DROP INDEX dossiers_inbox;
CREATE INDEX dossiers_inbox ON dossiers (handling_agency, submitted_at DESC, id DESC)
    WHERE status BETWEEN 1 AND 10;
DROP INDEX dossiers_inbox_status;
CREATE INDEX dossiers_inbox_status ON dossiers (handling_agency, status, submitted_at DESC, id DESC)
    WHERE status BETWEEN 1 AND 10;
DROP INDEX dossiers_inbox_procedure;
CREATE INDEX dossiers_inbox_procedure ON dossiers (handling_agency, procedure_code, submitted_at DESC, id DESC)
    WHERE status BETWEEN 1 AND 10;

-- The watcher's scan for unpaid ones past MOTCUA_DOSSIER_SUBMISSION_PAYMENT_HOURS:
-- nothing changes a dossier in 11 but its own transitions, so updated_at is
-- when it started waiting.
CREATE INDEX dossiers_awaiting_submission_payment ON dossiers (updated_at) WHERE status = 11;
