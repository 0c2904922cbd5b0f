-- When the provider last pushed an update for the tracking: while pushes arrive the
-- schedule only polls as a safety net (TRACKING_PUSHED_FREQ). A scheduled check
-- that finds news the pushes did not bring clears it.
ALTER TABLE carrier_trackings ADD COLUMN last_pushed_at timestamptz;
