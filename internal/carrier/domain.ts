import { createHash } from 'node:crypto'
import type { PackageStatus } from '../package/domain.js'

/** One scan at the carrier, as we keep it. `id` is stable across polls and pushes, so a checkpoint is applied once. */
export interface Checkpoint {
  id: string
  /** RFC 3339 UTC. */
  occurredAt: string
  message: string
  city?: string
  country?: string
  lat?: number
  lng?: number
  status?: PackageStatus
}

/**
 * Our view of one provider answer. `hash` covers everything else in it, so an
 * unchanged answer has the same hash whatever order or formatting the provider used.
 */
export interface CarrierSnapshot {
  status: PackageStatus
  /** Oldest first. */
  checkpoints: Checkpoint[]
  /** RFC 3339 UTC. */
  estimatedDelivery?: string
  /** The carrier never heard of the number: a final answer, not a fault to retry. */
  notFound?: true
  hash: string
}

/** AfterShip `tag` values (Tracking API "Delivery Statuses"). */
export const AFTERSHIP_TAGS: Readonly<Record<string, PackageStatus>> = {
  Pending: 'pending',
  InfoReceived: 'info_received',
  InTransit: 'in_transit',
  OutForDelivery: 'out_for_delivery',
  AttemptFail: 'failed_attempt',
  AvailableForPickup: 'available_for_pickup',
  Exception: 'exception',
  Delivered: 'delivered',
  Expired: 'expired',
}

/** AfterShip files "returned to sender" under Exception; its subtag is the only place it says so. */
const AFTERSHIP_RETURNED_SUBTAG = 'Exception_011'

/** Our status for an AfterShip tag (and subtag); an unknown tag reads as pending, never as a final status. */
export function statusFromAfterShip(tag: string | undefined, subtag?: string): PackageStatus {
  if (subtag === AFTERSHIP_RETURNED_SUBTAG) return 'returned'
  return (tag && AFTERSHIP_TAGS[tag]) || 'pending'
}

/**
 * EasyPost tracker `status` values. `failure` is a delivery that will not be
 * retried (lost, refused, bad address), so it is an exception rather than an
 * attempt; `error` is EasyPost failing to read the carrier, which also needs a look.
 */
export const EASYPOST_STATUSES: Readonly<Record<string, PackageStatus>> = {
  unknown: 'pending',
  pre_transit: 'info_received',
  in_transit: 'in_transit',
  out_for_delivery: 'out_for_delivery',
  available_for_pickup: 'available_for_pickup',
  delivered: 'delivered',
  return_to_sender: 'returned',
  failure: 'exception',
  cancelled: 'cancelled',
  error: 'exception',
}

export function statusFromEasyPost(status: string | undefined): PackageStatus {
  return (status && EASYPOST_STATUSES[status]) || 'pending'
}

/**
 * A provider time as RFC 3339 UTC, or undefined when it is not a time. Carriers
 * often send local times without an offset; those are read as UTC so the result
 * never depends on the machine's time zone.
 */
export function toUtcIso(raw: string | null | undefined): string | undefined {
  if (!raw) return undefined
  const zoned = /(Z|[+-]\d{2}:?\d{2})$/i.test(raw) || !raw.includes('T') ? raw : `${raw}Z`
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(zoned) ? `${zoned}T00:00:00Z` : zoned)
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')
const finite = (n: unknown): number | undefined => (typeof n === 'number' && Number.isFinite(n) ? n : undefined)
const text = (s: unknown): string | undefined => (typeof s === 'string' && s.trim() ? s.trim() : undefined)

export interface RawCheckpoint {
  occurredAt: string | null | undefined
  message?: string | null
  city?: string | null
  country?: string | null
  lat?: unknown
  lng?: unknown
  status?: PackageStatus
}

/**
 * A checkpoint with its identity: a hash of time, message and place. The status
 * is left out of it, so a provider that re-labels a scan does not make it new.
 * Returns undefined for a scan without a usable time.
 */
export function checkpoint(raw: RawCheckpoint): Checkpoint | undefined {
  const occurredAt = toUtcIso(raw.occurredAt)
  if (!occurredAt) return undefined
  const message = text(raw.message) ?? ''
  const cp: Checkpoint = { id: '', occurredAt, message }
  const city = text(raw.city)
  const country = text(raw.country)
  let lat = finite(raw.lat)
  let lng = finite(raw.lng)
  if (lat === undefined || lng === undefined || Math.abs(lat) > 90 || Math.abs(lng) > 180) lat = lng = undefined
  if (city) cp.city = city
  if (country) cp.country = country
  if (lat !== undefined && lng !== undefined) {
    cp.lat = lat
    cp.lng = lng
  }
  if (raw.status) cp.status = raw.status
  cp.id = sha256(JSON.stringify([occurredAt, message, city ?? null, country ?? null, cp.lat ?? null, cp.lng ?? null])).slice(0, 32)
  return cp
}

/** Builds the snapshot: checkpoints deduplicated by id and sorted, and the hash over the normalised answer. */
export function snapshot(input: {
  status: PackageStatus
  checkpoints: Array<Checkpoint | undefined>
  estimatedDelivery?: string | null
  notFound?: boolean
}): CarrierSnapshot {
  const byId = new Map<string, Checkpoint>()
  for (const cp of input.checkpoints) if (cp && !byId.has(cp.id)) byId.set(cp.id, cp)
  const checkpoints = [...byId.values()].sort((a, b) => a.occurredAt.localeCompare(b.occurredAt) || a.id.localeCompare(b.id))
  const estimatedDelivery = toUtcIso(input.estimatedDelivery)
  const body = {
    status: input.status,
    checkpoints: checkpoints.map((c) => [c.id, c.status ?? null]),
    estimatedDelivery: estimatedDelivery ?? null,
    notFound: input.notFound === true,
  }
  const snap: CarrierSnapshot = { status: input.status, checkpoints, hash: sha256(JSON.stringify(body)) }
  if (estimatedDelivery) snap.estimatedDelivery = estimatedDelivery
  if (input.notFound) snap.notFound = true
  return snap
}
