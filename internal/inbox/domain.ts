import type { EventEnvelope } from '../events/envelope.js'

/** An in-app notification as its user reads it. */
export interface Notification {
  id: string
  /** The type of the event it came from (`package.status_changed`, `package.assigned`, ...). */
  type: string
  title: string
  body: string
  trackingNumber: string | null
  read: boolean
  createdAt: Date
}

/** A notification in the contract's JSON form (REST items and the live `notification.created`). */
export interface NotificationItem {
  id: string
  type: string
  title: string
  body: string
  trackingNumber?: string
  read: boolean
  createdAt: string
}

export function itemOf(n: Notification): NotificationItem {
  const item: NotificationItem = { id: n.id, type: n.type, title: n.title, body: n.body, read: n.read, createdAt: n.createdAt.toISOString() }
  if (n.trackingNumber !== null) item.trackingNumber = n.trackingNumber
  return item
}

/** Who hears of an event: everyone following its package, or one user. */
export type Audience = { kind: 'followers'; eventId: string } | { kind: 'user'; userId: string }

/** What the inbox role makes of one event: the text once, and who receives it. */
export interface Draft {
  eventId: string
  type: string
  title: string
  body: string
  trackingNumber: string | null
  audience: Audience
}

const STATUS_PHRASES: Record<string, string> = {
  pending: 'is registered and waiting for the carrier',
  info_received: 'is announced: the carrier has its details',
  in_transit: 'is on its way',
  out_for_delivery: 'is out for delivery',
  failed_attempt: 'could not be delivered: a new attempt will follow',
  available_for_pickup: 'is ready for pickup',
  exception: 'has a problem in transit',
  delivered: 'was delivered',
  returned: 'was returned to the sender',
  cancelled: 'was cancelled',
  expired: 'is no longer tracked',
}

/** `out_for_delivery` -> `out for delivery`, for a status this code does not know yet. */
const spoken = (status: string) => `is now ${status.replaceAll('_', ' ')}`

/**
 * The notification an event makes, or null when it makes none. Owners and
 * trackers hear of status changes; a driver of the assignments offered to or
 * taken from them. The text keeps to what the public view shows (the status and
 * a city): most trackers see no more of the package.
 */
export function draftFor(event: EventEnvelope): Draft | null {
  const tn = event.trackingNumber
  const type = event.type as string
  const base = { eventId: event.id, type, trackingNumber: tn }
  if (type === 'package.status_changed') {
    const status = event.data.status
    if (typeof status !== 'string') return null
    return { ...base, title: `${tn} ${STATUS_PHRASES[status] ?? spoken(status)}`, body: statusBody(status, event.data.location), audience: { kind: 'followers', eventId: event.id } }
  }
  const driverId = event.data.driverId
  if (typeof driverId !== 'string') return null
  const audience: Audience = { kind: 'user', userId: driverId }
  if (type === 'package.assigned') return { ...base, title: `New delivery offered: ${tn}`, body: `Package ${tn} was assigned to you. Accept or decline it in your assignments.`, audience }
  if (type === 'package.assignment_cancelled') return { ...base, title: `Delivery withdrawn: ${tn}`, body: `Package ${tn} is no longer assigned to you.`, audience }
  return null
}

function statusBody(status: string, location: unknown): string {
  const city = typeof location === 'object' && location !== null ? (location as { city?: unknown }).city : undefined
  const where = typeof city === 'string' && city.trim() !== '' ? ` in ${city.trim()}` : ''
  return `Your package ${STATUS_PHRASES[status] ?? spoken(status)}${where}.`
}
