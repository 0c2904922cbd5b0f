import type pg from 'pg'
import { listenForNotices } from '../platform/db/notices.js'
import { withTx } from '../platform/db/postgres.js'
import type { LoggedEvent, Outbox } from './log.js'
import { CLAIM_SQL, toLogged, type EventRow } from './log-postgres.js'

/**
 * Session settings for a process that runs a relay and kicks it after each of its
 * own commits: its event inserts skip the NOTIFY (migration 0006), which would
 * otherwise make all their commits queue behind one database-wide lock.
 */
export const IN_PROCESS_WAKEUP: Record<string, string> = { 'delivertrack.outbox_wakeup': 'in_process' }

/** Channel of the NOTIFY that other writers' event inserts send (migration 0006). */
const OUTBOX_CHANNEL = 'delivertrack_outbox'

type Row = EventRow & { package_id: string; lowest: number }

export interface PostgresOutboxOptions {
  /** LISTEN for other writers' NOTIFY on a connection of its own, outside the pool (not on PGlite, whose one connection it would hold). */
  listen: boolean
  log: { warn(o: object, m: string): void }
}

/** The outbox in PostgreSQL: claimed with FOR UPDATE SKIP LOCKED, stamped in the same transaction. */
export class PostgresOutbox implements Outbox {
  readonly listen: Outbox['listen']

  constructor(private readonly pool: pg.Pool, private readonly opts: PostgresOutboxOptions) {
    this.listen = opts.listen ? (wake) => this.listenOn(wake) : undefined
  }

  drain(limit: number, publish: (batch: LoggedEvent[]) => Promise<void>): Promise<number> {
    // Losing this commit in a crash only republishes (consumers drop repeats), so it
    // need not wait for the WAL flush that the package write itself waits for.
    return withTx(this.pool, { synchronousCommit: false }, async (tx) => {
      // The batch, and each package's lowest unpublished seq (locked by anyone), in one round trip.
      const { rows } = await tx.query<Row>({ name: 'outbox_claim', text: CLAIM_SQL, values: [limit] })
      if (rows.length === 0) return 0
      const next = new Map<string, number>()
      for (const row of rows) if (!next.has(row.package_id)) next.set(row.package_id, Number(row.lowest))
      rows.sort((a, b) => (a.package_id === b.package_id ? a.seq - b.seq : a.package_id < b.package_id ? -1 : 1))
      const ready: Row[] = []
      for (const row of rows) {
        // Only an unbroken run from the package's lowest unpublished seq.
        if (next.get(row.package_id) !== Number(row.seq)) continue
        ready.push(row)
        next.set(row.package_id, Number(row.seq) + 1)
      }
      await publish(ready.map(toLogged))
      if (ready.length > 0) await tx.query('UPDATE package_events SET published_at = now() WHERE id = ANY($1::uuid[])', [ready.map((r) => r.id)])
      return ready.length
    })
  }

  private listenOn(wake: () => void): Promise<() => Promise<void>> {
    // After a broken connection the relay's sweep covers the gap; waking it at once is cheaper still.
    return listenForNotices(this.pool, OUTBOX_CHANNEL, { notice: wake, resumed: wake, log: this.opts.log })
  }
}
