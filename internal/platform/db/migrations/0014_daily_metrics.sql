-- Charts (issue 18): daily aggregates that the `metrics` worker role keeps from the
-- event log, so the chart endpoints never scan packages or events.

-- One row per UTC day with activity. On-time counts only deliveries whose package
-- had an estimated delivery day (delivered_estimated); the others have no rate.
CREATE TABLE metrics_orders_by_day (
  day                 date PRIMARY KEY,
  created             integer NOT NULL DEFAULT 0,
  delivered           integer NOT NULL DEFAULT 0,
  failed_attempts     integer NOT NULL DEFAULT 0,
  exceptions          integer NOT NULL DEFAULT 0,
  delivered_estimated integer NOT NULL DEFAULT 0,
  delivered_on_time   integer NOT NULL DEFAULT 0
);

-- Deliveries per driver and UTC day. A median cannot be summed, so each delivery's
-- accept-to-delivered seconds are kept in the row's array (one row per driver-day).
CREATE TABLE metrics_driver_day (
  driver_id             uuid NOT NULL,
  day                   date NOT NULL,
  delivered             integer NOT NULL DEFAULT 0,
  delivered_estimated   integer NOT NULL DEFAULT 0,
  delivered_on_time     integer NOT NULL DEFAULT 0,
  accept_to_delivered_s integer[] NOT NULL DEFAULT '{}',
  PRIMARY KEY (driver_id, day)
);
CREATE INDEX metrics_driver_day_day_idx ON metrics_driver_day (day);

-- Per package: the last seq counted (a redelivered event at or below it counts
-- nothing) and what later events need: its estimated day, driver and acceptance.
CREATE TABLE metrics_packages (
  package_id     uuid PRIMARY KEY,
  counted_seq    bigint NOT NULL DEFAULT 0,
  external       boolean NOT NULL DEFAULT false,
  estimated_day  date,
  driver_id      uuid,
  accepted_at    timestamptz
);
