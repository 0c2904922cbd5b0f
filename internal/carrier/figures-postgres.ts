import type pg from 'pg'
import type { CarrierFigures, TrackingState } from './metrics.js'

/**
 * One pass over carrier_trackings per scrape. A lease that ran out (a crashed
 * worker's claim) counts as due again, as the claim query sees it; trackings of
 * deleted packages are never claimed, so they are left out.
 */
const STATES_SQL = `SELECT
    count(*) FILTER (WHERE active AND next_update_due <= $1) AS due,
    count(*) FILTER (WHERE active AND claim_token IS NOT NULL AND next_update_due > $1) AS leased,
    count(*) FILTER (WHERE active AND claim_token IS NULL AND (next_update_due > $1 OR next_update_due IS NULL)) AS scheduled,
    count(*) FILTER (WHERE requires_attention) AS requires_attention,
    count(*) FILTER (WHERE NOT active) AS inactive
  FROM carrier_trackings t
  WHERE EXISTS (SELECT 1 FROM packages p WHERE p.id = t.package_id AND p.deleted_at IS NULL)`

export class PostgresCarrierFigures implements CarrierFigures {
  constructor(private readonly pool: pg.Pool) {}

  async trackingsByState(now: Date): Promise<Record<TrackingState, number>> {
    const { rows } = await this.pool.query<Record<TrackingState, string>>(STATES_SQL, [now])
    const r = rows[0]!
    return { due: Number(r.due), leased: Number(r.leased), scheduled: Number(r.scheduled), requires_attention: Number(r.requires_attention), inactive: Number(r.inactive) }
  }

  async budgetUsed(day: string): Promise<number> {
    const { rows } = await this.pool.query<{ used: number }>('SELECT used FROM carrier_budget WHERE day = $1::date', [day])
    return rows[0]?.used ?? 0
  }
}
