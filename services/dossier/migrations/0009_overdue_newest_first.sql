-- The overdue filter, newest first (GET /dossiers?overdue=true): the agency's
-- open dossiers read newest first from this index alone, the due date checked
-- in the index entry (INCLUDE), and only the page's rows then read from the
-- table. Overdue dossiers are the older open ones, so the walk passes over the
-- open dossiers not yet due; 0004's way (every overdue dossier from
-- dossiers_inbox_open_due, then sorted) paid for all of them on every page.
-- The planner picks between the two per call from its estimates. At 1.4 M
-- dossiers (9,400 open, 3,300 overdue): first page 1.1 -> 0.8 ms, later pages
-- 1.2 -> 0.2 ms of PostgreSQL time (tests/bench/README.md, issue 14). Only
-- open statuses are indexed, so submitting a dossier (status 1) does not
-- write to it.
CREATE INDEX dossiers_inbox_open ON dossiers (handling_agency, submitted_at DESC, id DESC) INCLUDE (due_at)
    WHERE status IN (2, 4, 5, 6, 7);
