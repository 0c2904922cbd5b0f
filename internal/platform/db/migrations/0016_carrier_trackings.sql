-- Carrier trackings (issue 19): the `carriers` worker role asks the provider about
-- each external tracking on a schedule. The tracking row is its own job: workers
-- claim due rows with FOR UPDATE SKIP LOCKED and push next_update_due forward by a
-- lease while they ask, so a crashed worker's claim falls due again (docs/architecture.md).
CREATE TABLE carrier_trackings (
  package_id           uuid PRIMARY KEY REFERENCES packages (id) ON DELETE CASCADE,
  carrier              text NOT NULL,
  -- The provider that answered last ('' until the first check).
  provider             text NOT NULL DEFAULT '',
  -- false once final (delivered, returned, ...) or unknown at the carrier: never asked again.
  active               boolean NOT NULL DEFAULT true,
  next_update_due      timestamptz,
  -- Lower runs first: manual 50, retry 75, scheduled 100.
  priority             smallint NOT NULL DEFAULT 100,
  -- How the next check is logged (scheduled | manual) and who asked for it.
  next_type            text NOT NULL DEFAULT 'scheduled' CHECK (next_type IN ('scheduled', 'manual')),
  next_triggered_by    text NOT NULL DEFAULT 'schedule',
  -- The interval last scheduled, for "overdue by more than twice its interval".
  interval_s           integer,
  -- A read asked for a refresh and it is not done yet (debounces further reads).
  refresh_requested_at timestamptz,
  -- The claim in force: who holds it and the due time to give back if it is released unused.
  claim_token          uuid,
  claimed_due          timestamptz,
  last_checked_at      timestamptz,
  consecutive_failures integer NOT NULL DEFAULT 0,
  requires_attention   boolean NOT NULL DEFAULT false,
  not_found            boolean NOT NULL DEFAULT false,
  last_hash            text,
  last_status_code     integer,
  last_error           text,
  created_at           timestamptz NOT NULL DEFAULT now()
);
-- "Due now", in claim order.
CREATE INDEX carrier_trackings_due_idx ON carrier_trackings (priority, next_update_due) WHERE active;
CREATE INDEX carrier_trackings_attention_idx ON carrier_trackings (package_id) WHERE requires_attention;

-- Checkpoints already turned into events: a poll and a push of the same scan apply once.
CREATE TABLE carrier_checkpoints (
  package_id    uuid NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
  checkpoint_id text NOT NULL,
  occurred_at   timestamptz NOT NULL,
  PRIMARY KEY (package_id, checkpoint_id)
);

-- Every provider call (and, later, every push), for the admin log and usage figures.
CREATE TABLE carrier_update_log (
  id               bigserial PRIMARY KEY,
  package_id       uuid NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
  tracking_number  text NOT NULL,
  carrier          text NOT NULL,
  provider         text NOT NULL,
  type             text NOT NULL CHECK (type IN ('scheduled', 'manual', 'webhook')),
  triggered_by     text NOT NULL,
  success          boolean NOT NULL,
  status_code      integer,
  duration_ms      integer NOT NULL,
  error            text,
  status_changed   boolean NOT NULL DEFAULT false,
  previous_status  text,
  new_status       text,
  events_added     integer NOT NULL DEFAULT 0,
  started_at       timestamptz NOT NULL
);
CREATE INDEX carrier_update_log_package_idx ON carrier_update_log (package_id, started_at DESC);
CREATE INDEX carrier_update_log_started_idx ON carrier_update_log (started_at);

-- Provider calls per UTC day across all workers; only ever moved by one conditional
-- statement (used < limit), so racing workers never pass the budget.
CREATE TABLE carrier_budget (
  day  date PRIMARY KEY,
  used integer NOT NULL DEFAULT 0 CHECK (used >= 0)
);

-- The stub's queued requests become trackings, due at once; the stub table goes.
INSERT INTO carrier_trackings (package_id, carrier, next_update_due, created_at)
  SELECT r.package_id, r.carrier, r.next_attempt_at, r.requested_at
  FROM carrier_sync_requests r JOIN packages p ON p.id = r.package_id AND p.deleted_at IS NULL
  ON CONFLICT DO NOTHING;
DROP TABLE carrier_sync_requests;
