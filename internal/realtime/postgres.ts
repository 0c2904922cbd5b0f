import type pg from 'pg'
import type { EventLog } from './connection.js'
import { toEvent, type EventRow } from '../package/postgres.js'
import { toEnvelope, type EventEnvelope } from './envelope.js'
import type { TrackerLookup } from './router.js'

const toEnvelopeRow = (r: EventRow): EventEnvelope => toEnvelope(toEvent(r))

// The newest package with the number: a deleted number may be issued again
// (packages_number_newest_idx serves it; the unique index covers live packages only).
const CURRENT_PACKAGE = `(SELECT id FROM packages WHERE tracking_number = $1 ORDER BY created_at DESC LIMIT 1)`

/** The store's per-number statements, exported for the test that checks they use an index. */
export const SINCE_SQL = `SELECT * FROM package_events WHERE package_id = ${CURRENT_PACKAGE} AND seq > $2 ORDER BY seq LIMIT 10000`
/** Catch-up after a broker outage; package_events_recorded_brin (migration 0008) serves the range. */
export const RECORDED_SINCE_SQL = `SELECT * FROM package_events WHERE recorded_at >= $1 ORDER BY package_id, seq LIMIT $2`
export const TRACKERS_SQL = `SELECT user_id FROM user_trackings WHERE package_id = ${CURRENT_PACKAGE}`

/** Event log reads for the hub: gap fills, catch-up after a broker outage, user routing, outbox gauges. */
export class PostgresRealtimeStore implements EventLog, TrackerLookup {
  constructor(private readonly pool: pg.Pool) {}

  async since(trackingNumber: string, afterSeq: number): Promise<EventEnvelope[]> {
    const { rows } = await this.pool.query<EventRow>(SINCE_SQL, [trackingNumber, afterSeq])
    return rows.map(toEnvelopeRow)
  }

  /** Events recorded at or after the time (published or not), per package in seq order. */
  async recordedSince(at: Date, limit = 100_000): Promise<EventEnvelope[]> {
    const { rows } = await this.pool.query<EventRow>(RECORDED_SINCE_SQL, [at, limit])
    return rows.map(toEnvelopeRow)
  }

  async trackers(trackingNumber: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ user_id: string }>(TRACKERS_SQL, [trackingNumber])
    return rows.map((r) => r.user_id)
  }

  async outbox(): Promise<{ pending: number; oldestAgeS: number }> {
    const { rows } = await this.pool.query<{ pending: number; oldest: Date | null }>(
      'SELECT count(*)::int AS pending, min(recorded_at) AS oldest FROM package_events WHERE published_at IS NULL',
    )
    const row = rows[0]!
    return { pending: row.pending, oldestAgeS: row.oldest ? Math.max(0, (Date.now() - row.oldest.getTime()) / 1000) : 0 }
  }
}
