import type pg from 'pg'
import { isUniqueViolation } from '../platform/db/postgres.js'
import { conflict, invalid } from '../platform/errors.js'
import type { Device } from './domain.js'
import type { DeviceRepository, PackageLookup, Page, StoredDevice } from './ports.js'

interface DeviceRow {
  id: string
  name: string
  key_prefix: string
  key_hash: Buffer
  package_id: string | null
  tracking_number: string | null
  created_at: Date
  last_seen_at: Date | null
  cursor_at: string
}

const toDevice = (r: DeviceRow): Device => ({
  id: r.id,
  name: r.name,
  packageId: r.tracking_number === null ? null : r.package_id,
  trackingNumber: r.tracking_number,
  createdAt: r.created_at,
  lastSeenAt: r.last_seen_at,
})

// A device bound to a deleted package reads as unbound (the join finds no live package).
const select = (from = 'devices') => `SELECT d.*, p.tracking_number,
    to_char(d.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at
  FROM ${from} d LEFT JOIN packages p ON p.id = d.package_id AND p.deleted_at IS NULL`

export class PostgresDeviceRepository implements DeviceRepository {
  constructor(private readonly pool: pg.Pool) {}

  async create(input: { name: string; keyPrefix: string; keyHash: Buffer; packageId: string | null }): Promise<Device> {
    try {
      const { rows } = await this.pool.query<DeviceRow>(
        `WITH changed AS (INSERT INTO devices (name, key_prefix, key_hash, package_id) VALUES ($1, $2, $3, $4) RETURNING *)
         ${select('changed')}`,
        [input.name, input.keyPrefix, input.keyHash, input.packageId],
      )
      return toDevice(rows[0]!)
    } catch (err) {
      if (isUniqueViolation(err, 'devices_key_prefix_key')) throw conflict('key prefix taken')
      throw err
    }
  }

  async list(limit: number, cursor?: string): Promise<Page<Device>> {
    const values: unknown[] = [limit + 1]
    let after = ''
    if (cursor) {
      const c = decodeCursor(cursor)
      values.push(c.createdAt, c.id)
      after = 'AND (d.created_at, d.id) < ($2::timestamptz, $3::uuid)'
    }
    const { rows } = await this.pool.query<DeviceRow>(
      `${select()} WHERE d.revoked_at IS NULL ${after} ORDER BY d.created_at DESC, d.id DESC LIMIT $1`,
      values,
    )
    const page = rows.slice(0, limit)
    const last = page[page.length - 1]
    const nextCursor = rows.length > limit && last ? Buffer.from(JSON.stringify([last.cursor_at, last.id])).toString('base64url') : null
    return { items: page.map(toDevice), nextCursor }
  }

  async byKeyPrefix(prefix: string): Promise<StoredDevice | null> {
    // Runs before every ingest: named, so each connection plans it once.
    const { rows } = await this.pool.query<DeviceRow>({ name: 'device_by_key_prefix', text: `${select()} WHERE d.key_prefix = $1 AND d.revoked_at IS NULL`, values: [prefix] })
    const r = rows[0]
    return r ? { ...toDevice(r), keyPrefix: r.key_prefix, keyHash: r.key_hash } : null
  }

  async bind(id: string, packageId: string | null): Promise<Device | null> {
    const { rows } = await this.pool.query<DeviceRow>(
      `WITH changed AS (UPDATE devices SET package_id = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING *)
       ${select('changed')}`,
      [id, packageId],
    )
    return rows[0] ? toDevice(rows[0]) : null
  }

  async revoke(id: string, at: Date): Promise<boolean> {
    const { rowCount } = await this.pool.query('UPDATE devices SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL', [id, at])
    return rowCount === 1
  }

  async touch(id: string, at: Date): Promise<void> {
    await this.pool.query('UPDATE devices SET last_seen_at = $2 WHERE id = $1 AND (last_seen_at IS NULL OR last_seen_at < $2)', [id, at])
  }
}

export class PostgresPackageLookup implements PackageLookup {
  constructor(private readonly pool: pg.Pool) {}

  async idOf(trackingNumber: string): Promise<string | null> {
    const { rows } = await this.pool.query<{ id: string }>('SELECT id FROM packages WHERE tracking_number = $1 AND deleted_at IS NULL', [trackingNumber])
    return rows[0]?.id ?? null
  }
}

const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/

/** `[createdAt, id]` as this API returned it; anything else is a 400, never a database error. */
function decodeCursor(cursor: string): { createdAt: string; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown]
    if (typeof createdAt !== 'string' || !CURSOR_TIME.test(createdAt)) throw new Error('bad cursor')
    // Rejects what PostgreSQL would refuse: dates that only parse by rolling over (2030-02-31).
    const date = new Date(createdAt)
    if (Number.isNaN(date.getTime()) || date.toISOString().slice(0, 19) !== createdAt.slice(0, 19)) throw new Error('bad cursor')
    if (typeof id !== 'string' || !/^[0-9a-f-]{36}$/.test(id)) throw new Error('bad cursor')
    return { createdAt, id }
  } catch {
    throw invalid('/query/cursor', 'is not a cursor this API returned')
  }
}
