import type { PackageEvent } from '../package/domain.js'

/** The contract's event envelope on the wire (WebSocket, RabbitMQ, webhooks, archive). */
export interface EventEnvelope {
  id: string
  type: PackageEvent['type']
  trackingNumber: string
  seq?: number
  occurredAt: string
  recordedAt: string
  data: Record<string, unknown>
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
  return env
}

const PUBLIC_FIELDS = ['status', 'previousStatus', 'note'] as const

/** The guest (`track:`) view of an event: status facts only, no people, places or coordinates beyond a city. */
export function redact(env: EventEnvelope): EventEnvelope {
  const data: Record<string, unknown> = {}
  for (const f of PUBLIC_FIELDS) if (env.data[f] !== undefined) data[f] = env.data[f]
  const city = (env.data.location as { city?: unknown } | undefined)?.city
  if (typeof city === 'string') data.city = city
  return { ...env, data }
}

export function isEnvelope(value: unknown): value is EventEnvelope {
  const v = value as EventEnvelope
  return typeof v === 'object' && v !== null && typeof v.id === 'string' && typeof v.type === 'string' && typeof v.trackingNumber === 'string'
}
