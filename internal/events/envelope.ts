import type { Actor } from './actor.js'

export type { Actor } from './actor.js'

/** Event types written to the durable log (they carry a per-package `seq`). */
export const DURABLE_EVENT_TYPES = [
  'package.created',
  'package.updated',
  'package.status_changed',
  'package.deleted',
  'package.assigned',
  'package.assignment_accepted',
  'package.assignment_declined',
  'package.assignment_cancelled',
  'package.proof_added',
] as const
export type DurableEventType = (typeof DURABLE_EVENT_TYPES)[number]

/**
 * Live-only event types: never logged, no `seq`. `notification.created` is for one
 * user's channel only (`data.userId`); the notifications table is its record.
 */
export type LiveEventType = 'package.location' | 'notification.created'

/** The live notice of a new in-app notification (routing key and type). */
export const NOTIFICATION_CREATED = 'notification.created'

export type EventType = DurableEventType | LiveEventType

/** An event as the code handles it (durable events carry `seq`). */
export interface PackageEvent {
  id: string
  type: EventType
  trackingNumber: string
  seq?: number
  occurredAt: Date
  recordedAt: Date
  data: Record<string, unknown>
  /** Who caused it; absent on events recorded before actors were (migration 0015). */
  actor?: Actor
  /** The `x-request-id` of the request that caused it, when a request did. */
  requestId?: string
}

/** An event a change wants recorded; the log gives it its id, `seq` and `recordedAt`. */
export interface NewEvent {
  type: DurableEventType
  occurredAt: Date
  data: Record<string, unknown>
  actor?: Actor
}

/** The contract's event envelope on the wire (WebSocket, RabbitMQ, webhooks, archive). */
export interface EventEnvelope {
  id: string
  type: EventType
  trackingNumber: string
  seq?: number
  occurredAt: string
  recordedAt: string
  data: Record<string, unknown>
  /** Staff only: readers who are not see the envelope through withoutActor. */
  actor?: Actor
  /** Staff only, like `actor`: the request that caused it. */
  requestId?: string
}

export function toEnvelope(e: PackageEvent): EventEnvelope {
  const env: EventEnvelope = {
    id: e.id,
    type: e.type,
    trackingNumber: e.trackingNumber,
    occurredAt: e.occurredAt.toISOString(),
    recordedAt: e.recordedAt.toISOString(),
    data: e.data,
  }
  if (e.seq !== undefined) env.seq = e.seq
  if (e.actor) env.actor = e.actor
  if (e.requestId) env.requestId = e.requestId
  return env
}

/** An event (envelope or logged) as customers, drivers and guests get it: without who caused it, nor by which request. */
export function withoutActor<E extends { actor?: unknown; requestId?: unknown }>(env: E): E {
  if (env.actor === undefined && env.requestId === undefined) return env
  const { actor: _actor, requestId: _requestId, ...rest } = env
  return rest as E
}

export function isEnvelope(value: unknown): value is EventEnvelope {
  const v = value as EventEnvelope
  return typeof v === 'object' && v !== null && typeof v.id === 'string' && typeof v.type === 'string' && typeof v.trackingNumber === 'string'
}
