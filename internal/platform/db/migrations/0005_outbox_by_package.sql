-- The relay looks up each package's lowest unpublished seq. Without an index that
-- starts with package_id, that lookup scanned every unpublished row of every
-- package, so a backlog made each batch slower and the backlog grew.
CREATE INDEX package_events_unpublished_by_package_idx ON package_events (package_id, seq) WHERE published_at IS NULL;
