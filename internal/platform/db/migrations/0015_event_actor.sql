-- Who caused each event (events/actor.ts): {type, id?, role?, name?}. Events
-- recorded before this stay NULL: nobody knows any more who caused them.
ALTER TABLE package_events ADD COLUMN actor jsonb;
