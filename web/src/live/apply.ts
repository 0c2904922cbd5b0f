// How one live event changes each kind of cached data. Each function mutates an
// Immer draft, is idempotent (the same event may arrive on several channels, or
// again after a reconnect) and ignores events older than the data it is given.

import { isStatus } from '../api/statuses.js'
import type { LocationPoint, Package, PackageEvent, Page, PublicView, TrackingEntry } from '../api/types.js'

const time = (iso: string | undefined) => (iso ? Date.parse(iso) : Number.NaN)

/** True when the event happened no earlier than the data was last changed (equal: the same change). */
const notStale = (ev: PackageEvent, updatedAt: string) => !(time(ev.recordedAt) < time(updatedAt))

const PATCHABLE = ['carrier', 'description', 'weightGrams', 'sender', 'recipient', 'origin', 'destination', 'estimatedDelivery'] as const

function touch(pkg: Package, ev: PackageEvent): void {
  if (time(ev.recordedAt) > time(pkg.updatedAt)) {
    pkg.version += 1
    pkg.updatedAt = ev.recordedAt
  }
}

function moveTo(pkg: Package, lat: unknown, lng: unknown, at: string): void {
  if (typeof lat !== 'number' || typeof lng !== 'number') return
  if (pkg.lastLocation && time(pkg.lastLocation.recordedAt) >= time(at)) return
  pkg.lastLocation = { lat, lng, recordedAt: at }
}

/** A package after the event. */
export function applyToPackage(pkg: Package, ev: PackageEvent): void {
  if (ev.trackingNumber !== pkg.trackingNumber) return
  const data = ev.data
  switch (ev.type) {
    case 'package.status_changed': {
      if (!notStale(ev, pkg.updatedAt) || !isStatus(data.status)) return
      pkg.status = data.status
      const loc = data.location as { lat?: unknown; lng?: unknown } | undefined
      if (loc) moveTo(pkg, loc.lat, loc.lng, ev.occurredAt)
      return touch(pkg, ev)
    }
    case 'package.updated': {
      if (!notStale(ev, pkg.updatedAt)) return
      const changes = (data.changes ?? {}) as Record<string, unknown>
      const target = pkg as unknown as Record<string, unknown>
      for (const field of PATCHABLE) {
        if (!(field in changes)) continue
        if (changes[field] === null) delete target[field]
        else target[field] = changes[field]
      }
      return touch(pkg, ev)
    }
    case 'package.assigned': {
      if (!notStale(ev, pkg.updatedAt)) return
      if (typeof data.driverId === 'string') pkg.driverId = data.driverId
      else delete pkg.driverId
      return touch(pkg, ev)
    }
    case 'package.assignment_accepted':
    case 'package.proof_added':
      if (!notStale(ev, pkg.updatedAt)) return
      return touch(pkg, ev)
    case 'package.assignment_declined':
    case 'package.assignment_cancelled': {
      // A replacement's package.assigned follows in the same write and names the new driver.
      if (!notStale(ev, pkg.updatedAt)) return
      if (pkg.driverId === data.driverId) delete pkg.driverId
      return touch(pkg, ev)
    }
    case 'package.location':
      return moveTo(pkg, data.lat, data.lng, typeof data.recordedAt === 'string' ? data.recordedAt : ev.occurredAt)
    default:
      return
  }
}

/** The customer's tracking list: entries follow their package; a deleted package leaves the list. */
export function applyToTrackings(list: { items: TrackingEntry[] }, ev: PackageEvent): void {
  const i = list.items.findIndex((e) => e.trackingNumber === ev.trackingNumber)
  if (i < 0) return
  const pkg = list.items[i]!.package
  if (ev.type === 'package.deleted') list.items.splice(i, 1)
  else if (pkg.view === 'public') applyToPublicView(pkg, ev)
  else applyToPackage(pkg, ev)
}

/**
 * A page of the packages table. Returns true when the page cannot show the event
 * in place (a package it does not hold was created or moved into its filter) and
 * should be fetched again.
 */
export function applyToPackagePage(page: Page<Package>, ev: PackageEvent, filter: { status?: string; q?: string; cursor?: string } = {}): boolean {
  const i = page.items.findIndex((p) => p.trackingNumber === ev.trackingNumber)
  if (i >= 0) {
    if (ev.type === 'package.deleted') page.items.splice(i, 1)
    else applyToPackage(page.items[i]!, ev)
    return false
  }
  // Only the first page changes when a package appears (the table is newest first).
  if (filter.cursor) return false
  if (ev.type === 'package.created') return !filter.status || filter.status === 'pending'
  if (ev.type === 'package.status_changed') return filter.status !== undefined && ev.data.status === filter.status
  return false
}

/** The event log (timeline): durable events in seq order, each once. */
export function applyToEventLog(log: { items: PackageEvent[] }, ev: PackageEvent): void {
  if (ev.seq === undefined || ev.type === 'package.location') return
  if (log.items.some((e) => e.id === ev.id || e.seq === ev.seq)) return
  log.items.push(ev)
  log.items.sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0))
}

/** The location history (newest first): a live position joins it once. */
export function applyToLocations(history: { items: LocationPoint[] }, ev: PackageEvent): void {
  if (ev.type !== 'package.location') return
  const { lat, lng } = ev.data
  if (typeof lat !== 'number' || typeof lng !== 'number') return
  const recordedAt = typeof ev.data.recordedAt === 'string' ? ev.data.recordedAt : ev.occurredAt
  if (history.items.some((p) => p.recordedAt === recordedAt)) return
  const point: LocationPoint = { lat, lng, recordedAt }
  for (const k of ['accuracyM', 'speedMps', 'headingDeg'] as const) if (typeof ev.data[k] === 'number') point[k] = ev.data[k] as number
  if (typeof ev.data.deviceId === 'string') point.deviceId = ev.data.deviceId
  const at = time(recordedAt)
  const i = history.items.findIndex((p) => time(p.recordedAt) < at)
  if (i < 0) history.items.push(point)
  else history.items.splice(i, 0, point)
}

/** The guest view: status changes only (it never holds coordinates). */
export function applyToPublicView(view: PublicView, ev: PackageEvent): void {
  if (ev.trackingNumber !== view.trackingNumber || ev.type !== 'package.status_changed') return
  const status = ev.data.status
  if (!isStatus(status) || !notStale(ev, view.lastUpdatedAt)) return
  if (view.events.some((e) => e.status === status && time(e.occurredAt) === time(ev.occurredAt))) return
  const item: PublicView['events'][number] = { status, occurredAt: ev.occurredAt }
  if (typeof ev.data.note === 'string') item.note = ev.data.note
  const city = typeof ev.data.city === 'string' ? ev.data.city : (ev.data.location as { city?: unknown } | undefined)?.city
  if (typeof city === 'string') item.city = city
  view.events.push(item)
  view.status = status
  if (time(ev.recordedAt) > time(view.lastUpdatedAt)) view.lastUpdatedAt = ev.recordedAt
}
