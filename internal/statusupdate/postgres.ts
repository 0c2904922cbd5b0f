import type pg from 'pg'
import { updateLocked } from '../package/postgres.js'
import { withTx } from '../platform/db/postgres.js'
import { AppError } from '../platform/errors.js'
import { UNKNOWN_TRACKING_NUMBER, type Client, type QueuedUpdate, type StatusUpdate, type UpdateRecord, type UpdateState } from './domain.js'
import type { ApplyOutcome, Decide, StatusUpdateStore } from './ports.js'

interface Row {
  client_id: string
  client_kind: Client['kind']
  client_role: Client['role']
  external_id: string
  tracking_number: string
  status: StatusUpdate['status']
  occurred_at: Date
  note: string | null
  location: StatusUpdate['location'] | null
  state: UpdateState
  reason: string | null
  event_seq: number | null
  request_id: string | null
}

const COLUMNS = 'client_id, client_kind, client_role, external_id, tracking_number, status, occurred_at, note, location, state, reason, event_seq, request_id'

// Rows in the batch's order (WITH ORDINALITY), so `seq` numbers them as sent.
const ENQUEUE = `
  INSERT INTO status_updates (client_id, client_kind, client_role, external_id, tracking_number, status, occurred_at, note, location, request_id)
  SELECT $1, $2, $3, u.external_id, u.tn, u.status, u.occurred_at, u.note, u.location, $10
  FROM unnest($4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::text[], $9::jsonb[]) WITH ORDINALITY AS u(external_id, tn, status, occurred_at, note, location, ord)
  ORDER BY u.ord
  ON CONFLICT (client_id, external_id) DO NOTHING`

/** One drainer at a time (a transaction-level advisory lock): the queue gets the rows in insertion order. */
const DRAIN_LOCK = 'SELECT pg_try_advisory_xact_lock(hashtext($1)) AS ok'

const toUpdate = (r: Row): StatusUpdate => {
  const u: StatusUpdate = { externalId: r.external_id, trackingNumber: r.tracking_number, status: r.status, occurredAt: new Date(r.occurred_at) }
  if (r.note !== null) u.note = r.note
  if (r.location !== null) u.location = r.location
  return u
}

const toRecord = (r: Row): UpdateRecord => {
  const out: UpdateRecord = { externalId: r.external_id, state: r.state }
  if (r.reason !== null) out.reason = r.reason
  if (r.event_seq !== null) out.eventSeq = r.event_seq
  return out
}

/** The updates in PostgreSQL (migration 0018): the queue's outbox and each update's outcome. */
export class PostgresStatusUpdateStore implements StatusUpdateStore {
  constructor(private readonly pool: pg.Pool, private readonly opts: { origin: string | null }) {}

  async enqueue(client: Client, updates: readonly StatusUpdate[], requestId?: string): Promise<{ accepted: number; duplicates: number }> {
    const { rowCount } = await this.pool.query(ENQUEUE, [
      client.id,
      client.kind,
      client.role,
      updates.map((u) => u.externalId),
      updates.map((u) => u.trackingNumber),
      updates.map((u) => u.status),
      updates.map((u) => u.occurredAt),
      updates.map((u) => u.note ?? null),
      updates.map((u) => (u.location ? JSON.stringify(u.location) : null)),
      requestId ?? null,
    ])
    const accepted = rowCount ?? 0
    return { accepted, duplicates: updates.length - accepted }
  }

  async get(externalId: string, clientId?: string): Promise<UpdateRecord | null> {
    const { rows } = clientId === undefined
      ? await this.pool.query<Row>(`SELECT ${COLUMNS} FROM status_updates WHERE external_id = $1 ORDER BY received_at DESC LIMIT 1`, [externalId])
      : await this.pool.query<Row>(`SELECT ${COLUMNS} FROM status_updates WHERE client_id = $1 AND external_id = $2`, [clientId, externalId])
    return rows[0] ? toRecord(rows[0]) : null
  }

  apply(clientId: string, update: StatusUpdate, decide: Decide): Promise<ApplyOutcome> {
    return withTx(this.pool, async (tx) => {
      // The row lock makes a second delivery of the same update wait, then find it settled.
      const lock = () => tx.query<Row>({ name: 'status_update_lock', text: `SELECT ${COLUMNS} FROM status_updates WHERE client_id = $1 AND external_id = $2 FOR UPDATE`, values: [clientId, update.externalId] })
      let { rows } = await lock()
      if (!rows[0]) {
        // Published straight to the queue: recorded now, as a service client's, already on the queue.
        await tx.query(
          `INSERT INTO status_updates (client_id, client_kind, client_role, external_id, tracking_number, status, occurred_at, note, location, published_at)
           VALUES ($1, 'service', 'service', $2, $3, $4, $5, $6, $7, now()) ON CONFLICT (client_id, external_id) DO NOTHING`,
          [clientId, update.externalId, update.trackingNumber, update.status, update.occurredAt, update.note ?? null, update.location ? JSON.stringify(update.location) : null],
        )
        ;({ rows } = await lock())
      }
      const row = rows[0]!
      if (row.state !== 'queued') return { state: 'settled' }
      const recorded = toUpdate(row)
      const client: Client = { id: row.client_id, kind: row.client_kind, role: row.client_role }
      await tx.query('SAVEPOINT apply')
      try {
        const written = await updateLocked(tx, recorded.trackingNumber, async (pkg) => {
          const { rows: latest } = await tx.query<{ at: Date | null }>({
            name: 'status_update_latest',
            text: "SELECT max(occurred_at) AS at FROM package_events WHERE package_id = $1 AND type = 'package.status_changed'",
            values: [pkg.id],
          })
          return decide(pkg, { latestStatusAt: latest[0]?.at ?? undefined, client, update: recorded })
        }, new Date(), this.opts.origin)
        const seq = written.events.find((e) => e.type === 'package.status_changed')?.seq ?? null
        await this.settle(tx, row, 'applied', null, seq)
        return { state: 'applied', written }
      } catch (err) {
        if (!(err instanceof AppError)) throw err
        await tx.query('ROLLBACK TO SAVEPOINT apply')
        const reason = err.kind === 'not_found' ? UNKNOWN_TRACKING_NUMBER : err.message
        await this.settle(tx, row, 'refused', reason, null)
        return { state: 'refused', reason }
      }
    })
  }

  async hold(clientId: string, externalId: string, reason: string): Promise<void> {
    await this.pool.query({ name: 'status_update_hold', text: "UPDATE status_updates SET reason = $3 WHERE client_id = $1 AND external_id = $2 AND state = 'queued'", values: [clientId, externalId, reason] })
  }

  private async settle(tx: pg.PoolClient, row: Row, state: UpdateState, reason: string | null, seq: number | null): Promise<void> {
    await tx.query({ name: 'status_update_settle', text: 'UPDATE status_updates SET state = $3, reason = $4, event_seq = $5, settled_at = now() WHERE client_id = $1 AND external_id = $2', values: [row.client_id, row.external_id, state, reason, seq] })
  }

  async unpublishQueued(): Promise<number> {
    const { rowCount } = await this.pool.query("UPDATE status_updates SET published_at = NULL WHERE state = 'queued' AND published_at IS NOT NULL")
    return rowCount ?? 0
  }

  drain(limit: number, publish: (batch: QueuedUpdate[]) => Promise<void>): Promise<number> {
    // Losing this commit only republishes, and applying is idempotent.
    return withTx(this.pool, { synchronousCommit: false }, async (tx) => {
      const { rows: lock } = await tx.query<{ ok: boolean }>(DRAIN_LOCK, ['delivertrack.status_updates.drain'])
      if (!lock[0]?.ok) return 0
      const { rows } = await tx.query<Row>(`SELECT ${COLUMNS} FROM status_updates WHERE published_at IS NULL ORDER BY seq LIMIT $1`, [limit])
      if (rows.length === 0) return 0
      await publish(rows.map((r) => ({ clientId: r.client_id, update: toUpdate(r), ...(r.request_id ? { requestId: r.request_id } : {}) })))
      await tx.query(
        'UPDATE status_updates s SET published_at = now() FROM unnest($1::text[], $2::text[]) AS k(c, e) WHERE s.client_id = k.c AND s.external_id = k.e',
        [rows.map((r) => r.client_id), rows.map((r) => r.external_id)],
      )
      return rows.length
    })
  }
}
