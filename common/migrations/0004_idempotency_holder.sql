-- Which process holds a 'pending' Idempotency-Key (common/src/idempotency.c).
-- Every process of a service keeps one PostgreSQL session that holds the
-- advisory lock (1835223364, holder) for as long as the process lives. A retry
-- that finds the key pending tries that lock: if it can take it, the process
-- that wrote the row is gone (killed, crashed) and the retry takes the key over
-- at once instead of waiting for the row to go stale. NULL: a row written
-- before this migration, taken over only when stale.
ALTER TABLE idempotency_keys ADD COLUMN IF NOT EXISTS holder integer;
