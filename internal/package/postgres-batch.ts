import { eventValues, insertEvents, stampEvents, type StampedEvent } from '../events/log-postgres.js'
import type { Queryable } from '../platform/db/postgres.js'
import type { Package } from './domain.js'
import type { Change } from './entity.js'
import type { Written } from './ports.js'
import { lastLocationAdvances, PACKAGE_COLUMNS, toPackage, type PackageRow } from './postgres-rows.js'

/** Fields a statement must write: the package's stored fields whose value the change altered. */
const STORED: ReadonlyArray<keyof Package> = ['status', 'carrier', 'description', 'weightGrams', 'sender', 'recipient', 'origin', 'destination', 'estimatedDelivery', 'driverId', 'customerId', 'external', 'deliveryOption', 'paymentStatus', 'items', 'lastLocation']

export function changedFields(current: Package, next: Package): Array<keyof Package> {
  return STORED.filter((f) => JSON.stringify(current[f] ?? null) !== JSON.stringify(next[f] ?? null))
}

/** Status changes (with or without a location fix) are what arrives in bulk; other changes go one by one. */
export function isBatchable(current: Package, change: Change): boolean {
  if (change.deleted || change.events.length === 0) return false
  return changedFields(current, change.next).every((f) => f === 'status' || f === 'lastLocation')
}

interface Pending {
  current: Package
  change: Change
  now: Date
  resolve: (written: Written | null) => void
  reject: (err: unknown) => void
}

// One statement for many packages. Rows are locked in id order first (FOR NO KEY
// UPDATE, the lock the UPDATE itself takes, so inserts that reference a package are
// not held up), so two statements (from this process or another gateway) that share
// packages queue behind each other instead of deadlocking. Each row applies only at
// the version its change was decided on; the events go in with the rows that applied.
const ADVANCES = `(x.located_at IS NOT NULL AND ${lastLocationAdvances('x.located_at', 'p.')})`
const WRITE_MANY = `WITH x AS (
    SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::float8[], $5::float8[], $6::timestamptz[], $7::timestamptz[], $8::int[])
      AS x(id, version, status, lat, lng, located_at, now, n)
  ), locked AS (
    SELECT p.id FROM packages p WHERE p.id = ANY($1::uuid[]) ORDER BY p.id FOR NO KEY UPDATE
  ), u AS (
    UPDATE packages p SET
      status = coalesce(x.status, p.status),
      last_lat = CASE WHEN ${ADVANCES} THEN x.lat ELSE p.last_lat END,
      last_lng = CASE WHEN ${ADVANCES} THEN x.lng ELSE p.last_lng END,
      last_recorded_at = CASE WHEN ${ADVANCES} THEN x.located_at ELSE p.last_recorded_at END,
      version = p.version + 1, updated_at = x.now, last_seq = p.last_seq + x.n
    FROM x WHERE p.id = x.id AND p.version = x.version AND p.id IN (SELECT id FROM locked)
    RETURNING ${PACKAGE_COLUMNS.split(', ').map((c) => `p.${c}`).join(', ')}
  ), e AS (${insertEvents('u', 9)})
  SELECT * FROM u`

export interface BatchWriterOptions {
  /** Batch statements in flight at once; what arrives meanwhile waits and goes out together. */
  maxInFlight?: number
  /** Packages per statement. */
  maxBatch?: number
  /** This process's instance id, recorded with the events. */
  origin?: string | null
}

/**
 * Group commit for status changes. A write joins the statement about to be sent
 * (everything submitted in the same turn of the event loop, plus whatever queued
 * while `maxInFlight` statements were out), so under load one round trip, one
 * transaction and one WAL flush carry many changes; alone, a write still goes out
 * in the same turn. A package has at most one change in flight: a second one for
 * it waits for the next statement (it was decided on the same version, so it will
 * lose and be decided again). Resolves with the written state, or null when the
 * package no longer had the version the change was decided on.
 */
export class BatchedStatusWriter {
  private queue: Pending[] = []
  private readonly writing = new Set<string>()
  private inFlight = 0
  private scheduled = false
  private readonly maxInFlight: number
  private readonly maxBatch: number
  private readonly origin: string | null
  /** Statements sent (retries included), changes carried by those that succeeded, and statements that failed. */
  readonly counters = { statements: 0, changes: 0, failed: 0 }

  constructor(private readonly db: Queryable, opts: BatchWriterOptions = {}) {
    this.maxInFlight = opts.maxInFlight ?? 4
    this.maxBatch = opts.maxBatch ?? 200
    this.origin = opts.origin ?? null
    if (!(this.maxInFlight >= 1 && this.maxBatch >= 1)) throw new Error('BatchedStatusWriter: maxInFlight and maxBatch must be at least 1')
  }

  write(current: Package, change: Change, now: Date): Promise<Written | null> {
    return new Promise((resolve, reject) => {
      this.queue.push({ current, change, now, resolve, reject })
      this.schedule()
    })
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      this.flush()
    })
  }

  private flush(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch: Pending[] = []
      const rest: Pending[] = []
      const ids = new Set<string>()
      for (const p of this.queue) {
        const id = p.current.id
        if (batch.length < this.maxBatch && !this.writing.has(id) && !ids.has(id)) {
          batch.push(p)
          ids.add(id)
        } else rest.push(p)
      }
      this.queue = rest
      if (batch.length === 0) return
      for (const id of ids) this.writing.add(id)
      this.inFlight++
      // send() settles every change itself; nothing it throws may go unhandled.
      this.send(batch).catch(() => undefined).finally(() => {
        this.inFlight--
        for (const id of ids) this.writing.delete(id)
        this.flush()
      })
    }
  }

  private async send(batch: Pending[]): Promise<void> {
    const written = new Map<string, StampedEvent[]>()
    let rows: PackageRow[]
    try {
      const x = { id: [] as string[], version: [] as number[], status: [] as (string | null)[], lat: [] as (number | null)[], lng: [] as (number | null)[], at: [] as (Date | null)[], now: [] as Date[], n: [] as number[] }
      for (const { current, change, now } of batch) {
        const moved = JSON.stringify(current.lastLocation ?? null) !== JSON.stringify(change.next.lastLocation ?? null)
        const loc = moved ? change.next.lastLocation : undefined
        x.id.push(current.id)
        x.version.push(current.version)
        x.status.push(change.next.status)
        x.lat.push(loc?.lat ?? null)
        x.lng.push(loc?.lng ?? null)
        x.at.push(loc?.recordedAt ?? null)
        x.now.push(now)
        x.n.push(change.events.length)
        written.set(current.id, stampEvents(current, change.events, now))
      }
      const events = eventValues([...written].map(([packageId, evs]) => ({ packageId, events: evs })), this.origin)
      this.counters.statements++
      ;({ rows } = await this.db.query<PackageRow>({
        name: 'pkg_write_many',
        text: WRITE_MANY,
        values: [x.id, x.version, x.status, x.lat, x.lng, x.at, x.now, x.n, ...events],
      }))
      this.counters.changes += batch.length
    } catch (err) {
      this.counters.failed++
      // Refused by the server, the statement was rolled back: shared, each change is
      // tried on its own (one after another, within this statement's slot), so only
      // one that cannot be written fails. Anything else (the connection broke, maybe
      // after the commit) is not retried, as a single write would not be.
      if (batch.length > 1 && rolledBack(err)) {
        for (const p of batch) await this.send([p])
      } else {
        for (const p of batch) p.reject(err)
      }
      return
    }
    const applied = new Map(rows.map((r) => [r.id, r]))
    for (const p of batch) {
      const row = applied.get(p.current.id)
      try {
        p.resolve(row ? { pkg: toPackage(row), events: written.get(p.current.id)! } : null)
      } catch (err) {
        p.reject(err)
      }
    }
  }
}

/**
 * An error PostgreSQL answered with (it has a SQLSTATE) outside the connection
 * classes: the statement, its own transaction, was rolled back. A connection that
 * broke on the way (no SQLSTATE, class 08, or an operator/admin shutdown 57P0x)
 * leaves the outcome unknown.
 */
function rolledBack(err: unknown): boolean {
  const code = (err as { code?: unknown }).code
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !code.startsWith('08') && !code.startsWith('57P')
}
