import { createHash } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import type pg from 'pg'
import { isUniqueViolation, withTx, type Queryable } from '../platform/db/postgres.js'
import { conflict, invalid, notFound } from '../platform/errors.js'
import type { Package, PackageEvent } from './domain.js'
import type { ListFilter, Mutation, NewEvent, NewPackage, Page, PackageRepository } from './ports.js'
import { BatchedStatusWriter, isBatchable, type Written } from './postgres-batch.js'
import { fixIsNewer, PACKAGE_COLUMNS, stampEvents, toPackage, type PackageRow } from './postgres-rows.js'

/** Package field -> column, for the fields a mutation may set or clear. */
const COLUMNS: Partial<Record<keyof Package, string>> = {
  status: 'status',
  carrier: 'carrier',
  description: 'description',
  weightGrams: 'weight_grams',
  sender: 'sender',
  recipient: 'recipient',
  origin: 'origin',
  destination: 'destination',
  estimatedDelivery: 'estimated_delivery',
  driverId: 'driver_id',
}

const JSON_COLUMNS = new Set(['sender', 'recipient', 'origin', 'destination'])

const EVENT_COLUMNS = 'id, seq, type, tracking_number, occurred_at, recorded_at, data'

const GET_BY_NUMBER = `SELECT ${PACKAGE_COLUMNS} FROM packages WHERE tracking_number = $1 AND deleted_at IS NULL`

/** Optimistic writes tried before update() locks the row instead. */
const OPTIMISTIC_ATTEMPTS = 3

function changesNothing(m: Mutation): boolean {
  return !m.delete && m.events.length === 0 && !m.clear?.length && Object.keys(m.set ?? {}).length === 0
}

/**
 * Writes the mutation and its events in one statement, only if the package still
 * has the version `current` was read at (its last_seq moves with the version, so
 * the events' seqs are still the next ones). Returns null when it no longer has.
 * Prepared per connection under a name derived from the statement's shape.
 */
async function writeMutation(q: Queryable, current: Package, mutation: Mutation, now: Date): Promise<Written | null> {
  const events = stampEvents(current, mutation.events, now)
  const values: unknown[] = [
    current.id,
    now,
    current.version,
    events.map((e) => e.id),
    events.map((e) => e.seq),
    events.map((e) => e.type),
    events.map((e) => e.occurredAt),
    events.map((e) => JSON.stringify(e.data)),
  ]
  const sets: string[] = []
  for (const [field, value] of Object.entries(mutation.set ?? {})) {
    if (field === 'lastLocation') {
      const loc = value as Package['lastLocation']
      values.push(loc?.lat ?? null, loc?.lng ?? null, loc?.recordedAt ?? null)
      const n = values.length
      // Only forward, as location ingest moves it: a newer fix recorded meanwhile stays.
      const newer = fixIsNewer(`$${n}::timestamptz`)
      sets.push(
        `last_lat = CASE WHEN ${newer} THEN $${n - 2}::float8 ELSE last_lat END`,
        `last_lng = CASE WHEN ${newer} THEN $${n - 1}::float8 ELSE last_lng END`,
        `last_recorded_at = CASE WHEN ${newer} THEN $${n}::timestamptz ELSE last_recorded_at END`,
      )
      continue
    }
    const column = COLUMNS[field as keyof Package]
    if (!column) throw new Error(`field ${field} cannot be updated`)
    values.push(JSON_COLUMNS.has(column) ? JSON.stringify(value) : value)
    sets.push(`${column} = $${values.length}`)
  }
  for (const field of mutation.clear ?? []) {
    const column = COLUMNS[field]
    if (!column) throw new Error(`field ${field} cannot be cleared`)
    sets.push(`${column} = NULL`)
  }
  if (mutation.delete) sets.push('deleted_at = $2')
  sets.push('version = version + 1', 'updated_at = $2', `last_seq = last_seq + ${events.length}`)
  // Data-modifying CTEs always run; the insert sees only the row the update returned.
  const text = `WITH u AS (
    UPDATE packages SET ${sets.join(', ')} WHERE id = $1 AND version = $3 RETURNING ${PACKAGE_COLUMNS}
  ), e AS (
    INSERT INTO package_events (id, package_id, seq, type, tracking_number, occurred_at, recorded_at, data)
    SELECT x.id, u.id, x.seq, x.type, u.tracking_number, x.occurred_at, $2, x.data
    FROM u CROSS JOIN unnest($4::uuid[], $5::bigint[], $6::text[], $7::timestamptz[], $8::jsonb[]) AS x(id, seq, type, occurred_at, data)
  )
  SELECT * FROM u`
  try {
    const { rows } = await q.query<PackageRow>({ name: statementName('pkg_write', text), text, values })
    return rows[0] ? { pkg: toPackage(rows[0]), events } : null
  } catch (err) {
    if ((err as { code?: string }).code === '23503') throw invalid('/driverId', 'is not a known user')
    throw err
  }
}

/** A prepared-statement name unique to the statement text (names are per connection). */
const statementNames = new Map<string, string>()
function statementName(prefix: string, text: string): string {
  let name = statementNames.get(text)
  if (!name) {
    name = `${prefix}_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`
    statementNames.set(text, name)
  }
  return name
}

export class PostgresPackageRepository implements PackageRepository {
  /**
   * The state this process last wrote for each recently written package: the next
   * update of it starts from here instead of reading it back first. Only a starting
   * guess: the write still applies only at the version it was decided on, and a
   * decision that refuses (it may have seen an outdated state) is made again on a
   * fresh read before its error counts.
   */
  private readonly recent = new LRUCache<string, Package>({ max: 10_000 })
  /** Status changes go out in shared statements (group commit); see postgres-batch.ts. */
  readonly statusWriter: BatchedStatusWriter

  constructor(private readonly pool: pg.Pool) {
    this.statusWriter = new BatchedStatusWriter(pool)
  }

  async create(input: NewPackage, created: (pkg: Package) => NewEvent, now: Date) {
    const result = await withTx(this.pool, (tx) => insertPackage(tx, input, created, now))
    this.recent.set(result.pkg.trackingNumber, result.pkg)
    return result
  }

  async get(trackingNumber: string): Promise<Package | null> {
    const { rows } = await this.pool.query<PackageRow>({ name: 'pkg_get', text: GET_BY_NUMBER, values: [trackingNumber] })
    return rows[0] ? toPackage(rows[0]) : null
  }

  /**
   * Optimistic first: start from the state this process last wrote (or read the
   * package without a lock), let `fn` decide, and write the change and its events in
   * one statement that only applies if the version is still the one decided on (one
   * round trip, no explicit transaction; status changes share theirs with the other
   * status changes of the moment, see BatchedStatusWriter). When concurrent writers
   * keep winning, fall back to locking the row so the request still gets through.
   * `fn` may therefore run more than once; it only decides.
   */
  async update(trackingNumber: string, fn: (pkg: Package) => Promise<Mutation> | Mutation, now: Date) {
    let remembered = this.recent.get(trackingNumber)
    for (let attempt = 0; attempt < OPTIMISTIC_ATTEMPTS; attempt++) {
      const current = remembered ?? (await this.get(trackingNumber))
      if (!current) throw notFound('package')
      let mutation: Mutation
      try {
        mutation = await fn(current)
      } catch (err) {
        // Refused on a remembered state that may be outdated: decide again on a fresh read.
        if (remembered) {
          remembered = undefined
          attempt--
          continue
        }
        throw err
      }
      if (changesNothing(mutation)) {
        // Nothing to write, so nothing checks the version: answer with a fresh read.
        if (remembered) {
          remembered = undefined
          attempt--
          continue
        }
        return { pkg: current, events: [] }
      }
      const written = isBatchable(mutation) ? await this.statusWriter.write(current, mutation, now) : await writeMutation(this.pool, current, mutation, now)
      remembered = undefined
      if (written) return this.remember(written)
    }
    return withTx(this.pool, async (tx) => {
      const { rows } = await tx.query<PackageRow>({ name: 'pkg_get_for_update', text: `${GET_BY_NUMBER} FOR UPDATE`, values: [trackingNumber] })
      if (!rows[0]) throw notFound('package')
      const current = toPackage(rows[0])
      const mutation = await fn(current)
      if (changesNothing(mutation)) return { pkg: current, events: [] }
      const written = await writeMutation(tx, current, mutation, now)
      if (!written) throw new Error('package row changed while locked')
      return written
    }).then((written) => this.remember(written))
  }

  private remember(written: Written) {
    if (written.events.some((e) => e.type === 'package.deleted')) this.recent.delete(written.pkg.trackingNumber)
    else this.recent.set(written.pkg.trackingNumber, written.pkg)
    return written
  }

  async list(filter: ListFilter): Promise<Page<Package>> {
    const where = ['p.deleted_at IS NULL']
    const values: unknown[] = []
    const param = (v: unknown) => {
      values.push(v)
      return `$${values.length}`
    }
    let from = 'packages p'
    if (filter.trackedBy) from += ` JOIN user_trackings ut ON ut.package_id = p.id AND ut.user_id = ${param(filter.trackedBy)}`
    if (filter.driverId) where.push(`p.driver_id = ${param(filter.driverId)}`)
    if (filter.status) where.push(`p.status = ${param(filter.status)}`)
    if (filter.q) {
      const like = `%${filter.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
      const p = param(like)
      where.push(`(p.tracking_number ILIKE ${p} OR p.description ILIKE ${p} OR p.recipient->>'name' ILIKE ${p} OR p.sender->>'name' ILIKE ${p})`)
    }
    if (filter.cursor) {
      const c = decodeCursor(filter.cursor)
      where.push(`(p.created_at, p.id) < (${param(c.createdAt)}::timestamptz, ${param(c.id)}::uuid)`)
    }
    // The cursor keeps created_at to the microsecond: a JS Date would round it to the
    // millisecond and skip rows stored with finer precision (the column default now()).
    const { rows } = await this.pool.query<PackageRow & { cursor_at: string }>(
      `SELECT p.*, to_char(p.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at
       FROM ${from} WHERE ${where.join(' AND ')} ORDER BY p.created_at DESC, p.id DESC LIMIT ${param(filter.limit + 1)}`,
      values,
    )
    const page = rows.slice(0, filter.limit)
    const last = page[page.length - 1]
    const nextCursor = rows.length > filter.limit && last ? encodeCursor(last.cursor_at, last.id) : null
    return { items: page.map(toPackage), nextCursor }
  }

  async events(packageId: string, afterSeq = 0): Promise<PackageEvent[]> {
    const { rows } = await this.pool.query<EventRow>({
      name: 'pkg_events',
      text: `SELECT ${EVENT_COLUMNS} FROM package_events WHERE package_id = $1 AND seq > $2 ORDER BY seq`,
      values: [packageId, afterSeq],
    })
    return rows.map(toEvent)
  }

  async isDriver(userId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(`SELECT 1 FROM users WHERE id = $1 AND role = 'driver'`, [userId])
    return rowCount === 1
  }
}

/** Inserts a package and its creation event inside the caller's transaction. */
export async function insertPackage(tx: Queryable, input: NewPackage, created: (pkg: Package) => NewEvent, now: Date) {
  try {
    const { rows } = await tx.query<PackageRow>(
      `INSERT INTO packages (tracking_number, status, carrier, description, weight_grams, sender, recipient, origin,
         destination, estimated_delivery, driver_id, last_seq, created_at, updated_at)
       VALUES ($1, 'pending', $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $11) RETURNING *`,
      [
        input.trackingNumber,
        input.carrier,
        input.description ?? null,
        input.weightGrams ?? null,
        JSON.stringify(input.sender),
        JSON.stringify(input.recipient),
        input.origin ? JSON.stringify(input.origin) : null,
        input.destination ? JSON.stringify(input.destination) : null,
        input.estimatedDelivery ?? null,
        input.driverId ?? null,
        now,
      ],
    )
    const pkg = toPackage(rows[0]!)
    const events = await insertEvents(tx, pkg, 0, [created(pkg)], now)
    return { pkg, events }
  } catch (err) {
    if (isUniqueViolation(err, 'packages_tracking_number_key')) throw conflict(`tracking number ${input.trackingNumber} already exists`)
    if ((err as { code?: string }).code === '23503') throw invalid('/driverId', 'is not a known user')
    throw err
  }
}

/** A package_events row as selected with `*` (the outbox columns may come along). */
export interface EventRow {
  id: string
  seq: number
  type: PackageEvent['type']
  tracking_number: string
  occurred_at: Date
  recorded_at: Date
  data: Record<string, unknown>
}

export const toEvent = (r: EventRow): PackageEvent => ({
  id: r.id,
  type: r.type,
  trackingNumber: r.tracking_number,
  seq: Number(r.seq),
  occurredAt: r.occurred_at,
  recordedAt: r.recorded_at,
  data: r.data,
})

async function insertEvents(tx: Queryable, pkg: Package, fromSeq: number, events: NewEvent[], now: Date): Promise<PackageEvent[]> {
  if (events.length === 0) return []
  const out = stampEvents({ trackingNumber: pkg.trackingNumber, seq: fromSeq }, events, now)
  await tx.query(
    `INSERT INTO package_events (id, package_id, seq, type, tracking_number, occurred_at, recorded_at, data)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[], $8::jsonb[])`,
    [
      out.map((e) => e.id),
      out.map(() => pkg.id),
      out.map((e) => e.seq),
      out.map((e) => e.type),
      out.map((e) => e.trackingNumber),
      out.map((e) => e.occurredAt),
      out.map((e) => e.recordedAt),
      out.map((e) => JSON.stringify(e.data)),
    ],
  )
  return out
}

function encodeCursor(createdAt: string, id: string): string {
  return Buffer.from(JSON.stringify([createdAt, id])).toString('base64url')
}

const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/

/** `[createdAt (RFC 3339 UTC, up to microseconds), id]`; anything else is a 400, never a database error. */
function decodeCursor(cursor: string): { createdAt: string; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown]
    if (typeof createdAt !== 'string' || !CURSOR_TIME.test(createdAt) || typeof id !== 'string' || !/^[0-9a-f-]{36}$/.test(id)) throw new Error('bad cursor')
    // Rejects what PostgreSQL would refuse: dates that only parse by rolling over (2030-02-31), year 0.
    const date = new Date(createdAt)
    if (Number.isNaN(date.getTime()) || date.getUTCFullYear() < 1 || date.toISOString().slice(0, 19) !== createdAt.slice(0, 19)) throw new Error('bad cursor')
    return { createdAt, id }
  } catch {
    throw invalid('/query/cursor', 'is not a cursor this API returned')
  }
}
