-- Drivers' assignments: offers a driver accepts or declines. A package has at most
-- one active (offered or accepted) assignment; the partial unique index is what
-- refuses a second one, so concurrent offers on any number of gateways cannot both win.
CREATE TABLE assignments (
  id              uuid PRIMARY KEY,
  package_id      uuid NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
  tracking_number text NOT NULL,
  -- A deleted driver's assignments go with the account, so none stays active for nobody.
  driver_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  state           text NOT NULL CHECK (state IN ('offered', 'accepted', 'declined', 'completed', 'cancelled')),
  -- A user id or a service client's id (services have no user row).
  assigned_by     text NOT NULL,
  assigned_at     timestamptz NOT NULL,
  accepted_at     timestamptz,
  declined_at     timestamptz,
  completed_at    timestamptz,
  cancelled_at    timestamptz
);
CREATE UNIQUE INDEX assignments_one_active_key ON assignments (package_id) WHERE state IN ('offered', 'accepted');
CREATE INDEX assignments_package_idx ON assignments (package_id, assigned_at, id);
CREATE INDEX assignments_driver_idx ON assignments (driver_id, assigned_at DESC);

-- A package reaching a final status (or deleted) ends its active assignment in the
-- same transaction, whichever statement moved it (single writes or batched ones):
-- delivered completes an accepted assignment; anything else cancels it.
CREATE FUNCTION end_active_assignment() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE assignments
     SET state = CASE WHEN NEW.status = 'delivered' AND NEW.deleted_at IS NULL AND state = 'accepted' THEN 'completed' ELSE 'cancelled' END,
         completed_at = CASE WHEN NEW.status = 'delivered' AND NEW.deleted_at IS NULL AND state = 'accepted' THEN NEW.updated_at END,
         cancelled_at = CASE WHEN NEW.status = 'delivered' AND NEW.deleted_at IS NULL AND state = 'accepted' THEN NULL ELSE NEW.updated_at END
   WHERE package_id = NEW.id AND state IN ('offered', 'accepted');
  RETURN NULL;
END $$;

CREATE TRIGGER packages_end_assignment AFTER UPDATE ON packages
  FOR EACH ROW
  WHEN ((OLD.status IS DISTINCT FROM NEW.status AND NEW.status IN ('delivered', 'returned', 'cancelled', 'expired'))
     OR (OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL))
  EXECUTE FUNCTION end_active_assignment();

-- Where each driver last reported being (POST /me/locations), for GET /drivers.
CREATE TABLE driver_positions (
  driver_id    uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  lat          double precision NOT NULL,
  lng          double precision NOT NULL,
  recorded_at  timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL
);
