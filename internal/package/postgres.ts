import { createHash } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import type pg from 'pg'
import type { PackageEvent } from '../events/envelope.js'
import { eventValues, insertEvents, PostgresEventLog, stampEvents } from '../events/log-postgres.js'
import { isUniqueViolation, withTx, type Queryable } from '../platform/db/postgres.js'
import { conflict, invalid, notFound } from '../platform/errors.js'
import type { Package } from './domain.js'
import type { Change } from './entity.js'
import type { ListFilter, Page, PackageRepository, Written } from './ports.js'
import { BatchedStatusWriter, changedFields, isBatchable } from './postgres-batch.js'
import { endAssignment, mayEndAssignment } from './postgres-ending.js'
import { lastLocationAdvances, PACKAGE_COLUMNS, toPackage, type PackageRow } from './postgres-rows.js'

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
  customerId: 'customer_id',
  external: 'external',
  deliveryOption: 'delivery_option',
  paymentStatus: 'payment_status',
  items: 'items',
}

const JSON_COLUMNS = new Set(['sender', 'recipient', 'origin', 'destination', 'items'])

const GET_BY_NUMBER = `SELECT ${PACKAGE_COLUMNS} FROM packages WHERE tracking_number = $1 AND deleted_at IS NULL`

/** Optimistic writes tried before update() locks the row instead. */
const OPTIMISTIC_ATTEMPTS = 3

/**
 * Saves the change and its events in one statement, only if the package still has
 * the version `current` was read at (its last_seq moves with the version, so the
 * events' seqs are still the next ones). Returns null when it no longer has.
 * Prepared per connection under a name derived from the statement's shape.
 */
async function writeChange(q: Queryable, current: Package, change: Change, now: Date, origin: string | null): Promise<Written | null> {
  const events = stampEvents(current, change.events, now)
  const values: unknown[] = [current.id, now, current.version, ...eventValues([{ packageId: current.id, events }], origin)]
  const sets: string[] = []
  for (const field of changedFields(current, change.next)) {
    const value = change.next[field]
    if (field === 'lastLocation') {
      const loc = value as Package['lastLocation']
      values.push(loc?.lat ?? null, loc?.lng ?? null, loc?.recordedAt ?? null)
      const n = values.length
      // A newer fix recorded by location ingest meanwhile stays.
      const advances = lastLocationAdvances(`$${n}::timestamptz`)
      sets.push(
        `last_lat = CASE WHEN ${advances} THEN $${n - 2}::float8 ELSE last_lat END`,
        `last_lng = CASE WHEN ${advances} THEN $${n - 1}::float8 ELSE last_lng END`,
        `last_recorded_at = CASE WHEN ${advances} THEN $${n}::timestamptz ELSE last_recorded_at END`,
      )
      continue
    }
    const column = COLUMNS[field]
    if (!column) throw new Error(`field ${field} cannot be updated`)
    if (value === undefined) {
      sets.push(column === 'external' ? 'external = false' : `${column} = NULL`)
      continue
    }
    values.push(JSON_COLUMNS.has(column) ? JSON.stringify(value) : value)
    sets.push(`${column} = $${values.length}`)
  }
  if (change.deleted) sets.push('deleted_at = $2')
  sets.push('version = version + 1', 'updated_at = $2', `last_seq = last_seq + ${events.length}`)
  // Data-modifying CTEs always run; the insert sees only the row the update returned.
  const text = `WITH u AS (
    UPDATE packages SET ${sets.join(', ')} WHERE id = $1 AND version = $3 RETURNING ${PACKAGE_COLUMNS}
  ), e AS (${insertEvents('u', 4)})
  SELECT * FROM u`
  try {
    const { rows } = await q.query<PackageRow>({ name: statementName('pkg_write', text), text, values })
    return rows[0] ? { pkg: toPackage(rows[0]), events } : null
  } catch (err) {
    throw userReference(err)
  }
}

/**
 * Locks the package row in the caller's transaction, lets `fn` decide once on it and
 * writes the change with its events. For writes that must share a transaction with
 * rows of their own (delivery's assignments); `fn` may write on the same transaction.
 * A change that cancels the active assignment gets its event here (postgres-ending.ts).
 */
export async function updateLocked(tx: Queryable, trackingNumber: string, fn: (pkg: Package) => Promise<Change> | Change, now: Date, origin: string | null): Promise<Written> {
  const { rows } = await tx.query<PackageRow>({ name: 'pkg_get_for_update', text: `${GET_BY_NUMBER} FOR UPDATE`, values: [trackingNumber] })
  if (!rows[0]) throw notFound('package')
  const current = toPackage(rows[0])
  const change = await endAssignment(tx, current, await fn(current), now)
  if (change.events.length === 0) return { pkg: current, events: [] }
  const written = await writeChange(tx, current, change, now, origin)
  if (!written) throw new Error('package row changed while locked')
  return written
}

/** A reference to a user that vanished meanwhile: 400 naming the field, as the service's own checks do. */
function userReference(err: unknown): unknown {
  const e = err as { code?: string; constraint?: string }
  if (e.code !== '23503') return err
  return e.constraint?.includes('customer') ? invalid('/customerId', 'is not a customer account') : invalid('/driverId', 'is not a known user')
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
  private readonly log: PostgresEventLog
  private readonly origin: string | null

  /** `origin`: this process's instance id, recorded with every event it writes (see events/path.ts). */
  constructor(private readonly pool: pg.Pool, opts: { origin?: string } = {}) {
    this.origin = opts.origin ?? null
    this.statusWriter = new BatchedStatusWriter(pool, { origin: this.origin })
    this.log = new PostgresEventLog(pool)
  }

  async create(change: Change): Promise<Written> {
    const result = await insertPackage(this.pool, change, this.origin)
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
   * `fn` may therefore run more than once; it only decides. A change that may end a
   * driver's assignment (final status, deletion) always takes the locked path.
   */
  async update(trackingNumber: string, fn: (pkg: Package) => Promise<Change> | Change, now: Date): Promise<Written> {
    let remembered = this.recent.get(trackingNumber)
    for (let attempt = 0; attempt < OPTIMISTIC_ATTEMPTS; attempt++) {
      const current = remembered ?? (await this.get(trackingNumber))
      if (!current) throw notFound('package')
      let change: Change
      try {
        change = await fn(current)
      } catch (err) {
        // Refused on a remembered state that may be outdated: decide again on a fresh read.
        if (remembered) {
          remembered = undefined
          attempt--
          continue
        }
        throw err
      }
      if (change.events.length === 0) {
        // Nothing to write, so nothing checks the version: answer with a fresh read.
        if (remembered) {
          remembered = undefined
          attempt--
          continue
        }
        return { pkg: current, events: [] }
      }
      // Ending a driver's assignment writes its event too, read from the locked row.
      if (mayEndAssignment(current, change)) break
      const written = isBatchable(current, change) ? await this.statusWriter.write(current, change, now) : await writeChange(this.pool, current, change, now, this.origin)
      remembered = undefined
      if (written) return this.remember(written)
    }
    return withTx(this.pool, (tx) => updateLocked(tx, trackingNumber, fn, now, this.origin)).then((written) => this.remember(written))
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
    if (filter.customerId) where.push(`p.customer_id = ${param(filter.customerId)}`)
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

  events(packageId: string, afterSeq = 0): Promise<PackageEvent[]> {
    return this.log.ofPackage(packageId, afterSeq)
  }

  /** Live packages per status (for /stats). */
  async countByStatus(): Promise<Record<string, number>> {
    const { rows } = await this.pool.query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM packages WHERE deleted_at IS NULL GROUP BY status')
    return Object.fromEntries(rows.map((r) => [r.status, r.n]))
  }

  async isDriver(userId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(`SELECT 1 FROM users WHERE id = $1 AND role = 'driver'`, [userId])
    return rowCount === 1
  }

  async isCustomer(userId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(`SELECT 1 FROM users WHERE id = $1 AND role = 'customer'`, [userId])
    return rowCount === 1
  }

  async customerIdByEmail(email: string): Promise<string | null> {
    const { rows } = await this.pool.query<{ id: string }>(`SELECT id FROM users WHERE lower(email) = lower($1) AND role = 'customer'`, [email.trim()])
    return rows[0]?.id ?? null
  }
}

const INSERT_PACKAGE = `WITH u AS (
    INSERT INTO packages (id, tracking_number, status, carrier, description, weight_grams, sender, recipient, origin,
      destination, estimated_delivery, driver_id, customer_id, external, delivery_option, payment_status, items, last_seq, version, created_at, updated_at)
    VALUES ($10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, 1, $28, $28) RETURNING ${PACKAGE_COLUMNS}
  ), e AS (${insertEvents('u', 1)})
  SELECT * FROM u`

/** Inserts a new package and its events in one statement (inside the caller's transaction, if any). */
export async function insertPackage(q: Queryable, change: Change, origin: string | null): Promise<Written> {
  const pkg = change.next
  const events = stampEvents({ trackingNumber: pkg.trackingNumber, seq: 0 }, change.events, pkg.createdAt)
  try {
    const { rows } = await q.query<PackageRow>({
      name: 'pkg_insert',
      text: INSERT_PACKAGE,
      values: [
        ...eventValues([{ packageId: pkg.id, events }], origin),
        pkg.id,
        pkg.trackingNumber,
        pkg.status,
        pkg.carrier,
        pkg.description ?? null,
        pkg.weightGrams ?? null,
        JSON.stringify(pkg.sender),
        JSON.stringify(pkg.recipient),
        pkg.origin ? JSON.stringify(pkg.origin) : null,
        pkg.destination ? JSON.stringify(pkg.destination) : null,
        pkg.estimatedDelivery ?? null,
        pkg.driverId ?? null,
        pkg.customerId ?? null,
        pkg.external === true,
        pkg.deliveryOption,
        pkg.paymentStatus,
        pkg.items ? JSON.stringify(pkg.items) : null,
        events.length,
        pkg.createdAt,
      ],
    })
    return { pkg: toPackage(rows[0]!), events }
  } catch (err) {
    if (isUniqueViolation(err, 'packages_tracking_number_key')) throw conflict(`tracking number ${pkg.trackingNumber} already exists`)
    throw userReference(err)
  }
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
