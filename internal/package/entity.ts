import { randomUUID } from 'node:crypto'
import type { Actor, NewEvent } from '../events/envelope.js'
import { AppError, invalid } from '../platform/errors.js'
import { checkTransition, type NewPackage, type Package, type PackagePatch, type StatusChange } from './domain.js'

/** What a rule decided: the package's next state and the events that record it (none: nothing changed). */
export interface Change {
  next: Package
  events: NewEvent[]
  /** The package is deleted (its history stays). */
  deleted?: boolean
}

/** A position fix: where the package was at a moment. */
export interface Fix {
  lat: number
  lng: number
  recordedAt: Date
}

const FUTURE_SLACK_MS = 5 * 60_000

/**
 * The last location only moves forward: a fix replaces it only when it was
 * recorded strictly later, so fixes may arrive in any order. The database
 * statements that move it apply this same rule again (postgres-rows.ts,
 * lastLocationAdvances), because location ingest moves it without a version.
 */
export function locationAdvances(current: Package['lastLocation'], at: Date): boolean {
  return !current || current.recordedAt.getTime() < at.getTime()
}

/** The package with the fix applied, if it moves the last location forward; the same package otherwise. */
export function applyFix(pkg: Package, fix: Fix): Package {
  if (!locationAdvances(pkg.lastLocation, fix.recordedAt)) return pkg
  return { ...pkg, lastLocation: { lat: fix.lat, lng: fix.lng, recordedAt: fix.recordedAt } }
}

/** A new package at version 1 with its `package.created` event. */
export function createPackage(input: NewPackage, now: Date): Change {
  const next: Package = {
    ...input,
    deliveryOption: input.deliveryOption ?? 'standard',
    paymentStatus: input.paymentStatus ?? 'not_required',
    id: randomUUID(),
    status: 'pending',
    version: 1,
    seq: 0,
    createdAt: now,
    updatedAt: now,
  }
  const data: Record<string, unknown> = { status: next.status, carrier: next.carrier }
  if (next.customerId) data.customerId = next.customerId
  // The charts' on-time rate needs the due day from the log itself.
  if (next.estimatedDelivery) data.estimatedDelivery = next.estimatedDelivery.toISOString()
  return { next, events: [{ type: 'package.created', occurredAt: now, data }] }
}

/**
 * A number a customer follows at a carrier: nobody owns it (the customer who
 * registered it only tracks it), so a shop's package with the same number can
 * never make them its owner.
 */
export function createExternalTracking(trackingNumber: string, carrier: string, now: Date): Change {
  const { next, events } = createPackage({ trackingNumber, carrier, sender: { name: 'Unknown sender' }, recipient: { name: 'Unknown recipient' } }, now)
  // Marked in the log too, so that the charts do not count it as an order.
  return { next: { ...next, external: true }, events: events.map((e) => ({ ...e, data: { ...e.data, external: true } })) }
}

/** A package with this number is an external tracking: a new package may not silently take it over. */
export function externalTrackingConflict(pkg: Package): AppError {
  const message = `tracking number ${pkg.trackingNumber} is an external tracking (carrier ${pkg.carrier}) that customers follow; an admin may merge it by creating the package again with "mergeExternal": true, or delete it`
  return new AppError('conflict', 'external_tracking', message, [{ path: '/trackingNumber', message }])
}

/**
 * An admin's merge: the external tracking becomes the package described (its
 * history and followers stay); the owner is only who the admin names.
 */
export function mergeExternal(pkg: Package, details: Omit<PackagePatch, 'driverId'>, now: Date): Change {
  if (!pkg.external) throw new AppError('conflict', 'conflict', `tracking number ${pkg.trackingNumber} already exists and is not an external tracking`)
  const patched = patchDetails(pkg, details, now)
  const next = { ...patched.next }
  delete next.external
  const changes = (patched.events[0]?.data.changes as Record<string, unknown> | undefined) ?? {}
  return { next, events: [{ type: 'package.updated', occurredAt: now, data: { changes, mergedExternal: true } }] }
}

/**
 * A status change: allowed by the transition table (or forced), never dated in the
 * future; a location that comes with it moves the last location forward.
 */
export function changeStatus(pkg: Package, change: StatusChange, now: Date): Change {
  const occurredAt = change.occurredAt ?? now
  if (occurredAt.getTime() > now.getTime() + FUTURE_SLACK_MS) throw invalid('/occurredAt', 'must not be in the future')
  const { forced } = checkTransition(pkg.status, change.status, change.force === true)
  let next: Package = { ...pkg, status: change.status }
  if (change.location) next = applyFix(next, { lat: change.location.lat, lng: change.location.lng, recordedAt: occurredAt })
  const data: Record<string, unknown> = { status: change.status, previousStatus: pkg.status }
  if (change.note) data.note = change.note
  if (change.location) data.location = change.location
  if (forced) data.forced = true
  return { next, events: [{ type: 'package.status_changed', occurredAt, data }] }
}

/** Detail changes (null clears a field); only fields whose value really changes are recorded. */
export function patchDetails(pkg: Package, patch: Omit<PackagePatch, 'driverId'>, now: Date): Change {
  const next: Record<string, unknown> = { ...pkg }
  const changes: Record<string, unknown> = {}
  for (const [field, value] of Object.entries(patch) as Array<[keyof PackagePatch, unknown]>) {
    if (value === undefined || field === 'driverId') continue
    if (JSON.stringify(value) === JSON.stringify(pkg[field] ?? null)) continue
    if (value === null) delete next[field]
    else next[field] = value
    changes[field] = value
  }
  if (Object.keys(changes).length === 0) return { next: pkg, events: [] }
  return { next: next as unknown as Package, events: [{ type: 'package.updated', occurredAt: now, data: { changes } }] }
}

/** The change with each event recorded as caused by `actor` (events that already name one keep it). */
export function attribute(change: Change, actor: Actor): Change {
  if (change.events.length === 0) return change
  return { ...change, events: change.events.map((e) => (e.actor ? e : { ...e, actor })) }
}

export function deletePackage(pkg: Package, now: Date): Change {
  return { next: pkg, events: [{ type: 'package.deleted', occurredAt: now, data: {} }], deleted: true }
}
