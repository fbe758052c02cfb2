-- Lists read in index order, so the first page of a million-row agency costs
-- a few index pages and no sort.
--
-- 0001's keyset indexes ended in "id" ascending while the lists order by
-- "submitted_at DESC, id DESC" (and "created_at DESC, id DESC"): a forward
-- scan then needed an incremental sort of each group of equal timestamps.
-- They are rebuilt with id descending.
DROP INDEX dossiers_owner;
CREATE INDEX dossiers_owner ON dossiers (owner_sub, created_at DESC, id DESC) WHERE owner_sub IS NOT NULL;
DROP INDEX dossiers_inbox;
CREATE INDEX dossiers_inbox ON dossiers (handling_agency, submitted_at DESC, id DESC) WHERE status > 0;
DROP INDEX dossiers_inbox_status;
CREATE INDEX dossiers_inbox_status ON dossiers (handling_agency, status, submitted_at DESC, id DESC) WHERE status > 0;
DROP INDEX dossiers_assignee;
CREATE INDEX dossiers_assignee ON dossiers (assignee_sub, submitted_at DESC, id DESC) WHERE assignee_sub IS NOT NULL;
-- The "overdue" filter (open dossiers past their due date) matched no index:
-- its statuses include 7 (withdrawal requested, still on the clock), which
-- dossiers_inbox_due left out. With this one the overdue rows of an agency
-- are one range scan, then the newest first.
DROP INDEX dossiers_inbox_due;
CREATE INDEX dossiers_inbox_open_due ON dossiers (handling_agency, due_at) WHERE status IN (2, 4, 5, 6, 7);
-- A procedure's dossiers within an agency (the procedure filter of the inbox).
CREATE INDEX dossiers_inbox_procedure ON dossiers (handling_agency, procedure_code, submitted_at DESC, id DESC)
    WHERE status > 0;
