-- The deadline queue (GET /dossiers?sort=due_at): an agency's open dossiers,
-- earliest due date first, read in index order a page at a time. The same
-- index still serves the overdue filter (a range of due_at, index-only).
DROP INDEX dossiers_inbox_open_due;
CREATE INDEX dossiers_inbox_open_due ON dossiers (handling_agency, due_at, id) INCLUDE (submitted_at)
    WHERE status IN (2, 4, 5, 6, 7);
