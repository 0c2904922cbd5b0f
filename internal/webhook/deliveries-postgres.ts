import type pg from 'pg'
import { withTx } from '../platform/db/postgres.js'
import type { EventEnvelope } from '../events/envelope.js'
import type { DeliveryStatus, EndpointWithSecret } from './domain.js'
import type { AttemptRecord, DeliveryStore, DisablePolicy } from './ports.js'
import { toEndpoint, type EndpointRow } from './postgres.js'

/** The worker's view of webhooks in PostgreSQL: who gets an event, and the record of every attempt. */
export class PostgresDeliveryStore implements DeliveryStore {
  constructor(private readonly pool: pg.Pool) {}

  async endpointsFor(type: string): Promise<EndpointWithSecret[]> {
    const { rows } = await this.pool.query<EndpointRow>(
      `SELECT *, '' AS cursor_at FROM webhook_endpoints WHERE disabled_at IS NULL AND (events && ARRAY[$1, '*']::text[]) ORDER BY created_at`,
      [type],
    )
    return rows.map((r) => ({ ...toEndpoint(r), secret: r.secret }))
  }

  async open(endpointId: string, event: EventEnvelope): Promise<{ id: string; status: DeliveryStatus }> {
    const { rows } = await this.pool.query<{ id: string; status: DeliveryStatus }>(
      `WITH created AS (
         INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type) VALUES ($1, $2, $3)
         ON CONFLICT (endpoint_id, event_id) DO NOTHING RETURNING id, status)
       SELECT id, status FROM created
       UNION ALL SELECT id, status FROM webhook_deliveries WHERE endpoint_id = $1 AND event_id = $2`,
      [endpointId, event.id, event.type],
    )
    return rows[0]!
  }

  recordAttempt(deliveryId: string, endpointId: string, attempt: AttemptRecord, status: DeliveryStatus, policy: DisablePolicy): Promise<{ disabled: boolean; justDisabled: boolean }> {
    return withTx(this.pool, async (tx) => {
      const { rows } = await tx.query<{ attempts: number }>(
        'UPDATE webhook_deliveries SET attempts = attempts + 1, status = $2, updated_at = now() WHERE id = $1 RETURNING attempts',
        [deliveryId, status],
      )
      if (!rows[0]) return { disabled: false, justDisabled: false } // the endpoint was deleted meanwhile
      await tx.query('INSERT INTO webhook_attempts (delivery_id, attempt, status_code, latency_ms, error) VALUES ($1, $2, $3, $4, $5)', [
        deliveryId,
        rows[0].attempts,
        attempt.statusCode,
        attempt.latencyMs,
        attempt.error?.slice(0, 500) ?? null,
      ])
      const ok = status === 'succeeded'
      const before = await tx.query<{ disabled: boolean }>('SELECT disabled_at IS NOT NULL AS disabled FROM webhook_endpoints WHERE id = $1 FOR UPDATE', [endpointId])
      const { rows: ep } = await tx.query<{ disabled: boolean }>(
        `UPDATE webhook_endpoints SET
           consecutive_failures = CASE WHEN $2 THEN 0 ELSE consecutive_failures + 1 END,
           failing_since = CASE WHEN $2 THEN NULL ELSE coalesce(failing_since, now()) END,
           disabled_at = CASE WHEN NOT $2 AND disabled_at IS NULL AND consecutive_failures + 1 >= $3
                               AND now() - coalesce(failing_since, now()) >= make_interval(secs => $4) THEN now() ELSE disabled_at END
         WHERE id = $1 RETURNING disabled_at IS NOT NULL AS disabled`,
        [endpointId, ok, policy.failures, policy.seconds],
      )
      const disabled = ep[0]?.disabled ?? false
      // Nothing more goes to a disabled endpoint: its open deliveries (this one too) are final.
      if (disabled) {
        await tx.query(`UPDATE webhook_deliveries SET status = 'failed', updated_at = now() WHERE endpoint_id = $1 AND status = 'pending'`, [endpointId])
      }
      return { disabled, justDisabled: disabled && before.rows[0]?.disabled === false }
    })
  }

  async markDead(eventId: string, endpointIds: string[]): Promise<void> {
    await this.pool.query(
      `UPDATE webhook_deliveries SET status = 'dead', updated_at = now() WHERE event_id = $1 AND endpoint_id = ANY($2::uuid[]) AND status = 'pending'`,
      [eventId, endpointIds],
    )
  }
}
