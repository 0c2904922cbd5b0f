-- The real-time lookups (gap fills, user routing) take the newest package with a
-- number whether or not it was deleted, since a deleted number may be issued again.
-- The unique index on tracking_number covers live packages only, so until now each
-- of those lookups read the whole packages table.
-- Migrations run in a transaction, so this is not built CONCURRENTLY: on a large
-- table, writes to packages wait while it builds (README, "npm run migrate").
CREATE INDEX packages_number_newest_idx ON packages (tracking_number, created_at DESC);
