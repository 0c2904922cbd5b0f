import { randomUUID } from 'node:crypto'
import type { NewEvent } from '../events/envelope.js'
import { AppError, invalid } from '../platform/errors.js'
import { isTerminal, versionMismatch, type Package } from '../package/domain.js'
import type { Change } from '../package/entity.js'

export const ASSIGNMENT_STATES = ['offered', 'accepted', 'declined', 'completed', 'cancelled'] as const
export type AssignmentState = (typeof ASSIGNMENT_STATES)[number]

/** States that hold the package: at most one such assignment per package (the database enforces it). */
export const ACTIVE_STATES: ReadonlySet<AssignmentState> = new Set(['offered', 'accepted'])

export interface Assignment {
  id: string
  packageId: string
  trackingNumber: string
  driverId: string
  state: AssignmentState
  /** The user or service client that offered it. */
  assignedBy: string
  assignedAt: Date
  acceptedAt?: Date
  declinedAt?: Date
  completedAt?: Date
  cancelledAt?: Date
}

export interface OfferRequest {
  driverId: string
  assignedBy: string
  /** Cancel the active assignment, if any, instead of refusing (needs `ifMatch`). */
  replace: boolean
  ifMatch?: number
}

/** What an offer writes: the new assignment and the package change (driverId and events). */
export interface Offer {
  assignment: Assignment
  /** The package change, given the assignment the offer replaced (null: there was none). */
  change(replaced: Assignment | null): Change
}

/**
 * Decides an offer on the locked package: a final package refuses it, a stale
 * If-Match too. Whether another assignment is active is not asked here: the insert
 * finds out, so two offers can never both pass.
 */
export function decideOffer(pkg: Package, req: OfferRequest, now: Date): Offer {
  if (req.ifMatch !== undefined && req.ifMatch !== pkg.version) throw versionMismatch(pkg.version)
  if (isTerminal(pkg.status)) throw new AppError('conflict', 'invalid_transition', `package is ${pkg.status}, a final status; it cannot be assigned`)
  const assignment: Assignment = {
    id: randomUUID(),
    packageId: pkg.id,
    trackingNumber: pkg.trackingNumber,
    driverId: req.driverId,
    state: 'offered',
    assignedBy: req.assignedBy,
    assignedAt: now,
  }
  return {
    assignment,
    change(replaced) {
      const events: NewEvent[] = []
      if (replaced) events.push(ended(replaced, 'package.assignment_cancelled', now))
      events.push({ type: 'package.assigned', occurredAt: now, data: { assignmentId: assignment.id, driverId: assignment.driverId, assignedBy: assignment.assignedBy } })
      return { next: { ...pkg, driverId: assignment.driverId }, events }
    },
  }
}

export type Response = 'accept' | 'decline'

/**
 * The offered driver answers. Accepting twice changes nothing; a driver may also
 * decline work already accepted (they hand it back), which frees the package.
 */
export function respond(pkg: Package, current: Assignment, answer: Response, now: Date): { assignment: Assignment; change: Change } {
  if (answer === 'accept') {
    if (current.state === 'accepted') return { assignment: current, change: { next: pkg, events: [] } }
    const assignment: Assignment = { ...current, state: 'accepted', acceptedAt: now }
    const data = { assignmentId: current.id, driverId: current.driverId }
    return { assignment, change: { next: pkg, events: [{ type: 'package.assignment_accepted', occurredAt: now, data }] } }
  }
  const assignment: Assignment = { ...current, state: 'declined', declinedAt: now }
  const next = { ...pkg }
  delete next.driverId
  return { assignment, change: { next, events: [ended(current, 'package.assignment_declined', now)] } }
}

function ended(a: Assignment, type: 'package.assignment_cancelled' | 'package.assignment_declined', now: Date): NewEvent {
  return { type, occurredAt: now, data: { assignmentId: a.id, driverId: a.driverId } }
}

export function alreadyAssigned(current: Assignment | null): AppError {
  const message = current
    ? `package already has an active assignment (${current.state}, driver ${current.driverId}); send "replace": true with If-Match to replace it`
    : 'package already has an active assignment'
  return new AppError('conflict', 'already_assigned', message, [{ path: '/assignment', message: 'the active assignment', ...(current ? { value: current } : {}) }])
}

export const notADriver = () => invalid('/driverId', 'is not a driver')
