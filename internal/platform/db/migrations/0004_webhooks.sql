-- Webhook endpoints, their deliveries and every attempt; and the workers' own
-- records that make them idempotent by event id (cmd/worker).

CREATE TABLE webhook_endpoints (
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  url                  text NOT NULL,
  events               text[] NOT NULL,
  -- Needed in clear to sign each delivery; shown to the admin once, at creation.
  secret               text NOT NULL,
  consecutive_failures integer NOT NULL DEFAULT 0,
  failing_since        timestamptz,
  disabled_at          timestamptz,
  created_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_endpoints_list_idx ON webhook_endpoints (created_at DESC, id DESC);

-- One delivery per endpoint and event: a redelivered event finds it and goes on from there.
CREATE TABLE webhook_deliveries (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  endpoint_id uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  event_id    uuid NOT NULL,
  event_type  text NOT NULL,
  status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed', 'dead')),
  attempts    integer NOT NULL DEFAULT 0,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_list_idx ON webhook_deliveries (endpoint_id, created_at DESC, id DESC);

CREATE TABLE webhook_attempts (
  delivery_id  uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
  attempt      integer NOT NULL,
  status_code  integer,
  latency_ms   integer NOT NULL,
  error        text,
  attempted_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (delivery_id, attempt)
);

-- Events a worker role has finished with (notifications), so a redelivered event is not sent twice.
CREATE TABLE worker_receipts (
  consumer     text NOT NULL,
  event_id     uuid NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, event_id)
);
CREATE INDEX worker_receipts_age_idx ON worker_receipts (processed_at);

-- The archive's ledger: which object each event went into. A batch is recorded
-- (with its Parquet bytes) before the upload, so a batch whose upload or ack was
-- interrupted is uploaded again byte for byte under the same key, never re-batched.
CREATE TABLE archive_batches (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  key         text NOT NULL UNIQUE,
  body        bytea,
  events      integer NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  uploaded_at timestamptz
);
-- Parquet is compressed already: no second (pglz) compression of the pending bytes.
ALTER TABLE archive_batches ALTER COLUMN body SET STORAGE EXTERNAL;
CREATE INDEX archive_batches_uploaded_idx ON archive_batches (uploaded_at);

-- One row per archived event, written thousands at a time: no foreign key to check
-- per row, and a BRIN index (batch ids grow with the table) for pruning by batch.
CREATE TABLE archive_events (
  event_id uuid PRIMARY KEY,
  batch_id bigint NOT NULL
);
CREATE INDEX archive_events_batch_brin ON archive_events USING brin (batch_id);
