-- Carrier trackings' cleanup (issue 19): one row per run of the carriers role's
-- cleanup, so two workers run it once per TRACKING_CLEANUP_INTERVAL between them
-- and the admin jobs page can count completed and failed runs.
CREATE TABLE carrier_cleanup_runs (
  id             bigserial PRIMARY KEY,
  started_at     timestamptz NOT NULL,
  finished_at    timestamptz NOT NULL,
  success        boolean NOT NULL,
  deactivated    integer NOT NULL DEFAULT 0,
  checkpoints_dropped integer NOT NULL DEFAULT 0,
  logs_pruned    integer NOT NULL DEFAULT 0,
  error          text
);
CREATE INDEX carrier_cleanup_runs_started_idx ON carrier_cleanup_runs (started_at);
