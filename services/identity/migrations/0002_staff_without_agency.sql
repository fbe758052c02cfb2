-- A system administrator (or auditor) works for the platform, not for one agency:
-- such staff accounts may have no agency. Every other staff account still has
-- one. The bootstrap administrator (MOTCUA_IDENTITY_BOOTSTRAP_ADMIN_USERNAME,
-- services/identity/main.c) is the first account of that kind.
--
-- accounts_check1 is the name PostgreSQL gave the second unnamed table CHECK
-- of 0001_init.sql (the staff one).
ALTER TABLE accounts DROP CONSTRAINT IF EXISTS accounts_check1;
ALTER TABLE accounts DROP CONSTRAINT IF EXISTS accounts_staff_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_staff_check
    CHECK (kind <> 'staff' OR (username IS NOT NULL AND personal_id IS NULL AND phone IS NULL
                               AND (agency IS NOT NULL
                                    OR roles && ARRAY['system_admin', 'auditor']::text[])));
