-- Accounts, packages, their gap-free event log and customers' tracking lists.

CREATE TABLE users (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email            text NOT NULL,
  password_hash    text,
  name             text NOT NULL,
  role             text NOT NULL CHECK (role IN ('admin', 'operator', 'customer', 'driver')),
  external_subject text UNIQUE,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- Refresh tokens rotate inside a family; presenting a used one revokes the family.
CREATE TABLE refresh_tokens (
  id          uuid PRIMARY KEY,
  family_id   uuid NOT NULL,
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  token_hash  bytea NOT NULL,
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  revoked_at  timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);

CREATE TABLE service_clients (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  client_id   text NOT NULL UNIQUE,
  secret_hash bytea NOT NULL,
  name        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);

CREATE TABLE packages (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tracking_number    text NOT NULL,
  status             text NOT NULL,
  carrier            text NOT NULL,
  description        text,
  weight_grams       integer,
  sender             jsonb NOT NULL,
  recipient          jsonb NOT NULL,
  origin             jsonb,
  destination        jsonb,
  estimated_delivery timestamptz,
  driver_id          uuid REFERENCES users (id) ON DELETE SET NULL,
  last_lat           double precision,
  last_lng           double precision,
  last_recorded_at   timestamptz,
  version            integer NOT NULL DEFAULT 1,
  last_seq           bigint NOT NULL DEFAULT 0,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  deleted_at         timestamptz
);
-- A deleted package keeps its history; its number may be issued again.
CREATE UNIQUE INDEX packages_tracking_number_key ON packages (tracking_number) WHERE deleted_at IS NULL;
CREATE INDEX packages_list_idx ON packages (created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX packages_status_idx ON packages (status, created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX packages_driver_idx ON packages (driver_id) WHERE deleted_at IS NULL;

-- The durable event log: seq is 1, 2, 3, ... per package with no gaps, written in
-- the same transaction as the change it records.
CREATE TABLE package_events (
  id              uuid PRIMARY KEY,
  package_id      uuid NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
  seq             bigint NOT NULL,
  type            text NOT NULL,
  tracking_number text NOT NULL,
  occurred_at     timestamptz NOT NULL,
  recorded_at     timestamptz NOT NULL,
  data            jsonb NOT NULL,
  UNIQUE (package_id, seq)
);

CREATE TABLE user_trackings (
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  package_id uuid NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
  label      text,
  added_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, package_id)
);
CREATE INDEX user_trackings_package_idx ON user_trackings (package_id);

-- External trackings waiting for the carrier poller.
CREATE TABLE carrier_sync_requests (
  package_id      uuid PRIMARY KEY REFERENCES packages (id) ON DELETE CASCADE,
  carrier         text NOT NULL,
  requested_at    timestamptz NOT NULL DEFAULT now(),
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  attempts        integer NOT NULL DEFAULT 0
);
