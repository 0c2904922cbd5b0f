import type pg from 'pg'
import { withTx, type Queryable } from '../platform/db/postgres.js'
import type { Package, PackageStatus } from '../package/domain.js'
import { updateLocked } from '../package/postgres.js'
import type { SnapshotPlan } from './plan.js'
import type { Claim, Schedule, SyncOutcome, TrackingStore, UpdateLogEntry } from './ports.js'

interface ClaimRow {
  package_id: string
  tracking_number: string
  carrier: string
  status: PackageStatus
  estimated_delivery: Date | null
  next_type: 'scheduled' | 'manual'
  next_triggered_by: string
  priority: number
  consecutive_failures: number
  last_hash: string | null
  last_pushed_at: Date | null
  claim_token: string
  claimed_due: Date
}

/**
 * Claims in one statement: the due rows are locked with SKIP LOCKED (a racing
 * worker takes the next ones instead of waiting) and leased by moving
 * next_update_due forward, so they are not due again until the lease passes.
 */
const CLAIM_SQL = `WITH due AS (
    SELECT package_id FROM carrier_trackings t
    WHERE active AND next_update_due <= $1 AND priority <= $4
      AND EXISTS (SELECT 1 FROM packages p WHERE p.id = t.package_id AND p.deleted_at IS NULL)
    ORDER BY priority, next_update_due
    LIMIT $2
    FOR UPDATE SKIP LOCKED)
  UPDATE carrier_trackings t
  SET claimed_due = t.next_update_due, next_update_due = $1::timestamptz + make_interval(secs => $3), claim_token = gen_random_uuid()
  FROM due JOIN packages p ON p.id = due.package_id
  WHERE t.package_id = due.package_id
  RETURNING t.package_id, p.tracking_number, t.carrier, p.status, p.estimated_delivery, t.next_type, t.next_triggered_by,
    t.priority, t.consecutive_failures, t.last_hash, t.last_pushed_at, t.claim_token, t.claimed_due`

/** The day's row is made by the first call; after that only `used < limit` moves it. */
const RESERVE_SQL = `INSERT INTO carrier_budget (day, used) SELECT $1::date, 1 WHERE $2::int > 0
  ON CONFLICT (day) DO UPDATE SET used = carrier_budget.used + 1 WHERE carrier_budget.used < $2::int
  RETURNING used`

const toClaim = (r: ClaimRow): Claim => ({
  packageId: r.package_id,
  trackingNumber: r.tracking_number,
  carrier: r.carrier,
  status: r.status,
  ...(r.estimated_delivery ? { estimatedDelivery: r.estimated_delivery } : {}),
  type: r.next_type,
  triggeredBy: r.next_triggered_by,
  priority: r.priority,
  consecutiveFailures: r.consecutive_failures,
  ...(r.last_hash ? { lastHash: r.last_hash } : {}),
  ...(r.last_pushed_at ? { lastPushedAt: r.last_pushed_at } : {}),
  token: r.claim_token,
  due: r.claimed_due,
})

/** One update-log line for a tracking (a check, or a push). */
export async function insertLog(q: Queryable, claim: Pick<Claim, 'packageId' | 'trackingNumber' | 'carrier'>, e: UpdateLogEntry): Promise<void> {
  await q.query(
    `INSERT INTO carrier_update_log (package_id, tracking_number, carrier, provider, type, triggered_by, success, status_code, duration_ms, error,
       status_changed, previous_status, new_status, events_added, started_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
    [claim.packageId, claim.trackingNumber, claim.carrier, e.provider, e.type, e.triggeredBy, e.success, e.statusCode ?? null, Math.round(e.durationMs), e.error ?? null,
      e.statusChanged, e.previousStatus ?? null, e.newStatus ?? null, e.eventsAdded, e.startedAt],
  )
}

/** The schedule's columns; an inactive tracking has no due time. */
const scheduleValues = (s: Schedule) => [s.dueAt, s.dueAt !== null, s.priority, s.intervalS]

export class PostgresTrackingStore implements TrackingStore {
  private readonly origin: string | null

  /** `origin`: this process's instance id, recorded with the events it writes. */
  constructor(private readonly pool: pg.Pool, opts: { origin?: string } = {}) {
    this.origin = opts.origin ?? null
  }

  async claim(opts: { limit: number; now: Date; leaseS: number; maxPriority: number }): Promise<Claim[]> {
    const { rows } = await this.pool.query<ClaimRow>(CLAIM_SQL, [opts.now, opts.limit, opts.leaseS, opts.maxPriority])
    return rows.map(toClaim)
  }

  async release(claim: Claim): Promise<void> {
    await this.pool.query('UPDATE carrier_trackings SET next_update_due = claimed_due, claim_token = NULL, claimed_due = NULL WHERE package_id = $1 AND claim_token = $2', [claim.packageId, claim.token])
  }

  async reserveCall(day: string, limit: number): Promise<boolean> {
    const { rowCount } = await this.pool.query(RESERVE_SQL, [day, limit])
    return rowCount === 1
  }

  async used(day: string): Promise<number> {
    const { rows } = await this.pool.query<{ used: number }>('SELECT used FROM carrier_budget WHERE day = $1::date', [day])
    return rows[0]?.used ?? 0
  }

  async succeed(
    claim: Claim,
    decide: (pkg: Package, applied: ReadonlySet<string>) => SnapshotPlan,
    finish: Finish,
    now: Date,
  ): Promise<SyncOutcome> {
    return withTx(this.pool, async (tx) => {
      const { written, plan, done } = await applySnapshot(tx, claim, decide, finish, now, this.origin)
      // A claim whose lease ran out belongs to another worker now: its schedule is theirs to write.
      await tx.query(
        `UPDATE carrier_trackings SET next_update_due = $3, active = $4, priority = $5, interval_s = $6, provider = $7, last_checked_at = $8,
           consecutive_failures = 0, requires_attention = false, not_found = $9, last_hash = $10, last_status_code = $11, last_error = NULL,
           next_type = 'scheduled', next_triggered_by = 'schedule', claim_token = NULL, claimed_due = NULL,
           last_pushed_at = CASE WHEN $12 THEN NULL ELSE last_pushed_at END
         WHERE package_id = $1 AND claim_token = $2`,
        [claim.packageId, claim.token, ...scheduleValues(done.schedule), done.log.provider, now, done.notFound, done.hash, done.log.statusCode ?? null, done.pushesMissed === true],
      )
      await insertLog(tx, claim, done.log)
      return { written, plan }
    })
  }

  async fail(claim: Claim, f: { schedule: Schedule; requiresAttention: boolean; statusCode?: number; error: string; log: UpdateLogEntry }, _now: Date): Promise<void> {
    await withTx(this.pool, async (tx) => {
      await tx.query(
        `UPDATE carrier_trackings SET next_update_due = $3, active = $4, priority = $5, interval_s = coalesce($6, interval_s), provider = $7,
           consecutive_failures = consecutive_failures + 1, requires_attention = requires_attention OR $8, last_status_code = $9, last_error = $10,
           next_type = 'scheduled', next_triggered_by = 'schedule', claim_token = NULL, claimed_due = NULL
         WHERE package_id = $1 AND claim_token = $2`,
        [claim.packageId, claim.token, ...scheduleValues(f.schedule), f.log.provider, f.requiresAttention, f.statusCode ?? null, f.error.slice(0, 1000)],
      )
      await insertLog(tx, claim, f.log)
    })
  }
}

/**
 * What a check or a push decides for one package, before the tracking row is
 * written. `pushesMissed`: a check found news no push brought, so the tracking is
 * no longer taken as push-fed.
 */
export type Finish = (plan: SnapshotPlan) => { schedule: Schedule; hash: string; notFound: boolean; log: UpdateLogEntry; pushesMissed?: boolean }

/**
 * Applies a carrier answer under the package's row lock (the package row first, so a
 * check and a push never wait on each other crosswise): `decide` sees the checkpoint
 * ids applied already, so a repeated answer adds nothing; the new ids are stored.
 */
export async function applySnapshot(
  tx: Queryable,
  target: { packageId: string; trackingNumber: string },
  decide: (pkg: Package, applied: ReadonlySet<string>) => SnapshotPlan,
  finish: Finish,
  now: Date,
  origin: string | null,
): Promise<{ written: SyncOutcome['written']; plan: SnapshotPlan; done: ReturnType<Finish> }> {
  let plan: SnapshotPlan | undefined
  const written = await updateLocked(tx, target.trackingNumber, async (pkg) => {
    const { rows } = await tx.query<{ checkpoint_id: string }>('SELECT checkpoint_id FROM carrier_checkpoints WHERE package_id = $1', [pkg.id])
    plan = decide(pkg, new Set(rows.map((r) => r.checkpoint_id)))
    return plan.change
  }, now, origin)
  const done = finish(plan!)
  const cps = plan!.newCheckpoints
  if (cps.length > 0) {
    await tx.query(
      'INSERT INTO carrier_checkpoints (package_id, checkpoint_id, occurred_at) SELECT $1, id, at FROM unnest($2::text[], $3::timestamptz[]) AS c(id, at) ON CONFLICT DO NOTHING',
      [target.packageId, cps.map((c) => c.id), cps.map((c) => c.occurredAt)],
    )
  }
  return { written, plan: plan!, done }
}
