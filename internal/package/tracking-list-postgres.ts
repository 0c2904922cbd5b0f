import type pg from 'pg'
import { withTx } from '../platform/db/postgres.js'
import { unauthorized } from '../platform/errors.js'
import type { Change } from './entity.js'
import type { TrackingEntry, TrackingListRepository, Written } from './ports.js'
import { insertPackage } from './postgres.js'
import { toPackage, type PackageRow } from './postgres-rows.js'

type EntryRow = PackageRow & { entry_label: string | null; entry_added_at: Date }

const toEntry = (r: EntryRow): TrackingEntry => ({
  trackingNumber: r.tracking_number,
  label: r.entry_label,
  addedAt: r.entry_added_at,
  package: toPackage(r),
})

const ENTRY_SELECT = `SELECT p.*, ut.label AS entry_label, ut.added_at AS entry_added_at
  FROM user_trackings ut JOIN packages p ON p.id = ut.package_id AND p.deleted_at IS NULL`

/**
 * Users tracking the newest package with the number (a deleted number may be issued
 * again; packages_number_newest_idx serves the lookup). Exported for the index test.
 */
export const TRACKERS_SQL = `SELECT user_id FROM user_trackings
  WHERE package_id = (SELECT id FROM packages WHERE tracking_number = $1 ORDER BY created_at DESC LIMIT 1)`

/**
 * The owner, assigned driver and trackers of the newest package with the number, each with whether
 * they see it in full (staff roles as SEES_ALL in auth/domain.ts; services have no
 * account). Run for every event on user channels: each table is reached by index.
 */
export const AUDIENCE_SQL = `WITH p AS (SELECT id, customer_id, driver_id FROM packages WHERE tracking_number = $1 ORDER BY created_at DESC LIMIT 1),
  a AS (SELECT customer_id AS user_id FROM p WHERE customer_id IS NOT NULL UNION SELECT driver_id FROM p WHERE driver_id IS NOT NULL
    UNION SELECT ut.user_id FROM p JOIN user_trackings ut ON ut.package_id = p.id)
  SELECT u.id AS user_id, (u.role IN ('admin', 'operator') OR u.id = p.customer_id OR u.id = p.driver_id) AS full
  FROM a JOIN users u ON u.id = a.user_id CROSS JOIN p`

/** The user was deleted while their access token still worked (until the gateway rechecks it): a 401, not a 500. */
function accountGone(err: unknown): never {
  if ((err as { code?: string; constraint?: string }).code === '23503' && (err as { constraint?: string }).constraint === 'user_trackings_user_id_fkey') {
    throw unauthorized('the account no longer exists')
  }
  throw err
}

export class PostgresTrackingListRepository implements TrackingListRepository {
  private readonly origin: string | null

  /** `origin`: this process's instance id, recorded with the events it writes. */
  constructor(private readonly pool: pg.Pool, opts: { origin?: string } = {}) {
    this.origin = opts.origin ?? null
  }

  async add(userId: string, packageId: string, label: string | null): Promise<{ added: boolean }> {
    const { rowCount } = await this.pool.query(
      'INSERT INTO user_trackings (user_id, package_id, label) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      [userId, packageId, label],
    ).catch(accountGone)
    return { added: rowCount === 1 }
  }

  async list(userId: string): Promise<TrackingEntry[]> {
    const { rows } = await this.pool.query<EntryRow>(`${ENTRY_SELECT} WHERE ut.user_id = $1 ORDER BY ut.added_at DESC, p.id`, [userId])
    return rows.map(toEntry)
  }

  async entry(userId: string, packageId: string): Promise<TrackingEntry | null> {
    const { rows } = await this.pool.query<EntryRow>(`${ENTRY_SELECT} WHERE ut.user_id = $1 AND ut.package_id = $2`, [userId, packageId])
    return rows[0] ? toEntry(rows[0]) : null
  }

  async remove(userId: string, packageId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM user_trackings WHERE user_id = $1 AND package_id = $2', [userId, packageId])
    return rowCount === 1
  }

  async isTracking(userId: string, packageId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('SELECT 1 FROM user_trackings WHERE user_id = $1 AND package_id = $2', [userId, packageId])
    return rowCount === 1
  }

  async trackers(trackingNumber: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ user_id: string }>(TRACKERS_SQL, [trackingNumber])
    return rows.map((r) => r.user_id)
  }

  async audience(trackingNumber: string): Promise<Array<{ userId: string; full: boolean }>> {
    const { rows } = await this.pool.query<{ user_id: string; full: boolean }>({ name: 'pkg_audience', text: AUDIENCE_SQL, values: [trackingNumber] })
    return rows.map((r) => ({ userId: r.user_id, full: r.full }))
  }

  async createExternal(userId: string, change: Change, label: string | null): Promise<Written> {
    const now = change.next.createdAt
    return withTx(this.pool, async (tx) => {
      const result = await insertPackage(tx, change, this.origin)
      await tx.query('INSERT INTO user_trackings (user_id, package_id, label, added_at) VALUES ($1, $2, $3, $4)', [userId, result.pkg.id, label, now]).catch(accountGone)
      // Due at once: the carriers worker role asks the provider at its next pass (migration 0016).
      await tx.query('INSERT INTO carrier_trackings (package_id, carrier, next_update_due, created_at) VALUES ($1, $2, $3, $3)', [result.pkg.id, change.next.carrier.toLowerCase(), now])
      return result
    })
  }
}
