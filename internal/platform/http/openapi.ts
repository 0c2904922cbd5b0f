import type { RouteOptions } from 'fastify'

// What every route of the gateway does beyond its own schema, said once for the
// OpenAPI document (@fastify/swagger's `transform`). It only shapes the document:
// validation and serialization keep the route's own schema.

type Schema = Record<string, unknown>
type Header = { description: string; type: string; maxLength?: number; minLength?: number }

const REQUEST_ID: Record<string, Header> = {
  'x-request-id': { type: 'string', description: 'The request id: yours if you sent a safe one (1..128 of A-Z a-z 0-9 _ . : -), else a new UUID. Every log line of the request carries it.' },
}
const RATE_LIMIT: Record<string, Header> = {
  'x-ratelimit-limit': { type: 'integer', description: 'Requests allowed per minute for this caller (user, API key, or IP for guests).' },
  'x-ratelimit-remaining': { type: 'integer', description: 'Requests left in the current minute.' },
  'x-ratelimit-reset': { type: 'integer', description: 'Seconds until the current window ends.' },
}
const RETRY_AFTER: Record<string, Header> = {
  'retry-after': { type: 'integer', description: 'On 429 and 503: seconds to wait before trying again.' },
}
const REPLAY: Record<string, Header> = {
  'idempotent-replay': { type: 'string', description: '"true" when this is the stored answer to an earlier request with the same Idempotency-Key and body.' },
}
const IDEMPOTENCY_KEY = {
  type: 'string',
  minLength: 1,
  maxLength: 200,
  description: 'Makes a retry safe: the same key with the same body within 24 h answers the stored status and body (header idempotent-replay: true); with another body, 422 idempotency_key_reused.',
}

const WS_DESCRIPTION = [
  'Upgrade to a WebSocket (101 Switching Protocols). Authenticate with `?token=<access token>` or a first message',
  '`{"op": "auth", "token": "..."}`; without one the client is a guest (only `track:<tn>` channels).',
  'Client messages: `{"op": "subscribe", "channel": "package:<tn>" | "track:<tn>" | "user:<userId>" | "all", "since"?: <seq>}`,',
  '`{"op": "unsubscribe", "channel"}`, `{"op": "ping"}`; any may carry an `id`, echoed in the reply.',
  'Server messages: `{"type": "subscribed", "channel", "seq"}` (then every durable event after `since`, then live ones),',
  '`{"type": "event", "channel", "event"}`, `{"type": "error", "code", "message"}`, `{"type": "pong"}`.',
  'A client too slow to read its events is closed with 1013 and resumes with `since`. Full protocol: shared/API.md.',
].join(' ')

function methodsOf(route: RouteOptions): string[] {
  return (Array.isArray(route.method) ? route.method : [route.method]).map((m) => String(m).toUpperCase())
}

function withHeaders(response: unknown, headers: Record<string, Header>): Schema {
  const schema = (response ?? {}) as Schema
  return { ...schema, headers: { ...(schema.headers as Record<string, Header> | undefined), ...headers } }
}

/** The route's schema as the document shows it. */
export function documentedSchema(route: RouteOptions & { websocket?: boolean }, schema: Schema | undefined): Schema | undefined {
  // @fastify/websocket hides its routes from the document; ours is part of the contract.
  if (!schema || (schema.hide && !route.websocket)) return schema
  const out: Schema = { ...schema, hide: false }
  const post = methodsOf(route).includes('POST')
  if (post) {
    const headers = (schema.headers ?? { type: 'object', properties: {} }) as Schema
    out.headers = { ...headers, properties: { ...(headers.properties as Schema | undefined), 'idempotency-key': IDEMPOTENCY_KEY } }
  }
  if (route.websocket) {
    out.description = WS_DESCRIPTION
    out.response = {
      101: { description: 'Switching Protocols: the connection is now a WebSocket' },
      426: { description: 'Upgrade Required: a request without the WebSocket upgrade headers (error shape, code `upgrade_required`)' },
      ...(schema.response as Schema | undefined),
    }
  }
  const limited = (route.config as { rateLimit?: unknown } | undefined)?.rateLimit !== false
  const responses = (out.response ?? { 200: { description: 'Default Response' } }) as Schema
  out.response = Object.fromEntries(
    Object.entries(responses).map(([status, response]) => {
      const ok = /^2/.test(status)
      const failed = /^[45]/.test(status)
      return [status, withHeaders(response, {
        ...REQUEST_ID,
        ...(limited ? RATE_LIMIT : {}),
        ...(failed ? RETRY_AFTER : {}),
        ...(post && ok ? REPLAY : {}),
      })]
    }),
  )
  return out
}
