-- The customer a package belongs to (who sees it in full). Set explicitly by an
-- admin or a service; existing packages stay unowned: recipient emails are not
-- verified, so matching them to accounts would hand strangers' parcels over.
ALTER TABLE packages ADD COLUMN customer_id uuid REFERENCES users (id) ON DELETE SET NULL;
CREATE INDEX packages_customer_idx ON packages (customer_id) WHERE deleted_at IS NULL;

-- A number a customer registered with a carrier (POST /me/trackings): nobody owns
-- it, and a shop's later package with the same number is refused, not merged into it.
ALTER TABLE packages ADD COLUMN external boolean NOT NULL DEFAULT false;
UPDATE packages SET external = true WHERE id IN (SELECT package_id FROM carrier_sync_requests);
