-- The process whose commit recorded an event. It routes the event to its own
-- WebSocket clients at commit, so its hub skips the copy that comes back through
-- the bus. NULL for writers outside a gateway (scripts, psql): every hub routes those.
ALTER TABLE package_events ADD COLUMN origin text;
