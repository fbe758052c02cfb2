-- Machine clients become manageable (GET/PATCH /api/v1/clients/{client_id},
-- POST .../secret): a revision for ETag / If-Match like accounts have, the
-- time of the last change and of the last secret rotation, and an index for
-- the list filtered by agency (ordered by client_id, the keyset).
ALTER TABLE clients ADD COLUMN IF NOT EXISTS revision bigint NOT NULL DEFAULT 1;
ALTER TABLE clients ADD COLUMN IF NOT EXISTS updated_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE clients ADD COLUMN IF NOT EXISTS secret_rotated_at timestamptz;
CREATE INDEX IF NOT EXISTS clients_by_agency ON clients (agency, client_id);
