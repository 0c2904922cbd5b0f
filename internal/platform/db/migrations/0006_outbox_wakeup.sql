-- NOTIFY takes a database-wide lock at commit and holds it through the WAL flush,
-- so every transaction that inserts an event would commit one after another.
-- A gateway wakes its own relay in-process after each commit and marks its
-- sessions with delivertrack.outbox_wakeup = 'in_process'; their inserts skip the
-- NOTIFY. Every other writer (a script, psql, another tool) still notifies, and
-- each relay's periodic sweep covers a writer that crashed before it could wake one.
CREATE OR REPLACE FUNCTION notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF coalesce(current_setting('delivertrack.outbox_wakeup', true), '') <> 'in_process' THEN
    PERFORM pg_notify('delivertrack_outbox', '');
  END IF;
  RETURN NULL;
END $$;
