-- catalogue service: what the procedure search knows about the words of a
-- citizen's query (issue 14), all of it data:
--  - search_terms: every lexeme of the published procedures' search vectors,
--    kept by a trigger on procedure_search; the search splits run-together
--    syllables ("dangky") and corrects misspelt words against it, and builds
--    its "did you mean" suggestion from it. Terms are never removed: a term
--    no current procedure uses only costs a row, and matches nothing.
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
    term text COLLATE "C" PRIMARY KEY
);
CREATE INDEX IF NOT EXISTS search_terms_trgm_idx ON search_terms USING gin (term public.gin_trgm_ops);

CREATE OR REPLACE FUNCTION procedure_search_terms_collect() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_terms (term)
    SELECT t FROM pg_catalog.unnest(pg_catalog.tsvector_to_array(NEW.search_vector)) AS t
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER procedure_search_terms
    AFTER INSERT OR UPDATE OF search_vector ON procedure_search
    FOR EACH ROW EXECUTE FUNCTION procedure_search_terms_collect();

INSERT INTO search_terms (term)
SELECT DISTINCT t FROM procedure_search, pg_catalog.unnest(pg_catalog.tsvector_to_array(search_vector)) AS t
ON CONFLICT DO NOTHING;

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
