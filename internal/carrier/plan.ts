import { canTransition, isTerminal, type Package, type PackageStatus } from '../package/domain.js'
import { attribute, changeStatus, patchDetails, type Change } from '../package/entity.js'
import type { Actor, NewEvent } from '../events/envelope.js'
import type { CarrierSnapshot, Checkpoint } from './domain.js'

/** What one provider answer does to a package: its change, and what the update log says of it. */
export interface SnapshotPlan {
  change: Change
  /** Checkpoints seen for the first time (applied or not), to remember by id. */
  newCheckpoints: Checkpoint[]
  previousStatus: PackageStatus
  newStatus: PackageStatus
}

/** The note on the status change of a number the carrier never heard of. */
export const NOT_FOUND_NOTE = 'Not found at the carrier: check the tracking number and carrier'

/** Who the events of a carrier's answer name: the carrier itself, by its slug. */
export const carrierActor = (pkg: Package): Actor => ({ type: 'carrier', id: pkg.carrier.toLowerCase() })

/**
 * The status a checkpoint moves the package to, or null when it moves nothing: the
 * same status (only in_transit repeats, as a checkpoint), or a package already final.
 * A jump the transition table does not allow (carriers skip scans) is forced,
 * and the event records it, as an admin's override would.
 */
function step(from: PackageStatus, to: PackageStatus): { force: boolean } | null {
  if (isTerminal(from)) return null
  if (from === to && to !== 'in_transit') return null
  return { force: !canTransition(from, to) }
}

/**
 * Turns a provider answer into a package change: each new checkpoint (oldest
 * first, by id, so a scan applies once) is a status change dated at the scan, with
 * its message as note and its place as location when it has coordinates; then the
 * answer's overall status if the scans did not reach it, and a new estimated
 * delivery, each event by the carrier (`actor: {type: "carrier", id: <slug>}`).
 * Sender and recipient stay: providers do not name them. Pure; `applied`
 * holds the checkpoint ids already turned into events.
 */
export function planSnapshot(pkg: Package, snap: CarrierSnapshot, applied: ReadonlySet<string>, now: Date): SnapshotPlan {
  const newCheckpoints = snap.checkpoints.filter((cp) => !applied.has(cp.id))
  let next = pkg
  const events: NewEvent[] = []
  const move = (to: PackageStatus, at: Date, note?: string, cp?: Checkpoint) => {
    const allowed = step(next.status, to)
    if (!allowed) return
    // A scan dated ahead of our clock (a carrier's clock skew) is recorded as happening now.
    const occurredAt = at.getTime() > now.getTime() ? now : at
    const location = cp?.lat !== undefined && cp.lng !== undefined ? { lat: cp.lat, lng: cp.lng, ...(cp.city ? { city: cp.city } : {}) } : undefined
    const change = changeStatus(next, { status: to, occurredAt, force: allowed.force, ...(note ? { note } : {}), ...(location ? { location } : {}) }, now)
    next = change.next
    events.push(...change.events)
  }
  for (const cp of newCheckpoints) move(cp.status ?? next.status, new Date(cp.occurredAt), cp.message || undefined, cp)
  const last = snap.checkpoints[snap.checkpoints.length - 1]
  if (snap.notFound) move('expired', now, NOT_FOUND_NOTE)
  else if (snap.status !== next.status) move(snap.status, last ? new Date(last.occurredAt) : now)
  const eta = snap.estimatedDelivery ? new Date(snap.estimatedDelivery) : undefined
  if (eta && eta.getTime() !== next.estimatedDelivery?.getTime()) {
    const patched = patchDetails(next, { estimatedDelivery: eta }, now)
    next = patched.next
    events.push(...patched.events)
  }
  return { change: attribute({ next, events }, carrierActor(pkg)), newCheckpoints, previousStatus: pkg.status, newStatus: next.status }
}

/** Seconds before retrying after a 5xx, a timeout or a network error: the contract's 60, 300, 900. */
export const RETRY_DELAYS_S = [60, 300, 900] as const

export function retryDelayS(consecutiveFailures: number): number {
  return RETRY_DELAYS_S[Math.min(Math.max(consecutiveFailures, 1), RETRY_DELAYS_S.length) - 1]!
}

/** Midnight UTC after `now`: when a spent day's budget is new again. */
export function nextUtcDay(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1))
}

export const utcDay = (now: Date): string => now.toISOString().slice(0, 10)
