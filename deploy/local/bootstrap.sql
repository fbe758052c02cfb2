-- deploy/local/bootstrap.sql: database, extensions and one service's role and schema.
--
-- Run by deploy/local/up once per service, as the cluster superuser, connected to the
-- `postgres` database:
--   MOTCUA_BOOTSTRAP_PASSWORD=<pw> psql -X -v ON_ERROR_STOP=1 -d postgres \
--       -v db=motcua -v svc=catalogue -v role=motcua_catalogue < bootstrap.sql
-- Variables:
--   db    database name (motcua)
--   svc   service name = its schema (catalogue)
--   role  its login role (motcua_catalogue)
-- The role's password is read from the environment variable MOTCUA_BOOTSTRAP_PASSWORD
-- (psql \getenv) so that it never appears on a command line.
--
-- Idempotent: safe to run on every start. Names are only ever interpolated as psql
-- literals (:'var') or identifiers (:"var"), or through format('%I').

\set ON_ERROR_STOP on
\if :{?db}
\else
  \warn 'bootstrap.sql: missing -v db=...'
  DO $$ BEGIN RAISE EXCEPTION 'bootstrap.sql: missing input'; END $$;
\endif
\if :{?svc}
\else
  \warn 'bootstrap.sql: missing -v svc=...'
  DO $$ BEGIN RAISE EXCEPTION 'bootstrap.sql: missing input'; END $$;
\endif
\if :{?role}
\else
  \warn 'bootstrap.sql: missing -v role=...'
  DO $$ BEGIN RAISE EXCEPTION 'bootstrap.sql: missing input'; END $$;
\endif
\getenv password MOTCUA_BOOTSTRAP_PASSWORD
\if :{?password}
\else
  \warn 'bootstrap.sql: MOTCUA_BOOTSTRAP_PASSWORD is not set'
  DO $$ BEGIN RAISE EXCEPTION 'bootstrap.sql: missing input'; END $$;
\endif

-- Database --------------------------------------------------------------------------
SELECT format('CREATE DATABASE %I ENCODING %L TEMPLATE template0', :'db', 'UTF8')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db')
\gexec

-- Role ------------------------------------------------------------------------------
SELECT format('CREATE ROLE %I LOGIN', :'role')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role')
\gexec

-- Set the password every time, so the role always matches <local>/secrets/<svc>.password.
ALTER ROLE :"role" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    PASSWORD :'password';
ALTER ROLE :"role" SET search_path = :"svc", public;

-- Only the service roles (and the superuser) may connect to the database.
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO :"role";
REVOKE CONNECT ON DATABASE postgres FROM PUBLIC;

\connect :db

-- Extensions, shared by every service through search_path ---------------------------
CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public;
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

-- Nobody creates objects in public (PostgreSQL 15's default; said here explicitly).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- The service's schema ---------------------------------------------------------------
CREATE SCHEMA IF NOT EXISTS :"svc" AUTHORIZATION :"role";
ALTER SCHEMA :"svc" OWNER TO :"role";
REVOKE ALL ON SCHEMA :"svc" FROM PUBLIC;

-- No rights on the other services' schemas (a schema owned by another motcua_ role), in
-- case someone granted them by hand.
SELECT format('REVOKE ALL ON SCHEMA %I FROM %I', n.nspname, :'role'),
       format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM %I', n.nspname, :'role'),
       format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA %I FROM %I', n.nspname, :'role'),
       format('REVOKE ALL ON ALL FUNCTIONS IN SCHEMA %I FROM %I', n.nspname, :'role')
FROM pg_namespace n
JOIN pg_roles r ON r.oid = n.nspowner
WHERE r.rolname LIKE 'motcua\_%' AND r.rolname <> :'role'
\gexec

-- Check: the role owns its schema, cannot create in public, has no usage elsewhere.
SELECT NOT has_schema_privilege(:'role', 'public', 'CREATE') AS public_create_revoked,
       has_schema_privilege(:'role', :'svc', 'CREATE') AS owns_schema,
       NOT EXISTS (
           SELECT FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner
           WHERE r.rolname LIKE 'motcua\_%' AND r.rolname <> :'role'
             AND has_schema_privilege(:'role', n.oid, 'USAGE')
       ) AS isolated
\gset check_
\if :check_public_create_revoked
\else
  \warn 'bootstrap.sql: the role may still create in schema public'
  DO $$ BEGIN RAISE EXCEPTION 'bootstrap.sql: check failed'; END $$;
\endif
\if :check_owns_schema
\else
  \warn 'bootstrap.sql: the role cannot create in its own schema'
  DO $$ BEGIN RAISE EXCEPTION 'bootstrap.sql: check failed'; END $$;
\endif
\if :check_isolated
\else
  \warn 'bootstrap.sql: the role has usage on another service''s schema'
  DO $$ BEGIN RAISE EXCEPTION 'bootstrap.sql: check failed'; END $$;
\endif
