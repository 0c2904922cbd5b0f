-- Drivers on and off shift (PUT /me/shift): the gateway writes it, GET /drivers shows
-- it and the dispatch service offers work only to drivers on shift.
CREATE TABLE driver_shifts (
  driver_id  uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  on_shift   boolean NOT NULL,
  changed_at timestamptz NOT NULL
);

-- The dispatch service's own tables live in a schema of their own: `dispatch` beside
-- `public`, or `<schema>_dispatch` beside any other schema (test files migrate one
-- schema each; internal/dispatch/postgres.ts derives the same name).
DO $$
DECLARE
  s text := CASE WHEN current_schema() = 'public' THEN 'dispatch' ELSE current_schema() || '_dispatch' END;
BEGIN
  EXECUTE format('CREATE SCHEMA IF NOT EXISTS %I', s);
  -- One row per own-fleet package dispatch has taken on: where its offering stands.
  -- state: offered (assignment_id waits for an answer), waiting (nobody on shift to
  -- offer it to; the sweep tries again), closed (accepted, taken by staff, final).
  EXECUTE format($f$CREATE TABLE %I.packages (
    package_id      uuid PRIMARY KEY,
    tracking_number text NOT NULL,
    state           text NOT NULL CHECK (state IN ('open', 'offered', 'waiting', 'closed')),
    assignment_id   uuid,
    driver_id       uuid,
    offered_at      timestamptz,
    closed_reason   text,
    updated_at      timestamptz NOT NULL
  )$f$, s);
  EXECUTE format('CREATE INDEX packages_due_idx ON %I.packages (state, offered_at) WHERE state IN (''offered'', ''waiting'')', s);
  -- Drivers who declined a package or let its offer time out: never offered it again.
  EXECUTE format($f$CREATE TABLE %I.passed_over (
    package_id uuid NOT NULL,
    driver_id  uuid NOT NULL,
    reason     text NOT NULL CHECK (reason IN ('declined', 'timeout')),
    at         timestamptz NOT NULL,
    PRIMARY KEY (package_id, driver_id)
  )$f$, s);
END $$;
