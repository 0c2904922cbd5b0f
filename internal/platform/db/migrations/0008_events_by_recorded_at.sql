-- Catch-up after a broker outage (PostgresRealtimeStore.recordedSince) reads the
-- events recorded since a moment. recorded_at had no index outside the partial one
-- on unpublished rows, so every gateway that reconnected read the whole event log.
-- Events are appended in recorded_at order, which is what a BRIN index needs: it
-- keeps one summary per range of table pages, costs next to nothing per insert
-- (ranges at the table's end stay unsummarized until autovacuum reaches them, and
-- are always read), and is tiny next to a B-tree on a log of this size.
CREATE INDEX package_events_recorded_brin ON package_events USING brin (recorded_at);
