-- Asynchronous status updates (issue 20): one row per update an integration posted
-- or published, keyed by (client, externalId) so a repeat is a duplicate. The row
-- is the queue's durable copy (published_at NULL: still to hand to RabbitMQ, the
-- outbox) and the record of its outcome, written in the same transaction as the
-- package change it caused, so an update is applied exactly once.
CREATE TABLE status_updates (
  client_id       text NOT NULL,
  external_id     text NOT NULL,
  -- Insertion order: the relay publishes in it (a batch is inserted in occurredAt order).
  seq             bigserial NOT NULL,
  client_kind     text NOT NULL CHECK (client_kind IN ('user', 'service')),
  client_role     text NOT NULL,
  tracking_number text NOT NULL,
  status          text NOT NULL,
  occurred_at     timestamptz NOT NULL,
  note            text,
  location        jsonb,
  -- The x-request-id of the POST (or the message's header): the applied event records it.
  request_id      text,
  state           text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'applied', 'refused')),
  reason          text,
  event_seq       integer,
  received_at     timestamptz NOT NULL DEFAULT now(),
  settled_at      timestamptz,
  published_at    timestamptz,
  PRIMARY KEY (client_id, external_id)
);
CREATE INDEX status_updates_unpublished_idx ON status_updates (seq) WHERE published_at IS NULL;
-- An admin reads any client's update by its externalId alone.
CREATE INDEX status_updates_external_idx ON status_updates (external_id);
