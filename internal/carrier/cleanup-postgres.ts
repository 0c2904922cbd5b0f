import type pg from 'pg'
import { withTx } from '../platform/db/postgres.js'
import { STATUSES, isTerminal } from '../package/domain.js'
import type { StateCounts } from './admin-ports.js'

/** Update-log rows older than this are pruned (usage reads at most this far back). */
export const LOG_RETENTION_DAYS = 30

/** The advisory lock a cleanup run holds (issue 19, cleanup); pg_locks shows it as running. */
const LOCK = [19, 2] as const

const FINAL = STATUSES.filter(isTerminal)

export interface CleanupResult {
  deactivated: number
  checkpointsDropped: number
  logsPruned: number
}

/**
 * Deactivates trackings whose package has been final (or deleted) for more than
 * `ttlH` hours: they are never claimed again, and their checkpoint ids go (a late
 * push cannot move a final package). Prunes update-log rows and runs older than
 * LOG_RETENTION_DAYS. One run per `intervalS` across all workers: the run holds a
 * transaction-scoped advisory lock and records itself; null when not due or another
 * worker is running it.
 */
export async function runCleanupIfDue(pool: pg.Pool, opts: { now: Date; ttlH: number; intervalS: number }): Promise<CleanupResult | null> {
  const { now } = opts
  try {
    return await withTx(pool, async (tx) => {
      const { rows: lock } = await tx.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1, $2) AS ok', [...LOCK])
      if (!lock[0]!.ok) return null
      const { rows: last } = await tx.query<{ due: boolean }>(
        `SELECT coalesce(max(started_at) <= $1::timestamptz - make_interval(secs => $2), true) AS due FROM carrier_cleanup_runs`,
        [now, opts.intervalS],
      )
      if (!last[0]!.due) return null
      const cutoff = new Date(now.getTime() - opts.ttlH * 3_600_000)
      const deactivated = await tx.query(
        `UPDATE carrier_trackings t SET active = false, next_update_due = NULL, claim_token = NULL, claimed_due = NULL
         FROM packages p WHERE p.id = t.package_id AND t.active AND (p.deleted_at IS NOT NULL OR (p.status = ANY($1::text[]) AND p.updated_at < $2))`,
        [FINAL, cutoff],
      )
      const dropped = await tx.query(
        `DELETE FROM carrier_checkpoints c USING carrier_trackings t, packages p
         WHERE t.package_id = c.package_id AND p.id = c.package_id AND NOT t.active AND (p.deleted_at IS NOT NULL OR (p.status = ANY($1::text[]) AND p.updated_at < $2))`,
        [FINAL, cutoff],
      )
      const keepFrom = new Date(now.getTime() - LOG_RETENTION_DAYS * 86_400_000)
      const pruned = await tx.query('DELETE FROM carrier_update_log WHERE started_at < $1', [keepFrom])
      await tx.query('DELETE FROM carrier_cleanup_runs WHERE started_at < $1', [keepFrom])
      const result = { deactivated: deactivated.rowCount ?? 0, checkpointsDropped: dropped.rowCount ?? 0, logsPruned: pruned.rowCount ?? 0 }
      await tx.query(
        `INSERT INTO carrier_cleanup_runs (started_at, finished_at, success, deactivated, checkpoints_dropped, logs_pruned) VALUES ($1, clock_timestamp(), true, $2, $3, $4)`,
        [now, result.deactivated, result.checkpointsDropped, result.logsPruned],
      )
      return result
    })
  } catch (err) {
    // Recorded so the jobs page shows it failed; the next run is due after the interval as usual.
    await pool.query('INSERT INTO carrier_cleanup_runs (started_at, finished_at, success, error) VALUES ($1, clock_timestamp(), false, $2)', [now, String((err as Error).message).slice(0, 1000)])
    throw err
  }
}

/** The cleanup as jobs: pending when a run is due, running while one holds the lock, runs of the last 24 h. */
export async function cleanupCounts(pool: pg.Pool, now: Date, intervalS: number): Promise<StateCounts> {
  const { rows } = await pool.query<StateCounts>(
    `SELECT (SELECT coalesce(max(started_at) <= $1::timestamptz - make_interval(secs => $2), true) FROM carrier_cleanup_runs)::int AS pending,
       (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = $3 AND objid = $4 AND objsubid = 2 AND granted)::int AS running,
       count(*) FILTER (WHERE success)::int AS completed, count(*) FILTER (WHERE NOT success)::int AS failed
     FROM carrier_cleanup_runs WHERE started_at > $1::timestamptz - interval '24 hours'`,
    [now, intervalS, LOCK[0], LOCK[1]],
  )
  return rows[0]!
}
