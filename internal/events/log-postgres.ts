import { randomUUID } from 'node:crypto'
import type pg from 'pg'
import { currentRequestId } from '../platform/request-context.js'
import type { Actor } from './actor.js'
import { toEnvelope, type EventEnvelope, type NewEvent, type PackageEvent } from './envelope.js'
import type { EventLogReader, LoggedEvent } from './log.js'

// The package event log: every statement that writes or reads package_events is here.
// Each package's events carry seq 1, 2, 3, ... with no gaps; they are written in the
// same statement as the package row that records the change, and the log doubles as
// the outbox (published_at is stamped by the relay).

/** An event with the seq and id it is written with. */
export type StampedEvent = PackageEvent & { seq: number }

/** The events of a change, numbered on from the package's current seq, with the request in hand. */
export function stampEvents(pkg: { trackingNumber: string; seq: number }, events: readonly NewEvent[], now: Date): StampedEvent[] {
  const requestId = currentRequestId()
  return events.map((e, i) => ({
    id: randomUUID(),
    type: e.type,
    trackingNumber: pkg.trackingNumber,
    seq: pkg.seq + i + 1,
    occurredAt: e.occurredAt,
    recordedAt: now,
    data: e.data,
    ...(e.actor ? { actor: e.actor } : {}),
    ...(requestId ? { requestId } : {}),
  }))
}

/**
 * The one statement part that writes events: a data-modifying CTE body inserting
 * the events of every package row `source` (a CTE of written packages rows)
 * returned. Rows whose write did not apply (a version check failed) return nothing,
 * so their events are not written either. Takes the 9 parameters of eventValues,
 * numbered from `first`.
 */
export function insertEvents(source: string, first: number): string {
  const p = (i: number) => `$${first + i}`
  return `INSERT INTO package_events (id, package_id, seq, type, tracking_number, occurred_at, recorded_at, data, actor, request_id, origin)
    SELECT ev.id, s.id, ev.seq, ev.type, s.tracking_number, ev.occurred_at, ev.recorded_at, ev.data, ev.meta->'actor', ev.meta->>'requestId', ${p(8)}::text
    FROM ${source} s JOIN unnest(${p(0)}::uuid[], ${p(1)}::uuid[], ${p(2)}::bigint[], ${p(3)}::text[], ${p(4)}::timestamptz[], ${p(5)}::timestamptz[], ${p(6)}::jsonb[], ${p(7)}::jsonb[])
      AS ev(package_id, id, seq, type, occurred_at, recorded_at, data, meta) ON ev.package_id = s.id`
}

/** The parameters of insertEvents for the events of each package, written by `origin`. */
export function eventValues(batches: ReadonlyArray<{ packageId: string; events: readonly StampedEvent[] }>, origin: string | null): unknown[] {
  const cols: [string[], string[], number[], string[], Date[], Date[], string[], Array<string | null>] = [[], [], [], [], [], [], [], []]
  for (const { packageId, events } of batches) {
    for (const e of events) {
      cols[0].push(packageId)
      cols[1].push(e.id)
      cols[2].push(e.seq)
      cols[3].push(e.type)
      cols[4].push(e.occurredAt)
      cols[5].push(e.recordedAt)
      cols[6].push(JSON.stringify(e.data))
      // Actor and request id share one parameter, so the statements' numbering stays put.
      cols[7].push(JSON.stringify({ ...(e.actor ? { actor: e.actor } : {}), ...(e.requestId ? { requestId: e.requestId } : {}) }))
    }
  }
  return [...cols, origin]
}

const EVENT_COLUMNS = 'id, seq, type, tracking_number, occurred_at, recorded_at, data, actor, request_id, origin'

/** A package_events row as selected with EVENT_COLUMNS. */
export interface EventRow {
  id: string
  seq: number
  type: PackageEvent['type']
  tracking_number: string
  occurred_at: Date
  recorded_at: Date
  data: Record<string, unknown>
  actor: Actor | null
  request_id: string | null
  origin: string | null
}

export const toEvent = (r: EventRow): PackageEvent => ({
  id: r.id,
  type: r.type,
  trackingNumber: r.tracking_number,
  seq: Number(r.seq),
  occurredAt: r.occurred_at,
  recordedAt: r.recorded_at,
  data: r.data,
  ...(r.actor ? { actor: r.actor } : {}),
  ...(r.request_id ? { requestId: r.request_id } : {}),
})

export const toLogged = (r: EventRow): LoggedEvent => ({ event: toEnvelope(toEvent(r)), origin: r.origin ?? undefined })

// The newest package with the number: a deleted number may be issued again
// (packages_number_newest_idx serves it; the unique index covers live packages only).
const CURRENT_PACKAGE = `(SELECT id FROM packages WHERE tracking_number = $1 ORDER BY created_at DESC LIMIT 1)`

/** Statements exported for the tests that check they use an index. */
export const SINCE_SQL = `SELECT ${EVENT_COLUMNS} FROM package_events WHERE package_id = ${CURRENT_PACKAGE} AND seq > $2 ORDER BY seq LIMIT 10000`
/** package_events_recorded_brin (migration 0008) serves the range. */
export const RECORDED_SINCE_SQL = `SELECT ${EVENT_COLUMNS} FROM package_events WHERE recorded_at >= $1 ORDER BY package_id, seq LIMIT $2`

/** Reads of the event log. */
export class PostgresEventLog implements EventLogReader {
  constructor(private readonly pool: pg.Pool) {}

  /** A package's durable events in seq order, after `afterSeq`. */
  async ofPackage(packageId: string, afterSeq = 0): Promise<PackageEvent[]> {
    const { rows } = await this.pool.query<EventRow>({
      name: 'events_of_package',
      text: `SELECT ${EVENT_COLUMNS} FROM package_events WHERE package_id = $1 AND seq > $2 ORDER BY seq`,
      values: [packageId, afterSeq],
    })
    return rows.map(toEvent)
  }

  /** The current package with the number's events after `afterSeq`, in seq order (gap fills). */
  async since(trackingNumber: string, afterSeq: number): Promise<EventEnvelope[]> {
    const { rows } = await this.pool.query<EventRow>(SINCE_SQL, [trackingNumber, afterSeq])
    return rows.map((r) => toEnvelope(toEvent(r)))
  }

  /** Events recorded at or after the moment (published or not), each package's in seq order. */
  async recordedSince(at: Date, limit = 100_000): Promise<LoggedEvent[]> {
    const { rows } = await this.pool.query<EventRow>(RECORDED_SINCE_SQL, [at, limit])
    return rows.map(toLogged)
  }

  /** Events not yet published, and how long the oldest has waited. */
  async outbox(): Promise<{ pending: number; oldestAgeS: number }> {
    const { rows } = await this.pool.query<{ pending: number; oldest: Date | null }>(
      'SELECT count(*)::int AS pending, min(recorded_at) AS oldest FROM package_events WHERE published_at IS NULL',
    )
    const row = rows[0]!
    return { pending: row.pending, oldestAgeS: row.oldest ? Math.max(0, (Date.now() - row.oldest.getTime()) / 1000) : 0 }
  }
}

/** One claimed batch of the outbox: publish the events, then the rows are stamped published. */
export const CLAIM_SQL = `WITH batch AS (
    SELECT id, package_id, seq, type, tracking_number, occurred_at, recorded_at, data, actor, request_id, origin FROM package_events
    WHERE published_at IS NULL ORDER BY recorded_at, package_id, seq LIMIT $1 FOR UPDATE SKIP LOCKED
  )
  SELECT b.*, (SELECT min(x.seq) FROM package_events x WHERE x.package_id = b.package_id AND x.published_at IS NULL)::bigint AS lowest
  FROM batch b`
