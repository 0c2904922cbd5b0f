import type { Principal } from '../auth/domain.js'
import { normalizeTrackingNumber, STATUSES, type PackageStatus } from '../package/domain.js'
import { invalid } from '../platform/errors.js'

/** One status change an integration sends: posted in a batch, or published straight to the queue. */
export interface StatusUpdate {
  externalId: string
  trackingNumber: string
  status: PackageStatus
  occurredAt: Date
  note?: string
  location?: { lat: number; lng: number; city?: string }
}

export type UpdateState = 'queued' | 'applied' | 'refused'

/** Who sent an update: its externalIds are unique per client, and the package rules judge it as this principal. */
export interface Client {
  id: string
  kind: Principal['kind']
  role: Principal['role']
}

export interface UpdateRecord {
  externalId: string
  state: UpdateState
  reason?: string
  eventSeq?: number
}

/** A queued update as it travels on the queue (message id = externalId, header x-client-id). */
export interface QueuedUpdate {
  clientId: string
  update: StatusUpdate
  /** The request that posted it (header x-request-id): its event and the worker's log lines name it. */
  requestId?: string
}

export const MAX_BATCH = 500

const isStatus = (v: unknown): v is PackageStatus => (STATUSES as readonly unknown[]).includes(v)

export const principalOf = (client: Client): Principal => ({ id: client.id, kind: client.kind, role: client.role })

/**
 * A batch in the order it is queued: by occurredAt (stable, so equal times keep
 * the sender's order). Per package, the worker applies in queue order.
 */
export function inQueueOrder(updates: readonly StatusUpdate[]): StatusUpdate[] {
  return updates.map((u, i) => ({ u, i })).sort((a, b) => a.u.occurredAt.getTime() - b.u.occurredAt.getTime() || a.i - b.i).map(({ u }) => u)
}

/** Why an update older than the package's latest status is not applied. */
export const staleReason = (latest: Date) => `older than the package's latest status change (${latest.toISOString()}): updates apply in occurredAt order`

export const UNKNOWN_TRACKING_NUMBER = 'unknown tracking number'

/**
 * Reads a message published straight to the queue (its body is one update, as in
 * POST /status-updates). Throws `invalid` naming the first bad field: such a
 * message can never be applied and goes to the dead letters.
 */
export function parseMessage(body: unknown): StatusUpdate {
  const b = body as Record<string, unknown> | null
  if (!b || typeof b !== 'object') throw invalid('/', 'must be a JSON object')
  const text = (field: string, max: number, optional = false): string | undefined => {
    const v = b[field]
    if (v === undefined && optional) return undefined
    if (typeof v !== 'string' || v.length < 1 || v.length > max) throw invalid(`/${field}`, `must be a string of 1 to ${max} characters`)
    return v
  }
  const externalId = text('externalId', 200)!
  const trackingNumber = normalizeTrackingNumber(text('trackingNumber', 64)!)
  if (!isStatus(b.status)) throw invalid('/status', 'must be a package status')
  const occurredAt = new Date(text('occurredAt', 40)!)
  if (Number.isNaN(occurredAt.getTime())) throw invalid('/occurredAt', 'must be an RFC 3339 time')
  const update: StatusUpdate = { externalId, trackingNumber, status: b.status, occurredAt }
  const note = text('note', 1000, true)
  if (note !== undefined) update.note = note
  if (b.location !== undefined) {
    const l = b.location as { lat?: unknown; lng?: unknown; city?: unknown }
    const ok = typeof l === 'object' && l !== null && typeof l.lat === 'number' && typeof l.lng === 'number' && Math.abs(l.lat) <= 90 && Math.abs(l.lng) <= 180
    if (!ok) throw invalid('/location', 'must be {lat, lng} in WGS84 degrees')
    update.location = { lat: l.lat as number, lng: l.lng as number, ...(typeof l.city === 'string' ? { city: l.city } : {}) }
  }
  return update
}

/** The JSON body of an update on the queue. */
export const messageBody = (u: StatusUpdate) => ({ ...u, occurredAt: u.occurredAt.toISOString() })
