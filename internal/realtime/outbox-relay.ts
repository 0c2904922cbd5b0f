import type pg from 'pg'
import { withTx } from '../platform/db/postgres.js'
import { toEvent, type EventRow } from '../package/postgres.js'
import { toEnvelope, type EventEnvelope } from './envelope.js'

export interface OutboxMessage {
  routingKey: string
  content: EventEnvelope
  messageId: string
}

export interface OutboxPublisher {
  /** Publishes in the given order; resolves once the broker confirmed every message, rejects otherwise. */
  publish(messages: OutboxMessage[]): Promise<void>
  readonly connected: boolean
}

export interface RelayOptions {
  pool: pg.Pool
  publisher: OutboxPublisher
  log: { warn(o: object, m: string): void; error(o: object, m: string): void }
  batchSize?: number
  /** Periodic sweep, in case a notification was missed. */
  sweepMs?: number
  /**
   * How long a kick waits before draining, so the commits of a busy moment go out
   * as one batch (a handful of statements per batch, not per event). The gateway's
   * own clients do not wait for it: committed events are routed to them locally.
   */
  coalesceMs?: number
}

/**
 * Session settings for a process that runs a relay and kicks it after each of its
 * own commits: its event inserts skip the NOTIFY (migration 0006), which would
 * otherwise make all their commits queue behind one database-wide lock.
 */
export const IN_PROCESS_WAKEUP: Record<string, string> = { 'delivertrack.outbox_wakeup': 'in_process' }

type Row = EventRow & { package_id: string }

/**
 * Publishes unpublished rows of the package event log to the broker and stamps
 * them published, in the same transaction that locked them. Woken in-process by
 * its gateway's commits (kick), by LISTEN/NOTIFY for other writers, and by a
 * periodic sweep. Gateways share the work with FOR UPDATE SKIP LOCKED; a
 * package's events are published only from its lowest unpublished seq upwards, so
 * one package's events never overtake each other even across relays.
 * Delivery is at-least-once: a crash between confirm and commit republishes, and
 * consumers drop seqs they have already passed.
 */
export class OutboxRelay {
  private listener: pg.PoolClient | undefined
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private scheduled: NodeJS.Timeout | undefined
  private again = false
  private stopped = false
  published = 0

  constructor(private readonly opts: RelayOptions) {}

  async start(): Promise<void> {
    this.timer = setInterval(() => this.kick(), this.opts.sweepMs ?? 1_000)
    this.timer.unref()
    await this.listen()
    this.kick()
  }

  private async listen(): Promise<void> {
    if (this.stopped) return
    try {
      const client = await this.opts.pool.connect()
      client.on('notification', () => this.kick())
      client.on('error', () => {
        // The connection broke: drop it and listen again; the sweep covers the gap.
        client.release(true)
        this.listener = undefined
        setTimeout(() => void this.listen(), 1_000).unref()
      })
      await client.query('LISTEN delivertrack_outbox')
      this.listener = client
    } catch (err) {
      this.opts.log.warn({ err }, 'outbox relay cannot LISTEN; relying on the sweep')
      setTimeout(() => void this.listen(), 1_000).unref()
    }
  }

  /** Runs a drain shortly (coalesceMs), or right after the one in progress. */
  kick(): void {
    if (this.stopped) return
    if (this.running) {
      this.again = true
      return
    }
    if (this.scheduled) return
    const delay = this.opts.coalesceMs ?? 5
    if (delay <= 0) return this.run()
    this.scheduled = setTimeout(() => {
      this.scheduled = undefined
      this.run()
    }, delay)
  }

  private run(): void {
    if (this.stopped || this.running) return
    this.running = this.drain().finally(() => {
      this.running = undefined
      if (this.again) {
        this.again = false
        this.kick()
      }
    })
  }

  /** Waits for the drain in progress or scheduled (tests and shutdown). */
  async idle(): Promise<void> {
    while (this.running || this.scheduled) {
      if (this.running) await this.running
      else await new Promise((r) => setTimeout(r, this.opts.coalesceMs ?? 5))
    }
  }

  private async drain(): Promise<void> {
    if (!this.opts.publisher.connected) return
    try {
      // A batch smaller than the limit means the outbox was drained as of that query;
      // later commits kick again, so no extra empty round trip is needed to find out.
      const limit = this.opts.batchSize ?? 500
      while (!this.stopped && (await this.publishBatch()) >= limit);
    } catch (err) {
      this.opts.log.warn({ err }, 'outbox relay could not publish; will retry')
    }
  }

  private publishBatch(): Promise<number> {
    // Losing this commit in a crash only republishes (consumers drop repeats), so
    // it need not wait for the WAL flush that the package write itself waits for.
    return withTx(this.opts.pool, { synchronousCommit: false }, async (tx) => {
      // The batch, and each package's lowest unpublished seq (locked by anyone), in one round trip.
      const { rows } = await tx.query<Row & { lowest: number }>({
        name: 'outbox_batch',
        text: `WITH batch AS (
                 SELECT id, package_id, seq, type, tracking_number, occurred_at, recorded_at, data FROM package_events
                 WHERE published_at IS NULL ORDER BY recorded_at, package_id, seq LIMIT $1 FOR UPDATE SKIP LOCKED
               )
               SELECT b.*, (SELECT min(x.seq) FROM package_events x WHERE x.package_id = b.package_id AND x.published_at IS NULL)::bigint AS lowest
               FROM batch b`,
        values: [this.opts.batchSize ?? 500],
      })
      if (rows.length === 0) return 0
      const next = new Map<string, number>()
      for (const row of rows) if (!next.has(row.package_id)) next.set(row.package_id, Number(row.lowest))
      rows.sort((a, b) => (a.package_id === b.package_id ? a.seq - b.seq : a.package_id < b.package_id ? -1 : 1))
      const ready: Row[] = []
      for (const row of rows) {
        // Publish only an unbroken run from the package's lowest unpublished seq.
        if (next.get(row.package_id) !== row.seq) continue
        ready.push(row)
        next.set(row.package_id, row.seq + 1)
      }
      // One ordered, confirmed batch: each package's events in seq order.
      await this.opts.publisher.publish(ready.map((row) => ({ routingKey: row.type, content: toEnvelope(toEvent(row)), messageId: row.id })))
      if (ready.length > 0) {
        await tx.query('UPDATE package_events SET published_at = now() WHERE id = ANY($1::uuid[])', [ready.map((r) => r.id)])
      }
      this.published += ready.length
      return ready.length
    })
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearInterval(this.timer)
    if (this.scheduled) clearTimeout(this.scheduled)
    this.scheduled = undefined
    await this.idle()
    if (this.listener) {
      await this.listener.query('UNLISTEN *').catch(() => undefined)
      this.listener.release()
      this.listener = undefined
    }
  }
}
