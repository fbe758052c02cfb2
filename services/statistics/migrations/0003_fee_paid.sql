-- Decision 766's share of fees paid online (docs/services/statistics.md): a dossier's
-- fee payment is counted once, whatever confirmations follow.
ALTER TABLE facts ADD COLUMN fee_paid boolean NOT NULL DEFAULT false;
