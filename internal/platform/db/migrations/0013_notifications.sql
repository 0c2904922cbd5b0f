-- In-app notifications, written by the worker's inbox role from package events.
-- One per event and user: a redelivered event inserts nothing new (ON CONFLICT).

CREATE TABLE notifications (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  event_id        uuid NOT NULL,
  type            text NOT NULL,
  title           text NOT NULL,
  body            text NOT NULL,
  tracking_number text,
  read_at         timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (event_id, user_id)
);
-- A user's list, newest first (cursor on created_at, id).
CREATE INDEX notifications_user_list_idx ON notifications (user_id, created_at DESC, id DESC);
-- The unread count and the unread filter read only the unread rows.
CREATE INDEX notifications_user_unread_idx ON notifications (user_id, created_at DESC, id DESC) WHERE read_at IS NULL;
