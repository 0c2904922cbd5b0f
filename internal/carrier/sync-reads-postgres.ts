import type pg from 'pg'
import type { CarrierSyncReader, CarrierSyncState } from '../package/ports.js'

interface StateRow {
  package_id: string
  provider: string
  last_checked_at: Date | null
  next_update_due: Date | null
  active: boolean
  consecutive_failures: number
  requires_attention: boolean
  not_found: boolean
}

/**
 * One statement per read. Its first part queues the refresh: a tracking not asked
 * for more than three intervals since its last check (its expected check overdue
 * by twice its interval) and not due already is pulled to now, with the scheduled
 * priority. refresh_requested_at debounces it: one pull per interval, however many
 * read it at once (the row lock makes the racing readers re-check the condition).
 */
const READ_SQL = `WITH pulled AS (
    UPDATE carrier_trackings t SET next_update_due = $2, refresh_requested_at = $2, next_triggered_by = 'read'
    WHERE t.package_id = ANY($1::uuid[]) AND t.active AND t.claim_token IS NULL AND t.interval_s IS NOT NULL
      AND t.next_update_due > $2
      AND coalesce(t.last_checked_at, t.created_at) + make_interval(secs => 3 * t.interval_s) < $2
      AND (t.refresh_requested_at IS NULL OR t.refresh_requested_at + make_interval(secs => t.interval_s) < $2)
    RETURNING t.package_id, t.next_update_due)
  SELECT t.package_id, t.provider, t.last_checked_at, coalesce(p.next_update_due, t.claimed_due, t.next_update_due) AS next_update_due, t.active,
    t.consecutive_failures, t.requires_attention, t.not_found
  FROM carrier_trackings t LEFT JOIN pulled p USING (package_id)
  WHERE t.package_id = ANY($1::uuid[])`

/** Carrier sync state for package reads (package/'s CarrierSyncReader port). */
export class PostgresCarrierSyncReader implements CarrierSyncReader {
  constructor(private readonly pool: pg.Pool) {}

  async read(packageIds: readonly string[], now: Date): Promise<Map<string, CarrierSyncState>> {
    const { rows } = await this.pool.query<StateRow>(READ_SQL, [packageIds, now])
    return new Map(
      rows.map((r) => [
        r.package_id,
        {
          provider: r.provider,
          lastCheckedAt: r.last_checked_at,
          nextCheckAt: r.active ? r.next_update_due : null,
          consecutiveFailures: r.consecutive_failures,
          requiresAttention: r.requires_attention,
          notFound: r.not_found,
        },
      ]),
    )
  }
}
