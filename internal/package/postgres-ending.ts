import type { NewEvent } from '../events/envelope.js'
import type { Queryable } from '../platform/db/postgres.js'
import { isTerminal, type Package } from './domain.js'
import type { Change } from './entity.js'

/**
 * Whether the change may end the package's active assignment: it moves the package
 * to a final status or deletes it while a driver holds it (driverId follows the
 * active assignment). Such changes are written on the locked row (see endAssignment).
 */
export function mayEndAssignment(current: Package, change: Change): boolean {
  if (!current.driverId || change.events.length === 0) return false
  return change.deleted === true || (change.next.status !== current.status && isTerminal(change.next.status))
}

/**
 * The change plus `package.assignment_cancelled` when it cancels the active
 * assignment, decided as the trigger of migration 0011 will update the row in the
 * same transaction: `delivered` completes an accepted assignment (status_changed
 * says so); anything else cancels it. Runs on the locked package row, so the event
 * takes the next seq after the change's own and the driver hears it live.
 */
export async function endAssignment(tx: Queryable, current: Package, change: Change, now: Date): Promise<Change> {
  if (!mayEndAssignment(current, change)) return change
  const { rows } = await tx.query<{ id: string; driver_id: string; state: string }>({
    name: 'pkg_active_assignment',
    text: `SELECT id, driver_id, state FROM assignments WHERE package_id = $1 AND state IN ('offered', 'accepted') FOR UPDATE`,
    values: [current.id],
  })
  const active = rows[0]
  if (!active) return change
  if (!change.deleted && change.next.status === 'delivered' && active.state === 'accepted') return change
  const cause = change.events.find((e) => e.actor)?.actor
  const cancelled: NewEvent = {
    type: 'package.assignment_cancelled',
    occurredAt: now,
    data: { assignmentId: active.id, driverId: active.driver_id, reason: change.deleted ? 'deleted' : change.next.status },
    ...(cause ? { actor: cause } : {}),
  }
  // Before a deletion (nothing follows package.deleted), after a status change.
  const events = change.deleted ? [...change.events.slice(0, -1), cancelled, ...change.events.slice(-1)] : [...change.events, cancelled]
  return { ...change, events }
}
