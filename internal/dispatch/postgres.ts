import type pg from 'pg'
import type { Assignment } from '../delivery/domain.js'
import type { PackageStatus } from '../package/domain.js'
import type { Candidate, CloseReason, DispatchRecord, PackageView, PassReason } from './domain.js'
import type { DispatchStore } from './ports.js'

/**
 * The schema of dispatch's own tables, as migration 0020 names it: `dispatch` beside
 * `public`, `<schema>_dispatch` beside any other (each test file migrates its own).
 */
export async function dispatchSchema(pool: pg.Pool): Promise<string> {
  const { rows } = await pool.query<{ s: string }>('SELECT current_schema() AS s')
  const main = rows[0]!.s
  return main === 'public' ? 'dispatch' : `${main}_dispatch`
}

interface RecordRow {
  package_id: string
  tracking_number: string
  state: DispatchRecord['state']
  assignment_id: string | null
  driver_id: string | null
  offered_at: Date | null
}

function toRecord(r: RecordRow): DispatchRecord {
  const d: DispatchRecord = { packageId: r.package_id, trackingNumber: r.tracking_number, state: r.state }
  if (r.assignment_id) d.assignmentId = r.assignment_id
  if (r.driver_id) d.driverId = r.driver_id
  if (r.offered_at) d.offeredAt = r.offered_at
  return d
}

const RECORD = 'package_id, tracking_number, state, assignment_id, driver_id, offered_at'

/** Dispatch's bookkeeping in its schema; reads of packages, drivers and assignments in the main one (never writes there). */
export class PostgresDispatchStore implements DispatchStore {
  private constructor(private readonly pool: pg.Pool, private readonly schema: string) {}

  static async open(pool: pg.Pool): Promise<PostgresDispatchStore> {
    const name = await dispatchSchema(pool)
    return new PostgresDispatchStore(pool, `"${name.replaceAll('"', '""')}"`)
  }

  async view(tn: string): Promise<PackageView | null> {
    const { rows } = await this.pool.query<{
      id: string; tracking_number: string; status: PackageStatus; carrier: string; external: boolean; origin: { lat: number; lng: number; address?: string } | null
      version: number; deleted: boolean; a_id: string | null; a_driver: string | null; a_state: 'offered' | 'accepted' | null; a_by: string | null; a_at: Date | null
    }>(
      `SELECT p.id, p.tracking_number, p.status, p.carrier, p.external, p.origin, p.version, p.deleted_at IS NOT NULL AS deleted,
         a.id AS a_id, a.driver_id AS a_driver, a.state AS a_state, a.assigned_by AS a_by, a.assigned_at AS a_at
       FROM packages p LEFT JOIN assignments a ON a.package_id = p.id AND a.state IN ('offered', 'accepted')
       WHERE p.tracking_number = $1 ORDER BY p.deleted_at IS NULL DESC, p.created_at DESC LIMIT 1`,
      [tn],
    )
    const r = rows[0]
    if (!r) return null
    const view: PackageView = { packageId: r.id, trackingNumber: r.tracking_number, status: r.status, carrier: r.carrier, external: r.external, version: r.version, deleted: r.deleted }
    if (r.origin && typeof r.origin.lat === 'number' && typeof r.origin.lng === 'number') view.origin = r.origin
    if (r.a_id && r.a_driver && r.a_state && r.a_by && r.a_at) view.active = { id: r.a_id, driverId: r.a_driver, state: r.a_state, assignedBy: r.a_by, assignedAt: r.a_at }
    return view
  }

  async candidates(packageId: string): Promise<Candidate[]> {
    const { rows } = await this.pool.query<{ id: string; lat: number | null; lng: number | null; active: number }>(
      `SELECT u.id, dp.lat, dp.lng,
         (SELECT count(*)::int FROM assignments a WHERE a.driver_id = u.id AND a.state IN ('offered', 'accepted')) AS active
       FROM users u JOIN driver_shifts s ON s.driver_id = u.id AND s.on_shift
       LEFT JOIN driver_positions dp ON dp.driver_id = u.id
       WHERE u.role = 'driver'
         AND NOT EXISTS (SELECT 1 FROM ${this.schema}.passed_over po WHERE po.package_id = $1 AND po.driver_id = u.id)`,
      [packageId],
    )
    return rows.map((r) => (r.lat !== null && r.lng !== null ? { driverId: r.id, active: r.active, position: { lat: r.lat, lng: r.lng } } : { driverId: r.id, active: r.active }))
  }

  async take(packageId: string, tn: string, at: Date): Promise<DispatchRecord> {
    // The no-op update makes RETURNING answer for an existing row too.
    const { rows } = await this.pool.query<RecordRow>(
      `INSERT INTO ${this.schema}.packages (package_id, tracking_number, state, updated_at) VALUES ($1, $2, 'open', $3)
       ON CONFLICT (package_id) DO UPDATE SET package_id = EXCLUDED.package_id RETURNING ${RECORD}`,
      [packageId, tn, at],
    )
    return toRecord(rows[0]!)
  }

  async byAssignment(assignmentId: string): Promise<DispatchRecord | null> {
    const { rows } = await this.pool.query<RecordRow>(`SELECT ${RECORD} FROM ${this.schema}.packages WHERE assignment_id = $1`, [assignmentId])
    return rows[0] ? toRecord(rows[0]) : null
  }

  async offered(packageId: string, a: Pick<Assignment, 'id' | 'driverId' | 'assignedAt'>, at: Date): Promise<void> {
    await this.pool.query(
      `UPDATE ${this.schema}.packages SET state = 'offered', assignment_id = $2, driver_id = $3, offered_at = $4, closed_reason = NULL, updated_at = $5 WHERE package_id = $1`,
      [packageId, a.id, a.driverId, a.assignedAt, at],
    )
  }

  async waiting(packageId: string, at: Date): Promise<void> {
    await this.pool.query(`UPDATE ${this.schema}.packages SET state = 'waiting', assignment_id = NULL, driver_id = NULL, offered_at = NULL, updated_at = $2 WHERE package_id = $1`, [packageId, at])
  }

  async closed(packageId: string, reason: CloseReason, at: Date): Promise<void> {
    await this.pool.query(`UPDATE ${this.schema}.packages SET state = 'closed', closed_reason = $2, updated_at = $3 WHERE package_id = $1`, [packageId, reason, at])
  }

  async passOver(packageId: string, driverId: string, reason: PassReason, at: Date): Promise<void> {
    await this.pool.query(`INSERT INTO ${this.schema}.passed_over (package_id, driver_id, reason, at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, [packageId, driverId, reason, at])
  }

  async due(offeredBefore: Date, limit: number): Promise<DispatchRecord[]> {
    const { rows } = await this.pool.query<RecordRow>(
      `SELECT ${RECORD} FROM ${this.schema}.packages
       WHERE (state = 'offered' AND offered_at <= $1) OR state = 'waiting' OR (state = 'open' AND updated_at <= $1)
       ORDER BY updated_at LIMIT $2`,
      [offeredBefore, limit],
    )
    return rows.map(toRecord)
  }
}
