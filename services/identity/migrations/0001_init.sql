-- identity service: accounts (citizens and staff), machine clients, refresh
-- tokens, sign-in throttling and the audit trail.
--
-- Objects are created unqualified: the migration runs with search_path
-- "identity, public". gen_random_uuid() is built into PostgreSQL 13+.

-- Timestamps are answered in RFC 3339 at Vietnam's fixed offset (+07:00).
CREATE OR REPLACE FUNCTION f_rfc3339(timestamptz) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE STRICT
    AS $$ SELECT pg_catalog.to_char($1 AT TIME ZONE INTERVAL '+07:00',
                                    'YYYY-MM-DD"T"HH24:MI:SS') || '+07:00' $$;

-- Citizens sign in with personal_id or phone, staff with username. A
-- citizen row has personal_id, phone and date_of_birth; a staff row has
-- username and agency. Passwords are argon2id strings (crypto_pwhash_str).
CREATE TABLE IF NOT EXISTS accounts (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind          text NOT NULL CHECK (kind IN ('citizen', 'staff')),
    personal_id   text COLLATE "C" UNIQUE,
    phone         text COLLATE "C" UNIQUE,
    username      text COLLATE "C" UNIQUE,
    full_name     text NOT NULL,
    date_of_birth date,
    email         text,
    agency        text COLLATE "C",
    roles         text[] NOT NULL,
    password_hash text NOT NULL,
    disabled      boolean NOT NULL DEFAULT false,
    revision      bigint NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (kind <> 'citizen' OR (personal_id IS NOT NULL AND phone IS NOT NULL
                                 AND date_of_birth IS NOT NULL AND username IS NULL)),
    CHECK (kind <> 'staff' OR (username IS NOT NULL AND agency IS NOT NULL
                               AND personal_id IS NULL AND phone IS NULL))
);
CREATE INDEX IF NOT EXISTS accounts_staff_by_agency ON accounts (agency, username)
    WHERE kind = 'staff';

-- Machine clients (client credentials grant). The secret is an argon2id string.
CREATE TABLE IF NOT EXISTS clients (
    client_id   text COLLATE "C" PRIMARY KEY,
    name        text NOT NULL,
    secret_hash text NOT NULL,
    scopes      text[] NOT NULL,
    agency      text COLLATE "C",
    disabled    boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Refresh tokens: only the SHA-256 of the opaque token is stored. Every
-- token of one sign-in shares family_id; using a token sets rotated_at and
-- issues its successor. Presenting a token whose rotated_at is set is reuse
-- (stolen-token detection): the whole family is revoked.
CREATE TABLE IF NOT EXISTS refresh_tokens (
    token_hash  bytea PRIMARY KEY,
    family_id   uuid NOT NULL,
    account_id  uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    issued_at   timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    rotated_at  timestamptz,
    revoked_at  timestamptz
);
CREATE INDEX IF NOT EXISTS refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX IF NOT EXISTS refresh_tokens_expiry ON refresh_tokens (expires_at);

-- Sign-in throttling shared by every instance. key is "a:" + SHA-256 (hex)
-- of the normalised login name (never the name itself) or "ip:" + address.
CREATE TABLE IF NOT EXISTS sign_in_throttle (
    key             text COLLATE "C" PRIMARY KEY,
    failures        integer NOT NULL,
    last_failure_at timestamptz NOT NULL,
    blocked_until   timestamptz
);

-- Audit trail. Never passwords, never full identification numbers: subjects
-- are account ids, actors account ids or "client:<id>".
CREATE TABLE IF NOT EXISTS audit_events (
    id             bigserial PRIMARY KEY,
    at             timestamptz NOT NULL DEFAULT now(),
    actor          text,
    action         text NOT NULL,
    subject        uuid,
    client_address text,
    detail         jsonb
);
CREATE INDEX IF NOT EXISTS audit_events_subject ON audit_events (subject, at);
