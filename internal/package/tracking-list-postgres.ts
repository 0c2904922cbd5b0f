import type pg from 'pg'
import { withTx } from '../platform/db/postgres.js'
import type { Package } from './domain.js'
import type { NewEvent, NewPackage, TrackingEntry, TrackingListRepository } from './ports.js'
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

export class PostgresTrackingListRepository implements TrackingListRepository {
  constructor(private readonly pool: pg.Pool) {}

  async add(userId: string, packageId: string, label: string | null): Promise<{ added: boolean }> {
    const { rowCount } = await this.pool.query(
      'INSERT INTO user_trackings (user_id, package_id, label) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      [userId, packageId, label],
    )
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

  async trackers(packageId: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ user_id: string }>('SELECT user_id FROM user_trackings WHERE package_id = $1', [packageId])
    return rows.map((r) => r.user_id)
  }

  async createExternal(userId: string, input: NewPackage, label: string | null, created: (pkg: Package) => NewEvent, now: Date) {
    return withTx(this.pool, async (tx) => {
      const result = await insertPackage(tx, input, created, now)
      await tx.query('INSERT INTO user_trackings (user_id, package_id, label, added_at) VALUES ($1, $2, $3, $4)', [userId, result.pkg.id, label, now])
      await tx.query('INSERT INTO carrier_sync_requests (package_id, carrier, requested_at, next_attempt_at) VALUES ($1, $2, $3, $3)', [result.pkg.id, input.carrier, now])
      return result
    })
  }
}
