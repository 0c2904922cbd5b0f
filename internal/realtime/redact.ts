import { withoutActor, type EventEnvelope } from '../events/envelope.js'

const PUBLIC_FIELDS = ['status', 'previousStatus', 'note'] as const

/** The guest (`track:`) view of an event: status facts only, no people (nor who caused it), places or coordinates beyond a city. */
export function redact(env: EventEnvelope): EventEnvelope {
  const data: Record<string, unknown> = {}
  for (const f of PUBLIC_FIELDS) if (env.data[f] !== undefined) data[f] = env.data[f]
  const city = (env.data.location as { city?: unknown } | undefined)?.city
  if (typeof city === 'string') data.city = city
  return { ...withoutActor(env), data }
}
