-- catalogue service: sectors, agencies, procedures with immutable published
-- versions, the search index of current versions, and the working-day calendar.
--
-- Codes are COLLATE "C": lists are ordered, and keyset cursors compared, by
-- code point whatever the database's locale (en_US would ignore the dots and
-- hyphens of codes and fold case), and the primary-key indexes serve both.
--
-- Objects are created unqualified: the migration runs with search_path
-- "catalogue, public". The schema and the extensions unaccent and pg_trgm (in
-- public) are created by the deploy bootstrap as superuser. Objects of those
-- extensions are referenced schema-qualified (public.unaccent,
-- public.gin_trgm_ops) so nothing depends on a session's search_path.

-- Accent- and case-insensitive normal form used for every search column and
-- every search query: unaccent first, then lower. Doing it in this order keeps
-- the result right whatever the database collation is: unaccent maps every
-- Vietnamese letter (including Đ/đ) to ASCII, and lower() handles ASCII in any
-- locale, even "C". Runs of white space collapse to one space.
--
-- public.unaccent(regdictionary, text) is only STABLE (the dictionary could be
-- altered); naming the dictionary explicitly makes the result fixed in
-- practice, which is the documented way to build an IMMUTABLE wrapper that can
-- be used in indexes and generated columns.
CREATE OR REPLACE FUNCTION f_unaccent(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$;

CREATE OR REPLACE FUNCTION f_search_norm(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT pg_catalog.btrim(pg_catalog.regexp_replace(
                 pg_catalog.lower(public.unaccent('public.unaccent'::regdictionary, $1)),
                 '\s+', ' ', 'g')) $$;

-- Timestamps are answered in RFC 3339 at Vietnam's fixed offset (+07:00, no
-- daylight saving time), independent of the session's TimeZone setting and of
-- the server's time zone database.
CREATE OR REPLACE FUNCTION f_rfc3339(timestamptz) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE STRICT
    AS $$ SELECT pg_catalog.to_char($1 AT TIME ZONE INTERVAL '+07:00',
                                    'YYYY-MM-DD"T"HH24:MI:SS') || '+07:00' $$;

-- The weighted full-text vector of one procedure: code and name (A), sector
-- name (B), description (C). The 'simple' configuration has no stop words and
-- no stemming, which suits Vietnamese syllables.
CREATE OR REPLACE FUNCTION f_procedure_search_vector(p_code text, p_name text, p_sector_name text,
                                          p_description text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT pg_catalog.setweight(pg_catalog.to_tsvector('simple'::regconfig,
               pg_catalog.lower(public.unaccent('public.unaccent'::regdictionary,
                   coalesce(p_code, '') || ' ' || coalesce(p_name, '')))), 'A')
        || pg_catalog.setweight(pg_catalog.to_tsvector('simple'::regconfig,
               pg_catalog.lower(public.unaccent('public.unaccent'::regdictionary,
                   coalesce(p_sector_name, '')))), 'B')
        || pg_catalog.setweight(pg_catalog.to_tsvector('simple'::regconfig,
               pg_catalog.lower(public.unaccent('public.unaccent'::regdictionary,
                   coalesce(p_description, '')))), 'C')
    $$;

CREATE TABLE IF NOT EXISTS sectors (
    code        text COLLATE "C" PRIMARY KEY CHECK (code ~ '^[a-z0-9][a-z0-9-]{0,63}$'),
    name        text NOT NULL,
    description text,
    revision    bigint NOT NULL DEFAULT 1 CHECK (revision > 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS agencies (
    code            text COLLATE "C" PRIMARY KEY
                    CHECK (code ~ '^[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}$'),
    name            text NOT NULL,
    admin_level     text NOT NULL
                    CHECK (admin_level IN ('central', 'province', 'district', 'commune')),
    parent_code     text COLLATE "C" REFERENCES agencies (code),
    address         text,
    phone           text,
    email           text,
    office_hours    json NOT NULL CHECK (json_typeof(office_hours) = 'array'),
    same_day_cutoff text NOT NULL CHECK (same_day_cutoff ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
    name_search     text GENERATED ALWAYS AS (f_search_norm(name)) STORED,
    revision        bigint NOT NULL DEFAULT 1 CHECK (revision > 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT agencies_not_own_parent CHECK (parent_code IS DISTINCT FROM code)
);
CREATE INDEX IF NOT EXISTS agencies_parent_idx ON agencies (parent_code, code);
CREATE INDEX IF NOT EXISTS agencies_name_search_trgm_idx ON agencies USING gin (name_search public.gin_trgm_ops);

-- One row per procedure code. current_version is the published version the
-- public sees (NULL until the first publication); draft_version the version
-- being edited (NULL when there is none).
CREATE TABLE IF NOT EXISTS procedures (
    code            text COLLATE "C" PRIMARY KEY
                    CHECK (code ~ '^[0-9]\.[0-9]{6}(\.[0-9A-Za-z]+)*$' AND length(code) <= 64),
    current_version integer,
    draft_version   integer,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Revisions of procedure versions come from one sequence: every draft write
-- takes a new number, and because it never goes back (not even when a draft
-- is discarded or a never-published procedure is deleted and created again),
-- the ETag of a discarded draft can never match a later one.
CREATE SEQUENCE IF NOT EXISTS procedure_revision_seq;

-- Every version of every procedure. document is the full write shape (the
-- JSON the administrator sent, normalised with defaults); the other columns
-- are extracted from it for filters and reports. A published row is never
-- changed again: dossiers keep the version they were filed under.
--
-- document is `json`, not `jsonb`, on purpose: jsonb reorders object keys,
-- and the order of a form schema's "properties" is the order in which
-- frontends lay out the form; json keeps the text exactly as validated (it is
-- only ever read whole or through ->/->> at write time).
CREATE TABLE IF NOT EXISTS procedure_versions (
    procedure_code text COLLATE "C" NOT NULL REFERENCES procedures (code) ON DELETE CASCADE,
    version        integer NOT NULL CHECK (version BETWEEN 1 AND 1000000),
    status         text NOT NULL CHECK (status IN ('draft', 'published')),
    document       json NOT NULL CHECK (json_typeof(document) = 'object'),
    sector_code    text COLLATE "C" NOT NULL REFERENCES sectors (code),
    admin_level    text NOT NULL
                   CHECK (admin_level IN ('central', 'province', 'district', 'commune')),
    online_level   smallint NOT NULL CHECK (online_level BETWEEN 1 AND 4),
    online_scope   text NOT NULL CHECK (online_scope IN ('full', 'partial', 'none')),
    channels       text[] NOT NULL,
    revision       bigint NOT NULL CHECK (revision > 0),
    created_by     text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    published_at   timestamptz,
    PRIMARY KEY (procedure_code, version),
    CONSTRAINT procedure_versions_published_at CHECK ((status = 'published') = (published_at IS NOT NULL))
);
-- At most one draft per procedure.
CREATE UNIQUE INDEX IF NOT EXISTS procedure_versions_one_draft_idx ON procedure_versions (procedure_code)
    WHERE status = 'draft';
CREATE INDEX IF NOT EXISTS procedure_versions_sector_idx ON procedure_versions (sector_code);

-- Defence in depth: the store never updates or deletes a published version,
-- and the database refuses it too.
CREATE OR REPLACE FUNCTION procedure_versions_guard() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF OLD.status = 'published' THEN
        RAISE EXCEPTION 'procedure % version % is published and immutable',
            OLD.procedure_code, OLD.version;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER procedure_versions_immutable
    BEFORE UPDATE OR DELETE ON procedure_versions
    FOR EACH ROW EXECUTE FUNCTION procedure_versions_guard();

-- The agencies implementing the current published version (the `agency`
-- filter of the search); rebuilt on every publication.
CREATE TABLE IF NOT EXISTS procedure_agencies (
    procedure_code text COLLATE "C" NOT NULL REFERENCES procedures (code) ON DELETE CASCADE,
    agency_code    text COLLATE "C" NOT NULL REFERENCES agencies (code),
    PRIMARY KEY (procedure_code, agency_code)
);
CREATE INDEX IF NOT EXISTS procedure_agencies_agency_idx ON procedure_agencies (agency_code, procedure_code);

-- The search row of each procedure's current published version: summary
-- columns answered by GET /procedures without touching the documents, the
-- normalised name for exact/prefix/trigram matching and the weighted tsvector.
-- Rebuilt on publication; search_vector is refreshed when a sector is renamed.
CREATE TABLE IF NOT EXISTS procedure_search (
    code          text COLLATE "C" PRIMARY KEY REFERENCES procedures (code) ON DELETE CASCADE,
    version       integer NOT NULL,
    name          text NOT NULL,
    sector_code   text COLLATE "C" NOT NULL REFERENCES sectors (code),
    admin_level   text NOT NULL,
    online_level  smallint NOT NULL,
    online_scope  text NOT NULL,
    channels      text[] NOT NULL,
    published_at  timestamptz NOT NULL,
    description   text,
    search_name   text GENERATED ALWAYS AS (f_search_norm(name)) STORED,
    search_vector tsvector NOT NULL
);
CREATE INDEX IF NOT EXISTS procedure_search_vector_idx ON procedure_search USING gin (search_vector);
CREATE INDEX IF NOT EXISTS procedure_search_name_trgm_idx ON procedure_search
    USING gin (search_name public.gin_trgm_ops);
CREATE INDEX IF NOT EXISTS procedure_search_sector_idx ON procedure_search (sector_code, code);

-- The working-day calendar: days off (holidays, Tết, compensatory and swapped
-- days) and extra working days (a worked Saturday). Weekends are implicit.
CREATE TABLE IF NOT EXISTS calendar_days (
    date       date PRIMARY KEY CHECK (date BETWEEN '1900-01-01' AND '2200-12-31'),
    kind       text NOT NULL CHECK (kind IN ('day_off', 'working_day')),
    name       text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
