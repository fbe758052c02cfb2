-- The overdue filter, newest first (GET /dossiers?overdue=true), without
-- walking the open dossiers that are not yet due. 0009's dossiers_inbox_open
-- walked the agency's open dossiers newest first and skipped every one not
-- yet due: most open dossiers are within their time, so the first page read
-- thousands of index entries (at 1.42 M dossiers: 6,122 skipped for a page of
-- 21, 1.4 ms; sorting the 3,266 overdue ones from dossiers_inbox_open_due
-- instead: 0.9 ms).
--
-- The overdue dossiers are split in two by the watcher's flag, which is no
-- condition of theirs, only a partition (the list still checks the due date
-- in both halves, so a late or stale flag never changes the answer):
--  * flagged (overdue_flagged_at set: the watcher saw them pass their due
--    date): walked newest first from dossiers_inbox_overdue_flagged, whose
--    entries are nearly all still overdue, so a page reads about a page;
--  * not flagged (just past their due date, or in a status the watcher does
--    not flag: 5 supplement requested, 7 withdrawal requested): the overdue
--    range of dossiers_inbox_unflagged_due, small, sorted.
-- Both are index-only; the two pages are merged and only the page's rows are
-- read from the table. Submitting (status 1) writes to neither index.
CREATE INDEX dossiers_inbox_overdue_flagged ON dossiers (handling_agency, submitted_at DESC, id DESC)
    INCLUDE (due_at) WHERE status IN (2, 4, 5, 6, 7) AND overdue_flagged_at IS NOT NULL;
CREATE INDEX dossiers_inbox_unflagged_due ON dossiers (handling_agency, due_at) INCLUDE (submitted_at, id)
    WHERE status IN (2, 4, 5, 6, 7) AND overdue_flagged_at IS NULL;
DROP INDEX dossiers_inbox_open;
