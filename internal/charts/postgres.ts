import type pg from 'pg'
import { withTx } from '../platform/db/postgres.js'
import { Deltas, NEW_PACKAGE, type LoggedEvent, type PackageState } from './domain.js'
import type { CountResult, Fold, MetricsStore } from './ports.js'

interface StateRow {
  counted_seq: string
  external: boolean
  estimated_day: string | null
  driver_id: string | null
  accepted_at: Date | null
}

interface EventRow {
  package_id: string
  seq: string
  type: string
  occurred_at: Date
  data: Record<string, unknown>
}

const toState = (r: StateRow): PackageState => ({
  countedSeq: Number(r.counted_seq),
  external: r.external,
  estimatedDay: r.estimated_day,
  driverId: r.driver_id,
  acceptedAt: r.accepted_at,
})
const toEvent = (r: EventRow): LoggedEvent => ({ seq: Number(r.seq), type: r.type, occurredAt: r.occurred_at, data: r.data })

// to_char keeps the day a plain string: pg would turn a date into a local-midnight Date.
const STATE_COLUMNS = `counted_seq, external, to_char(estimated_day, 'YYYY-MM-DD') AS estimated_day, driver_id, accepted_at`
const REBUILD_PAGE = 5_000

/** The aggregate tables of migration 0014, written from the package event log. */
export class PostgresMetricsStore implements MetricsStore {
  constructor(private readonly pool: pg.Pool) {}

  async countThrough(eventId: string, fold: Fold): Promise<CountResult> {
    return withTx(this.pool, async (tx) => {
      const { rows: found } = await tx.query<{ package_id: string; seq: string }>('SELECT package_id, seq FROM package_events WHERE id = $1', [eventId])
      if (!found[0]) return 'unknown'
      const { package_id: packageId, seq } = found[0]
      await tx.query('INSERT INTO metrics_packages (package_id) VALUES ($1) ON CONFLICT DO NOTHING', [packageId])
      // The row lock orders every count of this package: two workers never count one event twice.
      const { rows } = await tx.query<StateRow>(`SELECT ${STATE_COLUMNS} FROM metrics_packages WHERE package_id = $1 FOR UPDATE`, [packageId])
      const state = toState(rows[0]!)
      if (state.countedSeq >= Number(seq)) return 'duplicate'
      const { rows: events } = await tx.query<EventRow>(
        'SELECT package_id, seq, type, occurred_at, data FROM package_events WHERE package_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq',
        [packageId, state.countedSeq, seq],
      )
      const deltas = new Deltas()
      const next = fold(state, events.map(toEvent), deltas)
      await applyDeltas(tx, deltas)
      await saveStates(tx, [[packageId, next]])
      return 'counted'
    })
  }

  async rebuild(fold: Fold): Promise<{ packages: number; events: number }> {
    return withTx(this.pool, async (tx) => {
      // TRUNCATE's lock makes live counting wait; it then goes on from the rebuilt seqs.
      await tx.query('TRUNCATE metrics_orders_by_day, metrics_driver_day, metrics_packages')
      const deltas = new Deltas()
      let after: [string, string] = ['00000000-0000-0000-0000-000000000000', '0']
      let current: { id: string; state: PackageState } | undefined
      let pending: Array<[string, PackageState]> = []
      let packages = 0
      let events = 0
      for (;;) {
        const { rows } = await tx.query<EventRow>(
          'SELECT package_id, seq, type, occurred_at, data FROM package_events WHERE (package_id, seq) > ($1::uuid, $2::bigint) ORDER BY package_id, seq LIMIT $3',
          [after[0], after[1], REBUILD_PAGE],
        )
        for (const row of rows) {
          if (current?.id !== row.package_id) {
            if (current) pending.push([current.id, current.state])
            current = { id: row.package_id, state: NEW_PACKAGE }
            packages++
          }
          current.state = fold(current.state, [toEvent(row)], deltas)
          events++
        }
        if (pending.length >= REBUILD_PAGE) {
          await saveStates(tx, pending)
          pending = []
        }
        if (rows.length < REBUILD_PAGE) break
        const last = rows[rows.length - 1]!
        after = [last.package_id, last.seq]
      }
      if (current) pending.push([current.id, current.state])
      if (pending.length > 0) await saveStates(tx, pending)
      await applyDeltas(tx, deltas)
      return { packages, events }
    })
  }
}

/** Adds the deltas, in key order so that concurrent transactions lock rows in the same order. */
async function applyDeltas(tx: pg.PoolClient, deltas: Deltas): Promise<void> {
  const days = [...deltas.days.entries()].sort(([a], [b]) => (a < b ? -1 : 1))
  if (days.length > 0) {
    const col = <K extends keyof (typeof days)[number][1]>(k: K) => days.map(([, d]) => d[k])
    await tx.query(
      `INSERT INTO metrics_orders_by_day AS o (day, created, delivered, failed_attempts, exceptions, delivered_estimated, delivered_on_time)
       SELECT * FROM unnest($1::date[], $2::int[], $3::int[], $4::int[], $5::int[], $6::int[], $7::int[])
       ON CONFLICT (day) DO UPDATE SET created = o.created + EXCLUDED.created, delivered = o.delivered + EXCLUDED.delivered,
         failed_attempts = o.failed_attempts + EXCLUDED.failed_attempts, exceptions = o.exceptions + EXCLUDED.exceptions,
         delivered_estimated = o.delivered_estimated + EXCLUDED.delivered_estimated, delivered_on_time = o.delivered_on_time + EXCLUDED.delivered_on_time`,
      [days.map(([day]) => day), col('created'), col('delivered'), col('failedAttempts'), col('exceptions'), col('deliveredEstimated'), col('deliveredOnTime')],
    )
  }
  const drivers = [...deltas.driverDays.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, d]) => d)
  if (drivers.length > 0) {
    // Arrays of different lengths cannot be unnested side by side: each travels as an array literal.
    await tx.query(
      `INSERT INTO metrics_driver_day AS d (driver_id, day, delivered, delivered_estimated, delivered_on_time, accept_to_delivered_s)
       SELECT driver_id, day, delivered, estimated, on_time, durations::int[]
       FROM unnest($1::uuid[], $2::date[], $3::int[], $4::int[], $5::int[], $6::text[]) AS u(driver_id, day, delivered, estimated, on_time, durations)
       ON CONFLICT (driver_id, day) DO UPDATE SET delivered = d.delivered + EXCLUDED.delivered,
         delivered_estimated = d.delivered_estimated + EXCLUDED.delivered_estimated, delivered_on_time = d.delivered_on_time + EXCLUDED.delivered_on_time,
         accept_to_delivered_s = d.accept_to_delivered_s || EXCLUDED.accept_to_delivered_s`,
      [
        drivers.map((d) => d.driverId),
        drivers.map((d) => d.day),
        drivers.map((d) => d.delivered),
        drivers.map((d) => d.deliveredEstimated),
        drivers.map((d) => d.deliveredOnTime),
        drivers.map((d) => `{${d.acceptToDeliveredS.join(',')}}`),
      ],
    )
  }
}

async function saveStates(tx: pg.PoolClient, states: Array<[string, PackageState]>): Promise<void> {
  await tx.query(
    `INSERT INTO metrics_packages AS p (package_id, counted_seq, external, estimated_day, driver_id, accepted_at)
     SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::boolean[], $4::date[], $5::uuid[], $6::timestamptz[])
     ON CONFLICT (package_id) DO UPDATE SET counted_seq = EXCLUDED.counted_seq, external = EXCLUDED.external,
       estimated_day = EXCLUDED.estimated_day, driver_id = EXCLUDED.driver_id, accepted_at = EXCLUDED.accepted_at`,
    [
      states.map(([id]) => id),
      states.map(([, s]) => s.countedSeq),
      states.map(([, s]) => s.external),
      states.map(([, s]) => s.estimatedDay),
      states.map(([, s]) => s.driverId),
      states.map(([, s]) => s.acceptedAt),
    ],
  )
}
