-- catalogue service: what the procedure search knows about the words of a
-- citizen's query (issue 14), all of it data:
--  - search_terms: every lexeme of the published procedures' search vectors
--    with the number of procedures holding it, kept by a trigger on
--    procedure_search; the search weighs words by rarity with it, splits
--    run-together syllables ("dangky") and corrects misspelt words against
--    it, and builds its "did you mean" suggestion from it. A term no
--    procedure holds any more stays with ndoc 0 (and matches nothing).
--  - search_filler_words: words of Vietnamese queries that say little about
--    which procedure is meant ("tôi muốn làm ... cho con"); they count for
--    little in the ranking, and alone never make a procedure match.
--  - search_synonyms: what people say (colloquial names, abbreviations,
--    verbs) and the catalogue's words for it, maintained by system
--    administrators through /api/v1/synonyms; a synonym adds a reading
--    of the query, it never replaces the words typed. The default set is
--    in 0003_search_synonyms_default.sql.
-- Every word here is in the search normal form (f_search_norm: unaccented,
-- lower case, single spaces).

CREATE TABLE IF NOT EXISTS search_terms (
    term text COLLATE "C" PRIMARY KEY,
    ndoc integer NOT NULL DEFAULT 0 -- how many published procedures hold it ('': how many there are)
);
CREATE INDEX IF NOT EXISTS search_terms_trgm_idx ON search_terms USING gin (term public.gin_trgm_ops);

-- Keeps ndoc: +1 for each lexeme a row gains, -1 for each it loses. Terms are
-- counted in term order, so two publications never wait on each other's
-- counters in opposite orders (no deadlock). search_path FROM CURRENT: the
-- migration's, whatever session fires the trigger.
CREATE OR REPLACE FUNCTION procedure_search_terms_count() RETURNS trigger
    LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    -- The empty term (never a lexeme) counts the procedures themselves.
    gained text[] := CASE TG_OP WHEN 'DELETE' THEN '{}'::text[]
                                WHEN 'INSERT' THEN pg_catalog.tsvector_to_array(NEW.search_vector) || ''::text
                                ELSE pg_catalog.tsvector_to_array(NEW.search_vector) END;
    lost   text[] := CASE TG_OP WHEN 'INSERT' THEN '{}'::text[]
                                WHEN 'DELETE' THEN pg_catalog.tsvector_to_array(OLD.search_vector) || ''::text
                                ELSE pg_catalog.tsvector_to_array(OLD.search_vector) END;
BEGIN
    INSERT INTO search_terms AS st (term, ndoc)
    SELECT t, d FROM (SELECT t, 1 AS d FROM pg_catalog.unnest(gained) AS t WHERE t <> ALL (lost)
                      UNION ALL
                      SELECT t, -1 FROM pg_catalog.unnest(lost) AS t WHERE t <> ALL (gained)) AS c
     ORDER BY t
    ON CONFLICT (term) DO UPDATE SET ndoc = greatest(st.ndoc + EXCLUDED.ndoc, 0);
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER procedure_search_terms
    AFTER INSERT OR DELETE OR UPDATE OF search_vector ON procedure_search
    FOR EACH ROW EXECUTE FUNCTION procedure_search_terms_count();

INSERT INTO search_terms (term, ndoc)
SELECT t, count(*) FROM procedure_search, pg_catalog.unnest(pg_catalog.tsvector_to_array(search_vector)) AS t
 GROUP BY t
UNION ALL
SELECT '', count(*) FROM procedure_search
ON CONFLICT (term) DO UPDATE SET ndoc = EXCLUDED.ndoc;

CREATE TABLE IF NOT EXISTS search_filler_words (
    word text COLLATE "C" PRIMARY KEY CHECK (word ~ '^[a-z0-9]+$')
);
-- Not words that unaccented collide with meaningful ones: thẻ/thế, đỏ/đó, sổ, hộ, tài/tại,
-- căn/cần, đầu/đâu, một, mới, chi phí, người, hưởng, dân.
INSERT INTO search_filler_words (word) VALUES
    ('toi'), ('minh'), ('em'), ('anh'), ('muon'), ('lam'), ('xin'), ('thu'), ('tuc'),
    ('cach'), ('o'), ('cho'), ('gi'), ('nao'), ('nhu'), ('de'), ('va'), ('cua'), ('la'),
    ('bi'), ('nhe'), ('a'), ('oi'), ('hoi'), ('giup'), ('phai'), ('duoc'), ('co'),
    ('khong'), ('ve'), ('viec'), ('nhung'), ('cac'), ('nay'), ('thi'), ('ma'), ('khi'),
    ('online'), ('truc'), ('tuyen'), ('nop'), ('con'), ('be'), ('vo'), ('trong')
ON CONFLICT DO NOTHING;

CREATE TABLE IF NOT EXISTS search_synonyms (
    phrase     text COLLATE "C" NOT NULL CHECK (phrase ~ '^[a-z0-9]+( [a-z0-9]+)*$'),
    expansion  text COLLATE "C" NOT NULL CHECK (expansion ~ '^[a-z0-9]+( [a-z0-9]+)*$'),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (phrase, expansion)
);
