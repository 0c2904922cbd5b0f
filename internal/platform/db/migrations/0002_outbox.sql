-- The package event log doubles as the transactional outbox: an event is written
-- with its change and published to RabbitMQ by the relay, which stamps published_at.
ALTER TABLE package_events ADD COLUMN published_at timestamptz;
UPDATE package_events SET published_at = recorded_at;
CREATE INDEX package_events_unpublished_idx ON package_events (recorded_at, package_id, seq) WHERE published_at IS NULL;

CREATE FUNCTION notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('delivertrack_outbox', '');
  RETURN NULL;
END $$;

CREATE TRIGGER package_events_notify AFTER INSERT ON package_events
  FOR EACH STATEMENT EXECUTE FUNCTION notify_outbox();
