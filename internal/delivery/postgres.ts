import type pg from 'pg'
import { isUniqueViolation, withTx, type Queryable } from '../platform/db/postgres.js'
import { notFound } from '../platform/errors.js'
import { insertPackage, updateLocked } from '../package/postgres.js'
import type { Package } from '../package/domain.js'
import type { Change } from '../package/entity.js'
import type { Written } from '../package/ports.js'
import { alreadyAssigned, decideOffer, notADriver, type Assignment, type AssignmentState, type Offer } from './domain.js'
import type { AcceptedPackage, AssignmentRepository, DriverSummary, ShiftState } from './ports.js'

interface AssignmentRow {
  id: string
  package_id: string
  tracking_number: string
  driver_id: string
  state: AssignmentState
  assigned_by: string
  assigned_at: Date
  accepted_at: Date | null
  declined_at: Date | null
  completed_at: Date | null
  cancelled_at: Date | null
}

function toAssignment(r: AssignmentRow): Assignment {
  const a: Assignment = { id: r.id, packageId: r.package_id, trackingNumber: r.tracking_number, driverId: r.driver_id, state: r.state, assignedBy: r.assigned_by, assignedAt: r.assigned_at }
  if (r.accepted_at) a.acceptedAt = r.accepted_at
  if (r.declined_at) a.declinedAt = r.declined_at
  if (r.completed_at) a.completedAt = r.completed_at
  if (r.cancelled_at) a.cancelledAt = r.cancelled_at
  return a
}

const ACTIVE = `state IN ('offered', 'accepted')`
const ONE_ACTIVE = 'assignments_one_active_key'
/** The live (not deleted) package with the number. */
const PACKAGE_ID = '(SELECT id FROM packages WHERE tracking_number = $1 AND deleted_at IS NULL)'

export class PostgresAssignmentRepository implements AssignmentRepository {
  private readonly origin: string | null

  /** `origin`: this process's instance id, recorded with the events it writes. */
  constructor(private readonly pool: pg.Pool, opts: { origin?: string } = {}) {
    this.origin = opts.origin ?? null
  }

  async offer(tn: string, replace: boolean, decide: (pkg: Package) => Offer, now: Date): Promise<{ assignment: Assignment; written: Written }> {
    try {
      return await withTx(this.pool, async (tx) => {
        let assignment: Assignment | undefined
        const written = await updateLocked(tx, tn, async (pkg) => {
          const offer = decide(pkg)
          assignment = offer.assignment
          let replaced: Assignment | null = null
          if (replace) {
            const { rows } = await tx.query<AssignmentRow>(`UPDATE assignments SET state = 'cancelled', cancelled_at = $2 WHERE package_id = $1 AND ${ACTIVE} RETURNING *`, [pkg.id, now])
            replaced = rows[0] ? toAssignment(rows[0]) : null
          }
          await insert(tx, offer.assignment)
          return offer.change(replaced)
        }, now, this.origin)
        return { assignment: assignment!, written }
      })
    } catch (err) {
      // The driver's account was deleted after it was checked.
      if ((err as { code?: string }).code === '23503') throw notADriver()
      if (!isUniqueViolation(err, ONE_ACTIVE)) throw err
      // Lost to another offer: tell the client which assignment holds the package.
      const { rows } = await this.pool.query<AssignmentRow>(`SELECT * FROM assignments WHERE package_id = ${PACKAGE_ID} AND ${ACTIVE}`, [tn])
      throw alreadyAssigned(rows[0] ? toAssignment(rows[0]) : null)
    }
  }

  /**
   * A new package offered to a driver at once (POST /packages with driverId): the
   * package, the offered assignment and package.created then package.assigned (named
   * as the change's first event is) in one transaction.
   */
  async createOffered(change: Change, driverId: string, assignedBy: string): Promise<Written> {
    const at = change.next.createdAt
    const offer = decideOffer(change.next, { driverId, assignedBy, replace: false }, at)
    const offered = offer.change(null)
    const actor = change.events[0]?.actor
    const assigned = offered.events.map((e) => (actor ? { ...e, actor } : e))
    try {
      return await withTx(this.pool, async (tx) => {
        const written = await insertPackage(tx, { ...change, next: offered.next, events: [...change.events, ...assigned] }, this.origin)
        await insert(tx, offer.assignment)
        return written
      })
    } catch (err) {
      if ((err as { code?: string }).code === '23503') throw notADriver()
      throw err
    }
  }

  async respond(tn: string, driverId: string, decide: (pkg: Package, current: Assignment) => { assignment: Assignment; change: Change }, now: Date): Promise<{ assignment: Assignment; written: Written }> {
    return withTx(this.pool, async (tx) => {
      let assignment: Assignment | undefined
      const written = await updateLocked(tx, tn, async (pkg) => {
        const { rows } = await tx.query<AssignmentRow>(`SELECT * FROM assignments WHERE package_id = $1 AND driver_id = $2 AND ${ACTIVE}`, [pkg.id, driverId])
        if (!rows[0]) throw notFound('assignment')
        const decision = decide(pkg, toAssignment(rows[0]))
        assignment = decision.assignment
        const a = decision.assignment
        await tx.query('UPDATE assignments SET state = $2, accepted_at = $3, declined_at = $4 WHERE id = $1', [a.id, a.state, a.acceptedAt ?? null, a.declinedAt ?? null])
        return decision.change
      }, now, this.origin)
      return { assignment: assignment!, written }
    })
  }

  async history(tn: string): Promise<Assignment[]> {
    const { rows } = await this.pool.query<AssignmentRow>(`SELECT * FROM assignments WHERE package_id = ${PACKAGE_ID} ORDER BY assigned_at, id`, [tn])
    if (rows.length === 0 && !(await this.pool.query(`SELECT ${PACKAGE_ID} AS id`, [tn])).rows[0]?.id) throw notFound('package')
    return rows.map(toAssignment)
  }

  async ofDriver(driverId: string, state?: AssignmentState): Promise<Assignment[]> {
    const { rows } = await this.pool.query<AssignmentRow>(
      `SELECT a.* FROM assignments a JOIN packages p ON p.id = a.package_id AND p.deleted_at IS NULL
       WHERE a.driver_id = $1 AND ($2::text IS NULL OR a.state = $2) ORDER BY a.assigned_at DESC, a.id LIMIT 500`,
      [driverId, state ?? null],
    )
    return rows.map(toAssignment)
  }

  async accepted(driverId: string): Promise<AcceptedPackage[]> {
    const { rows } = await this.pool.query<{ id: string; package_id: string; tracking_number: string }>(
      `SELECT a.id, a.package_id, p.tracking_number FROM assignments a JOIN packages p ON p.id = a.package_id AND p.deleted_at IS NULL
       WHERE a.driver_id = $1 AND a.state = 'accepted'`,
      [driverId],
    )
    return rows.map((r) => ({ assignmentId: r.id, packageId: r.package_id, trackingNumber: r.tracking_number }))
  }

  async isDriver(userId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(`SELECT 1 FROM users WHERE id = $1 AND role = 'driver'`, [userId])
    return rowCount === 1
  }

  async drivers(): Promise<DriverSummary[]> {
    const { rows } = await this.pool.query<{ id: string; name: string; email: string; active: number; lat: number | null; lng: number | null; recorded_at: Date | null; last_seen_at: Date | null; on_shift: boolean }>(
      `SELECT u.id, u.name, u.email, dp.lat, dp.lng, dp.recorded_at, dp.last_seen_at, coalesce(ds.on_shift, false) AS on_shift,
         (SELECT count(*)::int FROM assignments a WHERE a.driver_id = u.id AND a.${ACTIVE}) AS active
       FROM users u LEFT JOIN driver_positions dp ON dp.driver_id = u.id LEFT JOIN driver_shifts ds ON ds.driver_id = u.id
       WHERE u.role = 'driver' ORDER BY u.name, u.id`,
    )
    return rows.map((r) => {
      const d: DriverSummary = { id: r.id, name: r.name, email: r.email, activeAssignments: r.active, onShift: r.on_shift }
      if (r.lat !== null && r.lng !== null && r.recorded_at) d.lastLocation = { lat: r.lat, lng: r.lng, recordedAt: r.recorded_at }
      if (r.last_seen_at) d.lastSeenAt = r.last_seen_at
      return d
    })
  }

  async setShift(driverId: string, onShift: boolean, at: Date): Promise<ShiftState> {
    const { rows } = await this.pool.query<{ on_shift: boolean; changed_at: Date }>(
      `INSERT INTO driver_shifts (driver_id, on_shift, changed_at) VALUES ($1, $2, $3)
       ON CONFLICT (driver_id) DO UPDATE SET on_shift = EXCLUDED.on_shift,
         changed_at = CASE WHEN driver_shifts.on_shift = EXCLUDED.on_shift THEN driver_shifts.changed_at ELSE EXCLUDED.changed_at END
       RETURNING on_shift, changed_at`,
      [driverId, onShift, at],
    )
    return { driverId, onShift: rows[0]!.on_shift, changedAt: rows[0]!.changed_at }
  }

  async seen(driverId: string, position: { lat: number; lng: number; recordedAt: Date }, at: Date): Promise<void> {
    // The position only moves to a later fix; lastSeenAt always moves.
    await this.pool.query(
      `INSERT INTO driver_positions (driver_id, lat, lng, recorded_at, last_seen_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (driver_id) DO UPDATE SET
         lat = CASE WHEN EXCLUDED.recorded_at > driver_positions.recorded_at THEN EXCLUDED.lat ELSE driver_positions.lat END,
         lng = CASE WHEN EXCLUDED.recorded_at > driver_positions.recorded_at THEN EXCLUDED.lng ELSE driver_positions.lng END,
         recorded_at = GREATEST(driver_positions.recorded_at, EXCLUDED.recorded_at),
         last_seen_at = GREATEST(driver_positions.last_seen_at, EXCLUDED.last_seen_at)`,
      [driverId, position.lat, position.lng, position.recordedAt, at],
    )
  }
}

function insert(tx: Queryable, a: Assignment): Promise<unknown> {
  return tx.query(
    'INSERT INTO assignments (id, package_id, tracking_number, driver_id, state, assigned_by, assigned_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
    [a.id, a.packageId, a.trackingNumber, a.driverId, a.state, a.assignedBy, a.assignedAt],
  )
}
