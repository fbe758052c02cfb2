-- 1. Who acted, as a timeline shows it: the display name of the staff member at the
--    time of the action (the token's `name` claim), NULL for citizens, machine
--    clients and the system. Kept as it was then: a later rename does not rewrite
--    the record.
ALTER TABLE dossier_history ADD COLUMN actor_name text;

-- 2. Storage limits and the sweeper (docs/services/dossier.md, *Documents*).
--    The sweeper looks for drafts untouched for ABANDONED_DRAFT_DAYS that still
--    have files, oldest first ...
CREATE INDEX dossiers_draft_age ON dossiers (updated_at) WHERE status = 0;
--    ... and asks, for a stored file no row may name, whether one does.
CREATE INDEX dossier_documents_storage_key ON dossier_documents (storage_key);
