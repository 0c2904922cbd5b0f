-- The x-request-id of the request that caused an event (issue 20, correlation): it
-- travels in the envelope to the broker, the workers' logs and webhook deliveries.
ALTER TABLE package_events ADD COLUMN request_id text;
