import type pg from 'pg'
import { invalid } from '../platform/errors.js'
import type { Attempt, DeliveryStatus, Endpoint, EndpointWithSecret, WebhookDelivery, WebhookEventType } from './domain.js'
import type { Page, WebhookRepository } from './ports.js'

export interface EndpointRow {
  id: string
  url: string
  events: string[]
  secret: string
  consecutive_failures: number
  disabled_at: Date | null
  created_at: Date
  cursor_at: string
}

export const toEndpoint = (r: EndpointRow): Endpoint => ({
  id: r.id,
  url: r.url,
  events: r.events as WebhookEventType[],
  consecutiveFailures: r.consecutive_failures,
  disabledAt: r.disabled_at,
  createdAt: r.created_at,
})

// Keeps created_at to the microsecond (a Date would round it and skip rows).
const CURSOR_AT = `to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at`

/** Webhook endpoints and their delivery history in PostgreSQL (migration 0004). */
export class PostgresWebhookRepository implements WebhookRepository {
  constructor(private readonly pool: pg.Pool) {}

  async create(input: { url: string; events: WebhookEventType[]; secret: string }): Promise<EndpointWithSecret> {
    const { rows } = await this.pool.query<EndpointRow>(
      `INSERT INTO webhook_endpoints (url, events, secret) VALUES ($1, $2, $3) RETURNING *, ${CURSOR_AT}`,
      [input.url, input.events, input.secret],
    )
    return { ...toEndpoint(rows[0]!), secret: rows[0]!.secret }
  }

  async list(limit: number, cursor?: string): Promise<Page<Endpoint>> {
    const c = cursor ? decodeCursor(cursor) : undefined
    const { rows } = await this.pool.query<EndpointRow>(
      `SELECT *, ${CURSOR_AT} FROM webhook_endpoints
       WHERE $1::timestamptz IS NULL OR (created_at, id) < ($1::timestamptz, $2::uuid)
       ORDER BY created_at DESC, id DESC LIMIT $3`,
      [c?.at ?? null, c?.id ?? null, limit + 1],
    )
    return page(rows, limit, toEndpoint)
  }

  async get(id: string): Promise<Endpoint | null> {
    const { rows } = await this.pool.query<EndpointRow>(`SELECT *, ${CURSOR_AT} FROM webhook_endpoints WHERE id = $1`, [id])
    return rows[0] ? toEndpoint(rows[0]) : null
  }

  async enable(id: string): Promise<Endpoint | null> {
    const { rows } = await this.pool.query<EndpointRow>(
      `UPDATE webhook_endpoints SET disabled_at = NULL, failing_since = NULL, consecutive_failures = 0 WHERE id = $1 RETURNING *, ${CURSOR_AT}`,
      [id],
    )
    return rows[0] ? toEndpoint(rows[0]) : null
  }

  async remove(id: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM webhook_endpoints WHERE id = $1', [id])
    return (rowCount ?? 0) > 0
  }

  async deliveries(endpointId: string, limit: number, cursor?: string): Promise<Page<WebhookDelivery>> {
    const c = cursor ? decodeCursor(cursor) : undefined
    const { rows } = await this.pool.query<DeliveryRow>(
      `SELECT d.*, ${CURSOR_AT},
         coalesce((SELECT json_agg(json_build_object('attempt', a.attempt, 'statusCode', a.status_code, 'latencyMs', a.latency_ms,
                                                     'error', a.error, 'attemptedAt', a.attempted_at) ORDER BY a.attempt)
                   FROM webhook_attempts a WHERE a.delivery_id = d.id), '[]') AS attempt_list
       FROM webhook_deliveries d
       WHERE d.endpoint_id = $1 AND ($2::timestamptz IS NULL OR (d.created_at, d.id) < ($2::timestamptz, $3::uuid))
       ORDER BY d.created_at DESC, d.id DESC LIMIT $4`,
      [endpointId, c?.at ?? null, c?.id ?? null, limit + 1],
    )
    return page(rows, limit, (r) => ({
      id: r.id,
      endpointId: r.endpoint_id,
      eventId: r.event_id,
      eventType: r.event_type,
      status: r.status,
      attempts: r.attempt_list.map((a) => ({ ...a, attemptedAt: new Date(a.attemptedAt) })),
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }))
  }
}

interface DeliveryRow {
  id: string
  endpoint_id: string
  event_id: string
  event_type: string
  status: DeliveryStatus
  created_at: Date
  updated_at: Date
  cursor_at: string
  attempt_list: Array<Omit<Attempt, 'attemptedAt'> & { attemptedAt: string }>
}

function page<R extends { id: string; cursor_at: string }, T>(rows: R[], limit: number, map: (r: R) => T): Page<T> {
  const items = rows.slice(0, limit)
  const last = items[items.length - 1]
  return { items: items.map(map), nextCursor: rows.length > limit && last ? Buffer.from(JSON.stringify([last.cursor_at, last.id])).toString('base64url') : null }
}

function decodeCursor(cursor: string): { at: string; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown]
    if (typeof at !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/.test(at) || Number.isNaN(Date.parse(at))) throw new Error('bad')
    if (typeof id !== 'string' || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) throw new Error('bad')
    return { at, id }
  } catch {
    throw invalid('/query/cursor', 'is not a cursor this API returned')
  }
}
