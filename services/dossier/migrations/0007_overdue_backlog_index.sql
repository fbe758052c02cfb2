-- The overdue backlog for /metrics (motcua_dossier_overdue_open): the open
-- dossiers the watcher flagged overdue, counted once a pass. This partial
-- index holds exactly those rows, so the count reads the index alone instead
-- of every open dossier (the rows of dossiers_open_due are the unflagged ones).
CREATE INDEX dossiers_overdue_flagged ON dossiers (overdue_flagged_at)
    WHERE status IN (2, 4, 6) AND overdue_flagged_at IS NOT NULL;
