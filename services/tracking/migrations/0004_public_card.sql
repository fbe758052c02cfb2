-- The public card's answer kept in the dossier's row (services/tracking/card_view.h): the
-- exact bytes GET /api/v1/tracking/dossiers/{code} answers without a second factor, their
-- ETag, and the id of the lookup key they were built with (the short code in them is an
-- HMAC under that key; lookup_key_id). The projection rewrites them in the transaction
-- that changes the card or the steps, so the lookup answers them after one indexed read.
--
-- The backfill of the rows that exist: the bytes are built in C (labels, the public form
-- of the steps, the short code's HMAC with a key the database never sees), so this file
-- only adds the columns, NULL; the service rebuilds every row whose card is NULL or was
-- built under another key id, at start, in spans (services/tracking/public_cards.c).
-- Until a row's card is there, the lookup builds the same answer on the spot.
ALTER TABLE dossiers
    ADD COLUMN public_card   text,
    ADD COLUMN public_etag   text,
    ADD COLUMN public_key_id text;
