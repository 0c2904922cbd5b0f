import type pg from 'pg'
import { withTx } from '../platform/db/postgres.js'
import type { Package } from '../package/domain.js'
import type { SnapshotPlan } from './plan.js'
import type { Schedule, SyncOutcome, UpdateLogEntry } from './ports.js'
import { applySnapshot, insertLog } from './trackings-postgres.js'

/** A push applied to one tracking: the same transaction rules as a check, without a claim. */
export interface PushStore {
  /** The carrier tracking under the number, or undefined when it is not one of ours. */
  find(trackingNumber: string): Promise<{ packageId: string; carrier: string } | undefined>
  /**
   * Applies a push in one transaction under the package's row lock: `decide` sees
   * the checkpoint ids applied already (so a repeated push adds nothing), then the
   * new ids, the tracking's freshness and schedule (only ever later: a check a
   * worker holds, or a manual request, keeps its time) and the log line are written.
   */
  apply(target: { packageId: string; trackingNumber: string; carrier: string }, decide: (pkg: Package, applied: ReadonlySet<string>) => SnapshotPlan,
    finish: (plan: SnapshotPlan) => { schedule: Schedule; hash: string; notFound: boolean; log: UpdateLogEntry }, now: Date): Promise<SyncOutcome>
}

export class PostgresPushStore implements PushStore {
  constructor(private readonly pool: pg.Pool, private readonly opts: { origin?: string } = {}) {}

  async find(trackingNumber: string): Promise<{ packageId: string; carrier: string } | undefined> {
    const { rows } = await this.pool.query<{ package_id: string; carrier: string }>(
      'SELECT t.package_id, t.carrier FROM carrier_trackings t JOIN packages p ON p.id = t.package_id WHERE p.tracking_number = $1 AND p.deleted_at IS NULL',
      [trackingNumber],
    )
    return rows[0] && { packageId: rows[0].package_id, carrier: rows[0].carrier }
  }

  async apply(target: { packageId: string; trackingNumber: string; carrier: string }, decide: (pkg: Package, applied: ReadonlySet<string>) => SnapshotPlan,
    finish: (plan: SnapshotPlan) => { schedule: Schedule; hash: string; notFound: boolean; log: UpdateLogEntry }, now: Date): Promise<SyncOutcome> {
    return withTx(this.pool, async (tx) => {
      const { written, plan, done } = await applySnapshot(tx, target, decide, finish, now, this.opts.origin ?? null)
      const s = done.schedule
      await tx.query(
        `UPDATE carrier_trackings t SET last_checked_at = $2, last_pushed_at = $2, last_hash = $3, not_found = t.not_found OR $4, interval_s = coalesce($5, t.interval_s),
           active = t.active AND $6::timestamptz IS NOT NULL,
           next_update_due = CASE WHEN $6::timestamptz IS NULL THEN NULL
             WHEN t.next_type = 'manual' OR (t.claim_token IS NOT NULL AND t.next_update_due > $2) THEN t.next_update_due
             ELSE GREATEST(t.next_update_due, $6) END,
           -- A retry the push made later is a scheduled check now: the push brought what it was for.
           priority = CASE WHEN t.next_type <> 'manual' AND NOT (t.claim_token IS NOT NULL AND t.next_update_due > $2)
             AND $6::timestamptz > t.next_update_due THEN $7 ELSE t.priority END
         WHERE t.package_id = $1`,
        [target.packageId, now, done.hash, done.notFound, s.intervalS, s.dueAt, s.priority],
      )
      await insertLog(tx, target, done.log)
      return { written, plan }
    })
  }
}
