-- IoT devices (API keys) and location history; the package's last location stays
-- in packages.last_* and gets a spatial index for "nearby".

-- cube and earthdistance live in schema public, shared by every schema of the
-- database. Test files migrate many schemas at once: a global lock serialises the
-- creation, and a concurrent creator's duplicate is swallowed all the same.
SELECT pg_advisory_xact_lock(hashtext('delivertrack.extensions'));
DO $$
BEGIN
  CREATE EXTENSION IF NOT EXISTS cube WITH SCHEMA public;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
DO $$
BEGIN
  CREATE EXTENSION IF NOT EXISTS earthdistance WITH SCHEMA public;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;

-- ll_to_earth's body calls earth() and cube() unqualified, which fails wherever the
-- search path lacks public (autovacuum's ANALYZE of an expression index, restores).
-- This wrapper pins its search path, so it is safe in an index expression.
CREATE FUNCTION ll_to_earth_safe(lat double precision, lng double precision) RETURNS public.earth
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  SET search_path = public, pg_catalog
  AS $$ SELECT public.ll_to_earth(lat, lng) $$;

-- Nearest packages by last location: earth_box(...) @> ll_to_earth_safe(...) uses this.
CREATE INDEX packages_last_location_gist ON packages
  USING gist (ll_to_earth_safe(last_lat, last_lng))
  WHERE last_lat IS NOT NULL AND deleted_at IS NULL;

-- A device authenticates with `dtk_<key_prefix>_<secret>`; only sha256(key) is kept.
-- Deleting a device revokes it (revoked_at); its location history keeps its id.
CREATE TABLE devices (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name         text NOT NULL,
  key_prefix   text NOT NULL,
  key_hash     bytea NOT NULL,
  package_id   uuid REFERENCES packages (id) ON DELETE SET NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz,
  revoked_at   timestamptz
);
CREATE UNIQUE INDEX devices_key_prefix_key ON devices (key_prefix);
CREATE INDEX devices_list_idx ON devices (created_at DESC, id DESC) WHERE revoked_at IS NULL;

-- One row per point. (device, recorded_at) identifies a point: a resend is a
-- duplicate. No foreign keys: the ids come from an authenticated device's binding,
-- and per-row FK checks would cost ingest throughput.
CREATE TABLE locations (
  device_id   uuid NOT NULL,
  recorded_at timestamptz NOT NULL,
  package_id  uuid NOT NULL,
  lat         double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
  lng         double precision NOT NULL CHECK (lng BETWEEN -180 AND 180),
  accuracy_m  double precision,
  speed_mps   double precision,
  heading_deg double precision,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (device_id, recorded_at)
);
CREATE INDEX locations_package_time_idx ON locations (package_id, recorded_at DESC);
